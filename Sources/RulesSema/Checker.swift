import Foundation
import RulesDiagnostics
import RulesSource
import RulesSyntax

/// Options that change what the checker knows.
public struct CheckOptions: Sendable {
  /// The source model's concept list, if given (`--concepts`).
  public var concepts: ConceptCatalog?
  public init(concepts: ConceptCatalog? = nil) { self.concepts = concepts }
}

/// Checks parsed rule files: names, types, ranges, collector definitions and concept maps, then the
/// lints (`RC4xxx`). It reports every problem it finds and returns the collectors that are complete.
public struct Checker {
  let options: CheckOptions
  let sink: DiagnosticSink

  public init(options: CheckOptions = CheckOptions(), sink: DiagnosticSink) {
    self.options = options
    self.sink = sink
  }

  /// Checks files together, since collector ids must be unique across all of them.
  public func check(_ files: [RuleFile]) -> CheckedProgram {
    var seen: [String: (SourceFile, SourceRange)] = [:]
    var collectors: [CheckedCollector] = []
    for ruleFile in files {
      let unreadable = sink.diagnostics.contains { $0.file === ruleFile.file && $0.severity == .error }
      if ruleFile.collectors.isEmpty && !unreadable { reportEmptyFile(ruleFile.file) }
      for collector in ruleFile.collectors {
        if let first = seen[collector.id.text] {
          reportDuplicate(collector.id.text, file: ruleFile.file, range: collector.id.range, first: first)
        } else {
          seen[collector.id.text] = (ruleFile.file, collector.id.range)
        }
        if let checked = checkCollector(collector, in: ruleFile.file) { collectors.append(checked) }
      }
    }
    return CheckedProgram(collectors: collectors)
  }

  /// Checks each collector of one file on its own, without the checks that span collectors (unique
  /// ids, a file without collectors): the editor checks a file a piece at a time and adds those
  /// itself with `reportDuplicate` and `reportEmptyFile`.
  public func checkEachCollector(of file: RuleFile) -> [CheckedCollector] {
    file.collectors.compactMap { checkCollector($0, in: file.file) }
  }

  /// A collector id defined a second time (`first` is where it was defined first).
  public func reportDuplicate(_ id: String, file: SourceFile, range: SourceRange, first: (SourceFile, SourceRange)) {
    sink.emit(
      SemaMessage.duplicateCollectorID(id), file: file, range: range,
      notes: [DiagnosticNote("first defined here", file: first.0, range: first.1)])
  }

  /// A readable file that defines no collector.
  public func reportEmptyFile(_ file: SourceFile) {
    sink.emit(SemaMessage.emptyFile, file: file, range: .at(0))
  }

  func emit(_ m: DiagnosticMessage, _ file: SourceFile, _ r: SourceRange, notes: [DiagnosticNote] = []) {
    sink.emit(m, file: file, range: r, notes: notes)
  }

  // MARK: Collectors

  static func isCollectorID(_ s: String) -> Bool {
    !s.isEmpty && s.utf8.count <= 48
      && s.utf8.allSatisfy { Lexer.isNameContinue($0) || $0 == UInt8(ascii: "-") }
  }

  /// Whether a model version id has Clarifai's shape: 32 hexadecimal characters.
  static func isVersionID(_ text: String) -> Bool {
    text.utf8.count == 32 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
  }

  static func isResourceID(_ s: String) -> Bool {
    !s.isEmpty && s.utf8.count <= 128
      && s.utf8.allSatisfy { Lexer.isNameContinue($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
  }

  static func isEnvironmentName(_ s: String) -> Bool {
    guard let first = s.utf8.first, Lexer.isNameStart(first) else { return false }
    return s.utf8.allSatisfy { Lexer.isNameContinue($0) } && s.uppercased() == s
  }

  static func looksLikeSecret(_ s: String) -> Bool {
    let hex = s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
    return (hex && s.utf8.count >= 24) || (s.utf8.count >= 24 && !s.contains("_") && s.uppercased() != s)
  }

  func checkCollector(_ c: Collector, in file: SourceFile) -> CheckedCollector? {
    var complete = true
    let id = c.id.text
    if !Checker.isCollectorID(id) {
      emit(
        SemaMessage.invalidID(
          "collector id", id, help: "use 1 to 48 letters, digits, '_' or '-', such as '\(suggestedID(id))'"),
        file, c.id.range)
    }
    var seenClauses: [String: Clause] = [:]
    var description = ""
    var source: SourcePattern?
    var destination: (String, String)?
    var datasets: [String] = []
    var key: KeySource?
    var mapSyntax: (ConceptMapSyntax, Clause)?
    var collectOutputs: CollectedOutputs = []
    var stages: [StageKind: Stage] = [:]
    for clause in c.clauses {
      let name: String
      if case .stage(let s) = clause.kind { name = s.kind.rawValue } else { name = clause.keyword.text }
      if let first = seenClauses[name] {
        emit(
          SemaMessage.duplicateClause(name), file, clause.keyword.range,
          notes: [DiagnosticNote("first given here", file: file, range: first.keyword.range)])
        continue
      }
      seenClauses[name] = clause
      switch clause.kind {
      case .description(let text):
        description = text.text
      case .source(let s):
        for (what, word) in [("user id", s.user), ("app id", s.app), ("model id", s.model)] + (s.version.map { [("model version id", $0)] } ?? []) {
          if word.text != "*" && !Checker.isResourceID(word.text) {
            emit(SemaMessage.invalidID(what, word.text, help: "ids hold letters, digits, '_', '-' and '.', or '*' for any"), file, word.range)
          }
        }
        if let version = s.version, version.text != "*", Checker.isResourceID(version.text), !Checker.isVersionID(version.text) {
          emit(SemaMessage.versionIDShape(version.text), file, version.range)
        }
        if let caller = s.caller, !caller.text.isEmpty, !Checker.isResourceID(caller.text) {
          emit(SemaMessage.invalidID("caller user id", caller.text, help: "omit 'caller' to collect every caller's predictions"), file, caller.range)
        }
        func part(_ w: Word) -> String? { w.text == "*" ? nil : w.text }
        source = SourcePattern(
          user: part(s.user), app: part(s.app), model: part(s.model), version: s.version.flatMap(part),
          caller: s.caller.map(\.text))
      case .destination(let user, let app):
        for (what, word) in [("user id", user), ("app id", app)] where !Checker.isResourceID(word.text) {
          emit(SemaMessage.invalidID(what, word.text, help: "ids hold letters, digits, '_', '-' and '.'"), file, word.range)
        }
        destination = (user.text, app.text)
      case .datasets(let ids):
        for word in ids where !Checker.isResourceID(word.text) {
          emit(SemaMessage.invalidID("dataset id", word.text, help: "ids hold letters, digits, '_', '-' and '.'"), file, word.range)
        }
        datasets = ids.map(\.text)
      case .key(let reference):
        switch reference {
        case .inline(let secret):
          complete = false
          if !secret.quoted && Checker.isEnvironmentName(secret.text) && !Checker.looksLikeSecret(secret.text) {
            // `key PETS_KEY`: a variable name with 'env' forgotten, not a secret.
            emit(
              SyntaxMessage.expected(
                "'env NAME' or 'file \"PATH\"' after 'key'", found: "'\(secret.text)'",
                help: "write 'key env \(secret.text)'"), file, secret.range)
          } else {
            emit(SemaMessage.inlineSecret, file, secret.range)
          }
        case .environment(let name):
          if Checker.looksLikeSecret(name.text) {
            emit(SemaMessage.inlineSecret, file, name.range)
            complete = false
          } else if !(name.text.utf8.first.map(Lexer.isNameStart) ?? false)
            || !name.text.utf8.allSatisfy(Lexer.isNameContinue)
          {
            emit(
              SemaMessage.invalidID("environment variable name", name.text, help: "use letters, digits and '_', such as 'PETS_APP_KEY'"),
              file, name.range)
          }
          key = .environment(name.text)
        case .file(let path):
          key = .file(path.text)
        }
      case .map(let m):
        mapSyntax = (m, clause)
      case .collectOutputs(let kinds):
        collectOutputs = kinds.isEmpty ? .all : []
        for kind in kinds {
          if let known = CollectedOutputs.names.first(where: { $0.0 == kind.text }) {
            collectOutputs.insert(known.1)
          } else {
            let suggestion = Spelling.suggestion(for: kind.text, among: CollectedOutputs.names.map(\.0))
            emit(SemaMessage.unknownOutputKind(kind.text, suggestion: suggestion), file, kind.range)
            complete = false
          }
        }
      case .stage(let s):
        stages[s.kind] = s
      }
    }
    let header = c.id.range
    if c.hadSyntaxErrors {
      // A clause may be missing only because it could not be read; the syntax error says enough.
      complete = false
    } else if source == nil {
      emit(SemaMessage.missingClause("source", collector: id, help: "add 'source USER/APP/MODEL', e.g. 'source clarifai/main/general-image-recognition'"), file, header)
      complete = false
    }
    if destination == nil && !c.hadSyntaxErrors {
      emit(SemaMessage.missingClause("destination", collector: id, help: "add 'destination USER/APP'"), file, header)
      complete = false
    }
    if key == nil && !c.hadSyntaxErrors && !c.clauses.contains(where: { if case .key = $0.kind { true } else { false } }) {
      emit(SemaMessage.missingClause("key", collector: id, help: "add 'key env NAME' naming the variable that holds a key with the PostInputs scope"), file, header)
      complete = false
    }
    if stages.isEmpty && !c.hadSyntaxErrors {
      emit(SemaMessage.noStage(id), file, header)
      complete = false
    }

    let map = mapSyntax.flatMap { checkMap($0.0, clause: $0.1, file: file) }
    var usage = ConceptUsage()
    var checkedStages: [StageKind: [Statement]] = [:]
    for kind in [StageKind.preQueue, .postQueue] {
      guard let stage = stages[kind] else { continue }
      var checker = ExpressionChecker(
        file: file, sink: sink, stage: kind, catalog: options.concepts, mapTargets: map?.targets ?? [])
      checker.renamed = map?.targetOf ?? [:]
      if let names = options.concepts?.names {
        // What the rules see of the model's concepts: each renamed by the map, or left out by `unmapped drop`.
        checker.vocabulary = Set(names.compactMap { map?.targetOf[$0] ?? (map?.dropUnmapped == true ? nil : $0) })
      }
      for statement in stage.statements { checker.check(statement) }
      usage.merge(checker.usage)
      if checker.hadErrors { complete = false }
      StageLinter(file: file, sink: sink).lint(stage)
      checkedStages[kind] = stage.statements
    }
    if let (m, clause) = mapSyntax, let map {
      lintMapUsage(m, clause: clause, map: map, usage: usage, file: file)
    }

    if let source, let destination, source.user == destination.0, source.app == destination.1,
      let clause = seenClauses["destination"]
    {
      emit(SemaMessage.collectsIntoSource("\(destination.0)/\(destination.1)"), file, clause.range)
    }
    guard complete, let source, let destination, let key else { return nil }
    return CheckedCollector(
      id: id, description: description, file: file, range: c.range, source: source,
      destinationUser: destination.0, destinationApp: destination.1, datasetIDs: datasets, key: key,
      conceptMap: map, preQueue: checkedStages[.preQueue], postQueue: checkedStages[.postQueue],
      collectOutputs: collectOutputs)
  }

  private func suggestedID(_ id: String) -> String {
    let cleaned = id.lowercased().map { c -> Character in
      c.isLetter && c.isASCII || c.isNumber && c.isASCII || c == "_" || c == "-" ? c : "-"
    }
    var s = String(cleaned.prefix(48))
    while s.contains("--") { s = s.replacingOccurrences(of: "--", with: "-") }
    s = s.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    return s.isEmpty ? "my-collector" : s
  }
}
