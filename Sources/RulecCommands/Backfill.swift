import AsyncHTTPClient
import Foundation
import RulesForward
import RulesQueue
import RulesSema

/// Where `rulec run --forward` sends accepted inputs.
public struct ForwardRequest: Sendable {
  public var state: String
  public var apiBase: String
  public var timeout: Double

  public init(state: String, apiBase: String, timeout: Double) {
    self.state = state
    self.apiBase = apiBase
    self.timeout = timeout
  }
}

/// `rulec run --forward`: backfills destinations from a recording through the same durable queue and
/// forwarder as `rulec serve`, so an interrupted backfill resumes from `--state` without duplicates.
final class Backfill {
  let store: SQLiteQueueStore
  let request: ForwardRequest
  let keys: [String: String]
  let ruleSet: Int64
  var pending: [QueuedItem] = []
  var enqueued = 0

  init(_ request: ForwardRequest, program: CheckedProgram) throws {
    self.request = request
    keys = try Self.readKeys(program)
    store = try SQLiteQueueStore(directory: request.state, exclusive: true)
    // The folder is this run's alone now: leases of a run that was killed end at once.
    try store.releaseLeases()
    // The rule files' text, so queued items keep the rules they were accepted under.
    ruleSet = try store.recordRuleSet(RuleSnapshot.text(of: program))
  }

  static func readKeys(_ program: CheckedProgram) throws -> [String: String] {
    try KeyReferences.read(program)
  }

  func add(_ collector: CheckedCollector, _ id: String, _ item: ArraySlice<UInt8>) {
    pending.append(
      QueuedItem(
        id: id, collector: collector.id, destinationUser: collector.destinationUser,
        destinationApp: collector.destinationApp, ruleSet: ruleSet, payload: Array(item)))
    if pending.count >= 1000 { flush() }
  }

  /// Why queueing failed (a full disk, a broken state folder); once set, nothing more is queued and
  /// the run fails. What was queued before stays, and running again resumes without duplicates.
  private(set) var queueError: String?

  func flush() {
    defer { pending.removeAll(keepingCapacity: true) }
    guard queueError == nil, !pending.isEmpty else { return }
    do {
      enqueued += try store.enqueue(pending, now: Date().timeIntervalSince1970)
    } catch {
      queueError = "\(error)"
    }
  }

  /// Queues what is left, forwards until done or out of time, and says what happened.
  func finish() throws -> (text: String, complete: Bool) {
    flush()
    if let queueError { throw QueueFailure(state: request.state, reason: queueError, queued: enqueued) }
    let store = self.store
    let request = self.request
    let keys = self.keys
    let box = ResultBox()
    let done = DispatchSemaphore(value: 0)
    Task {
      let client = Forwarder.makeClient()
      let forwarder = Forwarder(store: store, client: client, apiBase: request.apiBase, keys: keys)
      do {
        try await forwarder.drain(deadline: Date().timeIntervalSince1970 + request.timeout)
        box.stats = forwarder.stats
        box.problems = forwarder.problems
      } catch {
        box.error = error
      }
      try? await client.shutdown()
      done.signal()
    }
    done.wait()
    if let error = box.error { throw error }
    let stats = box.stats ?? ForwardStats()
    let left = try store.depth()
    let dead = try store.deadLetters(limit: 1_000_000).count
    var text = "forwarded: \(stats.delivered) delivered in \(stats.requests) requests, \(stats.retried) retries, "
    if stats.annotationsDelivered > 0 { text += "\(stats.annotationsDelivered) annotations of collected regions, " }
    text += "\(stats.deadLettered) new dead letters (\(dead) in all), \(left) left in the queue (\(enqueued) queued by this run)\n"
    for (collector, reason) in stats.paused.sorted(by: { $0.key < $1.key }) {
      text += "collector \(collector) paused: \(reason)\n"
    }
    // Why requests failed, so that "0 delivered, 269 left" comes with its cause.
    for (cause, count) in box.problems.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
      text += "forwarding problem: \(cause) (\(count) request\(count == 1 ? "" : "s"))\n"
    }
    return (text, left == 0 && stats.deadLettered == 0)
  }

  /// Accepted inputs could not be written to the queue: the run stops with this (exit status 2).
  struct QueueFailure: Error, CustomStringConvertible {
    var state: String
    var reason: String
    var queued: Int
    var description: String {
      "cannot queue the accepted inputs in \(state): \(reason); \(queued) were queued before it and stay, and running again resumes without duplicates"
    }
  }

  final class ResultBox: @unchecked Sendable {
    var stats: ForwardStats?
    var problems: [String: Int] = [:]
    var error: Error?
  }
}
