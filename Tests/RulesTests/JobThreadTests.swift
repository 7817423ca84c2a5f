import Foundation
import Testing

/// `rulec run --jobs N` decodes on exactly N threads, whatever the machine's cores: the run's own
/// and N − 1 named `rulec-job-K`, counted with `ps -L` on the real binary while it waits on standard
/// input for more lines.
@Suite(.serialized) struct JobThreadTests {
  /// The names of a process's threads, as `ps -L` lists them.
  static func threadNames(of pid: Int32) throws -> [String] {
    let ps = Process()
    ps.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    ps.arguments = ["ps", "-L", "-o", "comm=", "-p", String(pid)]
    let out = Pipe()
    ps.standardOutput = out
    try ps.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    ps.waitUntilExit()
    return String(decoding: data, as: UTF8.self).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
  }

  static func jobThreads(of pid: Int32) throws -> Int { try threadNames(of: pid).filter { $0.hasPrefix("rulec-job-") }.count }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/bin/ps")), arguments: [1, 2, 3, 5])
  func jobsMeansThatManyThreads(jobs: Int) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ServeTests.binary)
    process.arguments = ["run", TestPaths.path("rules/confident.rule"), "--events", "-", "--out", "/dev/null", "--jobs", String(jobs)]
    let input = Pipe()
    process.standardInput = input
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer { if process.isRunning { process.terminate() } }
    let sample = try String(contentsOfFile: TestPaths.path("samples/recording.jsonl"), encoding: .utf8)
    input.fileHandleForWriting.write(Data((sample.split(separator: "\n").prefix(50).joined(separator: "\n") + "\n").utf8))
    // While the run waits for more lines its threads are all there.
    let expected = jobs - 1
    var seen = -1
    for _ in 0..<500 where seen != expected {
      usleep(10_000)
      seen = try Self.jobThreads(of: process.processIdentifier)
    }
    let names = try Self.threadNames(of: process.processIdentifier)
    #expect(seen == expected, "\(names)")
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
  }
}
