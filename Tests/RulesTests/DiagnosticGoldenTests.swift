import Foundation
import RulecCommands
import RulesDiagnostics
import Testing

/// Every diagnostic code has a bad file in Golden/codes and its exact expected output, human and JSON.
@Suite struct DiagnosticGoldenTests {
  static let codes = DiagnosticCode.all.map(\.id)

  static func input(for code: String) -> String? {
    for ext in ["rule", "yaml"] {
      let path = TestPaths.golden.appendingPathComponent("codes/\(code).\(ext)").path
      if FileManager.default.fileExists(atPath: path) { return path }
    }
    return nil
  }

  static func run(_ code: String, format: OutputFormat) -> (String, Int32) {
    let path = input(for: code)!
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
    #expect(status == (text.contains("error[") ? 1 : 0))
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
    assertGolden(text, "check/several.sarif")
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
}
