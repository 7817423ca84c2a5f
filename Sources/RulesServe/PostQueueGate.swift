import Foundation
import RulesEngine
import RulesEvents
import RulesForward
import RulesLoader
import RulesQueue
import RulesSema

/// The post-queue half of the live collector: when an item leaves the queue, the collector's
/// post-queue stage runs on the original input, read back from the queued PostInputs item.
public final class PostQueueGate: @unchecked Sendable {
  let lock = NSLock()
  /// The engine of the post-queue stages (guarded by `lock`). Limits count in the time an item
  /// leaves the queue.
  var engine: CollectorEngine
  let indexByID: [String: Int]
  /// The engine's decoder, for inputs: a queued item names no model.
  let inputDecoder: OutputDecoder

  /// Counts each post-queue statement's outcome (`rulec_statement_total{stage="post_queue"}`).
  let metrics: ServeMetrics?

  public init(program: CheckedProgram, metrics: ServeMetrics? = nil) throws {
    self.metrics = metrics
    engine = try CollectorEngine(program: program, stages: .postQueue, skipsAccepted: false)
    var decoder = engine.decoder
    decoder.requiresModel = false
    inputDecoder = decoder
    indexByID = Dictionary(program.collectors.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
  }

  /// Whether the item still goes: its collector's post-queue stage passes (or it has none).
  public func admit(_ item: QueuedItem) -> Forwarder.Admission {
    lock.lock()
    defer { lock.unlock() }
    guard let index = indexByID[item.collector] else { return .deadLetter(reason: "collector '\(item.collector)' was removed") }
    // The annotations of an input already delivered: the post-queue stage passed it.
    guard !item.isAnnotations else { return .send }
    guard !(engine.collectors[index].postQueue ?? []).isEmpty else { return .send }
    // A PostInputs item has the shape of an input: read it as the `input` of an output.
    let wrapped = Array("{\"input\":".utf8) + item.payload.filter { $0 != 10 } + Array("}".utf8)
    let event: Event? = wrapped.withUnsafeBufferPointer { try? inputDecoder.decode(line: $0, lineNumber: 0).first }
    guard let event else { return .deadLetter(reason: "the queued item cannot be read back") }
    let verdict = wrapped.withUnsafeBufferPointer { line in
      engine.offer(event, line: line, toCollector: index, at: Date().timeIntervalSince1970)
    }
    engine.output.removeAll(keepingCapacity: true)
    if let metrics, let verdict {
      let c = engine.collectors[index]
      let pre = c.preQueue?.count ?? 0
      let statements = engine.report.collectors[index].statements
      verdict.forEachStatementMet(in: pre..<(pre + (c.postQueue?.count ?? 0))) { i, ok in
        metrics.statement(collector: c.id, statements[i], passed: ok)
      }
    }
    return verdict?.accepted ?? false ? .send : .drop
  }
}

/// The post-queue gates of every rule set items in the queue were accepted under, built on demand
/// from the stored rule texts. An item whose collector is gone from the current rules fails into the
/// dead letters.
public final class GateSet: @unchecked Sendable {
  let lock = NSLock()
  var gates: [Int64: PostQueueGate] = [:]
  var current: Set<String> = []
  let store: QueueStore

  let metrics: ServeMetrics?

  public init(store: QueueStore, metrics: ServeMetrics? = nil) {
    self.store = store
    self.metrics = metrics
  }

  /// Adds the gate of a new rule set and makes its collectors the current ones.
  public func install(_ version: Int64, _ program: CheckedProgram) throws {
    let gate = try PostQueueGate(program: program, metrics: metrics)
    lock.withLock {
      gates[version] = gate
      current = Set(program.collectors.map(\.id))
    }
  }

  public func admit(_ item: QueuedItem) async -> Forwarder.Admission {
    let (gate, known) = lock.withLock { (gates[item.ruleSet], current.contains(item.collector)) }
    guard known else { return .deadLetter(reason: "collector '\(item.collector)' was removed from the rules") }
    if item.isAnnotations { return .send }
    if let gate { return gate.admit(item) }
    guard let text = try? await store.ruleSet(item.ruleSet), let program = RuleSnapshot.program(from: text),
      let built = try? PostQueueGate(program: program, metrics: metrics)
    else { return .deadLetter(reason: "rule set \(item.ruleSet) cannot be read back") }
    lock.withLock { gates[item.ruleSet] = built }
    return built.admit(item)
  }
}
