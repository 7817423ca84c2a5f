import Foundation
import RulesDiagnostics
import RulesLoader
import RulesMath
import RulesSema
import RulesSource
import RulesSyntax
import RulesTesting

/// `rulec lsp`: the Language Server Protocol over standard input and output, for editors. Documents
/// are synced incrementally; each change is checked at once (the same front ends and checker as
/// `rulec check`, a rule file a collector at a time: `PiecewiseAnalysis`) and its diagnostics
/// published, with codes that `rulec explain` knows. A test file (`*.ruletest`) is parsed and its
/// cases run, each failing expectation a diagnostic. Also: formatting (the formatter), document
/// symbols (collectors and their stages), hover (a diagnostic's explanation, a function's or a
/// keyword's meaning, a concept's mapping), completion (keywords and functions; metadata paths seen
/// in a recording and concepts, from the settings) and go to definition (a map file, a collector
/// across files). JSON-RPC is framed by hand: no Swift package for it is among the project's
/// dependencies, and it is not on a hot path.
public final class LanguageServer {
  var documents: [String: TextDocument] = [:]
  /// The last analysis of each document: what hover, symbols and definition read.
  var analyses: [String: Analysis] = [:]
  /// Each rule file's pieces, kept between changes.
  var pieces: [String: PiecewiseAnalysis] = [:]
  let write: ([UInt8]) -> Void
  var shutdownRequested = false
  /// The check options (`--concepts`), as given to `rulec lsp` or set in the editor's settings.
  var options: CheckOptions
  /// What completion offers beyond the language: metadata paths and concepts of a recording, and
  /// the concepts file's names.
  var vocabulary: CompletionVocabulary

  /// `write` sends one framed message to the editor; `recording` is a recording whose metadata
  /// paths and concepts completion offers.
  public init(options: CheckOptions = CheckOptions(), recording: String? = nil, write: @escaping ([UInt8]) -> Void) {
    self.options = options
    self.write = write
    vocabulary = CompletionVocabulary()
    if let recording { vocabulary.read(recording: recording) }
  }

  /// A document analysed: its collectors (each with the offset to add to its ranges) and its
  /// diagnostics; for a test file, the parsed tests and their failures.
  struct Analysis {
    var collectors: [(collector: Collector, offset: Int)] = []
    var diagnostics: [Diagnostic] = []
    var tests: TestFile?
    var failures: [(range: SourceRange, message: String)] = []
  }

  // MARK: Framing

  /// Reads messages from `input` until `exit` or the end of input; returns the exit status the
  /// protocol asks for (0 after `shutdown`, 1 otherwise).
  public func run(input: FileHandle) -> Int32 {
    var buffer: [UInt8] = []
    while true {
      // Headers end at an empty line; Content-Length gives the body's size.
      while let headerEnd = Self.find([13, 10, 13, 10], in: buffer) {
        let header = String(decoding: buffer[..<headerEnd], as: UTF8.self)
        guard let length = header.split(separator: "\r\n").compactMap({ line -> Int? in
          let parts = line.split(separator: ":", maxSplits: 1)
          guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
          return Int(parts[1].trimmingCharacters(in: .whitespaces))
        }).first
        else {
          buffer.removeSubrange(..<(headerEnd + 4))  // a message without a length cannot be read: skipped
          continue
        }
        guard buffer.count >= headerEnd + 4 + length else { break }
        let body = Array(buffer[(headerEnd + 4)..<(headerEnd + 4 + length)])
        buffer.removeSubrange(..<(headerEnd + 4 + length))
        if let exit = handle(body) { return exit }
      }
      let chunk = input.availableData
      if chunk.isEmpty { return shutdownRequested ? 0 : 1 }
      buffer += chunk
    }
  }

  static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle {
      return i
    }
    return nil
  }

  func send(_ message: [String: Any]) {
    var full = message
    full["jsonrpc"] = "2.0"
    guard let body = try? JSONSerialization.data(withJSONObject: full, options: [.sortedKeys]) else { return }
    write(Array("Content-Length: \(body.count)\r\n\r\n".utf8) + [UInt8](body))
  }

  func reply(_ id: Any, result: Any) { send(["id": id, "result": result]) }

  func replyError(_ id: Any, code: Int, message: String) { send(["id": id, "error": ["code": code, "message": message]]) }

  // MARK: Dispatch

  /// Handles one message (a JSON-RPC body, without its header); returns an exit status for `exit`.
  public func handle(_ body: [UInt8]) -> Int32? {
    guard let message = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], let method = message["method"] as? String
    else {
      send(["id": NSNull(), "error": ["code": -32700, "message": "parse error"]])
      return nil
    }
    let id = message["id"]
    let params = message["params"] as? [String: Any] ?? [:]
    switch method {
    case "initialize":
      configure(params["initializationOptions"] as? [String: Any] ?? [:])
      reply(
        id ?? NSNull(),
        result: [
          "capabilities": [
            "textDocumentSync": ["openClose": true, "change": 2],
            "documentFormattingProvider": true, "documentSymbolProvider": true, "hoverProvider": true, "definitionProvider": true,
            "completionProvider": ["triggerCharacters": ["."]],
          ],
          "serverInfo": ["name": "rulec", "version": "0.1.0"],
        ])
    case "workspace/didChangeConfiguration":
      let settings = params["settings"] as? [String: Any] ?? [:]
      configure(settings["rulec"] as? [String: Any] ?? settings)
      for uri in documents.keys.sorted() { publishDiagnostics(uri) }
    case "initialized", "$/cancelRequest", "$/setTrace": break
    case "shutdown":
      shutdownRequested = true
      reply(id ?? NSNull(), result: NSNull())
    case "exit":
      return shutdownRequested ? 0 : 1
    case "textDocument/didOpen":
      guard let item = params["textDocument"] as? [String: Any], let uri = item["uri"] as? String else { break }
      documents[uri] = TextDocument(uri: uri, version: item["version"] as? Int ?? 0, text: item["text"] as? String ?? "")
      publishDiagnostics(uri)
    case "textDocument/didChange":
      guard let doc = params["textDocument"] as? [String: Any], let uri = doc["uri"] as? String, var document = documents[uri] else { break }
      for change in params["contentChanges"] as? [[String: Any]] ?? [] {
        document.apply(range: Self.range(change["range"]), text: change["text"] as? String ?? "")
      }
      document.version = doc["version"] as? Int ?? document.version
      documents[uri] = document
      publishDiagnostics(uri)
    case "textDocument/didClose":
      guard let doc = params["textDocument"] as? [String: Any], let uri = doc["uri"] as? String else { break }
      documents[uri] = nil
      analyses[uri] = nil
      pieces[uri] = nil
      send(["method": "textDocument/publishDiagnostics", "params": ["uri": uri, "diagnostics": [Any]()]])
    case "textDocument/formatting":
      reply(id ?? NSNull(), result: formatting(params) ?? NSNull())
    case "textDocument/documentSymbol":
      reply(id ?? NSNull(), result: symbols(params))
    case "textDocument/hover":
      reply(id ?? NSNull(), result: hover(params) ?? NSNull())
    case "textDocument/completion":
      reply(id ?? NSNull(), result: completion(params))
    case "textDocument/definition":
      reply(id ?? NSNull(), result: definition(params) ?? NSNull())
    default:
      // Requests the server does not know get an error; notifications are ignored.
      if let id { replyError(id, code: -32601, message: "method not found: \(method)") }
    }
    return nil
  }

  static func range(_ value: Any?) -> (start: (line: Int, character: Int), end: (line: Int, character: Int))? {
    guard let r = value as? [String: Any], let s = r["start"] as? [String: Any], let e = r["end"] as? [String: Any] else { return nil }
    return ((s["line"] as? Int ?? 0, s["character"] as? Int ?? 0), (e["line"] as? Int ?? 0, e["character"] as? Int ?? 0))
  }

  func lspRange(_ document: TextDocument, _ r: SourceRange) -> [String: Any] {
    let start = document.position(of: r.start)
    let end = document.position(of: r.end)
    return ["start": ["line": start.line, "character": start.character], "end": ["line": end.line, "character": end.character]]
  }

  // MARK: Settings

  /// Reads the settings an editor sends (`initializationOptions`, or `rulec` in
  /// `workspace/didChangeConfiguration`): `concepts` (a concepts file, as `--concepts`) and
  /// `recording` (a recording whose metadata paths and concepts completion offers). A file that
  /// cannot be read is said in a message to the user, never a crash.
  func configure(_ settings: [String: Any]) {
    if let path = settings["concepts"] as? String, !path.isEmpty {
      if let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
        let catalog = try? ConceptCatalog.parse(text)
      {
        options.concepts = catalog
      } else {
        showMessage("rulec: cannot read the concepts file \(path)")
      }
    }
    if let path = settings["recording"] as? String, !path.isEmpty {
      vocabulary = CompletionVocabulary()
      if !vocabulary.read(recording: path) { showMessage("rulec: cannot read the recording \(path)") }
    }
    pieces = [:]  // the options changed what the checker says
  }

  func showMessage(_ text: String) {
    send(["method": "window/showMessage", "params": ["type": 2, "message": text]])
  }

  // MARK: Analysis

  static func isTestFile(_ path: String) -> Bool { RuleLoader.isTestFile((path as NSString).lastPathComponent) }

  /// Analyses a document as it now stands: a rule file piecewise (only what changed is parsed
  /// again), a YAML rule file whole, a test file parsed and run.
  func analyse(_ uri: String) -> Analysis {
    guard let document = documents[uri] else { return Analysis() }
    let source = SourceFile(path: document.path, bytes: document.bytes)
    if Self.isTestFile(document.path) { return analyseTests(source) }
    if RuleLoader.isYAML(document.path) {
      let sink = DiagnosticSink()
      let file = RuleLoader.parse(source, sink: sink)
      _ = Checker(options: options, sink: sink).check([file])
      return Analysis(collectors: file.collectors.map { ($0, 0) }, diagnostics: sink.sorted)
    }
    var analysis = pieces[uri] ?? PiecewiseAnalysis()
    let diagnostics = analysis.update(source, options: options)
    pieces[uri] = analysis
    return Analysis(collectors: analysis.collectors, diagnostics: diagnostics)
  }

  /// A test file: its diagnostics, and each expectation its cases fail (the rules are read from
  /// disk, as `rulec test` reads them).
  func analyseTests(_ source: SourceFile) -> Analysis {
    let sink = DiagnosticSink()
    let tests = TestYAML.isYAML(source.path) ? TestYAML.parse(source, sink: sink) : TestParser.parse(source, sink: sink)
    var analysis = Analysis(tests: tests)
    if !sink.hasErrors {
      for result in TestRunner(sink: sink).run(tests) {
        for failure in result.failures {
          let offset = source.offset(line: failure.location.line, column: failure.location.column)
          let end = source.bytes[offset...].firstIndex(of: 10) ?? source.bytes.count
          analysis.failures.append(
            (SourceRange(offset, end), "test '\(result.name)' fails: \(failure.collector) expected \(failure.expected), got \(failure.got)"))
        }
      }
    }
    analysis.diagnostics = sink.sorted.filter { $0.file.path == source.path }
    return analysis
  }

  func publishDiagnostics(_ uri: String) {
    guard let document = documents[uri] else { return }
    let analysis = analyse(uri)
    analyses[uri] = analysis
    var items: [[String: Any]] = analysis.diagnostics.filter { $0.file.path == document.path }.map { d in
      var item: [String: Any] = [
        "range": lspRange(document, d.range), "severity": d.severity == .error ? 1 : d.severity == .warning ? 2 : 3,
        "code": d.code.id, "source": "rulec", "message": d.message.text + (d.message.help.map { "\nhelp: \($0)" } ?? ""),
      ]
      if !d.notes.isEmpty {
        item["relatedInformation"] = d.notes.compactMap { note -> [String: Any]? in
          guard let range = note.range, note.file?.path == document.path else { return nil }
          return ["location": ["uri": uri, "range": lspRange(document, range)], "message": note.message]
        }
      }
      return item
    }
    for failure in analysis.failures {
      items.append(["range": lspRange(document, failure.range), "severity": 1, "source": "rulec test", "message": failure.message])
    }
    send(["method": "textDocument/publishDiagnostics", "params": ["uri": uri, "version": document.version, "diagnostics": items]])
  }

  /// The whole document formatted, as one edit; nil for a YAML file or one with syntax errors.
  func formatting(_ params: [String: Any]) -> [[String: Any]]? {
    guard let uri = (params["textDocument"] as? [String: Any])?["uri"] as? String, let document = documents[uri],
      !RuleLoader.isYAML(document.path)
    else { return nil }
    let sink = DiagnosticSink()
    let file = Parser.parse(SourceFile(path: document.path, bytes: document.bytes), sink: sink)
    guard !sink.hasErrors else { return nil }
    let formatted = Printer.format(file)
    guard Array(formatted.utf8) != document.bytes else { return [] }
    return [["range": lspRange(document, SourceRange(0, document.bytes.count)), "newText": formatted]]
  }

  /// Collectors (with their id's range) and, inside each, its stages.
  func symbols(_ params: [String: Any]) -> [[String: Any]] {
    guard let uri = (params["textDocument"] as? [String: Any])?["uri"] as? String, let document = documents[uri] else { return [] }
    let analysis = analyses[uri] ?? analyse(uri)
    return analysis.collectors.map { c, offset in
      let stages: [[String: Any]] = c.clauses.compactMap { clause in
        guard case .stage(let stage) = clause.kind else { return nil }
        return [
          "name": clause.keyword.text, "detail": "\(stage.statements.count) statement\(stage.statements.count == 1 ? "" : "s")",
          "kind": 3, "range": lspRange(document, clause.range.shifted(by: offset)),
          "selectionRange": lspRange(document, clause.keyword.range.shifted(by: offset)),
        ]
      }
      return [
        "name": c.id.text, "detail": "collector", "kind": 5, "range": lspRange(document, c.range.shifted(by: offset)),
        "selectionRange": lspRange(document, c.id.range.shifted(by: offset)), "children": stages,
      ]
    }
  }

  static let keywordHelp: [String: String] = [
    "collector": "`collector ID { ... }`: watches one model's predictions and copies a chosen subset of its inputs into another app.",
    "source": "`source USER/APP/MODEL [version ID]`: the model whose predictions the collector watches (`*` for any).",
    "destination": "`destination USER/APP`: the app the collected inputs are posted to.",
    "key": "`key env NAME` or `key file PATH`: where the destination key (PostInputs scope) is read; never the key itself.",
    "pre_queue": "`pre_queue { ... }`: statements over the model's output (concepts, regions, frames), run first.",
    "post_queue": "`post_queue { ... }`: statements over the original input (media, text, metadata), run last.",
    "require": "`require EXPR`: keeps only inputs for which EXPR holds.",
    "drop": "`drop if EXPR`: drops the inputs for which EXPR holds.",
    "sample": "`sample RATE [by PATH] [seed SEED]`: keeps a deterministic fraction of the inputs (a hash of the key).",
    "limit": "`limit N per [M] UNIT`: keeps at most N inputs per window of event time.",
    "map": "`map { a, b -> c }` or `map file PATH`: renames the model's concepts before the rules see them.",
    "collect_outputs": "`collect_outputs [concepts, regions]`: copies the prediction onto the collected input.",
    "datasets": "`datasets [ID, ...]`: the destination datasets the inputs are added to.",
  ]

  /// The word under an offset (names and `-`, as collector ids have them).
  func word(in document: TextDocument, at offset: Int, allowingDash: Bool = false) -> (String, SourceRange)? {
    func isWord(_ b: UInt8) -> Bool { Lexer.isNameContinue(b) || (allowingDash && b == UInt8(ascii: "-")) }
    var start = offset
    var end = offset
    while start > 0 && isWord(document.bytes[start - 1]) { start -= 1 }
    while end < document.bytes.count && isWord(document.bytes[end]) { end += 1 }
    guard start < end else { return nil }
    return (String(decoding: document.bytes[start..<end], as: UTF8.self), SourceRange(start, end))
  }

  func target(_ params: [String: Any]) -> (String, TextDocument, Int)? {
    guard let uri = (params["textDocument"] as? [String: Any])?["uri"] as? String, let document = documents[uri],
      let p = params["position"] as? [String: Any]
    else { return nil }
    return (uri, document, document.offset(line: p["line"] as? Int ?? 0, character: p["character"] as? Int ?? 0))
  }

  /// A diagnostic's explanation under the cursor, else a keyword's or a function's meaning, else
  /// what a concept is mapped to in the collector under the cursor.
  func hover(_ params: [String: Any]) -> [String: Any]? {
    guard let (uri, document, offset) = target(params) else { return nil }
    let analysis = analyses[uri] ?? analyse(uri)
    if let d = analysis.diagnostics.first(where: { $0.range.start <= offset && offset <= $0.range.end }) {
      return ["contents": ["kind": "markdown", "value": "**\(d.code.id) \(d.code.name)** (\(d.code.severity.rawValue)): \(d.code.summary)\n\n\(d.code.explanation)"]]
    }
    guard let (word, range) = word(in: document, at: offset) else { return nil }
    let text: String
    if let help = Self.keywordHelp[word] {
      text = help
    } else if let aggregate = AggregateKind(name: word) {
      text = "`\(word)(concepts)`: \(aggregate.isProbability ? "a probability" : "a number") computed over the output's concepts (Grammar.md §6.1)."
    } else if let mapping = mapping(of: word, at: offset, in: analysis) {
      text = mapping
    } else {
      return nil
    }
    return ["contents": ["kind": "markdown", "value": text], "range": lspRange(document, range)]
  }

  /// What the map of the collector around `offset` does with a concept: its target, or the
  /// sources mapped to it.
  func mapping(of concept: String, at offset: Int, in analysis: Analysis) -> String? {
    guard let (collector, _) = analysis.collectors.first(where: { $0.collector.range.shifted(by: $0.offset).start <= offset && offset <= $0.collector.range.shifted(by: $0.offset).end })
    else { return nil }
    for clause in collector.clauses {
      guard case .map(let map) = clause.kind else { continue }
      let entries = map.entries
      if let entry = entries.first(where: { $0.sources.contains { $0.text == concept } }) {
        return "`\(concept)` is mapped to `\(entry.target.text)` by this collector's map: the rules see `\(entry.target.text)`."
      }
      let sources = entries.filter { $0.target.text == concept }.flatMap { $0.sources.map(\.text) }
      if !sources.isEmpty {
        return "`\(concept)` is what this collector's map makes of " + sources.map { "`\($0)`" }.joined(separator: ", ") + "."
      }
    }
    return nil
  }

  // MARK: Definition

  /// Go to definition: on `map file "PATH"`, the map file; on a test file's `rules "PATH"`, the
  /// rules; on a collector's name (in a test's `expect`, or a collector's own id), its definition in
  /// the rules the test names, or in the rule files beside the document (open documents as they
  /// stand in the editor, the others as on disk).
  func definition(_ params: [String: Any]) -> Any? {
    guard let (uri, document, offset) = target(params) else { return nil }
    let analysis = analyses[uri] ?? analyse(uri)
    let folder = (document.path as NSString).deletingLastPathComponent
    func resolve(_ path: String) -> String { path.hasPrefix("/") ? path : (folder as NSString).appendingPathComponent(path) }
    func fileStart(_ path: String) -> [String: Any] {
      ["uri": URL(fileURLWithPath: path).absoluteString, "range": ["start": ["line": 0, "character": 0], "end": ["line": 0, "character": 0]]]
    }
    if let tests = analysis.tests {
      if let rules = tests.rules, rules.range.start <= offset && offset <= rules.range.end { return fileOrNil(resolve(rules.value)).map(fileStart) }
      for test in tests.cases {
        if let rules = test.rules, rules.range.start <= offset && offset <= rules.range.end { return fileOrNil(resolve(rules.value)).map(fileStart) }
        for step in test.steps {
          for e in step.expectations where e.collector.range.start <= offset && offset <= e.collector.range.end {
            guard let rules = test.rules ?? tests.rules else { return nil }
            return collectorDefinitions(e.collector.value, in: [resolve(rules.value)])
          }
        }
      }
      return nil
    }
    for (c, shift) in analysis.collectors {
      for clause in c.clauses {
        guard case .map(let map) = clause.kind, let target = map.file, target.range.start + shift <= offset && offset <= target.range.end + shift else { continue }
        return fileOrNil(resolve(target.text)).map(fileStart)
      }
      let id = c.id.range.shifted(by: shift)
      if id.start <= offset && offset <= id.end {
        let found = collectorDefinitions(c.id.text, in: [folder.isEmpty ? "." : folder])
        return found.isEmpty ? nil : found
      }
    }
    return nil
  }

  func fileOrNil(_ path: String) -> String? { FileManager.default.fileExists(atPath: path) ? path : nil }

  /// Every place `id` is defined in the rule files under `paths` (files, or folders and their
  /// subfolders); an open document is read as the editor has it.
  func collectorDefinitions(_ id: String, in paths: [String]) -> [[String: Any]] {
    var files: [String] = []
    for path in paths {
      guard let sets = try? RuleLoader.ruleSets([path]) else { continue }
      files += sets.flatMap { $0 }
    }
    let open = Dictionary(documents.values.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    var locations: [[String: Any]] = []
    for path in Set(files).sorted() {
      let document: TextDocument
      if let known = open[(path as NSString).standardizingPath] ?? open[path] {
        document = known
      } else {
        guard let data = FileManager.default.contents(atPath: path) else { continue }
        document = TextDocument(uri: URL(fileURLWithPath: path).absoluteString, version: 0, text: String(decoding: data, as: UTF8.self))
      }
      let file = RuleLoader.parse(SourceFile(path: path, bytes: document.bytes), sink: DiagnosticSink())
      for c in file.collectors where c.id.text == id {
        locations.append(["uri": URL(fileURLWithPath: path).absoluteString, "range": lspRange(document, c.id.range)])
      }
    }
    return locations
  }

  // MARK: Completion

  /// Keywords and functions anywhere; after `metadata.` (at any depth), the keys seen there in the
  /// recording; concepts (the concepts file's and the recording's) where a word stands alone.
  func completion(_ params: [String: Any]) -> [String: Any] {
    var items: [[String: Any]] = []
    if let (_, document, offset) = target(params), let path = metadataPath(before: offset, in: document) {
      for key in vocabulary.keys(under: path) {
        let plain = !key.isEmpty && Lexer.isNameStart(key.utf8.first!) && key.utf8.allSatisfy(Lexer.isNameContinue)
        items.append(["label": key, "kind": 10, "detail": "metadata, seen in the recording", "insertText": plain ? key : "\"\(key)\""])
      }
      return ["isIncomplete": false, "items": items]
    }
    for k in Parser.clauseKeywords + Parser.statementKeywords { items.append(["label": k, "kind": 14]) }
    for f in ["concept"] + AggregateKind.allCases.map(\.name) + ["count", "exists", "length", "type"] {
      items.append(["label": f, "kind": 3, "insertText": f + "("])
    }
    for w in ["concepts", "regions", "frames", "metadata", "input", "model", "any", "all", "where", "and", "or", "not", "in"] {
      items.append(["label": w, "kind": 14])
    }
    for concept in (options.concepts?.names ?? []).union(vocabulary.concepts).sorted() {
      items.append(["label": concept, "kind": 12, "detail": "concept"])
    }
    return ["isIncomplete": false, "items": items]
  }

  /// The metadata path being typed before `offset` (`metadata.device.` gives `["device"]`, and so
  /// does `input.metadata.device.os` while `os` is typed), or nil when the cursor is not after one.
  func metadataPath(before offset: Int, in document: TextDocument) -> [String]? {
    let bytes = document.bytes
    var i = offset
    while i > 0 && Lexer.isNameContinue(bytes[i - 1]) { i -= 1 }  // the word being typed
    var segments: [String] = []
    while i > 0 && bytes[i - 1] == UInt8(ascii: ".") {
      i -= 1
      var end = i
      var start = i
      if end > 0 && bytes[end - 1] == UInt8(ascii: "\"") {
        // A quoted segment: `metadata."user-id".`
        end -= 1
        start = end
        while start > 0 && bytes[start - 1] != UInt8(ascii: "\"") && bytes[start - 1] != 10 { start -= 1 }
        guard start > 0, bytes[start - 1] == UInt8(ascii: "\"") else { return nil }
        segments.append(String(decoding: bytes[start..<end], as: UTF8.self))
        i = start - 1
      } else {
        while start > 0 && Lexer.isNameContinue(bytes[start - 1]) { start -= 1 }
        guard start < end else { return nil }
        let segment = String(decoding: bytes[start..<end], as: UTF8.self)
        if segment == "metadata" { return segments.reversed() }
        segments.append(segment)
        i = start
        end = start
      }
    }
    return nil
  }
}
