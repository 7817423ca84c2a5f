import Foundation
import PropertyBased
import RulesDiagnostics
import RulesSource
import RulesCompiler
import RulesEngine
import RulesEvents
import RulesSema
import RulesSQL
import RulesSyntax
import RulesTesting
import Testing

/// Arbitrary bytes never crash or hang the front ends and the checker, and formatting is stable.
@Suite struct RobustnessTests {
  static let seedFile = read("rules/combined.rule")
  static let seedYAML = read("rules/yaml/combined.yaml")

  @Test func randomBytesGetDiagnostics() async {
    await propertyCheck(count: 300, input: Gen.uint8().array(of: 0...400)) { bytes in
      _ = check(bytes: bytes, path: "random.rule")
      _ = check(bytes: bytes, path: "random.yaml")
    }
  }

  /// `source` with an edit at each position, in turn: a byte replaced, removed, inserted, or the
  /// file truncated there.
  static func mutate(_ source: [UInt8], _ positions: [Int], _ byte: UInt8) -> [UInt8] {
    var bytes = source
    for (i, p) in positions.enumerated() where !bytes.isEmpty {
      let at = p % bytes.count
      switch i % 4 {
      case 0: bytes[at] = byte
      case 1: bytes.remove(at: at)
      case 2: bytes.insert(byte, at: at)
      default: bytes = Array(bytes[..<at])
      }
    }
    return bytes
  }

  @Test func mutatedFilesNeverCrash() async {
    let base = Array(Self.seedFile.utf8)
    let yaml = Array(Self.seedYAML.utf8)
    let edits = Gen.int(in: 0...1_000_000_000).array(of: 1...12)
    await propertyCheck(count: 300, input: edits, Gen.uint8()) { positions, byte in
      for source in [base, yaml] {
        _ = check(bytes: Self.mutate(source, positions, byte), path: source == base ? "m.rule" : "m.yaml")
      }
    }
  }

  /// Rule test files, mutated (or random bytes): the test-file parser never crashes or hangs, every
  /// diagnostic lies inside the file, and a file that still parses runs against the example rules.
  @Test func mutatedTestFilesNeverCrash() async {
    let base = Array(read("rules/combined.ruletest").utf8)
    let edits = Gen.int(in: 0...1_000_000_000).array(of: 1...12)
    await propertyCheck(count: 200, input: edits, Gen.uint8()) { positions, byte in
      let bytes = Self.mutate(base, positions, byte)
      let sink = DiagnosticSink()
      let source = SourceFile(path: TestPaths.rules.appendingPathComponent("mutated.ruletest").path, bytes: bytes)
      _ = TestRunner(sink: sink).run(source)
      for d in sink.sorted where d.file.path == source.path {
        #expect(d.range.start <= bytes.count && d.range.end <= bytes.count && d.range.start <= d.range.end, "\(d.code.id) at \(d.range)")
      }
    }
    await propertyCheck(count: 200, input: Gen.uint8().array(of: 0...400)) { bytes in
      _ = TestParser.parse(SourceFile(path: "random.ruletest", bytes: bytes), sink: DiagnosticSink())
    }
  }

  /// Whatever parses without errors formats to text that parses again and formats to itself.
  @Test func formattingIsIdempotentOnMutations() async {
    let base = Array(Self.seedFile.utf8)
    await propertyCheck(count: 300, input: Gen.int(in: 0...1_000_000_000), Gen.int(in: 0...1_000_000_000)) { a, b in
      var bytes = base
      let lo = min(a % bytes.count, b % bytes.count)
      let hi = max(a % bytes.count, b % bytes.count)
      bytes.removeSubrange(lo..<hi)  // delete a random span
      let sink = DiagnosticSink()
      let parsed = Parser.parse(SourceFile(path: "f.rule", bytes: bytes), sink: sink)
      guard !sink.hasErrors else { return }
      let once = Printer.format(parsed)
      let sink2 = DiagnosticSink()
      let twice = Printer.format(Parser.parse(SourceFile(path: "f.rule", text: once), sink: sink2))
      #expect(!sink2.hasErrors)
      #expect(once == twice)
    }
  }

  /// Mutated rule files that still check (and the chains at the language's limits) compile to SQL
  /// or are refused with RC6001, without a crash: the SQL compiler walks what the checker passes.
  @Test func mutatedRulesCompileToSQLOrAreRefused() async {
    let base = Array(Self.seedFile.utf8)
    let edits = Gen.int(in: 0...1_000_000_000).array(of: 1...6)
    await propertyCheck(count: 200, input: edits, Gen.uint8()) { positions, byte in
      let sink = DiagnosticSink()
      let file = Parser.parse(SourceFile(path: "m.rule", bytes: Self.mutate(base, positions, byte)), sink: sink)
      let program = Checker(sink: sink).check([file])
      guard !sink.hasErrors else { return }
      let compiling = DiagnosticSink()
      let query = SQLCompiler(dialect: .duckdb, sink: compiling).compile(program, from: .file("x.jsonl"))
      #expect(query != nil || compiling.sorted.allSatisfy { $0.code.id == "RC6001" })
    }
    let chain = (0..<1000).map { _ in "max(concepts) < 0.5" }.joined(separator: " and ")
    let sink = DiagnosticSink()
    let program = Checker(sink: sink).check([Parser.parse(SourceFile(path: "c.rule", text: collector(pre: "    require " + chain)), sink: sink)])
    #expect(SQLCompiler(dialect: .duckdb, sink: sink).compile(program, from: .file("x.jsonl"))?.contains("AND") == true)
  }

  @Test func deepNestingHasItsOwnCode() {
    let deep = String(repeating: "(", count: 10_000) + "true" + String(repeating: ")", count: 10_000)
    let ds = check(collector(pre: "    require " + deep))
    #expect(codes(ds) == ["RC1010"])
    let nots = String(repeating: "not ", count: 10_000) + "true"
    #expect(codes(check(collector(pre: "    require " + nots))) == ["RC1010"])
    let yaml = YAMLFrontEndTests.header + "    pre_queue:\n      - require: \"\(String(repeating: "-", count: 5000))1 > 0\"\n"
    #expect(codes(check(yaml, path: "t.yaml")).contains("RC1010"))
  }

  /// Files that are only long: no pass recurses as deep as the file is long. A chain of `or`,
  /// `and`, `+` or `*` past `Parser.chainLimit` operands, a list nested past the nesting limit and a
  /// metadata path past `Parser.pathLimit` segments get RC1010 at the place; a chain at the limit
  /// checks, compiles and formats; a long concept-map chain checks in linear time.
  @Test func longFilesGetLocatedErrorsNotCrashes() throws {
    func terms(_ n: Int, _ join: String) -> String { (0..<n).map { "concept(c\($0)) > 0.5" }.joined(separator: join) }
    let cases: [(String, String)] = [
      (terms(4300, " or "), "more than 1000 operands joined by 'or'"),
      (terms(50_000, " and "), "more than 1000 operands joined by 'and'"),
      ("1" + String(repeating: " + 1", count: 4296) + " > 0", "more than 1000 operands joined by '+'"),
      ("2" + String(repeating: " * 2", count: 4296) + " > 0", "more than 1000 operands joined by '*'"),
      ("metadata.a in " + String(repeating: "[", count: 8202) + String(repeating: "]", count: 8202), "expression nests deeper than 100 levels"),
      ("metadata." + Array(repeating: "a", count: 35_156).joined(separator: ".") + " == 1", "a metadata path of more than 100 segments"),
    ]
    for (condition, message) in cases {
      let ds = check(collector(pre: "    require " + condition))
      let deep = ds.first { $0.code.id == "RC1010" }
      #expect(deep?.message.text == message, "\(message)")
      #expect(deep?.location.line == 6, "\(message)")
    }
    // At the limit everything works: check, compile, format (idempotent).
    let atLimit = collector(pre: "    require " + terms(1000, " or "))
    #expect(check(atLimit).isEmpty)
    let sink = DiagnosticSink()
    let program = Checker(sink: sink).check([Parser.parse(SourceFile(path: "t.rule", text: atLimit), sink: sink)])
    var projection = MetadataProjection()
    let compiled = Compiler().compile(program.collectors[0], projection: &projection)
    #expect(compiled.program.blocks.count > 0)
    let formatted = Printer.format(Parser.parse(SourceFile(path: "t.rule", text: atLimit), sink: sink))
    #expect(Printer.format(Parser.parse(SourceFile(path: "t.rule", text: formatted), sink: sink)) == formatted)
    // A concept map chained 5,000 steps: each step reported (RC4xxx), in linear time.
    let chain = (0..<5000).map { "    c\($0) -> c\($0 + 1)" }.joined(separator: "\n")
    let map = check(collector(pre: "    sample 10%", map: "map {\n\(chain)\n  }"))
    #expect(!map.isEmpty && map.allSatisfy { $0.severity != .error })
  }

  /// Chains at the limit on a thread with a small stack (256 KiB, half of a secondary thread's on macOS):
  /// every stage, from parsing to both evaluators and `--explain`, walks a chain without recursing
  /// once per operand (the checker did, and overflowed under the address sanitizer).
  @Test func chainsAtTheLimitFitASmallStack() throws {
    func terms(_ n: Int, _ join: String) -> String { (0..<n).map { "concept(c\($0)) > 0.5" }.joined(separator: join) }
    let conditions = [
      terms(1000, " or "), terms(1000, " and "), "1" + String(repeating: " + 1", count: 999) + " > 0",
      "1" + String(repeating: " - 1", count: 999) + " < 0", "2" + String(repeating: " * 1", count: 999) + " > 0",
    ]
    let event = #"{"id":"o","status":{"code":10000},"model":{"id":"general-image-recognition","user_id":"clarifai","app_id":"main"},"input":{"id":"in-1"},"data":{"concepts":[{"id":"c7","value":0.9}]}}"#
    for condition in conditions {
      let text = collector(pre: "    require " + condition)
      final class Box: @unchecked Sendable { var lines: [String] = [] }  // written by the thread, read after it signals
      let box = Box()
      let done = DispatchSemaphore(value: 0)
      let thread = Thread {
        var outcome: [String] = []
        let sink = DiagnosticSink()
        let file = Parser.parse(SourceFile(path: "t.rule", text: text), sink: sink)
        let program = Checker(sink: sink).check([file])
        outcome.append("diagnostics \(codes(sink.sorted))")
        _ = Printer.format(file)
        for evaluator in CollectorEngine.Evaluator.allCases {
          guard var engine = try? CollectorEngine(program: program, evaluator: evaluator) else { continue }
          engine.explainInput = "in-1"
          engine.recordsVerdicts = true
          let decoded = Array(event.utf8).withUnsafeBufferPointer { try? engine.decoder.decode(line: $0, lineNumber: 1) }
          Array(event.utf8).withUnsafeBufferPointer { line in
            for e in decoded ?? [] { engine.offer(e, line: line) }
          }
          outcome.append("\(evaluator): \(engine.verdicts.map(\.accepted))")
        }
        box.lines = outcome
        done.signal()
      }
      thread.stackSize = 256 << 10
      thread.start()
      done.wait()
      let outcome = box.lines
      #expect(outcome.count == 3 && outcome[0] == "diagnostics []", "\(outcome)")
      #expect(Set(outcome.dropFirst().map { $0.split(separator: ":")[1] }).count == 1, "the evaluators disagree: \(outcome)")
    }
  }

  /// Inputs the fuzzers found crashing, kept as they were found: each now checks (with its errors)
  /// and formats without a crash, on a 256 KiB stack.
  @Test(arguments: ["FuzzRules-stack-overflow-1.rule"])
  func fuzzFindingsStayFixed(file: String) {
    let bytes = Array(FileManager.default.contents(atPath: TestPaths.golden.appendingPathComponent("fuzz/\(file)").path) ?? Data())
    #expect(!bytes.isEmpty)
    final class Box: @unchecked Sendable { var diagnostics: [Diagnostic] = [] }
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      let sink = DiagnosticSink()
      let parsed = Parser.parse(SourceFile(path: file, bytes: bytes), sink: sink)
      _ = Checker(sink: sink).check([parsed])
      _ = Printer.format(parsed)
      box.diagnostics = sink.sorted
      done.signal()
    }
    thread.stackSize = 256 << 10
    thread.start()
    done.wait()
    #expect(!box.diagnostics.isEmpty)
    #expect(box.diagnostics.allSatisfy { $0.range.end <= bytes.count })
  }

  @Test func hugeLineNULBytesAndTruncation() {
    let huge = collector(pre: "    require metadata.a == \"" + String(repeating: "x", count: 10_000_000) + "\"")
    #expect(codes(check(huge)) == [])
    let unterminated = collector(pre: "    require metadata.a == \"" + String(repeating: "y", count: 10_000_000))
    #expect(codes(check(unterminated)).first == "RC1003")
    let text = collector(pre: "    sample 10%")
    var withNUL = Array(text.utf8)
    withNUL.insert(0, at: text.utf8.count - 3)  // between tokens, before the closing braces
    #expect(codes(check(bytes: withNUL)) == ["RC1002"])
    let truncated = String(Self.seedFile.prefix(Self.seedFile.count / 2))
    #expect(!check(truncated).isEmpty)
    let binary = [UInt8](repeating: 0xFF, count: 100_000)
    let ds = check(bytes: binary)
    #expect(codes(ds) == ["RC1001"])
  }
}
