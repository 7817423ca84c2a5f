import Foundation
import RulesEngine
import RulesEvents
import RulesQueue
import RulesSema

/// What one ingest request did.
public struct IngestResult: Sendable, Equatable {
  public var events = 0
  public var accepted = 0
  /// Accepted inputs the queue already held (the same destination id is queued once).
  public var alreadyQueued = 0
  public var skippedStatus = 0
  /// Successful outputs whose model no collector watches, by `user/app/model` (`?` for what the
  /// output did not say).
  public var unroutedModels: [String: Int] = [:]

  /// Successful outputs that reached no collector.
  public var reachedNoCollector: Int { unroutedModels.values.reduce(0, +) }
}

/// The pre-queue half of the live collector: decodes a request body (one output, a PostModelOutputs
/// response, or JSON Lines of them), offers its outputs to the collector engine for the pre-queue
/// stage, and writes the accepted inputs to the durable queue before the request is answered. An
/// actor, so the engine's per-event state and the rate limits are used by one request at a time.
public actor IngestPipeline {
  var engine: CollectorEngine
  nonisolated let decoder: OutputDecoder
  let store: QueueStore
  let ruleSet: Int64
  public private(set) var totals = IngestResult()
  /// What `collect_outputs` had copied when last counted in the metrics, by collector index.
  var lastCollected: [Int: RunReport.CollectedCount] = [:]
  let metrics: ServeMetrics?

  public init(program: CheckedProgram, store: QueueStore, ruleSet: Int64, metrics: ServeMetrics? = nil) throws {
    self.metrics = metrics
    // The queue holds each destination id once, so the engine keeps no set of accepted inputs.
    engine = try CollectorEngine(program: program, stages: .preQueue, skipsAccepted: false)
    engine.recordsVerdicts = true
    decoder = engine.decoder
    self.store = store
    self.ruleSet = ruleSet
  }

  /// JSON Lines from a stream (`rulec serve --events -`): bad lines are reported and skipped, the
  /// others evaluated and queued together.
  public func ingestLines(_ lines: [[UInt8]], firstLine: Int) async throws -> (IngestResult, [IngestError]) {
    var good: [UInt8] = []
    var bad: [IngestError] = []
    for (k, line) in lines.enumerated() {
      if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
      let ok = line.withUnsafeBufferPointer { bytes -> DecodeError? in
        do {
          _ = try decoder.decode(line: bytes, lineNumber: firstLine + k)
          return nil
        } catch {
          return error as? DecodeError
        }
      }
      if let ok {
        bad.append(IngestError(line: firstLine + k, reason: ok.description))
      } else {
        good += line
        good.append(10)
      }
    }
    return (try await ingest(good), bad)
  }

  /// Decodes the whole body first (a bad line refuses the request), then evaluates and queues.
  public func ingest(_ body: [UInt8]) async throws -> IngestResult {
    try await evaluate(decode(body), body: body)
  }

  /// Decodes a body (`IngestBody`): pure, so request handlers run it concurrently, outside the actor.
  public nonisolated func decode(_ body: [UInt8]) throws -> [(Event, Range<Int>)] {
    try body.withUnsafeBufferPointer { all in try IngestBody.events(in: all, decoder: decoder) }
  }

  /// Runs the pre-queue stages over decoded events (in order) and queues what they accept.
  public func evaluate(_ events: [(Event, Range<Int>)], body: [UInt8]) async throws -> IngestResult {
    var result = IngestResult()
    var items: [QueuedItem] = []
    let collectors = engine.collectors
    body.withUnsafeBufferPointer { all in
      for (event, range) in events {
        result.events += 1
        guard event.isSuccess else {
          result.skippedStatus += 1
          continue
        }
        engine.offer(event, line: UnsafeBufferPointer(rebasing: all[range]))
        if engine.verdicts.isEmpty {
          result.unroutedModels["\(event.modelUser ?? "?")/\(event.modelApp ?? "?")/\(event.modelID ?? "?")", default: 0] += 1
        }
        for verdict in engine.verdicts {
          let c = collectors[verdict.collectorIndex]
          metrics?.event(collector: c.id)
          if let metrics {
            let statements = engine.report.collectors[verdict.collectorIndex].statements
            verdict.forEachStatementMet(in: 0..<(c.preQueue?.count ?? 0)) { i, ok in
              metrics.statement(collector: c.id, statements[i], passed: ok)
            }
          }
          guard verdict.accepted else { continue }
          if let now = engine.report.collectors[verdict.collectorIndex].collected {
            let before = lastCollected[verdict.collectorIndex] ?? RunReport.CollectedCount()
            metrics?.collected(
              collector: c.id, itemsWithConcepts: now.itemsWithConcepts - before.itemsWithConcepts, regions: now.regions - before.regions)
            lastCollected[verdict.collectorIndex] = now
          }
          let id = ForwardItem.destinationID(collector: c.id, input: event.forwardingKey)
          items.append(
            QueuedItem(
              id: id, collector: c.id, destinationUser: c.destinationUser, destinationApp: c.destinationApp, ruleSet: ruleSet,
              payload: Array(engine.output[verdict.itemBytes])))
          result.accepted += 1
        }
        engine.output.removeAll(keepingCapacity: true)
      }
    }
    let added = try await store.enqueueEach(items, now: Date().timeIntervalSince1970)
    for (item, new) in zip(items, added) { metrics?.accepted(collector: item.collector, queued: new) }
    result.alreadyQueued = added.reduce(0) { $0 + ($1 ? 0 : 1) }
    totals.events += result.events
    totals.accepted += result.accepted
    totals.alreadyQueued += result.alreadyQueued
    totals.skippedStatus += result.skippedStatus
    if result.reachedNoCollector > 0 { noteUnrouted(result.unroutedModels) }
    return result
  }

  /// A request whose outputs reached no collector is answered 202 like any other (they were read),
  /// so it must not be silent: the answer carries a warning, `/metrics` counts them, and the log
  /// names each model no collector watches, once.
  var warnedModels: Set<String> = []

  func noteUnrouted(_ models: [String: Int]) {
    for (model, count) in models {
      metrics?.unrouted(count)
      if warnedModels.count < 1000, warnedModels.insert(model).inserted {
        metrics?.logger.warning(
          "outputs of a model no collector watches",
          metadata: ["model": "\(model)", "collectors_watch": "\(engine.report.sourcesText)"])
      }
    }
  }

  /// The warning an answer carries when none of its successful outputs reached a collector.
  public func warning(for result: IngestResult) -> String? {
    guard result.reachedNoCollector > 0, result.reachedNoCollector == result.events - result.skippedStatus else { return nil }
    let models = result.unroutedModels.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
    return "no output reached any collector: outputs of \(models); the collectors watch \(engine.report.sourcesText)"
  }
}
