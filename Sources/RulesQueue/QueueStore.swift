import Foundation

/// One accepted input waiting to be forwarded: its destination id (so a retry is idempotent), where
/// it goes, the rule set it was accepted under, and the PostInputs item itself.
public struct QueuedItem: Sendable, Equatable {
  /// The destination input id, `[a-z0-9_-]{1,48}`; the queue holds each id once.
  public var id: String
  public var collector: String
  public var destinationUser: String
  public var destinationApp: String
  /// The rule set (`QueueStore.recordRuleSet`) whose post-queue stage runs when the item leaves.
  public var ruleSet: Int64
  /// The PostInputs item as JSON, exactly as it will be sent.
  public var payload: [UInt8]
  /// How many deliveries were tried.
  public var attempts: Int
  public var lastError: String?

  public init(
    id: String, collector: String, destinationUser: String, destinationApp: String, ruleSet: Int64,
    payload: [UInt8], attempts: Int = 0, lastError: String? = nil
  ) {
    self.id = id
    self.collector = collector
    self.destinationUser = destinationUser
    self.destinationApp = destinationApp
    self.ruleSet = ruleSet
    self.payload = payload
    self.attempts = attempts
    self.lastError = lastError
  }
}

extension QueuedItem {
  /// The id suffix of an annotations item: the regions `collect_outputs` copied from an input's
  /// prediction, queued under its input's id plus this suffix once the input is delivered. `.` is
  /// never in a destination input id, so the two kinds of ids cannot clash.
  public static let annotationsSuffix = ".annotations"

  /// Whether this item holds annotations for PostAnnotations rather than a PostInputs item.
  public var isAnnotations: Bool { id.hasSuffix(Self.annotationsSuffix) }

  /// The destination input id an annotations item belongs to (its own id for an input item).
  public var inputID: String { isAnnotations ? String(id.dropLast(Self.annotationsSuffix.count)) : id }
}

/// An item the destination rejected for good, with the reply's reason.
public struct DeadLetter: Sendable, Equatable {
  public var item: QueuedItem
  public var reason: String
  /// Seconds since the Unix epoch.
  public var failedAt: Double
}

/// The durable queue between ingest and the forwarder: one SQLite file under the state folder
/// (`SQLiteQueueStore`, one process), or tables in PostgreSQL shared by any number of `rulec serve`
/// processes (`PostgresQueueStore`).
///
/// The requirements are `async` so that a store on the network waits without holding a thread;
/// SQLite's synchronous methods satisfy them as they are.
///
/// Items are leased, not popped: a leased item that is neither acknowledged nor rescheduled before
/// its lease ends is handed out again, so a process killed mid-delivery loses nothing, and the
/// destination id makes the repeat delivery idempotent.
public protocol QueueStore: Sendable {
  /// Where the queue lives, for logs (never with a password).
  var location: String { get }
  /// Whether other processes use the queue at the same time: then the leases found at start belong
  /// to them (not released), and rate limits are reserved through the store.
  var isShared: Bool { get }
  /// The start of the next request to a destination (`user/app`) at most one per `interval` seconds
  /// over every process sharing the store, reserved now; nil when the store is not shared (the
  /// forwarder keeps its own schedule).
  func reserveRequest(destination: String, now: Double, interval: Double) async throws -> Double?
  /// The collectors paused (their key cannot post) in any process sharing the store, with the
  /// reason; nil when the store is not shared (the forwarder keeps its own).
  func pausedCollectors() async throws -> [String: String]?
  /// Records that a collector is paused, for every process sharing the store (`resume(collectors:)`
  /// ends it); nothing for a store that is not shared.
  func pause(collector: String, reason: String, now: Double) async throws
  /// Records the text of a rule set and returns its version; the same text gets the same version.
  func recordRuleSet(_ source: String) async throws -> Int64
  /// The text of a recorded rule set.
  func ruleSet(_ version: Int64) async throws -> String?
  /// Adds items; an id already queued, leased, dead-lettered or delivered is not added again. Returns
  /// how many were added.
  @discardableResult func enqueue(_ items: [QueuedItem], now: Double) async throws -> Int
  /// `enqueue`, saying for each item whether it was added.
  func enqueueEach(_ items: [QueuedItem], now: Double) async throws -> [Bool]
  /// Hands out up to `limit` items that are due, leasing them until `now + lease`.
  func lease(limit: Int, now: Double, lease: Double) async throws -> [QueuedItem]
  /// Removes delivered items, and remembers their ids (`SQLiteQueueStore.deliveredRetention`): an
  /// id delivered is not queued again.
  func acknowledge(_ ids: [String]) async throws
  /// Removes items that are not to be sent (the post-queue stage dropped them); not remembered.
  func discard(_ ids: [String]) async throws
  /// Removes delivered items and, in the same transaction, queues what must follow them (the
  /// annotations of inputs that now exist), so that a crash in between loses neither.
  func acknowledge(_ ids: [String], followedBy items: [QueuedItem], now: Double) async throws
  /// Gives a leased item back, due again at `notBefore`, counting the attempt.
  func reschedule(_ id: String, notBefore: Double, error: String) async throws
  /// Moves an item to the dead letters with the reason.
  func deadLetter(_ id: String, reason: String, now: Double) async throws
  /// Ends every lease at once: a store used by one process calls it at start, since leases held by a
  /// process that died are not coming back.
  func releaseLeases() async throws
  /// Makes every queued item due now.
  func resumeAll() async throws
  /// Makes the items of these collectors due now (after a reload, the items held back for a paused
  /// collector go), and ends their pause; the others keep their backoff.
  func resume(collectors: Set<String>) async throws
  /// Makes the items waiting to retry a delivery to this destination due now (it answered again);
  /// items of a paused collector stay held.
  func resume(destinationUser: String, destinationApp: String, now: Double) async throws
  /// The collectors that have items queued or leased.
  func pendingCollectors() async throws -> Set<String>
  /// Items queued or leased.
  func depth() async throws -> Int
  func deadLetters(limit: Int) async throws -> [DeadLetter]
  /// Puts dead letters (the given ids, or all when nil) back in the queue; returns how many.
  @discardableResult func retryDeadLetters(_ ids: [String]?, now: Double) async throws -> Int
  /// Deletes dead letters (the given ids, or all when nil); returns how many.
  @discardableResult func dropDeadLetters(_ ids: [String]?) async throws -> Int
}

extension QueueStore {
  public var isShared: Bool { false }
  public func reserveRequest(destination: String, now: Double, interval: Double) async throws -> Double? { nil }
  public func pausedCollectors() async throws -> [String: String]? { nil }
  public func pause(collector: String, reason: String, now: Double) async throws {}
}
