import Foundation
import RulecCommands
import Testing

/// Grammar.md §9: a recording compressed by the real `gzip` tool reads as the same recording, in
/// either layout and in one job or two; one cut short or corrupt stops the run with its reason.
@Suite struct GzipTests {
  static let rules = "rules/"

  /// Runs `rulec run` in-process over `events`, and returns the exit status, items and standard error.
  static func run(_ events: [String], jobs: Int = 1) -> (status: Int32, items: String, err: String) {
    var err = Capture()
    var items = ""
    let status = Run.execute(
      rules: rules, events: events, out: nil, report: nil, strict: false, explain: nil, jobs: jobs, err: &err, stdout: { items += $0 })
    return (status, items, err.text)
  }

  /// Compresses `input` with the system's gzip into `output` (appended to when `append`).
  static func gzip(_ input: String, to output: String, append: Bool = false) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "gzip -c \"$0\" \(append ? ">>" : ">") \"$1\"", input, output]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
  }

  static func temporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-gzip-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
  }

  @Test(arguments: [1, 2]) func aGzipRecordingGivesTheSameItems(jobs: Int) throws {
    let folder = try Self.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let lines = try String(contentsOfFile: "samples/recording.jsonl", encoding: .utf8).split(separator: "\n")
    let first = folder.appendingPathComponent("first.jsonl").path
    let second = folder.appendingPathComponent("second.jsonl").path
    let plain = folder.appendingPathComponent("plain.jsonl").path
    try (lines[..<(lines.count / 2)].joined(separator: "\n") + "\n").write(toFile: first, atomically: true, encoding: .utf8)
    try (lines[(lines.count / 2)...].joined(separator: "\n") + "\n").write(toFile: second, atomically: true, encoding: .utf8)
    try (lines.joined(separator: "\n") + "\n").write(toFile: plain, atomically: true, encoding: .utf8)
    // Two gzip members one after another, as `cat a.gz b.gz` or a log appended in pieces makes them;
    // the name does not end in .gz: the magic bytes decide.
    let compressed = folder.appendingPathComponent("recording.data").path
    try Self.gzip(first, to: compressed)
    try Self.gzip(second, to: compressed, append: true)
    let expected = Self.run([plain], jobs: jobs)
    let got = Self.run([compressed], jobs: jobs)
    #expect(expected.status == 0)
    #expect(!expected.items.isEmpty)
    #expect(got.status == expected.status)
    #expect(got.items == expected.items)
    #expect(got.err == expected.err)
  }

  @Test func aGzipDocumentIsReadWhole() throws {
    let folder = try Self.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let document = folder.appendingPathComponent("response.json").path
    try FileManager.default.copyItem(atPath: "Tests/RulesTests/Golden/clarifai/response.camel.json", toPath: document)
    let compressed = document + ".gz"
    try Self.gzip(document, to: compressed)
    var err = Capture()
    var items = ""
    let rules = "Tests/RulesTests/Golden/clarifai/fixtures.rule"
    let plain = Run.execute(rules: rules, events: [document], out: nil, report: nil, strict: false, explain: nil, err: &err, stdout: { items += $0 })
    var err2 = Capture()
    var items2 = ""
    let gz = Run.execute(rules: rules, events: [compressed], out: nil, report: nil, strict: false, explain: nil, err: &err2, stdout: { items2 += $0 })
    #expect(plain == gz)
    #expect(!items.isEmpty && items == items2)
  }

  @Test func aGzipFileCutShortOrCorruptStopsTheRunWithItsReason() throws {
    let folder = try Self.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let compressed = folder.appendingPathComponent("recording.jsonl.gz").path
    try Self.gzip("samples/recording.jsonl", to: compressed)
    let whole = try Data(contentsOf: URL(fileURLWithPath: compressed))
    let cut = folder.appendingPathComponent("cut.jsonl.gz").path
    try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: cut))
    var corrupt = whole
    for k in 2000..<2016 { corrupt[k] ^= 0x5A }
    let damaged = folder.appendingPathComponent("corrupt.jsonl.gz").path
    try corrupt.write(to: URL(fileURLWithPath: damaged))
    let (cutStatus, _, cutErr) = Self.run([cut])
    #expect(cutStatus == 2)
    #expect(cutErr.contains("rulec: cannot read \(cut): the gzip stream ends early (the file is cut short)"), "\(cutErr)")
    let (badStatus, _, badErr) = Self.run([damaged])
    #expect(badStatus == 2)
    #expect(badErr.contains("rulec: cannot read \(damaged): the gzip data is corrupt"), "\(badErr)")
  }

  @Test func aMissingRecordingNamesTheReason() {
    let (status, _, err) = Self.run(["/nonexistent/recording.jsonl"])
    #expect(status == 2)
    #expect(err.contains("rulec: cannot read /nonexistent/recording.jsonl: No such file or directory"))
  }
}
