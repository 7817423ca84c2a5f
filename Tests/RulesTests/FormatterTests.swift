import Foundation
import RulecCommands
import RulesDiagnostics
import RulesSource
import RulesSyntax
import Testing

/// `rulec fmt`: canonical output (golden), comments kept, idempotent, and `--check`/`-w` behaviour.
@Suite struct FormatterTests {
  static func format(_ text: String) -> (String, DiagnosticSink) {
    let sink = DiagnosticSink()
    let parsed = Parser.parse(SourceFile(path: "t.rule", text: text), sink: sink)
    return (Printer.format(parsed), sink)
  }

  @Test func messyFileGolden() {
    let (formatted, sink) = Self.format(read("Tests/RulesTests/Golden/fmt/messy.rule"))
    #expect(sink.diagnostics.isEmpty)
    assertGolden(formatted, "fmt/messy.formatted")
    let (again, _) = Self.format(formatted)
    #expect(again == formatted, "formatting is not idempotent")
  }

  @Test func everyCommentIsKept() {
    let source = read("Tests/RulesTests/Golden/fmt/messy.rule")
    let (formatted, _) = Self.format(source)
    for line in source.split(separator: "\n") {
      if let hash = line.firstIndex(of: "#"), !line[..<hash].contains("\"") {
        let comment = line[hash...].trimmingCharacters(in: .whitespaces)
        #expect(formatted.contains(comment), "lost comment: \(comment)")
      }
    }
  }

  @Test func canonicalSpacingAndParentheses() {
    let (formatted, _) = Self.format(
      "collector a{source u/a/m destination u/b key env K pre_queue{require(max(concepts)<0.5)or not x.y==1 drop if metadata.a>=-1}}")
    #expect(
      formatted == """
        collector a {
          source u/a/m
          destination u/b
          key env K
          pre_queue {
            require (max(concepts) < 0.5) or not x.y == 1
            drop if metadata.a >= -1
          }
        }

        """)
  }

  @Test func checkAndWriteModes() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-fmt-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("a.rule")
    try Data(read("Tests/RulesTests/Golden/fmt/messy.rule").utf8).write(to: file)
    var out = Capture()
    var err = Capture()
    #expect(Fmt.execute(paths: [dir.path], check: true, write: false, out: &out, err: &err) == 1)
    #expect(out.text == file.path + "\n")
    out = Capture()
    #expect(Fmt.execute(paths: [file.path], check: false, write: true, out: &out, err: &err) == 0)
    #expect(Fmt.execute(paths: [file.path], check: true, write: false, out: &out, err: &err) == 0)
    #expect(out.text.isEmpty)
    try Data("collector a {\n  pre_queue { require ( }\n}\n".utf8).write(to: file)
    #expect(Fmt.execute(paths: [file.path], check: true, write: false, out: &out, err: &err) == 1)
    #expect(err.text.contains("RC1011"))
    #expect(Fmt.execute(paths: [dir.appendingPathComponent("missing.rule").path], check: true, write: false, out: &out, err: &err) == 2)
  }

  /// `-w` through a symlink formats the file it points to and leaves the link a link; the file keeps
  /// its permissions.
  @Test func writeFollowsSymlinksAndKeepsPermissions() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-fmt-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let target = dir.appendingPathComponent("target.rule")
    let link = dir.appendingPathComponent("link.rule")
    try Data(read("Tests/RulesTests/Golden/fmt/messy.rule").utf8).write(to: target)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target.path)
    try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
    var out = Capture()
    var err = Capture()
    #expect(Fmt.execute(paths: [link.path], check: false, write: true, out: &out, err: &err) == 0)
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == target.path)
    #expect(Fmt.execute(paths: [target.path], check: true, write: false, out: &out, err: &err) == 0)
    let mode = try FileManager.default.attributesOfItem(atPath: target.path)[.posixPermissions] as? Int
    #expect(mode == 0o600)
  }
}
