import ArgumentParser
import Foundation
import RulecCommands
import RulesQueue
import Testing

/// The durable queue under `rulec serve`: idempotent enqueue, leases that come back, retries, dead
/// letters, and everything still there after the store is closed and opened again.
@Suite struct QueueTests {
  static func folder() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("rulec-queue-\(UUID().uuidString)").path
  }

  static func item(_ id: String, _ ruleSet: Int64) -> QueuedItem {
    QueuedItem(
      id: id, collector: "pets", destinationUser: "me", destinationApp: "pets", ruleSet: ruleSet,
      payload: Array("{\"id\":\"\(id)\"}".utf8))
  }

  @Test func enqueueLeaseAcknowledge() throws {
    let dir = Self.folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let store = try SQLiteQueueStore(directory: dir)
    #expect(try store.journalMode() == "wal")
    let rules = try store.recordRuleSet("collector pets { }")
    #expect(try store.recordRuleSet("collector pets { }") == rules)
    #expect(try store.recordRuleSet("collector dogs { }") != rules)
    #expect(try store.ruleSet(rules) == "collector pets { }")
    #expect(try store.enqueue([Self.item("a", rules), Self.item("b", rules), Self.item("a", rules)], now: 100) == 2)
    #expect(try store.enqueue([Self.item("b", rules)], now: 101) == 0)  // queued once
    #expect(try store.depth() == 2)
    let leased = try store.lease(limit: 10, now: 200, lease: 30)
    #expect(leased.map(\.id) == ["a", "b"])
    #expect(leased[0].payload == Array("{\"id\":\"a\"}".utf8))
    #expect(try store.lease(limit: 10, now: 210, lease: 30).isEmpty)  // still leased
    try store.acknowledge(["a"])
    #expect(try store.depth() == 1)
    // A lease that ends without an answer (a killed process) hands the item out again.
    #expect(try store.lease(limit: 10, now: 231, lease: 30).map(\.id) == ["b"])
  }

  /// One forwarding process per state folder: a second exclusive store is refused with the owner's
  /// pid; readers (`rulec dlq`) open it anyway; the lock goes with the store that held it.
  @Test func aStateFolderHasOneForwarder() throws {
    let dir = Self.folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var first: SQLiteQueueStore? = try SQLiteQueueStore(directory: dir, exclusive: true)
    #expect(first != nil)
    do {
      _ = try SQLiteQueueStore(directory: dir, exclusive: true)
      Issue.record("a second forwarder opened the same state folder")
    } catch let held as StateLock.Held {
      #expect(held.owner == String(getpid()))
      #expect(held.description.contains("is in use by another rulec process (pid \(getpid()))"))
    }
    let reader = try SQLiteQueueStore(directory: dir)
    #expect(try reader.depth() == 0)
    first = nil
    #expect(throws: Never.self) { _ = try SQLiteQueueStore(directory: dir, exclusive: true) }
  }

  @Test func retriesAndDeadLetters() throws {
    let dir = Self.folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let store = try SQLiteQueueStore(directory: dir)
    let rules = try store.recordRuleSet("r")
    try store.enqueue([Self.item("x", rules), Self.item("y", rules)], now: 0)
    _ = try store.lease(limit: 2, now: 1, lease: 60)
    try store.reschedule("x", notBefore: 50, error: "HTTP 503")
    #expect(try store.lease(limit: 5, now: 10, lease: 60).isEmpty)
    let again = try store.lease(limit: 5, now: 50, lease: 60)
    #expect(again.map(\.id) == ["x"] && again[0].attempts == 1 && again[0].lastError == "HTTP 503")
    try store.deadLetter("y", reason: "30104 INVALID_ARGUMENT", now: 70)
    #expect(try store.depth() == 1)
    let letters = try store.deadLetters(limit: 10)
    #expect(letters.map(\.item.id) == ["y"] && letters[0].reason == "30104 INVALID_ARGUMENT")
    #expect(try store.enqueue([Self.item("y", rules)], now: 80) == 0)  // a dead letter is not queued again by ingest
    #expect(try store.retryDeadLetters(["y"], now: 90) == 1)
    #expect(try store.deadLetters(limit: 10).isEmpty && store.depth() == 2)
    try store.deadLetter("y", reason: "again", now: 95)
    #expect(try store.dropDeadLetters(nil) == 1)
  }

  @Test func survivesReopening() throws {
    let dir = Self.folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    do {
      let store = try SQLiteQueueStore(directory: dir)
      let rules = try store.recordRuleSet("r")
      try store.enqueue((0..<500).map { Self.item("i\($0)", rules) }, now: 0)
    }
    let reopened = try SQLiteQueueStore(directory: dir)
    #expect(try reopened.depth() == 500)
    #expect(try reopened.lease(limit: 1000, now: 1, lease: 5).count == 500)
  }

  @Test func dlqCommands() throws {
    let dir = Self.folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let store = try SQLiteQueueStore(directory: dir)
    let rules = try store.recordRuleSet("r")
    try store.enqueue([Self.item("p", rules)], now: 0)
    try store.deadLetter("p", reason: "30106 INVALID_URL", now: 1_700_000_000)
    let text = Dlq.render(try store.deadLetters(limit: 10), json: false)
    #expect(text == "p  pets -> me/pets  attempts 1  2023-11-14T22:13:20Z\n  30106 INVALID_URL\n")
    #expect(throws: (any Error).self) { try Rulec.parseAsRoot(["dlq", "drop", "--state", dir]) }  // ids or --all
    #expect(try Rulec.parseAsRoot(["dlq", "retry", "--state", dir, "--all"]) is Dlq.Retry)
  }
}
