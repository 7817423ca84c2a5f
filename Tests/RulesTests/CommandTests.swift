import ArgumentParser
import Foundation
import RulecCommands
import Testing

/// The CLI in-process: argument parsing, exit statuses and output formats.
@Suite struct CommandTests {
  @Test func parsesSubcommandsAndOptions() throws {
    let command = try Rulec.parseAsRoot(["check", "--format", "sarif", "--strict", "--concepts", "c.txt", "rules"])
    #expect(command is Check)
    #expect(try Rulec.parseAsRoot(["fmt", "--check", "-w", "rules"]) is Fmt)
    #expect(try Rulec.parseAsRoot(["explain", "RC3001"]) is Explain)
    #expect(throws: (any Error).self) { try Rulec.parseAsRoot(["check", "--format", "xml", "rules"]) }
  }

  func status(_ paths: [String], strict: Bool = false, concepts: String? = nil) -> (Int32, String) {
    var out = Capture()
    let s = Check.execute(paths: paths, format: .human, strict: strict, conceptsPath: concepts, colored: false, out: &out)
    return (s, out.text)
  }

  @Test func exitStatuses() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let clean = dir.appendingPathComponent("clean.rule")
    try Data(collector(pre: "    require max(concepts) < 0.5").utf8).write(to: clean)
    let warning = dir.appendingPathComponent("warning.rule")
    try Data(collector(pre: "    sample 100%").utf8).write(to: warning)
    #expect(status([clean.path]).0 == 0)
    #expect(status([warning.path]).0 == 0)
    #expect(status([warning.path], strict: true).0 == 1)
    #expect(status([TestPaths.path("Tests/RulesTests/Golden/check/several.rule")]).0 == 1)
    #expect(status([dir.appendingPathComponent("nope.rule").path]).0 == 2)
    #expect(status([clean.path], concepts: dir.appendingPathComponent("nope.txt").path).0 == 2)
    let concepts = dir.appendingPathComponent("concepts.json")
    try Data(#"[{"id": "ai_1", "name": "dog"}, "cat"]"#.utf8).write(to: concepts)
    let named = dir.appendingPathComponent("named.rule")
    try Data(collector(pre: "    require concept(dog) > 0.5 or concept(ai_1) > 0.5 or concept(cow) > 0.5").utf8).write(to: named)
    let (s, text) = status([named.path], concepts: concepts.path)
    #expect(s == 1)
    #expect(text.contains("RC3015") && text.contains("'cow'"))
  }

  /// A folder is checked with its subfolders, each folder a rule set of its own (twins in a
  /// subfolder do not clash with the folder's ids); a tree without rule files is an error.
  @Test func foldersAreCheckedWithTheirSubfolders() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-tree-\(UUID().uuidString)")
    let nested = dir.appendingPathComponent("team/bad")
    try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try FileManager.default.createDirectory(at: dir.appendingPathComponent(".hidden"), withIntermediateDirectories: true)
    let (empty, message) = status([dir.path])
    #expect(empty == 2)
    #expect(message.contains("no rule files (.rule, .yaml, .yml) in \(dir.path) or its subfolders"))
    try Data(collector(pre: "    require max(concepts) < 0.5").utf8).write(to: nested.appendingPathComponent("bad.rule"))
    try Data(collector(pre: "    require max(concepts) < 2").utf8).write(to: nested.appendingPathComponent("worse.rule"))
    try Data(collector(pre: "    require max(concepts) < 0.5").utf8).write(to: dir.appendingPathComponent("team/twin.rule"))
    try Data("not a rule at all {".utf8).write(to: dir.appendingPathComponent(".hidden/skipped.rule"))
    let (s, text) = status([dir.path])
    #expect(s == 1)
    // worse.rule's threshold, and the id repeated within team/bad — not across team and team/bad.
    #expect(text.contains("RC3005") && text.contains("RC3007"))
    #expect(text.components(separatedBy: "RC3007").count == 2)
    #expect(text.contains("in 3 files"))
    #expect(status([TestPaths.path("rules")], strict: true).0 == 0)
  }

  @Test func colourOnlyWhenAsked() {
    var out = Capture()
    _ = Check.execute(
      paths: [TestPaths.path("Tests/RulesTests/Golden/check/several.rule")], format: .human, strict: false,
      conceptsPath: nil, colored: true, out: &out)
    #expect(out.text.contains("\u{1B}["))
    var plain = Capture()
    _ = Check.execute(
      paths: [TestPaths.path("Tests/RulesTests/Golden/check/several.rule")], format: .human, strict: false,
      conceptsPath: nil, colored: false, out: &plain)
    #expect(!plain.text.contains("\u{1B}["))
  }
}
