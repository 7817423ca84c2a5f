import Foundation
import RulecCommands
import RulesDiagnostics
import RulesLoader
import RulesSQL
import RulesSema
import RulesSource
import RulesTesting
import Testing

/// Every diagnostic code has a bad file in Golden/codes and its exact expected output, human and JSON.
@Suite struct DiagnosticGoldenTests {
  static let codes = DiagnosticCode.all.map(\.id)

  static func input(for code: String) -> String? {
    for ext in ["rule", "yaml", "ruletest"] {
      let path = TestPaths.golden.appendingPathComponent("codes/\(code).\(ext)").path
      if FileManager.default.fileExists(atPath: path) { return path }
    }
    return nil
  }

  static func run(_ code: String, format: OutputFormat) -> (String, Int32) {
    let path = input(for: code)!
    if path.hasSuffix(".ruletest") {
      // A rule test file (RC5xxx), run against `codes/example.rule`: its diagnostics, as `rulec
      // check` prints them, then the results.
      if format == .json {
        let sink = DiagnosticSink()
        _ = TestRunner(sink: sink).run(SourceFile(path: path, bytes: Array(FileManager.default.contents(atPath: path)!)))
        return (TestPaths.relativize(DiagnosticRenderer.json(sink.sorted)), sink.hasErrors ? 2 : 0)
      }
      var out = Capture()
      var err = Capture()
      let status = Test.execute(paths: [path], format: .human, out: &out, err: &err)
      return (RuleTestTests.timeless(TestPaths.relativize(err.text + out.text)), status)
    }
    if code.hasPrefix("RC6") {
      // A rule file that `rulec compile --target sql` refuses: its diagnostics, as it prints them.
      if format == .json {
        let sink = DiagnosticSink()
        let file = RuleLoader.parse(SourceFile(path: path, bytes: Array(FileManager.default.contents(atPath: path)!)), sink: sink)
        let program = Checker(sink: sink).check([file])
        _ = SQLCompiler(dialect: .duckdb, sink: sink).compile(program, from: .file("outputs.jsonl"))
        return (TestPaths.relativize(DiagnosticRenderer.json(sink.sorted)), sink.hasErrors ? 1 : 0)
      }
      var query = Capture()
      var err = Capture()
      let status = Compile.sql(rules: path, dialect: "duckdb", from: "outputs.jsonl", out: &query, err: &err)
      return (TestPaths.relativize(err.text), status)
    }
    let concepts = TestPaths.golden.appendingPathComponent("codes/\(code).concepts").path
    var out = Capture()
    let status = Check.execute(
      paths: [path], format: format, strict: false,
      conceptsPath: FileManager.default.fileExists(atPath: concepts) ? concepts : nil, colored: false, out: &out)
    return (TestPaths.relativize(out.text), status)
  }

  @Test(arguments: codes)
  func humanOutput(code: String) throws {
    try #require(Self.input(for: code) != nil, "no golden input for \(code)")
    let (text, status) = Self.run(code, format: .human)
    #expect(text.contains("[\(code)]"), "the bad file for \(code) does not produce \(code)")
    #expect(status == (text.contains("error[") ? (code.hasPrefix("RC5") ? 2 : 1) : 0))
    assertGolden(text, "codes/\(code).human")
  }

  @Test(arguments: codes)
  func jsonOutput(code: String) throws {
    try #require(Self.input(for: code) != nil)
    let (text, _) = Self.run(code, format: .json)
    let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]
    #expect(parsed?.contains { $0["code"] as? String == code } == true)
    assertGolden(text, "codes/\(code).json")
  }

  @Test func sarifOutput() throws {
    var out = Capture()
    let status = Check.execute(
      paths: [TestPaths.path("Tests/RulesTests/Golden/check/several.rule")], format: .sarif, strict: false,
      conceptsPath: nil, colored: false, out: &out)
    #expect(status == 1)
    let text = TestPaths.relativize(out.text)
    let log = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    #expect(log["version"] as? String == "2.1.0")
    let run = (log["runs"] as! [[String: Any]])[0]
    let results = run["results"] as! [[String: Any]]
    #expect(results.count >= 3)
    let first = results[0]
    #expect(first["ruleId"] as? String != nil)
    let region = (((first["locations"] as! [[String: Any]])[0]["physicalLocation"] as! [String: Any])["region"]
      as! [String: Any])
    #expect(region["startLine"] as? Int != nil && region["startColumn"] as? Int != nil)
    // Help is not folded into the message: the rule's is its explanation, a result's own is a property.
    #expect(results.allSatisfy { !((($0["message"] as? [String: Any])?["text"] as? String) ?? "").contains("help:") })
    #expect(results.contains { ($0["properties"] as? [String: Any])?["help"] as? String != nil })
    let rules = ((run["tool"] as! [String: Any])["driver"] as! [String: Any])["rules"] as! [[String: Any]]
    #expect(rules.allSatisfy { ($0["help"] as? [String: Any])?["text"] as? String != nil })
    assertGolden(text, "check/several.sarif")
  }

  /// Artifact URIs: relative to %SRCROOT% (the run says where that is) under the current directory,
  /// `file://` URIs elsewhere, percent-encoded either way.
  @Test func sarifURIsAreURIs() throws {
    #expect(DiagnosticRenderer.uriEncoded("rules/my pets#1/café.rule") == "rules/my%20pets%231/caf%C3%A9.rule")
    let sink = DiagnosticSink()
    for path in ["/base/dir/sub dir/a.rule", "/elsewhere/b%.rule", "rel/c.rule"] {
      _ = RuleLoader.parse(SourceFile(path: path, text: "collector {"), sink: sink)
    }
    let text = DiagnosticRenderer.sarif(sink.sorted, toolVersion: "t", baseDirectory: "/base/dir")
    let log = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    let run = (log["runs"] as! [[String: Any]])[0]
    let locations = (run["results"] as! [[String: Any]]).map {
      ((($0["locations"] as! [[String: Any]])[0]["physicalLocation"] as! [String: Any])["artifactLocation"] as! [String: String])
    }
    #expect(Set(locations) == [
      ["uri": "sub%20dir/a.rule", "uriBaseId": "%SRCROOT%"], ["uri": "file:///elsewhere/b%25.rule"],
      ["uri": "rel/c.rule", "uriBaseId": "%SRCROOT%"],
    ])
    #expect(((run["originalUriBaseIds"] as? [String: Any])?["%SRCROOT%"] as? [String: String])?["uri"] == "file:///base/dir/")
  }

  @Test func severalProblemsAreAllReported() {
    var out = Capture()
    let status = Check.execute(
      paths: [TestPaths.path("Tests/RulesTests/Golden/check/several.rule")], format: .human, strict: false,
      conceptsPath: nil, colored: false, out: &out)
    #expect(status == 1)
    assertGolden(TestPaths.relativize(out.text), "check/several.human")
  }

  @Test func catalogueIsConsistent() {
    let ids = DiagnosticCode.all.map(\.id)
    #expect(ids == ids.sorted())
    #expect(Set(ids).count == ids.count)
    #expect(Set(DiagnosticCode.all.map(\.name)).count == ids.count)
    for code in DiagnosticCode.all {
      #expect(code.summary.first?.isLowercase == true || code.summary.first == "`", "\(code.id) summary")
      #expect(!code.summary.hasSuffix("."))
    }
  }

  /// A file with thousands of problems: human output shows the first `--max-diagnostics` and says
  /// how many more there are; the summary and JSON count every one.
  @Test func aFloodOfDiagnosticsIsCut() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-flood-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("flood.rule").path
    let statements = (0..<300).map { "    require max(concepts) < \"x\($0)\"\n" }.joined()
    try "collector c {\n  source a/b/c\n  destination d/e\n  key env K\n  pre_queue {\n\(statements)  }\n}\n"
      .write(toFile: path, atomically: true, encoding: .utf8)
    var json = Capture()
    _ = Check.execute(paths: [path], format: .json, strict: false, conceptsPath: nil, colored: false, out: &json)
    let all = try #require(try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as? [[String: Any]])
    #expect(all.count >= 300)
    var human = Capture()
    let status = Check.execute(
      paths: [path], format: .human, strict: false, conceptsPath: nil, colored: false, out: &human, maxDiagnostics: 25)
    #expect(status == 1)
    #expect(human.text.components(separatedBy: "error[").count - 1 == 25)
    #expect(human.text.contains("… \(all.count - 25) more diagnostics not shown (--max-diagnostics 0 shows them all"))
    #expect(human.text.contains("\(all.count) errors"), "\(human.text.suffix(200))")
    var everything = Capture()
    _ = Check.execute(paths: [path], format: .human, strict: false, conceptsPath: nil, colored: false, out: &everything)
    #expect(everything.text.components(separatedBy: "error[").count - 1 == all.count)
  }
}
