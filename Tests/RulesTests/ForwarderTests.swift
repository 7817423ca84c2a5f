import AsyncHTTPClient
import Foundation
import RulesForward
import RulesQueue
import Testing

/// The forwarder against a real HTTP server on 127.0.0.1 that behaves like the PostInputs endpoint.
@Suite(.serialized) struct ForwarderTests {
  static func item(_ id: String, collector: String = "pets", app: String = "pets", video: Bool = false) -> QueuedItem {
    let media = video ? "video" : "image"
    return QueuedItem(
      id: id, collector: collector, destinationUser: "me", destinationApp: app, ruleSet: 1,
      payload: Array(#"{"id":"\#(id)","data":{"\#(media)":{"url":"https://x/\#(id)"},"metadata":{}},"dataset_ids":[]}"#.utf8) + [10])
  }

  /// A store, a server, a client and a forwarder; `body` runs with them and everything is torn down.
  static func withForwarder(
    keys: [String: String] = ["pets": "good", "dogs": "good"], serverKeys: [String: Bool] = ["good": true, "unscoped": false],
    _ body: (SQLiteQueueStore, FakeDestination, Forwarder) async throws -> Void
  ) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-fwd-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let store = try SQLiteQueueStore(directory: dir)
    _ = try store.recordRuleSet("rules")
    let server = FakeDestination(keys: serverKeys)
    let base = try server.start()
    defer { server.stop() }
    let client = Forwarder.makeClient()
    let forwarder = Forwarder(store: store, client: client, apiBase: base, keys: keys, requestsPerSecond: 1000, random: { 0 })
    forwarder.timeout = .seconds(2)
    do {
      try await body(store, server, forwarder)
    } catch {
      try await client.shutdown()
      throw error
    }
    try await client.shutdown()
  }

  @Test func deliversEveryInputOnceInBatchesOfAtMost128() async throws {
    try await Self.withForwarder { store, server, forwarder in
      let items = (0..<300).map { Self.item(String(format: "in-%04d", $0)) } + [Self.item("clip-1", video: true), Self.item("clip-2", video: true)]
      try store.enqueue(items, now: 0)
      try await forwarder.drain(deadline: Date().timeIntervalSince1970 + 30)
      #expect(server.received.count == 302)
      #expect(try store.depth() == 0)
      #expect(server.requests.allSatisfy { $0.count <= 128 })
      #expect(server.requests.filter { $0.count == 1 }.count >= 2)  // each video alone
      #expect(forwarder.stats.delivered == 302)
    }
  }

  @Test func retriesThrottlingServerErrorsAndDroppedConnections() async throws {
    try await Self.withForwarder { store, server, forwarder in
      server.queue(.status(429, code: 11005, retryAfter: "0"))
      server.queue(.status(503, code: 40031, retryAfter: nil))
      server.queue(.dropConnection)
      try store.enqueue((0..<5).map { Self.item("r\($0)") }, now: 0)
      try await forwarder.drain(deadline: Date().timeIntervalSince1970 + 30)
      #expect(server.received.count == 5)
      #expect(try store.depth() == 0)
      #expect(forwarder.stats.retried == 15)  // three failed attempts of the 5-input batch
    }
  }

  @Test func aDestinationDownForAWhileLosesNothing() async throws {
    try await Self.withForwarder { store, server, forwarder in
      for _ in 0..<6 { server.queue(.dropConnection) }  // down: every connection dropped
      for _ in 0..<4 { server.queue(.status(503, code: 40031, retryAfter: nil)) }  // coming back
      try store.enqueue((0..<40).map { Self.item("down-\($0)") }, now: 0)
      try await forwarder.drain(deadline: Date().timeIntervalSince1970 + 30)
      #expect(server.received.count == 40)
      #expect(try store.depth() == 0)
      #expect(forwarder.stats.retried == 400)  // 10 failed attempts of the 40-input batch, then success
      #expect(forwarder.stats.delivered == 40)
    }
  }

  @Test func aFailedAttemptWaitsItsBackoff() async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-backoff-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let store = try SQLiteQueueStore(directory: dir)
    _ = try store.recordRuleSet("rules")
    let server = FakeDestination(keys: ["good": true])
    let base = try server.start()
    defer { server.stop() }
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    // Full jitter drawn at its top: the first retry waits 1 s.
    let forwarder = Forwarder(store: store, client: client, apiBase: base, keys: ["pets": "good"], random: { 1 })
    server.queue(.status(503, code: 40031, retryAfter: nil))
    var passes: [Int] = []
    do {
      try store.enqueue([Self.item("b1")], now: 0)
      passes.append(try await forwarder.pass())
      passes.append(try await forwarder.pass())  // not due yet: backing off
      try await Task.sleep(nanoseconds: 1_200_000_000)
      passes.append(try await forwarder.pass())
    } catch {
      Issue.record("\(error)")
    }
    try await client.shutdown()
    #expect(passes == [1, 0, 1])
    #expect(server.received.keys.contains("b1"))
  }

  @Test func aKeyWithoutTheScopePausesItsCollectorOnly() async throws {
    try await Self.withForwarder(keys: ["pets": "unscoped", "dogs": "good"]) { store, server, forwarder in
      try store.enqueue([Self.item("p1"), Self.item("p2"), Self.item("d1", collector: "dogs", app: "dogs")], now: 0)
      try await forwarder.drain(deadline: Date().timeIntervalSince1970 + 10)
      #expect(Set(server.received.keys) == ["d1"])
      #expect(forwarder.stats.paused["pets"] == "11007 Insufficient scopes")
      #expect(try store.depth() == 2)  // the paused collector's items are kept
    }
  }

  /// Deciding whether only paused collectors are left must not hold an item back: an item waiting
  /// out a short retry delay is still delivered before the deadline.
  @Test func aPausedCollectorDoesNotHoldBackAnotherCollectorsRetry() async throws {
    try await Self.withForwarder(keys: ["pets": "unscoped", "dogs": "good"]) { store, server, forwarder in
      server.queue(.status(503, code: 40031, retryAfter: "1"))
      try store.enqueue([Self.item("d1", collector: "dogs", app: "dogs")], now: 0)
      _ = try await forwarder.pass()  // d1 fails and waits a second
      try store.enqueue([Self.item("p1"), Self.item("p2")], now: 0)
      try await forwarder.drain(deadline: Date().timeIntervalSince1970 + 10)
      #expect(Set(server.received.keys) == ["d1"])
      #expect(forwarder.stats.paused["pets"] != nil)
      #expect(try store.pendingCollectors() == ["pets"])
    }
  }

  /// After an outage, the first request that gets through makes the destination's waiting items due
  /// at once (they were left to their backoff, up to minutes, and trickled out a batch of one each).
  @Test func aDestinationBackMakesItsWaitingItemsDue() async throws {
    try await Self.withForwarder { store, server, forwarder in
      server.queue(.dropConnection)
      try store.enqueue([Self.item("w1"), Self.item("w2")], now: 0)
      _ = try await forwarder.pass()  // the destination is down
      // As after many failed attempts: the items wait ten minutes.
      for id in ["w1", "w2"] { try store.reschedule(id, notBefore: Date().timeIntervalSince1970 + 600, error: "request failed: down") }
      // A new item for the same destination (another collector) gets through...
      try store.enqueue([Self.item("d1", collector: "dogs", app: "pets")], now: 0)
      _ = try await forwarder.pass()
      #expect(server.received.keys.sorted() == ["d1"])
      // ...and the waiting ones go in the next pass, in one batch.
      #expect(try await forwarder.pass() == 2)
      #expect(server.received.keys.sorted() == ["d1", "w1", "w2"])
      #expect(server.requests.last?.count == 2)
    }
  }

  /// A redirect is not followed (it re-sent the inputs elsewhere without their key, and counted them
  /// delivered): the collector pauses with the reason and keeps its items.
  @Test func aRedirectIsNotFollowed() async throws {
    try await Self.withForwarder { store, server, forwarder in
      server.queue(.redirect("/v2/users/me/apps/elsewhere/inputs"))
      try store.enqueue([Self.item("r1"), Self.item("r2")], now: 0)
      _ = try await forwarder.pass()
      #expect(server.paths == ["/v2/users/me/apps/pets/inputs"])
      #expect(server.received.isEmpty && forwarder.stats.delivered == 0)
      #expect(forwarder.stats.paused["pets"] == "HTTP 307 redirect to /v2/users/me/apps/elsewhere/inputs, not followed: check --api-base")
      #expect(try store.depth() == 2)
    }
  }

  /// A reload resumes the paused collectors' items at once, and leaves the others' backoff alone.
  @Test func aReloadResumesOnlyThePausedCollectors() async throws {
    try await Self.withForwarder(keys: ["pets": "unscoped", "dogs": "good"]) { store, server, forwarder in
      server.queue(.status(503, code: 40031, retryAfter: "600"))
      try store.enqueue([Self.item("d1", collector: "dogs", app: "dogs")], now: 0)
      _ = try await forwarder.pass()  // d1 is told to wait ten minutes
      try store.enqueue([Self.item("p1")], now: 0)
      _ = try await forwarder.pass()  // pets pauses
      #expect(forwarder.stats.paused["pets"] != nil)
      forwarder.requestKeys(["pets": "good", "dogs": "good"])
      _ = try await forwarder.pass()
      #expect(Set(server.received.keys) == ["p1"])
      #expect(forwarder.stats.paused.isEmpty)
      #expect(try store.depth() == 1)  // d1 still waits out its Retry-After
    }
  }

  @Test func rejectedInputsBecomeDeadLettersAndDuplicatesCountAsDelivered() async throws {
    try await Self.withForwarder { store, server, forwarder in
      server.rejected = ["bad-url"]
      try store.enqueue([Self.item("ok-1"), Self.item("bad-url"), Self.item("UPPER"), Self.item("ok-2")], now: 0)
      try await forwarder.drain(deadline: Date().timeIntervalSince1970 + 10)
      #expect(Set(server.received.keys) == ["ok-1", "ok-2"])
      let letters = try store.deadLetters(limit: 10)
      #expect(Set(letters.map(\.item.id)) == ["bad-url", "UPPER"])
      #expect(letters.first { $0.item.id == "bad-url" }?.reason == "30106")
      // An id delivered is remembered: it is not queued again (a second backfill of the same recording).
      #expect(try store.enqueue([Self.item("ok-1")], now: 1) == 0)
      // Sending an id the destination already has counts as delivered (an earlier attempt got through
      // and its answer was lost).
      server.preload(["ok-3"])
      try store.enqueue([Self.item("ok-3")], now: 1)
      try await forwarder.drain(deadline: Date().timeIntervalSince1970 + 10)
      #expect(try store.depth() == 0)
      #expect(forwarder.stats.delivered == 3)
      #expect(server.requests.count == 2)
    }
  }
}
