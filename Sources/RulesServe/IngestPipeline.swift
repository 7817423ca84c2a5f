import Foundation
import RulesCompiler
import RulesEvents
import RulesQueue
import RulesRunner
import RulesRuntime
import RulesSema
import RulesSyntax
import RulesVM

/// What one ingest request did.
public struct IngestResult: Sendable, Equatable {
  public var events = 0
  public var accepted = 0
  /// Accepted inputs the queue already held (the same destination id is queued once).
  public var alreadyQueued = 0
  public var skippedStatus = 0
}

/// Why a request body was refused; nothing of it was queued.
public struct IngestError: Error, Sendable, Equatable {
  public var line: Int
  public var reason: String
}

/// The pre-queue half of the live collector: decodes a request body (one output, a PostModelOutputs
/// response, or JSON Lines of them), runs every watching collector's pre-queue stage on the VM, and
/// writes the accepted inputs to the durable queue before the request is answered. An actor, so the
/// engines' per-event state and the rate limits are used by one request at a time.
public actor IngestPipeline {
  let collectors: [CheckedCollector]
  var engines: [VMEngine]
  nonisolated let decoder: OutputDecoder
  var states: [CollectorState]
  var clock = EventClock()
  let store: QueueStore
  let ruleSet: Int64
  public private(set) var totals = IngestResult()
  let metrics: ServeMetrics?

  public init(program: CheckedProgram, store: QueueStore, ruleSet: Int64, metrics: ServeMetrics? = nil) throws {
    self.metrics = metrics
    collectors = program.collectors
    var projection = MetadataProjection()
    let compiler = Compiler()
    let compiled = program.collectors.map { compiler.compile($0, projection: &projection) }
    engines = try compiled.map { c throws in try VMEngine(c) }
    decoder = OutputDecoder(projection: projection)
    states = Array(repeating: CollectorState(), count: program.collectors.count)
    self.store = store
    self.ruleSet = ruleSet
  }

  /// JSON Lines from a stream (`rulec serve --events -`): bad lines are reported and skipped, the
  /// others evaluated and queued together.
  public func ingestLines(_ lines: [[UInt8]], firstLine: Int) throws -> (IngestResult, [IngestError]) {
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
    return (try ingest(good), bad)
  }

  /// Decodes the whole body first (a bad line refuses the request), then evaluates and queues.
  public func ingest(_ body: [UInt8]) throws -> IngestResult {
    try evaluate(decode(body), body: body)
  }

  /// Decodes a body: one JSON value (possibly over several lines), else JSON Lines. Pure, so request
  /// handlers run it concurrently, outside the actor.
  public nonisolated func decode(_ body: [UInt8]) throws -> [(Event, Range<Int>)] {
    var events: [(Event, Range<Int>)] = []
    try body.withUnsafeBufferPointer { all in
      // One JSON value (possibly spread over lines), else JSON Lines.
      if let whole = try? decoder.decode(line: all, lineNumber: 1) {
        events = whole.map { ($0, 0..<all.count) }
        return
      }
      var start = 0
      var number = 0
      while start < all.count {
        let end = all[start...].firstIndex(of: 10) ?? all.count
        number += 1
        let line = UnsafeBufferPointer(rebasing: all[start..<end])
        if !line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) {
          do {
            events += try decoder.decode(line: line, lineNumber: number).map { ($0, start..<end) }
          } catch let error as DecodeError {
            throw IngestError(line: number, reason: error.description)
          }
        }
        start = end + 1
      }
    }
    return events
  }

  /// Runs the pre-queue stages over decoded events (in order) and queues what they accept.
  public func evaluate(_ events: [(Event, Range<Int>)], body: [UInt8]) throws -> IngestResult {
    var result = IngestResult()
    var items: [QueuedItem] = []
    body.withUnsafeBufferPointer { all in
      for (event, range) in events {
        result.events += 1
        guard event.isSuccess else {
          result.skippedStatus += 1
          continue
        }
        let eventTime = clock.time(of: event)
        let line = UnsafeBufferPointer(rebasing: all[range])
        for (index, c) in collectors.enumerated() where c.source.matches(event) {
          var mapped = event
          c.conceptMap?.apply(to: &mapped)
          metrics?.event(collector: c.id)
          engines[index].begin(mapped)
          let metrics = self.metrics
          let outcome = engines[index].run(.preQueue, event: mapped, eventTime: eventTime, state: &states[index]) { i, ok in
            metrics?.statement(collector: c.id, index: i, passed: ok)
          }
          guard outcome.passed else { continue }
          metrics?.accepted(collector: c.id)
          let id = ForwardItem.destinationID(collector: c.id, input: event.forwardingKey)
          var payload: [UInt8] = []
          ForwardItem.write(into: &payload, collector: c, event: event, line: line, id: id, inclusionProbability: outcome.inclusionProbability)
          items.append(
            QueuedItem(id: id, collector: c.id, destinationUser: c.destinationUser, destinationApp: c.destinationApp, ruleSet: ruleSet, payload: payload))
          result.accepted += 1
        }
      }
    }
    let added = try store.enqueue(items, now: Date().timeIntervalSince1970)
    result.alreadyQueued = items.count - added
    totals.events += result.events
    totals.accepted += result.accepted
    totals.alreadyQueued += result.alreadyQueued
    totals.skippedStatus += result.skippedStatus
    return result
  }
}
