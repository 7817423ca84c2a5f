import Foundation
import Testing


/// The progress bar of `rulec run`, as a terminal shows it: `rulec` runs with standard error on a
/// pseudo-terminal, over a recording of five 8 MiB blocks.
@Suite(.serialized) struct ProgressTests {
  /// Runs `rulec` with standard error on a pseudo-terminal, which util-linux's `script` provides;
  /// returns what the terminal received.
  static func onTerminal(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
    let command = ([ServeTests.binary] + arguments).map { "'" + $0 + "'" }.joined(separator: " ")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    process.arguments = ["--quiet", "--return", "--command", command, "/dev/null"]
    process.currentDirectoryURL = TestPaths.root
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe()
    process.standardOutput = output
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let seen = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(arguments)")
    return String(decoding: seen, as: UTF8.self)
  }

  /// The percentages the bar showed, in order.
  static func percentages(_ text: String) -> [Int] {
    text.split(separator: "\r").compactMap { piece -> Int? in
      guard let close = piece.firstIndex(of: "]") else { return nil }
      let after = piece[piece.index(after: close)...].drop { $0 == " " }
      return Int(after.prefix { $0.isNumber })
    }
  }

  /// A recording of about 40 MB (five blocks), removed by the caller.
  static func makeRecording() -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-progress-\(UUID().uuidString).jsonl").path
    let sample = read("samples/recording.jsonl")
    var text = ""
    while text.utf8.count < 40_000_000 { text += sample }
    FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
  }

  /// The bar counts bytes of the whole file (it stayed near 0%, counting within the current block),
  /// with one job and with two, goes up to 100%, is erased at the end, and shows with NO_COLOR too
  /// (it has no colour); `--no-progress` turns it off.
  @Test(arguments: ["1", "2"]) func theBarMovesThroughTheWholeFile(jobs: String) throws {
    let recording = Self.makeRecording()
    defer { try? FileManager.default.removeItem(atPath: recording) }
    let text = try Self.onTerminal(["run", "rules/", "--events", recording, "--out", "/dev/null", "--jobs", jobs], environment: ["NO_COLOR": "1"])
    let shown = Self.percentages(text)
    #expect(shown.count >= 3, "\(shown)")
    #expect(shown == shown.sorted(), "\(shown)")
    #expect((shown.last ?? 0) >= 75, "\(shown)")
    // Erased before the report ("N lines, N events, …") is written.
    let report = text.components(separatedBy: "\r\u{1B}[K").last ?? ""
    #expect(report.first?.isNumber == true && report.contains(" lines, "), "\(report.prefix(80))")
    let quiet = try Self.onTerminal(["run", "rules/", "--events", recording, "--out", "/dev/null", "--no-progress"])
    #expect(Self.percentages(quiet).isEmpty)
  }
}
