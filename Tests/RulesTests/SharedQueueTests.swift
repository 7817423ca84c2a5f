import AsyncHTTPClient
import Foundation
import PostgresNIO
import RulesForward
@testable import RulesQueue
import Testing

/// The queue's contract, held by both stores: SQLite, and PostgreSQL shared by several processes
/// (a real server: `RULEC_TEST_POSTGRES` names one, such as `postgres://postgres@127.0.0.1:55432/postgres`,
/// which `.ci/run` starts; each test makes a database of its own on it).
@Suite struct SharedQueueTests {
  /// The server's address, or nil (the PostgreSQL cases are skipped, unless `RULEC_REQUIRE_POSTGRES`
  /// is set, as in CI: then a missing server fails the test).
  static var server: String? {
    let environment = ProcessInfo.processInfo.environment
    if let url = environment["RULEC_TEST_POSTGRES"], !url.isEmpty { return url }
    if environment["RULEC_REQUIRE_POSTGRES"] != nil { Issue.record("RULEC_REQUIRE_POSTGRES is set but RULEC_TEST_POSTGRES is not") }
    return nil
  }

  /// A new, empty database on the test server; returns its address.
  static func freshDatabase() async throws -> String? {
    guard let server else { return nil }
    let settings = try PostgresQueueStore.Settings(url: server)
    let name = "rulec_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let client = PostgresClient(
      configuration: .init(
        host: settings.host, port: settings.port, username: settings.user, password: settings.password, database: settings.database,
        tls: .disable))
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { await client.run() }
      try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
      group.cancelAll()
    }
    var parts = URLComponents(string: server)!
    parts.path = "/" + name
    return parts.string!
  }

  /// A store on `url` with a generous timeout: the 5 s a server gets in production is about the
  /// network, and here the calls share two cooperative threads with CPU-bound tests that can hold
  /// both for tens of seconds (in CI, tests queued behind them started 40-50 s late).
  static func open(_ url: String) async throws -> PostgresQueueStore {
    try await PostgresQueueStore(settings: .init(url: url), timeout: .seconds(300))
  }

  /// Runs `body` on a fresh SQLite store and, when a server is there, a fresh PostgreSQL store.
  static func eachStore(_ body: (any QueueStore) async throws -> Void) async throws {
    let dir = QueueTests.folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try await body(try SQLiteQueueStore(directory: dir))
    if let url = try await freshDatabase() {
      let store = try await Self.open(url)
      try await body(store)
      await store.close()
    }
  }

  static func item(_ id: String, _ ruleSet: Int64, collector: String = "pets", app: String = "pets") -> QueuedItem {
    QueuedItem(
      id: id, collector: collector, destinationUser: "me", destinationApp: app, ruleSet: ruleSet,
      payload: Array("{\"id\":\"\(id)\",\"data\":{\"text\":{\"raw\":\"é\\u0000\"}}}".utf8) + [0, 255])
  }

  @Test func enqueueLeaseAcknowledge() async throws {
    try await Self.eachStore { store in
      let rules = try await store.recordRuleSet("collector pets { }")
      #expect(try await store.recordRuleSet("collector pets { }") == rules)
      #expect(try await store.recordRuleSet("collector dogs { }") != rules)
      #expect(try await store.ruleSet(rules) == "collector pets { }")
      #expect(try await store.ruleSet(9999) == nil)
      #expect(try await store.enqueueEach([Self.item("b", rules), Self.item("a", rules), Self.item("b", rules)], now: 100) == [true, true, false])
      #expect(try await store.enqueue([Self.item("b", rules)], now: 101) == 0)
      #expect(try await store.enqueue([Self.item("c", rules)], now: 99) == 1)
      #expect(try await store.depth() == 3)
      let leased = try await store.lease(limit: 10, now: 200, lease: 30)
      #expect(leased.map(\.id) == ["c", "a", "b"], "\(store.location)")  // enqueue time, then id
      #expect(leased[1] == Self.item("a", rules))  // every byte of the payload back
      #expect(try await store.lease(limit: 10, now: 210, lease: 30).isEmpty)
      try await store.acknowledge(["a", "c"])
      #expect(try await store.depth() == 1)
      #expect(try await store.enqueue([Self.item("a", rules)], now: 220) == 0)  // delivered: not queued again
      #expect(try await store.lease(limit: 10, now: 231, lease: 30).map(\.id) == ["b"])  // the lease ended
      // Acknowledged with what follows it, in one transaction.
      try await store.acknowledge(["b"], followedBy: [Self.item("b.annotations", rules)], now: 240)
      #expect(try await store.lease(limit: 10, now: 241, lease: 30).map(\.id) == ["b.annotations"])
      try await store.discard(["b.annotations"])
      #expect(try await store.depth() == 0)
      #expect(try await store.enqueue([Self.item("b.annotations", rules)], now: 250) == 1)  // discarded: not remembered
    }
  }

  @Test func retriesResumesAndDeadLetters() async throws {
    try await Self.eachStore { store in
      let rules = try await store.recordRuleSet("r")
      try await store.enqueue(
        [Self.item("x", rules), Self.item("y", rules), Self.item("z", rules, collector: "dogs", app: "dogs")], now: 0)
      #expect(try await store.pendingCollectors() == ["pets", "dogs"])
      _ = try await store.lease(limit: 3, now: 1, lease: 60)
      try await store.reschedule("x", notBefore: 50, error: "HTTP 503")
      try await store.reschedule("z", notBefore: 5000, error: "collector paused: 11009")
      #expect(try await store.lease(limit: 5, now: 10, lease: 60).isEmpty)
      let again = try await store.lease(limit: 5, now: 50, lease: 60)
      #expect(again.map(\.id) == ["x"] && again[0].attempts == 1 && again[0].lastError == "HTTP 503")
      try await store.reschedule("x", notBefore: 500, error: "HTTP 503")
      // The destination answers again: its retries are due now (y's lease ended at 61), a paused
      // collector's items are not.
      try await store.resume(destinationUser: "me", destinationApp: "pets", now: 120)
      try await store.resume(destinationUser: "me", destinationApp: "dogs", now: 120)
      #expect(try await store.lease(limit: 5, now: 120, lease: 60).map(\.id) == ["x", "y"])
      try await store.resume(collectors: ["dogs"])
      #expect(try await store.lease(limit: 5, now: 121, lease: 60).map(\.id) == ["z"])
      try await store.deadLetter("y", reason: "30104 INVALID_ARGUMENT", now: 70)
      let letters = try await store.deadLetters(limit: 10)
      #expect(letters.map(\.item.id) == ["y"] && letters[0].reason == "30104 INVALID_ARGUMENT" && letters[0].failedAt == 70)
      #expect(letters[0].item.payload == Self.item("y", rules).payload && letters[0].item.attempts == 1)
      #expect(try await store.enqueue([Self.item("y", rules)], now: 80) == 0)  // a dead letter is not queued again
      #expect(try await store.retryDeadLetters(["nope"], now: 90) == 0)
      #expect(try await store.retryDeadLetters(["y"], now: 90) == 1)
      #expect(try await store.deadLetters(limit: 10).isEmpty)
      #expect(try await store.depth() == 3)
      try await store.deadLetter("y", reason: "again", now: 95)
      try await store.deadLetter("x", reason: "again", now: 96)
      #expect(try await store.dropDeadLetters(["x"]) == 1)
      #expect(try await store.retryDeadLetters(nil, now: 97) == 1)
      #expect(try await store.dropDeadLetters(nil) == 0)
      try await store.releaseLeases()
      try await store.resumeAll()
      #expect(Set(try await store.lease(limit: 5, now: 98, lease: 60).map(\.id)) == ["y", "z"])
    }
  }

  /// Two processes on one queue: every due item is leased by exactly one of them, however their
  /// leases interleave (`FOR UPDATE SKIP LOCKED`), and a lease that ends hands the item to the other.
  @Test func twoProcessesNeverLeaseTheSameItem() async throws {
    guard let url = try await Self.freshDatabase() else { return }
    let a = try await Self.open(url)
    let b = try await Self.open(url)
    let rules = try await a.recordRuleSet("r")
    #expect(try await b.recordRuleSet("r") == rules)
    let ids = (0..<3000).map { String(format: "i%05d", $0) }
    try await a.enqueue(ids.map { Self.item($0, rules) }, now: 0)
    let now = Date().timeIntervalSince1970
    func drain(_ store: PostgresQueueStore) async throws -> [String] {
      var mine: [String] = []
      while true {
        let leased = try await store.lease(limit: 37, now: now, lease: 600)
        if leased.isEmpty { return mine }
        mine += leased.map(\.id)
      }
    }
    async let fromA = drain(a)
    async let fromB = drain(b)
    let (leasedA, leasedB) = try await (fromA, fromB)
    #expect(Set(leasedA).isDisjoint(with: leasedB))
    #expect(leasedA.count + leasedB.count == ids.count && Set(leasedA + leasedB) == Set(ids))
    #expect(!leasedA.isEmpty && !leasedB.isEmpty, "one process took everything: \(leasedA.count) and \(leasedB.count)")
    // A process dies holding leases: they end, and the other one takes the items.
    #expect(try await b.lease(limit: 10, now: now + 601, lease: 60).count == 10)
    await a.close()
    await b.close()
  }

  /// The rate limit per destination holds over every process sharing the queue.
  @Test func requestSlotsAreSharedByProcesses() async throws {
    guard let url = try await Self.freshDatabase() else { return }
    let a = try await Self.open(url)
    let b = try await Self.open(url)
    var slots: [Double] = []
    for k in 0..<30 {
      let store = k % 2 == 0 ? a : b
      slots.append(try await store.reserveRequest(destination: "me/pets", now: 1000, interval: 1.0 / 15)!)
    }
    #expect(try await a.reserveRequest(destination: "me/dogs", now: 1000, interval: 1.0 / 15) == 1000)  // another destination
    for (k, slot) in slots.enumerated() { #expect(abs(slot - (1000 + Double(k) / 15)) < 1e-6) }
    // After a quiet spell, the next request goes at once.
    #expect(try await b.reserveRequest(destination: "me/pets", now: 5000, interval: 1.0 / 15) == 5000)
    let dir = QueueTests.folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    #expect(try await SQLiteQueueStore(directory: dir).reserveRequest(destination: "me/pets", now: 1, interval: 1) == nil)
    await a.close()
    await b.close()
  }

  /// A server that is not there: opening fails within the timeout with the address (without its
  /// password) and the cause.
  @Test func anAbsentServerIsAnErrorNotAHang() async throws {
    let started = Date()
    do {
      _ = try await PostgresQueueStore(settings: .init(url: "postgres://rulec:s3cret@127.0.0.1:9/rulec"), timeout: .seconds(2))
      Issue.record("opened a queue on a closed port")
    } catch let error as PostgresQueueStore.Unavailable {
      #expect(error.description.hasPrefix("the queue at postgres://rulec@127.0.0.1:9/rulec"))
      #expect(!error.description.contains("s3cret"))
    }
    // 2 s alone; the bound is loose because the whole suite shares two cooperative threads with
    // tests that block them (the crash tests wait for processes).
    #expect(Date().timeIntervalSince(started) < 150)
  }

  /// A collector paused by one process (its key cannot post) is paused in the others too, and a
  /// reload in any process resumes it everywhere.
  @Test func aPausedCollectorIsPausedForEveryProcess() async throws {
    guard let url = try await Self.freshDatabase() else { return }
    let a = try await Self.open(url)
    let b = try await Self.open(url)
    #expect(try await a.pausedCollectors() == [:])
    let dir = QueueTests.folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    #expect(try await SQLiteQueueStore(directory: dir).pausedCollectors() == nil)
    _ = try await a.recordRuleSet("rules")
    let server = FakeDestination(keys: ["good": true, "unscoped": false])
    let base = try server.start()
    defer { server.stop() }
    let client = Forwarder.makeClient()
    let first = Forwarder(store: a, client: client, apiBase: base, keys: ["pets": "unscoped"], requestsPerSecond: 1000, random: { 0 })
    let second = Forwarder(store: b, client: client, apiBase: base, keys: ["pets": "unscoped"], requestsPerSecond: 1000, random: { 0 })
    do {
      try await a.enqueue([ForwarderTests.item("p1")], now: 0)
      _ = try await first.pass()  // 11007: paused, for both
      #expect(try await b.pausedCollectors() == ["pets": "11007 Insufficient scopes"])
      try await b.enqueue([ForwarderTests.item("p2")], now: 0)
      _ = try await second.pass()  // not sent: the collector is paused
      #expect(first.stats.requests == 1 && second.stats.requests == 0)
      #expect(second.stats.paused["pets"] != nil)
      // The key is fixed and the second process reloads: the pause ends for both, every item goes.
      second.requestKeys(["pets": "good"])
      first.requestKeys(["pets": "good"])
      _ = try await second.pass()
      #expect(try await a.pausedCollectors() == [:])
      try await first.drain(deadline: Date().timeIntervalSince1970 + 60)
      try await second.drain(deadline: Date().timeIntervalSince1970 + 60)
      #expect(Set(server.received.keys) == ["p1", "p2"])
    } catch {
      try await client.shutdown()
      throw error
    }
    try await client.shutdown()
    await a.close()
    await b.close()
  }

  /// `rulec dlq` on the shared queue: list (JSON), retry and drop, and a password never printed.
  @Test func dlqCommandsOnTheSharedQueue() async throws {
    guard let url = try await Self.freshDatabase() else { return }
    let store = try await Self.open(url)
    let rules = try await store.recordRuleSet("r")
    try await store.enqueue([Self.item("p", rules), Self.item("q", rules)], now: 0)
    try await store.deadLetter("p", reason: "30106 INVALID_URL", now: 1_700_000_000)
    try await store.deadLetter("q", reason: "30104 INVALID_ARGUMENT", now: 1_700_000_001)
    func dlq(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: ServeTests.binary)
      process.arguments = ["dlq"] + arguments
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
      let out = Pipe()
      process.standardOutput = out
      process.standardError = out
      try process.run()
      let data = out.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
    let (status, listed) = try dlq(["list", "--queue", url, "--format", "json"])
    #expect(status == 0)
    let letters = try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]]
    #expect(letters?.map { $0["id"] as? String } == ["p", "q"])
    #expect(letters?.first?["reason"] as? String == "30106 INVALID_URL")
    #expect(try dlq(["retry", "--queue", url, "p"]) == (0, "1 dead letter queued again\n"))
    #expect(try dlq(["drop", "--queue", url, "--all"]) == (0, "1 dead letter dropped\n"))
    #expect(try await store.deadLetters(limit: 10).isEmpty)
    #expect(try await store.lease(limit: 10, now: Date().timeIntervalSince1970 + 1, lease: 5).map(\.id) == ["p"])
    // A wrong password is refused by the server; the error says where, never the password.
    var wrong = URLComponents(string: url)!
    wrong.user = "nobody"
    wrong.password = "pa55word"
    let (refused, said) = try dlq(["list", "--queue", wrong.string!])
    #expect(refused != 0)
    #expect(said.contains("postgres://nobody@") && !said.contains("pa55word"), "\(said)")
    await store.close()
  }

  @Test func addresses() throws {
    let s = try PostgresQueueStore.Settings(url: "postgres://rulec:p%40ss@db.internal:6543/queue?sslmode=require", environment: [:])
    #expect(try s == .init(url: "postgresql://rulec@db.internal:6543/queue?sslmode=require", environment: ["PGPASSWORD": "p@ss"]))
    #expect(s.password == "p@ss" && s.port == 6543 && s.database == "queue" && s.sslMode == "require")
    #expect(s.redacted == "postgres://rulec@db.internal:6543/queue")
    #expect(try PostgresQueueStore.Settings(url: "postgres://u@h/d", environment: [:]).port == 5432)
    for (bad, reason) in [
      ("mysql://u@h/d", "takes postgres://USER@HOST:PORT/DATABASE"), ("postgres://h/d", "names no user"),
      ("postgres://u:secret@h", "names no database"), ("postgres://u@h/d?sslmode=maybe", "sslmode takes"),
      ("postgres://u:secret@h/d?pool=3", "unknown parameter 'pool'"),
    ] {
      do {
        _ = try PostgresQueueStore.Settings(url: bad, environment: [:])
        Issue.record("\(bad) was read")
      } catch let error as PostgresQueueStore.BadAddress {
        #expect(error.description.contains(reason), "\(error)")
        #expect(!error.description.contains("secret"))
      }
    }
  }
}
