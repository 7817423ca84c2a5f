import ArgumentParser
import Foundation
import GRDB
import RulecCommands
@testable import RulesQueue
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

/// Crash safety of `rulec dlq retry`: `kill -9` at random moments, each round starting from every
/// item a dead letter. After each kill, each item is a dead letter or queued again (never both,
/// never neither, its payload whole); rounds end on both sides of the commit; in the end a forwarder
/// delivers every item exactly once.
@Suite(.serialized) struct DlqCrashTests {
  @Test func killNineOfRetryAtRandomMomentsLosesNothing() async throws {
    let rounds = ProcessInfo.processInfo.environment["RULEC_CRASH_ROUNDS"].flatMap(Int.init) ?? 100
    try await ForwarderTests.withForwarder { store, server, forwarder in
      let count = 3000
      let items = (0..<count).map { ForwarderTests.item(String(format: "dead-%05d", $0)) }
      let payloads = Dictionary(uniqueKeysWithValues: items.map { ($0.id, $0.payload) })
      try store.enqueue(items, now: 0)
      let state = (store.pool.path as NSString).deletingLastPathComponent
      let database = try DatabaseQueue(path: state + "/queue.sqlite")
      func allDead() throws {
        try database.write { db in
          try db.execute(
            sql: """
              INSERT INTO dead_letters (id, collector, destination_user, destination_app, rule_set, payload, attempts, reason, failed_at)
              SELECT id, collector, destination_user, destination_app, rule_set, payload, attempts + 1, '30106 INVALID_URL', 1 FROM items;
              DELETE FROM items;
              """)
        }
      }
      var generator = SplitMix(state: 11)
      var (before, after) = (0, 0)
      for _ in 0..<rounds {
        try allDead()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeTests.binary)
        process.arguments = ["dlq", "retry", "--all", "--state", state]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try await Task.sleep(nanoseconds: generator.next() % 120_000_000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let (dead, queued) = try database.read { db in
          (
            try Row.fetchAll(db, sql: "SELECT id, payload FROM dead_letters"),
            try Row.fetchAll(db, sql: "SELECT id, payload FROM items")
          )
        }
        let deadIDs = Set(dead.map { $0["id"] as String })
        let queuedIDs = Set(queued.map { $0["id"] as String })
        #expect(deadIDs.isDisjoint(with: queuedIDs))
        #expect(deadIDs.union(queuedIDs) == Set(payloads.keys))
        #expect((dead + queued).allSatisfy { payloads[$0["id"] as String] == [UInt8]($0["payload"] as Data) })
        if queuedIDs.isEmpty { before += 1 } else if deadIDs.isEmpty { after += 1 }
      }
      // The kills came on both sides of the commit (else the test would prove nothing); a retry is one
      // transaction, so every round ended on one side or the other.
      #expect(before + after == rounds)
      #expect(before >= rounds / 10 && after >= rounds / 10, "\(before) rounds before the commit, \(after) after")
      try allDead()
      #expect(try store.retryDeadLetters(nil, now: 0) == count)
      try await forwarder.drain(deadline: Date().timeIntervalSince1970 + 60)
      #expect(Set(server.received.keys) == Set(payloads.keys))
      #expect(server.requests.reduce(0) { $0 + $1.count } == count, "each item posted once")
    }
  }
}
