import Foundation
import RulecCommands
import RulesDiagnostics
import RulesSource
import RulesTesting
import Testing

/// `rulec test`: rule test files read, run on the engine, and reported (Grammar.md §13).
@Suite struct RuleTestTests {
  /// An output of the general model with one concept.
  static func event(input: String, value: Double, createdAt: String = "2024-03-02T08:00:00Z", model: String = "general-image-recognition") -> String {
    #"{"id": "out-\#(input)", "status": {"code": 10000}, "created_at": "\#(createdAt)", "model": {"id": "\#(model)", "user_id": "clarifai", "app_id": "main"}, "input": {"id": "\#(input)"}, "data": {"concepts": [{"id": "dog", "value": \#(value)}]}}"#
  }

  /// Times vary from run to run: golden output shows them as `T`.
  static func timeless(_ text: String) -> String {
    text.replacingOccurrences(of: #"\(\d+\.\d+ (ms|s)\)"#, with: "(T)", options: .regularExpression)
      .replacingOccurrences(of: #"time="\d+\.\d+""#, with: #"time="T""#, options: .regularExpression)
      .replacingOccurrences(of: #""seconds": [0-9.e-]+"#, with: #""seconds": T"#, options: .regularExpression)
  }

  @Test func theExampleRulesPassTheirTests() {
    var out = Capture()
    var err = Capture()
    let status = Test.execute(paths: [TestPaths.rules.path], format: .human, out: &out, err: &err)
    #expect(status == 0, "\(out.text)\(err.text)")
    #expect(err.text.isEmpty)
    // Every example rule file has tests.
    let ruleFiles = (try? FileManager.default.contentsOfDirectory(atPath: TestPaths.rules.path))?.filter { $0.hasSuffix(".rule") } ?? []
    for file in ruleFiles {
      let tests = TestPaths.rules.appendingPathComponent(file.replacingOccurrences(of: ".rule", with: ".ruletest")).path
      #expect(FileManager.default.fileExists(atPath: tests), "no tests for rules/\(file)")
    }
    #expect(out.text.contains(" passed (") && !out.text.contains("✘"))
  }

  @Test func stateCarriesAcrossTheEventsOfACaseAndNoFurther() {
    let rules = DiagnosticCode.exampleRules.replacingOccurrences(of: "    require max(concepts) < 0.6\n", with: "    require max(concepts) < 0.6\n    limit 1 per hour\n")
    let text = """
      rules "example.rule"

      test "one an hour" {
        event \(Self.event(input: "a", value: 0.2))
        expect demo accepted
        event \(Self.event(input: "b", value: 0.2, createdAt: "2024-03-02T08:30:00Z"))
        expect demo dropped at line 7
        event \(Self.event(input: "c", value: 0.2, createdAt: "2024-03-02T09:00:01Z"))
        expect demo accepted
        event \(Self.event(input: "a", value: 0.1, createdAt: "2024-03-02T10:00:01Z"))
        expect demo repeated
      }

      test "a case starts afresh" {
        event \(Self.event(input: "b", value: 0.2, createdAt: "2024-03-02T08:30:00Z"))
        expect demo accepted id "demo-b-
      }

      """
    // The id is a prefix of the collector and the input, then a digest: find it first.
    let (_, first) = runTests(text.replacingOccurrences(of: #"expect demo accepted id "demo-b-"#, with: "expect demo accepted"), rules: rules)
    #expect(first.map(\.status) == [.passed, .passed], "\(first.map { $0.failures.map(\.got) })")
    let (diagnostics, results) = runTests(text.replacingOccurrences(of: #"id "demo-b-"#, with: #"id "demo-b-0""#), rules: rules)
    #expect(diagnostics.isEmpty)
    #expect(results.map(\.status) == [.passed, .failed])
    #expect(results[1].failures.first?.got.hasPrefix("accepted id \"demo-b-") == true, "\(results[1].failures)")
  }

  @Test func aFailurePrintsWhatWasExpectedWhatHappenedAndTheTrace() {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-ruletest-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try? DiagnosticCode.exampleRules.write(toFile: folder + "/example.rule", atomically: true, encoding: .utf8)
    try? """
      rules "example.rule"

      test "passes" {
        event \(Self.event(input: "a", value: 0.2))
        expect demo accepted
      }

      test "fails twice" {
        event \(Self.event(input: "b", value: 0.9))
        expect demo accepted
        event \(Self.event(input: "c", value: 0.2))
        expect demo dropped in pre_queue
        event \(Self.event(input: "d", value: 0.2, model: "other"))
        expect demo ignored
      }

      """.write(toFile: folder + "/example.ruletest", atomically: true, encoding: .utf8)
    for format in TestFormat.allCases {
      var out = Capture()
      var err = Capture()
      let status = Test.execute(paths: [folder], format: format, out: &out, err: &err)
      #expect(status == 1)
      #expect(err.text.isEmpty)
      let text = Self.timeless(out.text.replacingOccurrences(of: folder + "/", with: ""))
      assertGolden(text, "ruletest/failure.\(format == .human ? "txt" : format.rawValue == "json" ? "json" : "xml")")
    }
  }

  @Test func problemsInTestFilesAreLocatedAndNothingRuns() {
    let text = """
      rules "example.rule"

      test "typographic quotes pasted from a document" {
        event \(Self.event(input: "a", value: 0.2))
        expect demo “accepted”
      }

      test “unquoted” {
        expect demo accepted
        event {"status": {"code": 10000}, "model": {"id": "general-image-recognition"}, "input": {"id": "x"}, "data": {"concepts": 7}}
        expect dmeo accepted
        expect demo dropped at line 2
        expect demo collected
        event "missing.jsonl:3"
        event "no-line-number"
        event {"unclosed": [1, 2
      }

      """
    let sink = DiagnosticSink()
    let file = SourceFile(path: "bad.ruletest", text: text)
    _ = TestParser.parse(file, sink: sink)
    let renderer = DiagnosticRenderer(colored: false)
    let parsed = sink.sorted.map { renderer.render($0) }.joined(separator: "\n")
    assertGolden(parsed, "ruletest/syntax-errors.txt")
    // A file that parses: the runner finds what only the rules and the events can tell.
    let (diagnostics, results) = runTests(
      """
      rules "example.rule"

      test "passes" {
        event \(Self.event(input: "a", value: 0.2))
        expect demo accepted
      }

      test "cannot run" {
        event {"status": {"code": 10000}, "model": {"id": "general-image-recognition"}, "input": {"id": "x"}, "data": {"concepts": 7}}
        expect dmeo accepted
        expect demo dropped at line 2
        event "missing.jsonl:3"
        expect demo accepted
      }

      """)
    #expect(codes(diagnostics) == ["RC5002", "RC5001", "RC5003", "RC5002"], "\(codes(diagnostics))")
    #expect(results.map(\.status) == [.passed, .error])
  }

  @Test func coverageNamesWhatNoCaseShowed() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-ruletest-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    // Line 6: an `or` of three; line 7: a drop that no case triggers.
    try """
      collector demo {
        source clarifai/main/general-image-recognition
        destination me/dataset
        key env DEMO_KEY
        pre_queue {
          require concept(dog) > 0.9 or concept(cat) > 0.9 or concept(bird) > 0.9
          drop if metadata.source == "test"
        }
      }

      """.write(toFile: folder + "/example.rule", atomically: true, encoding: .utf8)
    func event(_ input: String, _ concept: String, _ value: Double) -> String {
      #"{"id": "o-\#(input)", "status": {"code": 10000}, "model": {"id": "general-image-recognition", "user_id": "clarifai", "app_id": "main"}, "input": {"id": "\#(input)"}, "data": {"concepts": [{"id": "\#(concept)", "value": \#(value)}]}}"#
    }
    try """
      rules "example.rule"

      test "a dog, and nothing" {
        event \(event("a", "dog", 0.95))
        expect demo accepted
        event \(event("b", "fish", 0.95))
        expect demo dropped at line 6
      }

      """.write(toFile: folder + "/example.ruletest", atomically: true, encoding: .utf8)
    let sink = DiagnosticSink()
    let runner = TestRunner(sink: sink)
    runner.measuresCoverage = true
    let results = runner.run(SourceFile(path: folder + "/example.ruletest", bytes: Array(FileManager.default.contents(atPath: folder + "/example.ruletest")!)))
    #expect(results.map(\.status) == [.passed])
    let coverage = runner.coverage
    let statements = try #require(coverage.collectors.first?.statements)
    #expect(statements.map(\.line) == [6, 7])
    // Line 6 let one through and dropped one; of its operands, the dog decided (first true) and the
    // bird decided (last, all false); the cat never did.
    #expect((statements[0].passed, statements[0].dropped) == (1, 1))
    #expect(statements[0].undecided.map(\.text) == ["concept(cat) > 0.9"])
    #expect(statements[0].undecided.first?.location == LineColumn(line: 6, column: 35))
    // Line 7 was met once (by the dog) and never dropped.
    #expect((statements[1].passed, statements[1].dropped) == (1, 0))
    // Outcomes: 2 + 3 for line 6 (4 shown), 2 for line 7 (1 shown).
    #expect((coverage.covered, coverage.outcomes) == (5, 7))
    var out = Capture()
    var err = Capture()
    #expect(Test.execute(paths: [folder], format: .human, coverage: true, out: &out, err: &err) == 0)
    #expect(out.text.contains("coverage: 71.4% (5 of 7 outcomes)"))
    #expect(out.text.contains("'concept(cat) > 0.9' never decided") && out.text.contains("never dropped an event"))
    #expect(Test.execute(paths: [folder], format: .human, minimumCoverage: 80, out: &out, err: &err) == 0, "without --coverage, no minimum")
    #expect(Test.execute(paths: [folder], format: .human, coverage: true, minimumCoverage: 80, out: &out, err: &err) == 1)
    #expect(out.text.contains("coverage 71.4% is below --min-coverage 80%"))
    var json = Capture()
    #expect(Test.execute(paths: [folder], format: .json, coverage: true, minimumCoverage: 70, out: &json, err: &err) == 0)
    let parsed = try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as? [String: Any]
    #expect((parsed?["coverage"] as? [String: Any])?["percent"] as? Double == 71.4)
  }

  /// The YAML form reads into the same cases; its shape errors carry the YAML codes, located.
  @Test func theYAMLFormRunsTheSameCases() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-ruletest-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try DiagnosticCode.exampleRules.write(toFile: folder + "/example.rule", atomically: true, encoding: .utf8)
    let yaml = """
      rules: example.rule
      tests:
        - name: unsure and sure
          events:
            - event: {"id": "o1", "status": {"code": 10000}, "model": {"id": "general-image-recognition", "user_id": "clarifai", "app_id": "main"}, "input": {"id": "a"}, "data": {"concepts": [{"id": "dog", "value": 0.2}]}}
              expect: {demo: {accepted: {dataset_ids: []}}}
            - event:
                status: {code: 10000}
                model: {id: general-image-recognition, user_id: clarifai, app_id: main}
                input: {id: b, data: {metadata: {note: "10000", n: 007, flag: true, none: null}}}
                data: {concepts: [{id: dog, value: 0.9}]}
              expect: {demo: {dropped: {stage: pre_queue, line: 6}}}

      """
    try yaml.write(toFile: folder + "/example.ruletest.yaml", atomically: true, encoding: .utf8)
    var out = Capture()
    var err = Capture()
    #expect(Test.execute(paths: [folder], format: .human, out: &out, err: &err) == 0, "\(out.text)\(err.text)")
    #expect(out.text.contains("1 test in 1 file: 1 passed"))
    // Shape errors: an unknown key, an unknown outcome, a missing name, a collector that is not there.
    let bad = """
      rules: example.rule
      tests:
        - name: one
          events:
            - event: {"status": {"code": 10000}, "model": {"id": "general-image-recognition"}, "input": {"id": "a"}, "data": {}}
              expekt: {demo: accepted}
            - event: {"status": {"code": 10000}, "model": {"id": "general-image-recognition"}, "input": {"id": "a"}, "data": {}}
              expect: {demo: acepted, dmeo: accepted}
        - events: []

      """
    let sink = DiagnosticSink()
    _ = TestRunner(sink: sink).run(SourceFile(path: folder + "/bad.ruletest.yaml", text: bad))
    let found = sink.sorted.map { "\($0.code.id)@\($0.location)" }
    #expect(found == ["RC2003@6:9", "RC2004@8:24", "RC2005@9:5"], "\(found)")
    #expect(sink.sorted[1].message.text.contains("did you mean 'accepted'?"))
  }

  /// `dropped by "TEXT"`: the statement named by text it holds; text no statement holds, or that
  /// several do, is RC5003.
  @Test func droppedByTheStatementsText() {
    let rules = DiagnosticCode.exampleRules.replacingOccurrences(
      of: "    require max(concepts) < 0.6\n", with: "    require max(concepts) < 0.6\n    drop if metadata.source == \"test\"\n")
    let event = #"{"status": {"code": 10000}, "model": {"id": "general-image-recognition", "user_id": "clarifai", "app_id": "main"}, "input": {"id": "a", "data": {"metadata": {"source": "test"}}}, "data": {"concepts": [{"id": "dog", "value": 0.2}]}}"#
    let (ok, passed) = runTests("rules \"example.rule\"\ntest \"t\" {\n  event \(event)\n  expect demo dropped by \"source==\\\"test\\\"\"\n}\n", rules: rules)
    #expect(ok.isEmpty, "\(codes(ok))")
    #expect(passed.map(\.status) == [.passed])
    let (_, failed) = runTests("rules \"example.rule\"\ntest \"t\" {\n  event \(event)\n  expect demo dropped by \"max(concepts)\"\n}\n", rules: rules)
    #expect(failed.map(\.status) == [.failed])
    let (none, _) = runTests("rules \"example.rule\"\ntest \"t\" {\n  event \(event)\n  expect demo dropped by \"entropy\"\n}\n", rules: rules)
    #expect(codes(none) == ["RC5003"])
    let (several, _) = runTests("rules \"example.rule\"\ntest \"t\" {\n  event \(event)\n  expect demo dropped by \"e\"\n}\n", rules: rules)
    #expect(codes(several) == ["RC5003"])
    #expect(several.first?.message.text.contains("is in 2 statements") == true)
  }

  @Test func noTestFilesIsAnErrorNotAPass() {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-ruletest-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var out = Capture()
    var err = Capture()
    #expect(Test.execute(paths: [folder], format: .human, out: &out, err: &err) == 2)
    #expect(err.text.contains("no test files (*.ruletest)"))
    #expect(Test.execute(paths: [folder + "/nope"], format: .human, out: &out, err: &err) == 2)
    #expect(err.text.contains("No such file or directory"))
  }

  @Test func rulesThatDoNotCheckMakeTheirCasesErrors() {
    let (diagnostics, results) = runTests(
      """
      rules "example.rule"

      test "anything" {
        event \(Self.event(input: "a", value: 0.2))
        expect demo accepted
      }

      """, rules: "collector demo {\n  source clarifai/main/general-image-recognition\n}\n")
    #expect(codes(diagnostics).contains("RC5004"))
    #expect(codes(diagnostics).contains { $0.hasPrefix("RC3") }, "the rules' own errors are shown: \(codes(diagnostics))")
    #expect(results.map(\.status) == [.error])
  }
}
