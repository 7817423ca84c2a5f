import Foundation
import RulesDiagnostics
import RulesEngine
import RulesEvents
import RulesLoader
import RulesSema
import RulesSource
import RulesSyntax

/// What one case came to.
public struct CaseResult: Sendable {
  public enum Status: String, Sendable {
    case passed, failed, error
  }

  /// One expectation the rules did not meet.
  public struct Failure: Sendable {
    public var collector: String
    public var expected: String
    public var got: String
    /// The expectation's place in the test file.
    public var location: LineColumn
    /// The input the event carried, if it named one.
    public var input: String?
    /// The `--explain` trace of the event's input, one line a statement met.
    public var trace: [String] = []
  }

  public var file: String
  public var name: String
  public var location: LineColumn
  public var status: Status
  public var failures: [Failure] = []
  /// For an error: what kept the case from running (its diagnostics are printed apart).
  public var error: String?
  public var seconds: Double = 0
  /// Expectations checked (each output of each event counts once per expectation).
  public var checks = 0
}

/// Runs test cases against the collector engine (the one every driver uses), each case on an
/// engine of its own so state (limits, dedupe, sampling) carries across its events and no further.
/// Rules and recordings are read once, however many cases name them.
public final class TestRunner {
  let sink: DiagnosticSink
  var programs: [String: Result<CheckedProgram, LoadFailure>] = [:]
  var recordings: [String: Result<Recording, LoadFailure>] = [:]

  /// A recording, mapped, with the starts of the lines found so far: a test naming line 3 of a
  /// 100 MB recording reads three lines, not the file (the whole file took 0.2 s).
  final class Recording {
    let data: Data
    var lineStarts = [0]

    init(_ data: Data) { self.data = data }

    /// Line `number` (from 1) without its line break, or nil past the end; and how many lines
    /// there are when it is past the end.
    func line(_ number: Int) -> (bytes: [UInt8]?, count: Int) {
      data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
        let bytes = raw.bindMemory(to: UInt8.self)
        while lineStarts.count <= number, let start = lineStarts.last, start < bytes.count {
          let end = bytes[start...].firstIndex(of: 10) ?? bytes.count
          lineStarts.append(end + 1)
        }
        guard number < lineStarts.count else { return (nil, lineStarts.count - 1) }
        var line = bytes[lineStarts[number - 1]..<min(lineStarts[number] - 1, bytes.count)]
        if line.last == 13 { line = line.dropLast() }
        return (Array(line), 0)
      }
    }
  }

  struct LoadFailure: Error {
    var reason: String
  }

  /// Whether cases count what they exercise of their rules (`coverage` afterwards).
  public var measuresCoverage = false
  /// Per rules path, in the order first tested, what the cases exercised.
  var measured: [(path: String, program: CheckedProgram, coverage: Coverage)] = []

  /// Problems of test files (and of the rules they name) go to `sink`.
  public init(sink: DiagnosticSink) { self.sink = sink }

  /// What the cases run so far exercised of the rules they test.
  public var coverage: TestCoverage { TestCoverage(measured.map { ($0.program, $0.coverage) }) }

  func coverage(for program: CheckedProgram, path: String) -> Coverage? {
    guard measuresCoverage else { return nil }
    if let known = measured.first(where: { $0.path == path }) { return known.coverage }
    let coverage = Coverage(program: program)
    measured.append((path, program, coverage))
    return coverage
  }

  /// Reads a test file and runs its cases. A file with syntax errors runs none of them: each is
  /// reported as not run (and the file itself, when no case could be read).
  public func run(_ source: SourceFile) -> [CaseResult] {
    let errorsBefore = sink.errorCount
    let file = TestYAML.isYAML(source.path) ? TestYAML.parse(source, sink: sink) : TestParser.parse(source, sink: sink)
    guard sink.errorCount == errorsBefore else {
      let cases = file.cases.map { ($0.name, source.location(of: $0.range.start)) }
      return (cases.isEmpty ? [("(the file)", LineColumn(line: 1, column: 1))] : cases).map {
        CaseResult(file: source.path, name: $0.0, location: $0.1, status: .error, error: "the test file has errors")
      }
    }
    return run(file)
  }

  /// Runs every case of `file`; problems that keep a case from running are diagnostics in `sink`.
  public func run(_ file: TestFile) -> [CaseResult] {
    file.cases.map { run($0, in: file) }
  }

  /// An event ready to offer: the outputs of one JSON value, and its bytes.
  struct ReadyStep {
    var step: TestStep
    var line: [UInt8]
    var events: [Event]
  }

  func run(_ test: TestCase, in file: TestFile) -> CaseResult {
    let started = DispatchTime.now().uptimeNanoseconds
    var result = runUntimed(test, in: file)
    result.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    return result
  }

  func runUntimed(_ test: TestCase, in file: TestFile) -> CaseResult {
    let source = file.source
    var result = CaseResult(file: source.path, name: test.name, location: source.location(of: test.range.start), status: .passed)
    let errorsBefore = sink.errorCount
    guard let (program, path) = program(for: test, in: file) else {
      result.status = .error
      result.error = "its rules could not be loaded"
      return result
    }
    // A fresh engine for each run of the case: its state (limits, dedupe, sampling) starts empty.
    func makeEngine() throws -> CollectorEngine { try CollectorEngine(program: program, stages: .both, skipsAccepted: true) }
    let engine: CollectorEngine
    do {
      engine = try makeEngine()
    } catch {
      result.status = .error
      result.error = "the compiled rules failed verification: \(error)"
      return result
    }
    let ids = Dictionary(program.collectors.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
    var ready: [ReadyStep] = []
    for step in test.steps {
      if let r = prepare(step, file: file, decoder: engine.decoder) { ready.append(r) }
      for e in step.expectations { validate(e, program: program, ids: ids, source: source) }
    }
    guard sink.errorCount == errorsBefore else {
      result.status = .error
      result.error = "the test has errors"
      return result
    }
    var measuring = engine
    measuring.coverage = coverage(for: program, path: path)
    result.failures = evaluate(ready, engine: measuring, ids: ids, source: source, checks: &result.checks)
    if !result.failures.isEmpty {
      result.status = .failed
      // The trace of each failing event's input: the same case again, explaining that input.
      for k in result.failures.indices {
        if let again = try? makeEngine() { result.failures[k].trace = trace(ready, engine: again, failure: result.failures[k]) }
      }
    }
    return result
  }

  // MARK: Loading

  /// The program a case tests, with the path it was loaded from.
  func program(for test: TestCase, in file: TestFile) -> (CheckedProgram, String)? {
    guard let rules = test.rules ?? file.rules else {
      sink.emit(
        DiagnosticMessage(.testRules, "test '\(test.name)' names no rules", help: "name them at the top of the file: rules \"collectors.rule\""),
        file: file.source, range: test.range)
      return nil
    }
    let path = resolve(rules.value, from: file.source.path)
    let loaded: Result<CheckedProgram, LoadFailure>
    if let cached = programs[path] {
      loaded = cached
    } else {
      let ruleSink = DiagnosticSink()
      do {
        let program = try RuleLoader.load([path], options: CheckOptions(), sink: ruleSink).program
        if ruleSink.hasErrors {
          for d in ruleSink.sorted where d.severity == .error { sink.append(d) }
          loaded = .failure(LoadFailure(reason: "\(ruleSink.errorCount) error\(ruleSink.errorCount == 1 ? "" : "s") in the rules"))
        } else if program.collectors.isEmpty {
          loaded = .failure(LoadFailure(reason: "the rules define no collectors"))
        } else {
          loaded = .success(program)
        }
      } catch {
        loaded = .failure(LoadFailure(reason: error.description))
      }
      programs[path] = loaded
    }
    switch loaded {
    case .success(let program): return (program, path)
    case .failure(let failure):
      sink.emit(
        DiagnosticMessage(.testRules, "cannot test '\(rules.value)': \(failure.reason)", help: "run rulec check \(rules.value)"),
        file: file.source, range: rules.range)
      return nil
    }
  }

  /// A path relative to the test file's folder.
  func resolve(_ path: String, from testFile: String) -> String {
    if path.hasPrefix("/") { return path }
    let folder = (testFile as NSString).deletingLastPathComponent
    return folder.isEmpty ? path : (folder as NSString).appendingPathComponent(path)
  }

  func prepare(_ step: TestStep, file: TestFile, decoder: OutputDecoder) -> ReadyStep? {
    var bytes: [UInt8]
    switch step.event {
    case .inline(let json):
      bytes = json.withUnsafeBufferPointer { JSONDocument.compact($0) }
    case .recording(let path, let number):
      let full = resolve(path, from: file.source.path)
      guard !path.hasSuffix(".gz") else {
        // A line of a compressed file has no place to point at without reading the file through.
        sink.emit(
          DiagnosticMessage(.testBadEvent, "'\(path)' is compressed: FILE:LINE reads plain recordings", help: "copy the line into the test, or name a plain copy of the recording"),
          file: file.source, range: step.range)
        return nil
      }
      switch recording(full) {
      case .failure(let failure):
        sink.emit(DiagnosticMessage(.testBadEvent, "cannot read '\(path)': \(failure.reason)"), file: file.source, range: step.range)
        return nil
      case .success(let recording):
        let (line, count) = recording.line(number)
        guard let line else {
          sink.emit(
            DiagnosticMessage(.testBadEvent, "'\(path)' has \(count) line\(count == 1 ? "" : "s"), not \(number)"),
            file: file.source, range: step.range)
          return nil
        }
        bytes = line
      }
    }
    let line = file.source.location(of: step.range.start).line
    do {
      let events = try bytes.withUnsafeBufferPointer { try decoder.decode(line: $0, lineNumber: line) }
      guard !events.isEmpty else {
        sink.emit(DiagnosticMessage(.testBadEvent, "the event holds no output"), file: file.source, range: step.range)
        return nil
      }
      return ReadyStep(step: step, line: bytes, events: events)
    } catch {
      sink.emit(
        DiagnosticMessage(.testBadEvent, "the event cannot be read: \((error as? DecodeError)?.description ?? "\(error)")", help: "an event is one output, or a PostModelOutputs response, as Clarifai writes it"),
        file: file.source, range: step.range)
      return nil
    }
  }

  func recording(_ path: String) -> Result<Recording, LoadFailure> {
    if let cached = recordings[path] { return cached }
    let result: Result<Recording, LoadFailure>
    do {
      result = .success(Recording(try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)))
    } catch {
      result = .failure(LoadFailure(reason: (error as NSError).localizedDescription))
    }
    recordings[path] = result
    return result
  }

  func validate(_ e: Expectation, program: CheckedProgram, ids: [String: Int], source: SourceFile) {
    guard let index = ids[e.collector.value] else {
      let suggestion = Spelling.suggestion(for: e.collector.value, among: ids.keys)
      sink.emit(
        DiagnosticMessage(
          .testUnknownCollector, "no collector '\(e.collector.value)' in the rules",
          help: suggestion.map { "did you mean '\($0)'?" } ?? "the collectors are " + program.collectors.map(\.id).joined(separator: ", ")),
        file: source, range: e.collector.range)
      return
    }
    if case .dropped(let stage, _, let by?) = e.outcome {
      // The statement named by its text: exactly one of the collector's (in the stage named).
      let matching = statementLines(program.collectors[index], stage: stage).filter { Self.statement($0.text, contains: by) }
      if matching.count != 1 {
        let all = statementLines(program.collectors[index], stage: stage)
        sink.emit(
          DiagnosticMessage(
            .testNoStatement,
            matching.isEmpty
              ? "no statement of '\(e.collector.value)'\(stage.map { " in \($0.rawValue)" } ?? "") reads '\(by)'"
              : "'\(by)' is in \(matching.count) statements of '\(e.collector.value)' (lines \(matching.map { String($0.line) }.joined(separator: ", ")))",
            help: matching.isEmpty
              ? "its statements: " + all.map { "line \($0.line): \($0.text)" }.joined(separator: "; ")
              : "quote more of the statement, so that one statement reads it"),
          file: source, range: e.lineRange ?? e.range)
      }
      return
    }
    guard case .dropped(let stage, let line?, _) = e.outcome else { return }
    let lines = statementLines(program.collectors[index], stage: stage)
    if !lines.contains(where: { $0.line == line }) {
      sink.emit(
        DiagnosticMessage(
          .testNoStatement, "line \(line) holds no statement of '\(e.collector.value)'\(stage.map { " in \($0.rawValue)" } ?? "")",
          help: lines.isEmpty
            ? "the collector has no statements there"
            : (lines.count == 1 ? "its statement is on line " : "its statements are on lines ") + lines.map { String($0.line) }.joined(separator: ", ")),
        file: source, range: e.lineRange ?? e.range)
    }
  }

  /// The rule-file lines of a collector's statements, with their stage and text, in order.
  func statementLines(_ c: CheckedCollector, stage: Expectation.Stage?) -> [(stage: Expectation.Stage, line: Int, text: String)] {
    var out: [(Expectation.Stage, Int, String)] = []
    if stage != .postQueue { out += (c.preQueue ?? []).map { (.preQueue, c.file.location(of: $0.range.start).line, Printer.statement($0)) } }
    if stage != .preQueue { out += (c.postQueue ?? []).map { (.postQueue, c.file.location(of: $0.range.start).line, Printer.statement($0)) } }
    return out
  }

  /// Whether a statement's text (as the formatter writes it) holds `text`, spaces aside.
  static func statement(_ statement: String, contains text: String) -> Bool {
    func squeezed(_ s: String) -> String { s.filter { !$0.isWhitespace } }
    return squeezed(statement).contains(squeezed(text))
  }

  // MARK: Running

  /// What a collector made of one output.
  enum Got {
    case accepted(item: [UInt8])
    case dropped(stage: Expectation.Stage, line: Int, text: String)
    case ignored
    case repeated

    var description: String {
      switch self {
      case .accepted: "accepted"
      case .dropped(let stage, let line, let text): "dropped in \(stage.rawValue) at line \(line): \(text)"
      case .ignored: "ignored (the collector does not watch this output)"
      case .repeated: "repeated (the collector had already accepted this input)"
      }
    }
  }

  func evaluate(_ steps: [ReadyStep], engine: CollectorEngine, ids: [String: Int], source: SourceFile, checks: inout Int) -> [CaseResult.Failure] {
    var engine = engine
    engine.recordsVerdicts = true
    var failures: [CaseResult.Failure] = []
    for ready in steps {
      ready.line.withUnsafeBufferPointer { line in
        for event in ready.events {
          engine.output.removeAll(keepingCapacity: true)
          engine.offer(event, line: line)
          for expectation in ready.step.expectations {
            guard let index = ids[expectation.collector.value] else { continue }
            checks += 1
            let got = outcome(of: index, engine: engine)
            if let mismatch = Self.mismatch(expectation.outcome, got) {
              failures.append(
                CaseResult.Failure(
                  collector: expectation.collector.value, expected: expectation.outcome.description, got: mismatch,
                  location: source.location(of: expectation.range.start), input: event.inputID))
            }
          }
        }
      }
    }
    return failures
  }

  func outcome(of index: Int, engine: CollectorEngine) -> Got {
    guard let verdict = engine.verdicts.first(where: { $0.collectorIndex == index }) else { return .ignored }
    if verdict.isRepeat { return .repeated }
    if verdict.accepted { return .accepted(item: Array(engine.output[verdict.itemBytes])) }
    let s = engine.report.collectors[index].statements[verdict.droppedAtStatement!]
    return .dropped(stage: s.stage == .preQueue ? .preQueue : .postQueue, line: s.line, text: s.text)
  }

  /// Nil when `got` meets `expected`, else what was got, said for the report.
  static func mismatch(_ expected: Expectation.Outcome, _ got: Got) -> String? {
    switch (expected, got) {
    case (.ignored, .ignored), (.repeated, .repeated): return nil
    case (.dropped(let stage, let line, let by), .dropped(let gotStage, let gotLine, let text)):
      if let stage, stage != gotStage { return got.description }
      if let line, line != gotLine { return got.description }
      if let by, !statement(text, contains: by) { return got.description }
      return nil
    case (.accepted(let fields), .accepted(let item)):
      return itemMismatch(fields, item)
    default:
      return got.description
    }
  }

  /// Compares the fields written with the item's; nil when they all agree.
  static func itemMismatch(_ fields: Expectation.ItemFields, _ item: [UInt8]) -> String? {
    guard fields != Expectation.ItemFields() else { return nil }
    guard let json = try? JSONSerialization.jsonObject(with: Data(item)) as? [String: Any] else {
      return "accepted, with an item that is not JSON"
    }
    var wrong: [String] = []
    if let id = fields.id, json["id"] as? String != id {
      wrong.append("id \(Expectation.Outcome.quote(json["id"] as? String ?? "?"))")
    }
    let rulec = ((json["data"] as? [String: Any])?["metadata"] as? [String: Any])?["rulec"] as? [String: Any]
    if let p = fields.inclusionProbability {
      let got = (rulec?["inclusion_probability"] as? NSNumber)?.doubleValue
      if got.map({ abs($0 - p) > 1e-9 }) ?? true {
        wrong.append("inclusion_probability \(got.map(Expectation.Outcome.number) ?? "missing")")
      }
    }
    if let d = fields.datasetIDs, (json["dataset_ids"] as? [String]) ?? [] != d {
      wrong.append("dataset_ids [" + ((json["dataset_ids"] as? [String]) ?? []).map(Expectation.Outcome.quote).joined(separator: ", ") + "]")
    }
    return wrong.isEmpty ? nil : "accepted " + wrong.joined(separator: " ")
  }

  /// The case run again with `--explain` on the failing event's input; its trace lines.
  func trace(_ steps: [ReadyStep], engine: CollectorEngine, failure: CaseResult.Failure) -> [String] {
    guard let input = failure.input else { return [] }
    var engine = engine
    engine.explainInput = input
    for ready in steps {
      ready.line.withUnsafeBufferPointer { line in
        for event in ready.events {
          engine.output.removeAll(keepingCapacity: true)
          engine.offer(event, line: line)
        }
      }
    }
    return engine.explanation.filter { $0.contains(" \(failure.collector) ") }
  }
}
