import RulesCompiler
import RulesEvents
import RulesRuntime
import RulesSema
import RulesSyntax
import RulesVM

/// The one place where events meet collectors: every driver (`rulec run`, its decoding jobs,
/// `rulec serve`, the post-queue gate) offers events here and reads back verdicts and PostInputs
/// items. It routes an output to the collectors that watch its model, skips what a collector already
/// accepted, runs the stages (on the VM or the reference evaluator), keeps sampling and limit state
/// in event time, counts the funnel, follows `--explain`, and writes accepted items.
///
/// A value: a driver holds it in a local while it offers events and passes it down `inout` (as a
/// class property every event paid dynamic exclusivity checks on it: 4–5% of a run).
public struct CollectorEngine {
  /// Which evaluator runs the conditions.
  public enum Evaluator: String, Sendable, CaseIterable {
    /// The bytecode VM (the default).
    case vm
    /// The plain evaluator over the syntax tree that defines the semantics.
    case reference
  }

  /// Which stages an offer runs: both (a dry run), the pre-queue stage alone (ingest of the live
  /// collector, which runs the post-queue stage when an item leaves the queue), or the post-queue
  /// stage alone (that gate).
  public enum Stages: Sendable {
    case both, preQueue, postQueue

    var range: Range<Int> {
      switch self {
      case .both: 0..<2
      case .preQueue: 0..<1
      case .postQueue: 1..<2
      }
    }
  }

  // What does not change while events are offered.
  public let collectors: [CheckedCollector]
  let evaluators: [ReferenceEvaluator]
  /// The general decoder of outputs for these collectors (what their rules read of metadata).
  public let decoder: OutputDecoder
  /// What the compiled rules read (the scanner skips the rest), and the concept key table.
  public let scannerNeeds: DecodeNeeds
  let conceptKeys: [String]
  let routes: ModelRoutes
  /// Collectors without a `limit`: their outcome depends on the event alone.
  let pure: [Bool]
  /// Each collector's part of its destination ids.
  let idPrefixes: [ForwardItem.DestinationIDPrefix]
  let preCounts: [Int]
  let stages: Stages
  /// Whether an input a collector already accepted is skipped (a dry run). The live collector keeps
  /// no such set: its durable queue holds each destination id once.
  let skipsAccepted: Bool

  // What offering events changes.
  /// The funnel so far.
  public var report: RunReport
  /// The bytecode engines, or nil when running the reference evaluator.
  var engines: [VMEngine]?
  var states: [CollectorState]
  /// Inputs each collector accepted, by a 64-bit fingerprint of the input id. The set is the one
  /// thing that grows with a run: with R3 (804,174 of 1M inputs accepted) peak RSS was 105 MB
  /// keeping the ids, and is 80 MB with fingerprints.
  var acceptedIDs: [FingerprintSet]
  /// Where the accepted-input sets lie, for the scanner made with `makeScanner(hinting: true)`, and
  /// the collectors whose sets it hints (see `hintAccepted`).
  let inputPrefetch = InputPrefetch()
  var hinted: [Int] = []
  var clock = EventClock()
  /// The collectors the current output is routed to (reused from event to event).
  var reached: [Int] = []
  /// Accepted items, one JSON line each, appended as inputs are accepted; a driver takes them away.
  public var output: [UInt8] = []
  /// The verdicts of the last offer, one for each collector the output reached, in definition
  /// order; accepted ones name their item's bytes in `output`. Kept only when `recordsVerdicts`
  /// (a dry run reads the funnel instead: keeping them cost it 0.3% in freeing them per event).
  public private(set) var verdicts: [Verdict] = []
  public var recordsVerdicts = false
  /// The input followed by `--explain`, and the trace: a line for every statement it met.
  public var explainInput: String?
  /// When set, every statement met is counted into it (`rulec test --coverage`).
  public var coverage: Coverage?
  public internal(set) var explanation: [String] = []
  /// Told of every accepted input, in order: its collector, destination id and item (`--forward`).
  public var onAccept: ((CheckedCollector, String, ArraySlice<UInt8>) -> Void)?
  /// Accepted inputs go to `output` as `AcceptedInputRecords` (the collector and the source input
  /// id) instead of items: `rulec diff` needs only those, and writing items to scan them again was a
  /// third of its time.
  public var recordsAcceptedInputs = false

  public init(
    program: CheckedProgram, evaluator: Evaluator = .vm, compilerOptions: CompilerOptions = CompilerOptions(),
    stages: Stages = .both, skipsAccepted: Bool = true
  ) throws {
    collectors = program.collectors
    var projection = MetadataProjection()
    evaluators = program.collectors.map { ReferenceEvaluator(collector: $0, projection: &projection) }
    var keyTable: [String] = []
    var needs = DecodeNeeds.everything
    if evaluator == .vm {
      let compiler = Compiler(options: compilerOptions)
      var compiled = program.collectors.map { c in compiler.compile(c, projection: &projection) }
      // One concept key table for all collectors: the scanner resolves each concept once for all.
      for i in compiled.indices { compiled[i].program.relocateConceptKeys(into: &keyTable) }
      for i in compiled.indices { compiled[i].program.conceptKeys = keyTable }
      engines = try compiled.map { c throws in try VMEngine(c) }
      needs = Self.needs(of: compiled)
    }
    scannerNeeds = needs
    conceptKeys = keyTable
    decoder = OutputDecoder(projection: projection)
    routes = ModelRoutes(program.collectors)
    idPrefixes = program.collectors.map { ForwardItem.DestinationIDPrefix(collector: $0.id) }
    // A collector that copies its predictions onto items is decided here, where the whole event is
    // (a job keeps only a summary of the events it decided).
    pure = program.collectors.map { c in
      c.collectOutputs.isEmpty
        && ((c.preQueue ?? []) + (c.postQueue ?? [])).allSatisfy { if case .limit = $0.kind { false } else { true } }
    }
    preCounts = program.collectors.map { $0.preQueue?.count ?? 0 }
    self.stages = stages
    self.skipsAccepted = skipsAccepted
    report = RunReport(collectors: program.collectors)
    states = Array(repeating: CollectorState(), count: program.collectors.count)
    acceptedIDs = Array(repeating: FingerprintSet(), count: program.collectors.count)
  }

  /// What the decoder must keep for these compiled collectors: concept text only for `name`/`id`
  /// tests and concept maps, media text only for `input.url`/`input.text`, regions and frames only
  /// when a rule ranges over them.
  public static func needs(of compiled: [CompiledCollector]) -> DecodeNeeds {
    var needs = DecodeNeeds()
    var sources: [StringSource] = compiled.flatMap { $0.program.sourcesRead }
    for c in compiled {
      for case .sample(_, _, let key?) in c.preQueue + c.postQueue { sources.append(key) }
    }
    needs.conceptText = compiled.contains { $0.collector.conceptMap != nil }
      || sources.contains { $0 == .elementName || $0 == .elementID }
    needs.mediaText = sources.contains { $0 == .inputURL || $0 == .inputText }
    needs.regionsAndFrames = compiled.contains { $0.program.readsRegionsOrFrames }
    // `collect_outputs` writes the concepts' text and the regions onto the items.
    if compiled.contains(where: { $0.collector.collectOutputs.contains(.concepts) }) { needs.conceptText = true }
    if compiled.contains(where: { $0.collector.collectOutputs.contains(.regions) }) { needs.regionsAndFrames = true }
    return needs
  }

  /// A scanner for these collectors: it reads only what their rules use (everything when
  /// explaining: the trace shows values). With `hinting`, it tells this engine each input id as it
  /// reads it, so that the accepted-input sets are loaded meanwhile; such a scanner feeds this
  /// engine alone, on one thread.
  public func makeScanner(hinting: Bool = false) -> OutputScanner {
    OutputScanner(
      projection: decoder.projection, conceptKeys: conceptKeys, needs: explainInput == nil ? scannerNeeds : .everything,
      inputIDHint: hinting ? inputPrefetch : nil)
  }

  /// Whether decoding jobs decide the pure collectors (not while explaining, which follows each
  /// statement here).
  public var decidesOnJobs: Bool { explainInput == nil && pure.contains(true) }
  /// Whether every collector is pure, so that jobs decide all of them.
  public var allPure: Bool { !pure.contains(false) }

  /// Counts a line (its number is the last line read) and, when it could not be read, why.
  public mutating func countLine(_ number: Int, badReason: String? = nil) {
    report.lines = number
    if let badReason { report.recordBadLine(number, badReason) }
  }

  /// Offers one output to the collectors that watch its model; `line` holds the bytes it was read
  /// from. The verdicts are in `verdicts`, accepted items appended to `output`.
  public mutating func offer(_ event: Event, line: UnsafeBufferPointer<UInt8>, at eventTime: Double? = nil) {
    // Lent for the call: the pointer does not outlive it.
    withUnsafePointer(to: event) { offer($0, line: line, precomputed: nil, at: eventTime) }
  }

  /// Offers the first `count` outputs of one line, decoded into `events`, in order. `precomputed`,
  /// when given, holds a decoding job's verdicts on the line's pure collectors and their items.
  public mutating func offer(
    line events: [Event], count: Int, bytes: UnsafeBufferPointer<UInt8>,
    precomputed: (verdicts: ArraySlice<Verdict>, items: UnsafeBufferPointer<UInt8>)? = nil
  ) {
    // Through a buffer pointer each event is lent, not copied (an array element read was a copy
    // that retained every field: 3.6% of a two-job run).
    events.withUnsafeBufferPointer { events in
      // A line's verdicts come in output order: each output gets its own run of them (searching
      // the whole line's for every output was quadratic in a line of 10,000 outputs).
      var cursor = precomputed?.verdicts.startIndex ?? 0
      for e in 0..<count {
        if let (verdicts, items) = precomputed {
          var end = cursor
          while end < verdicts.endIndex && verdicts[end].output == Int32(e) { end += 1 }
          offer(
            events.baseAddress! + e, line: bytes, precomputed: Precomputed(verdicts: verdicts[cursor..<end], items: items, output: Int32(e)),
            at: nil)
          cursor = end
        } else {
          offer(events.baseAddress! + e, line: bytes, precomputed: nil, at: nil)
        }
      }
    }
  }

  /// The path of every offer: the event is lent by pointer, never copied (a copy retained and
  /// released every string and array of the event: 4% of a run, and contended between jobs).
  mutating func offer(_ event: UnsafePointer<Event>, line: UnsafeBufferPointer<UInt8>, precomputed: Precomputed?, at time: Double?) {
    if recordsVerdicts { verdicts.removeAll(keepingCapacity: true) }
    report.events += 1
    guard event.isSuccess else {
      report.skippedStatus += 1
      return
    }
    let eventTime = time ?? clock.time(of: event.pointee.createdAt)
    var matched = false
    var identity: InputIdentity?
    // The collector's source is read in place (binding it to a local copied it and retained its
    // fields on every event), and the routes too: a list, not a closure that mutates the engine,
    // which made it copy them (five retains and releases an event).
    if routes.byModel.isEmpty {
      // No collector names a model (the usual case): the model id is not even looked at.
      for k in 0..<routes.anyModel.count where routes.admits(routes.anyModel[k], event) {
        matched = true
        decide(routes.anyModel[k], event, line, eventTime, precomputed, &identity)
      }
    } else {
      routes.collect(model: event.pointee.modelID, into: &reached)
      for k in reached.indices where routes.admits(reached[k], event) {
        matched = true
        decide(reached[k], event, line, eventTime, precomputed, &identity)
      }
    }
    if !matched { report.recordSkippedByModel(event) }
  }

  /// Offers an output to one collector alone (the post-queue gate: an item read back from the
  /// queue), at `eventTime`; returns its verdict, nil when the collector does not take the output.
  public mutating func offer(_ event: Event, line: UnsafeBufferPointer<UInt8>, toCollector index: Int, at eventTime: Double) -> Verdict? {
    verdicts.removeAll(keepingCapacity: true)
    report.events += 1
    var identity: InputIdentity?
    // Not routed: an item read back from the queue no longer names the model it came from.
    let recording = recordsVerdicts
    recordsVerdicts = true
    defer { recordsVerdicts = recording }
    withUnsafePointer(to: event) { decide(index, $0, line, eventTime, nil, &identity) }
    return verdicts.last
  }

  /// Runs one collector on one event it takes (or replays a job's verdict on it).
  mutating func decide(
    _ index: Int, _ event: UnsafePointer<Event>, _ line: UnsafeBufferPointer<UInt8>, _ eventTime: Double, _ precomputed: Precomputed?,
    _ identity: inout InputIdentity?
  ) {
    // The collector is read in place (it is copied below only for an accepted input).
    report.collectors[index].events += 1
    if identity == nil { identity = InputIdentity(event.forwardingKey) }
    let inputKey = identity!.key
    // Inputs are remembered by their source id; the destination id is derived only on acceptance.
    let fingerprint = identity!.fingerprint
    if skipsAccepted && acceptedIDs[index].contains(fingerprint) {
      report.collectors[index].duplicates += 1
      if recordsVerdicts { verdicts.append(Verdict(collector: Int32(index), output: Int32(truncatingIfNeeded: event.pointee.indexInLine), droppedAt: Verdict.repeated)) }
      return
    }
    if let precomputed, let verdict = precomputed.verdicts.first(where: { $0.collector == index && $0.output == precomputed.output }) {
      // Computed on a decoding job: replay its statement counts.
      let total = report.collectors[index].statements.count
      let stop = verdict.droppedAt < 0 ? total : Int(verdict.droppedAt)
      for s in 0..<stop { report.collectors[index].statements[s].passed += 1 }
      if stop < total { report.collectors[index].statements[stop].dropped += 1 }
      guard verdict.droppedAt < 0 else {
        if recordsVerdicts { verdicts.append(verdict) }
        return
      }
      accept(index, fingerprint)
      if let top = verdict.topConcept { report.collectors[index].mix.add(top, line: line) }
      if recordsAcceptedInputs {
        AcceptedInputRecords.append(collector: index, input: event.pointee.inputID ?? inputKey, to: &output)
        return
      }
      let start = output.count
      output.append(contentsOf: UnsafeBufferPointer(rebasing: precomputed.items[verdict.item]))
      if recordsVerdicts {
        var replayed = verdict
        replayed.item = start..<output.count
        verdicts.append(replayed)
      }
      if let onAccept {
        let c = collectors[index]
        onAccept(c, ForwardItem.destinationID(collector: c.id, input: inputKey), output[start...])
      }
      return
    }
    let outcome: (droppedAt: Int32, probability: Double)
    // The event after the collector's concept map, kept for `collect_outputs` to copy.
    var mappedEvent: Event?
    if let map = collectors[index].conceptMap {
      var mapped = event.pointee
      map.apply(to: &mapped)
      if !collectors[index].collectOutputs.isEmpty { mappedEvent = mapped }
      outcome = withUnsafePointer(to: mapped) { mapped in
        let outcome = evaluate(index, mapped, eventTime)
        if outcome.droppedAt < 0, let top = TopConcept(mapped) { report.collectors[index].mix.add(top, line: line) }
        return outcome
      }
    } else {
      outcome = evaluate(index, event, eventTime)
      if outcome.droppedAt < 0, let top = TopConcept(event) { report.collectors[index].mix.add(top, line: line) }
    }
    guard outcome.droppedAt < 0 else {
      if recordsVerdicts {
        verdicts.append(Verdict(collector: Int32(index), output: Int32(truncatingIfNeeded: event.pointee.indexInLine), droppedAt: outcome.droppedAt))
      }
      return
    }
    accept(index, fingerprint)
    if recordsAcceptedInputs {
      AcceptedInputRecords.append(collector: index, input: event.pointee.inputID ?? inputKey, to: &output)
      return
    }
    let start = output.count
    let parts = collectors[index].collectOutputs
    if !parts.isEmpty {
      // The predictions as the collector saw them: after its concept map.
      let seen = mappedEvent ?? event.pointee
      let id = ForwardItem.destinationID(collector: collectors[index].id, input: inputKey)
      withUnsafePointer(to: seen) { seen in
        ForwardItem.write(
          into: &output, collector: collectors[index], event: event, line: line, id: id, inclusionProbability: outcome.probability,
          outputs: ForwardItem.CollectedPrediction(parts: parts, event: seen))
        report.collectors[index].countCollected(parts, seen)
      }
      onAccept?(collectors[index], id, output[start...])
    } else if let onAccept {
      let c = collectors[index]
      let id = ForwardItem.destinationID(collector: c.id, input: inputKey)
      ForwardItem.write(into: &output, collector: c, event: event, line: line, id: id, inclusionProbability: outcome.probability)
      onAccept(c, id, output[start...])
    } else {
      // The collector's fields are read in place and the id written as bytes.
      ForwardItem.write(
        into: &output, collectorID: collectors[index].id, datasetIDs: collectors[index].datasetIDs, event: event, line: line,
        id: .derived(input: inputKey, prefix: idPrefixes[index]), inclusionProbability: outcome.probability)
    }
    if recordsVerdicts {
      verdicts.append(Verdict(collector: Int32(index), output: Int32(truncatingIfNeeded: event.pointee.indexInLine), droppedAt: -1, item: start..<output.count))
    }
  }

  /// Remembers an accepted input and counts it.
  @inline(__always) mutating func accept(_ index: Int, _ fingerprint: InputFingerprint) {
    if skipsAccepted {
      acceptedIDs[index].insert(fingerprint)
      hintAccepted(index)
    }
    report.collectors[index].accepted += 1
  }

  /// Runs the offered stages of one collector on one (mapped) event, counting every statement met:
  /// the statement that dropped it (counted across both stages), or -1, and its inclusion probability.
  mutating func evaluate(_ index: Int, _ event: UnsafePointer<Event>, _ eventTime: Double) -> (droppedAt: Int32, probability: Double) {
    let explaining = explainInput != nil && explainInput == event.pointee.inputID
    let covering = coverage != nil
    let preCount = preCounts[index]
    var probability = 1.0
    var droppedAt: Int32 = -1
    // The stages in order, by number: an array of stages here was built (or, as a shared constant,
    // had its reference count written by every job) per event.
    for ordinal in stages.range where droppedAt < 0 {
      let stage: StageKind = ordinal == 0 ? .preQueue : .postQueue
      let base = stage == .preQueue ? 0 : preCount
      let outcome: StageOutcome
      if engines != nil {
        if ordinal == stages.range.lowerBound { engines![index].begin(event) }
        outcome = engines![index].run(stage, event: event, eventTime: eventTime, state: &states[index])
      } else {
        outcome = evaluators[index].run(stage, event: event.pointee, eventTime: eventTime, state: &states[index])
      }
      // Both engines stop at the first statement an input fails, so the statements it met are
      // those up to `droppedAt` (counted from the outcome rather than in a callback, which would
      // have had to reach the report while the engine and its state were borrowed).
      let stageCount = stage == .preQueue ? preCount : report.collectors[index].statements.count - preCount
      let met = outcome.droppedAt.map { $0 + 1 } ?? stageCount
      for i in 0..<met {
        let ok = i != outcome.droppedAt
        report.count(index, base + i, ok)
        if explaining { explain(index, base + i, event.pointee, ok) }
        if covering { cover(coverage!, index, base + i, event.pointee, ok) }
      }
      if let d = outcome.droppedAt { droppedAt = Int32(base + d) }
      probability *= outcome.inclusionProbability
    }
    if explaining { explanation.append("  collector \(collectors[index].id): \(droppedAt < 0 ? "accepted" : "dropped")") }
    return (droppedAt, probability)
  }

  /// After an input was accepted: once the collector's set is larger than the caches, the scanner
  /// made with hints is told where it lies (again, as it may have moved), for up to
  /// `InputPrefetch.capacity` collectors. The lookup of each input then found its slot in cache
  /// (R3 over 1M outputs: a wait for memory on most events).
  @inline(__always) mutating func hintAccepted(_ index: Int) {
    guard acceptedIDs[index].isLarge else { return }
    if let k = hinted.firstIndex(of: index) {
      acceptedIDs[index].hint(inputPrefetch, as: k)
    } else if hinted.count < InputPrefetch.capacity {
      acceptedIDs[index].hint(inputPrefetch, as: hinted.count)
      hinted.append(index)
    }
  }

  /// Whether any accepted-input set has outgrown the caches (the replay of decoding jobs then
  /// prefetches a few lines ahead).
  public var prefetchesAccepted: Bool { acceptedIDs.contains { $0.isLarge } }

  /// Starts loading the slots of the accepted-input sets where a decoded line's outputs will be
  /// looked up, for the first outputs of the line (one, in the usual recording).
  public mutating func prefetchAccepted(_ events: [Event], count: Int) {
    guard count > 0 else { return }
    events.withUnsafeBufferPointer { events in
      for e in 0..<min(count, 4) {
        let event = events.baseAddress! + e
        guard event.isSuccess else { continue }
        let fingerprint = InputFingerprint(event.forwardingKey)
        routes.collect(model: event.pointee.modelID, into: &reached)
        for k in reached.indices { acceptedIDs[reached[k]].prefetch(fingerprint) }
      }
    }
  }
}

/// A job's verdicts on one output of a line, as an offer reads them.
struct Precomputed {
  let verdicts: ArraySlice<Verdict>
  let items: UnsafeBufferPointer<UInt8>
  let output: Int32
}
