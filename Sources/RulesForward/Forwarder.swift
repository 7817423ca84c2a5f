import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RulesQueue

/// Counts of what the forwarder did, for reports and metrics.
public struct ForwardStats: Sendable, Equatable {
  public var requests = 0
  /// Inputs the destination has.
  public var delivered = 0
  /// Annotations of collected regions the destination has (`collect_outputs`).
  public var annotationsDelivered = 0
  public var retried = 0
  public var deadLettered = 0
  /// Collectors stopped because their key cannot post, with the reason.
  public var paused: [String: String] = [:]
  public init() {}
}

/// Sends queued PostInputs items to their destination apps: batches of up to 128 (a video alone) per
/// collector and destination, at most `requestsPerSecond` requests per destination, each input's
/// outcome read from the reply (`DeliveryPolicy`). An item leaves the queue only when the
/// destination has it; retryable failures wait with backoff; keys that cannot post pause their
/// collector and keep its items; inputs rejected for good go to the dead letters. Keys appear only
/// in the `Authorization` header, never in errors or statistics.
public final class Forwarder: @unchecked Sendable {
  let store: QueueStore
  let client: HTTPClient
  let apiBase: String
  var keys: [String: String]
  /// New keys from a reload, applied at the start of the next pass (the loop owns `keys` and `stats`).
  private var pendingKeys: [String: String]?
  private let pendingLock = NSLock()
  let requestsPerSecond: Double
  let random: @Sendable () -> Double
  /// Earliest time of the next request to each destination (`user/app`).
  var nextRequest: [String: Double] = [:]
  /// Destinations whose last request failed: the next one that succeeds makes their waiting items
  /// due at once, so batches fill up again instead of trickling out one backoff at a time.
  var failing: Set<String> = []
  public private(set) var stats = ForwardStats()
  /// Seconds a leased item belongs to this forwarder before another may take it.
  public var lease: Double = 60
  public var timeout: TimeAmount = .seconds(30)
  /// Decides, just before sending, whether a leased item still goes (the post-queue stage of
  /// `rulec serve`); nil sends everything.
  public var admit: (@Sendable (QueuedItem) async -> Admission)?
  /// Told how long each PostInputs request took, in nanoseconds (the serve metrics' latency histogram).
  public var onRequest: (@Sendable (Int64) -> Void)?
  /// Items the post-queue stage dropped.
  public private(set) var droppedAtDequeue = 0
  /// Why requests failed or were refused as a whole, by cause ("could not connect: …", "HTTP 401:
  /// 11009 API key not found"), with how many requests each; keys never appear in them.
  public private(set) var problems: [String: Int] = [:]
  /// Told of every request that failed as a whole, with its kind for a metric — `unreachable` (no
  /// answer), `retried` (an answer to try again later) or `paused` (a key that cannot post) — its
  /// cause, and whether the cause is new (to log it once).
  public var onProblem: (@Sendable (_ kind: String, _ cause: String, _ isNew: Bool) -> Void)?

  func noteProblem(_ kind: String, _ cause: String) {
    let cause = cause.count > 300 ? String(cause.prefix(300)) + "…" : cause
    problems[cause, default: 0] += 1
    onProblem?(kind, cause, problems[cause] == 1)
  }

  /// Attempts an annotations item waits for its input to become visible (reply 11101) before it
  /// goes to the dead letters.
  static let annotationWaits = 8

  /// What the post-queue stage says about a leased item.
  public enum Admission: Sendable {
    case send
    case drop
    case deadLetter(reason: String)
  }

  /// `keys` maps collector ids to their PostInputs keys (read from the collectors' key references).
  public init(
    store: QueueStore, client: HTTPClient, apiBase: String, keys: [String: String], requestsPerSecond: Double = 15,
    random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
  ) {
    self.store = store
    self.client = client
    self.apiBase = apiBase.hasSuffix("/") ? String(apiBase.dropLast()) : apiBase
    self.keys = keys
    self.requestsPerSecond = requestsPerSecond
    self.random = random
  }

  static func now() -> Double { Date().timeIntervalSince1970 }

  /// The HTTP client the forwarder wants: redirects are not followed. Following one re-sent the
  /// inputs to another place without their `Authorization` header and counted them delivered; an
  /// answer of 3xx is read as what it is (`DeliveryPolicy`: the collector pauses with the reason).
  public static func makeClient() -> HTTPClient {
    HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))
  }

  /// Hands over the keys of reloaded rules; paused collectors resume with them.
  public func requestKeys(_ keys: [String: String]) {
    pendingLock.withLock { pendingKeys = keys }
  }

  /// Leases the items that are due and sends them; returns how many were leased.
  @discardableResult
  public func pass() async throws -> Int {
    if let newKeys = pendingLock.withLock({ () -> [String: String]? in
      defer { pendingKeys = nil }
      return pendingKeys
    }) {
      keys = newKeys
      // Only the paused collectors' items are made due again: the others keep their backoff and
      // `Retry-After` (resuming everything made each reload hammer a throttling destination).
      let paused = Set(stats.paused.keys)
      stats.paused = [:]
      try await store.resume(collectors: paused)
    }
    // On a shared queue a collector paused by any process is paused here too, and a reload in any
    // process resumes it everywhere.
    if let shared = try await store.pausedCollectors() { stats.paused = shared }
    let now = Self.now()
    let items = try await store.lease(limit: 512, now: now, lease: lease)
    var groups: [String: [QueuedItem]] = [:]
    var order: [String] = []
    for item in items {
      let admission: Admission = if let admit { await admit(item) } else { .send }
      switch admission {
      case .send: break
      case .drop:
        droppedAtDequeue += 1
        try await store.discard([item.id])
        continue
      case .deadLetter(let reason):
        stats.deadLettered += 1
        try await store.deadLetter(item.id, reason: reason, now: now)
        continue
      }
      if let reason = stats.paused[item.collector] {
        try await store.reschedule(item.id, notBefore: now + 3600, error: "collector paused: \(reason)")
        continue
      }
      let key = (item.isAnnotations ? "a\u{0}" : "i\u{0}") + item.collector + "\u{0}" + item.destinationUser + "/" + item.destinationApp
      if groups[key] == nil { order.append(key) }
      groups[key, default: []].append(item)
    }
    for key in order {
      var batch: [QueuedItem] = []
      for item in groups[key]! {
        if !item.isAnnotations && DeliveryPolicy.isVideo(item.payload) {
          try await send([item])
          continue
        }
        batch.append(item)
        if batch.count == DeliveryPolicy.maxBatch {
          try await send(batch)
          batch.removeAll()
        }
      }
      if !batch.isEmpty { try await send(batch) }
    }
    return items.count
  }

  /// Forwards until the queue holds nothing that can still be delivered before `deadline`
  /// (seconds since the epoch), waiting for retries in between.
  public func drain(deadline: Double) async throws {
    while Self.now() < deadline {
      let leased = try await pass()
      if leased > 0 { continue }
      let pending = try await store.depth()
      let pausedOnly = try await pendingBelongOnlyToPaused()
      if pending == 0 || pausedOnly { return }
      try await Task.sleep(nanoseconds: 200_000_000)
    }
  }

  /// Whether every pending item belongs to a paused collector: decided over all of them, without
  /// leasing any (a peek by lease held an item back an hour).
  func pendingBelongOnlyToPaused() async throws -> Bool {
    guard !stats.paused.isEmpty else { return false }
    return try await store.pendingCollectors().allSatisfy { stats.paused[$0] != nil }
  }

  /// Sends one batch and applies each input's outcome.
  func send(_ batch: [QueuedItem]) async throws {
    guard let first = batch.first else { return }
    guard let key = keys[first.collector] else {
      let reason = "no PostInputs key for collector '\(first.collector)'"
      stats.paused[first.collector] = reason
      try await store.pause(collector: first.collector, reason: reason, now: Self.now())
      for item in batch { try await store.reschedule(item.id, notBefore: Self.now() + 3600, error: "no key") }
      return
    }
    let destination = first.destinationUser + "/" + first.destinationApp
    // The rate limit holds over every process of a shared queue (the store reserves the slot), else
    // over this forwarder.
    let start: Double
    if let shared = try await store.reserveRequest(destination: destination, now: Self.now(), interval: 1 / requestsPerSecond) {
      start = shared
    } else {
      start = nextRequest[destination] ?? 0
      nextRequest[destination] = max(Self.now(), start) + 1 / requestsPerSecond
    }
    let wait = start - Self.now()
    if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }

    // Inputs go to PostInputs; the annotations of collected regions, once their inputs exist, to
    // PostAnnotations, with the same key (the PostInputs scope includes Annotations_Add).
    let annotations = first.isAnnotations
    let endpoint = annotations ? "annotations" : "inputs"
    var request = HTTPClientRequest(url: "\(apiBase)/v2/users/\(first.destinationUser)/apps/\(first.destinationApp)/\(endpoint)")
    request.method = .POST
    request.headers.add(name: "Authorization", value: "Key \(key)")
    request.headers.add(name: "Content-Type", value: "application/json")
    let payloads = batch.map(\.payload)
    request.body = .bytes(ByteBuffer(bytes: annotations ? DeliveryPolicy.annotationsBody(payloads) : DeliveryPolicy.body(payloads)))
    stats.requests += 1
    let outcomes: [Delivery]
    let started = DispatchTime.now().uptimeNanoseconds
    defer { onRequest?(Int64(DispatchTime.now().uptimeNanoseconds - started)) }
    do {
      let response = try await client.execute(request, timeout: timeout)
      let body = try await response.body.collect(upTo: 16 << 20)
      outcomes = DeliveryPolicy.read(
        httpStatus: Int(response.status.code), retryAfter: response.headers.first(name: "Retry-After"),
        body: Array(buffer: body), ids: batch.map(\.inputID), listKey: endpoint, location: response.headers.first(name: "Location"))
      // A batch turned back as a whole says why once per cause (one input's own rejection is its
      // dead letter's reason).
      if let first = outcomes.first, outcomes.count == batch.count, outcomes.allSatisfy({ $0 == first }) {
        switch first {
        case .retry(let reason, _): noteProblem("retried", "\(destination): HTTP \(response.status.code): \(reason)")
        case .pause(let reason): noteProblem("paused", "\(destination): HTTP \(response.status.code): \(reason) (collector \(batch[0].collector))")
        default: break
        }
      }
    } catch {
      // Stopping (`serve` gave the pass its grace period and cut it): not the destination's fault,
      // so nothing is counted or rescheduled. The batch stays leased, as after a crash, until the
      // next start (SQLite) or the end of its lease (a shared queue); sending it again is safe.
      if Task.isCancelled { throw CancellationError() }
      // Timeouts, refused and dropped connections: the request may or may not have arrived, and the
      // destination id makes sending it again safe.
      let reason = "request failed: \(Self.describe(error))"
      noteProblem("unreachable", "\(apiBase): \(reason)")
      outcomes = Array(repeating: .retry(reason: reason, after: nil), count: batch.count)
    }
    let failed = outcomes.contains { if case .retry = $0 { true } else { false } }
    if failed {
      failing.insert(destination)
    } else if outcomes.contains(.delivered), failing.remove(destination) != nil {
      try await store.resume(destinationUser: first.destinationUser, destinationApp: first.destinationApp, now: Self.now())
    }
    try await apply(outcomes, to: batch)
  }

  /// An error of a request that got no answer, as a person reads it: the connection's own error
  /// (refused, reset, TLS) rather than its type's name.
  static func describe(_ error: Error) -> String {
    var text = String(describing: error)
    if text.count > 240 { text = String(text.prefix(240)) + "…" }
    return text
  }

  func apply(_ outcomes: [Delivery], to batch: [QueuedItem]) async throws {
    var delivered: [String] = []
    var followers: [QueuedItem] = []
    var split: [QueuedItem] = []
    for (item, var outcome) in zip(batch, outcomes) {
      if item.isAnnotations, case .deadLetter(let reason) = outcome, reason.hasPrefix("11101"), item.attempts < Self.annotationWaits {
        // The input may not be visible yet right after PostInputs: wait for it a while.
        outcome = .retry(reason: reason, after: nil)
      }
      switch outcome {
      case .delivered:
        delivered.append(item.id)
        if item.isAnnotations {
          stats.annotationsDelivered += 1
        } else if let split = DeliveryPolicy.splitRegions(item.payload) {
          // The input exists now: its collected regions follow as an annotation.
          followers.append(
            QueuedItem(
              id: item.id + QueuedItem.annotationsSuffix, collector: item.collector, destinationUser: item.destinationUser,
              destinationApp: item.destinationApp, ruleSet: item.ruleSet,
              payload: DeliveryPolicy.annotation(inputID: item.id, regions: split.regions)))
        }
      case .retry(let reason, let after):
        stats.retried += 1
        let delay = DeliveryPolicy.backoff(attempts: item.attempts, retryAfter: after, random: random())
        try await store.reschedule(item.id, notBefore: Self.now() + delay, error: reason)
      case .pause(let reason):
        if stats.paused[item.collector] == nil { try await store.pause(collector: item.collector, reason: reason, now: Self.now()) }
        stats.paused[item.collector] = reason
        try await store.reschedule(item.id, notBefore: Self.now() + 3600, error: "collector paused: \(reason)")
      case .deadLetter(let reason):
        stats.deadLettered += 1
        try await store.deadLetter(item.id, reason: reason, now: Self.now())
      case .split:
        split.append(item)
      }
    }
    try await store.acknowledge(delivered, followedBy: followers, now: Self.now())
    if batch.first?.isAnnotations == false { stats.delivered += delivered.count }
    // A batch refused as a whole: send its inputs one by one to find the one at fault.
    for item in split { try await send([item]) }
  }
}
