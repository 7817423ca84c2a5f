import Foundation
import GRDB
import RulecCommands
@testable import RulesQueue
import Testing

/// `rulec run --forward` against a local PostInputs stand-in: every accepted input delivered once,
/// a second backfill from the same state adds nothing, a missing key is a clear error.
@Suite(.serialized) struct BackfillTests {
  static func run(_ base: String, state: String, timeout: Double = 20) -> (Int32, String, String) {
    var items = ""
    var err = Capture()
    let status = Run.execute(
      rules: TestPaths.path("Tests/RulesTests/Golden/run/forward.rule"),
      events: [TestPaths.path("Tests/RulesTests/Golden/run/recording.jsonl")], out: nil, report: nil, strict: false,
      explain: nil, forward: ForwardRequest(state: state, apiBase: base, timeout: timeout), err: &err, stdout: { items += $0 })
    return (status, items, err.text)
  }

  @Test func backfillDeliversEachAcceptedInputOnce() throws {
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-backfill-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: state) }
    let server = FakeDestination(keys: ["test-key": true])
    let base = try server.start()
    defer { server.stop() }
    setenv("RULEC_TEST_FORWARD_KEY", "test-key", 1)
    defer { unsetenv("RULEC_TEST_FORWARD_KEY") }
    let (status, items, err) = Self.run(base, state: state)
    #expect(status == 0, "\(err)")
    let accepted = items.split(separator: "\n").count
    #expect(accepted > 0)
    #expect(server.received.count == accepted)
    #expect(err.contains("forwarded: \(accepted) delivered"))
    #expect(!err.contains("test-key"))  // keys never appear in reports
    // Again from the same state (a resume after a crash): what was delivered is remembered, so
    // nothing is queued or sent again.
    let requests = server.requests.count
    let (again, _, err2) = Self.run(base, state: state)
    #expect(again == 0, "\(err2)")
    #expect(server.received.count == accepted)
    #expect(server.requests.count == requests)
    #expect(err2.contains("0 queued by this run"), "\(err2)")
  }

  /// A queue that refuses writes (here a trigger fails every insert) stops the run with the reason and
  /// exit status 2; it never reports success with the inputs gone.
  @Test func aQueueWriteThatFailsStopsTheRun() throws {
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-backfill-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: state) }
    let store = try SQLiteQueueStore(directory: state)
    try store.pool.write { db in
      try db.execute(sql: "CREATE TRIGGER refuse BEFORE INSERT ON items BEGIN SELECT RAISE(FAIL, 'disk full (injected)'); END")
    }
    setenv("RULEC_TEST_FORWARD_KEY", "test-key", 1)
    defer { unsetenv("RULEC_TEST_FORWARD_KEY") }
    let (status, items, err) = Self.run("http://127.0.0.1:9", state: state)
    #expect(status == 2, "\(err)")
    #expect(!items.isEmpty)
    #expect(err.contains("rulec: cannot queue the accepted inputs in \(state): "))
    #expect(err.contains("disk full (injected)") && err.contains("0 were queued before it"))
    #expect(!err.contains("forwarded:"))
  }

  /// "0 delivered, N left" comes with why: the connection's own error, or the destination's answer,
  /// once per cause with how many requests it struck; never the key.
  @Test func aFailedForwardSaysWhy() throws {
    setenv("RULEC_TEST_FORWARD_KEY", "test-key", 1)
    defer { unsetenv("RULEC_TEST_FORWARD_KEY") }
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-backfill-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: state) }
    let (down, _, err) = Self.run("http://127.0.0.1:9", state: state, timeout: 2)
    #expect(down == 4)
    #expect(err.contains("forwarding problem: http://127.0.0.1:9: request failed: ") && err.contains("Connection refused"), "\(err)")
    #expect(err.components(separatedBy: "forwarding problem:").count == 2)
    let server = FakeDestination(keys: ["test-key": false])
    let base = try server.start()
    defer { server.stop() }
    let (refused, _, err2) = Self.run(base, state: state, timeout: 2)
    #expect(refused == 4)
    #expect(err2.contains("forwarding problem: me/backfill: HTTP 403: 11007 Insufficient scopes (collector backfill)"), "\(err2)")
    #expect(!err.contains("test-key") && !err2.contains("test-key"))
  }

  @Test func aMissingKeyNamesTheCollectorNotAValue() {
    unsetenv("RULEC_TEST_FORWARD_KEY")
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-backfill-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: state) }
    let (status, _, err) = Self.run("http://127.0.0.1:9", state: state)
    #expect(status == 2)
    #expect(err.contains("collector 'backfill': environment variable RULEC_TEST_FORWARD_KEY is not set"))
  }
}

/// Crash safety of `rulec run --forward`: `kill -9` at random moments (reading, queueing,
/// forwarding) and a run again from the same state each time; in the end the destination has every
/// accepted input, and nothing else.
@Suite(.serialized) struct BackfillCrashTests {
  @Test func killNineAtRandomMomentsLosesNothing() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-backfill-crash-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let server = FakeDestination(keys: ["test-key": true])
    let base = try server.start()
    defer { server.stop() }
    let rules = TestPaths.path("Tests/RulesTests/Golden/run/forward.rule")
    let recording = TestPaths.path("samples/recording.jsonl")
    // The inputs a whole run accepts (a dry run, in-process).
    var items = ""
    var err = Capture()
    _ = Run.execute(rules: rules, events: [recording], out: nil, report: nil, strict: false, explain: nil, err: &err, stdout: { items += $0 })
    let expected = Set(items.split(separator: "\n").compactMap { line in
      (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
    })
    try #require(expected.count > 128)
    func start() throws -> Process {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: ServeTests.binary)
      process.arguments = [
        "run", rules, "--events", recording, "--forward", "--state", folder + "/state", "--api-base", base, "--out", "/dev/null",
        "--forward-timeout", "60",
      ]
      process.environment = ProcessInfo.processInfo.environment.merging(["RULEC_TEST_FORWARD_KEY": "test-key"]) { $1 }
      process.standardError = FileHandle.nullDevice
      try process.run()
      return process
    }
    let rounds = ProcessInfo.processInfo.environment["RULEC_CRASH_ROUNDS"].flatMap(Int.init) ?? 100
    var generator = SplitMix(state: 7)
    var killed = 0
    for _ in 0..<rounds {
      // Slow replies keep requests in flight when the kill comes.
      for _ in 0..<3 { server.queue(.slow(seconds: 0.1)) }
      let process = try start()
      // A run reads the recording in about a tenth of a second, then queues and forwards.
      try await Task.sleep(nanoseconds: UInt64(10 + generator.next() % 140) * 1_000_000)
      kill(process.processIdentifier, SIGKILL)
      await process.exited()
      if process.terminationReason == .uncaughtSignal { killed += 1 }
    }
    // Most runs were cut short, not already done (else the test would prove nothing).
    #expect(killed >= rounds / 2, "\(killed) of \(rounds) runs were still going when killed")
    let last = try start()
    await last.exited()
    #expect(last.terminationStatus == 0)
    #expect(Set(server.received.keys) == expected)
  }
}
