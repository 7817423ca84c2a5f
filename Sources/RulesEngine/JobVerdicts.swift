import RulesEvents
import RulesRuntime
import RulesSema
import RulesSyntax
import RulesVM

/// The outcome of one collector on one output: the statement that dropped it (counted across both
/// stages), or acceptance with where its PostInputs item lies. Made by an offer (`CollectorEngine
/// .verdicts`, its item in `output`) and by a decoding job (its item in the job's `JobOutput.items`).
public struct Verdict: Sendable {
  var collector: Int32
  /// The output's index in its line.
  var output: Int32
  /// The statement that dropped the input, -1 when accepted, `repeated` for an input the collector
  /// had already accepted (no statement ran).
  var droppedAt: Int32
  var item: Range<Int> = 0..<0
  /// For an accepted input computed on a job, its top concept for the class mix.
  var topConcept: TopConcept?

  static let repeated: Int32 = -2

  /// The collector's index in the program.
  public var collectorIndex: Int { Int(collector) }
  public var accepted: Bool { droppedAt == -1 }
  /// Whether the collector had already accepted this input (and ran nothing).
  public var isRepeat: Bool { droppedAt == Self.repeated }
  /// The statement that dropped the input, counted across both stages.
  public var droppedAtStatement: Int? { droppedAt >= 0 ? Int(droppedAt) : nil }
  /// Where the accepted input's item lies in the engine's `output`.
  public var itemBytes: Range<Int> { item }

  /// Calls `body` for every statement the input met, in order, with whether it passed; the
  /// statements of the stages run (`first`..<`end`).
  public func forEachStatementMet(in statements: Range<Int>, _ body: (Int, Bool) -> Void) {
    guard !isRepeat else { return }
    let stop = droppedAt < 0 ? statements.upperBound : Int(droppedAt)
    for s in statements.lowerBound..<stop { body(s, true) }
    if stop < statements.upperBound { body(stop, false) }
  }
}

/// An accepted input's top concept for the class mix: where its label lies in the line, or the
/// label itself when it is not the line's text (a concept map renamed the concepts).
enum TopConcept: Sendable {
  case inLine(Range<Int>)
  case text(String)

  /// The top concept of a lent event; no `String` is made for a label in the line.
  init?(_ event: UnsafePointer<Event>) {
    guard let top = event.pointee.topConceptIndex else { return nil }
    if let range = event.pointee.conceptLabelRange(top) {
      self = .inLine(range)
    } else {
      let c = event.pointee.concepts[top]
      self = .text(c.name.isEmpty ? c.id : c.name)
    }
  }
}

extension ClassMix {
  mutating func add(_ top: TopConcept, line: UnsafeBufferPointer<UInt8>) {
    switch top {
    case .inLine(let range):
      // As `Event.conceptLabel`: a range beyond the line (never made by the scanner) is the empty label.
      add(range.upperBound <= line.count ? UnsafeBufferPointer(rebasing: line[range]) : UnsafeBufferPointer(start: nil, count: 0))
    case .text(let label): add(label)
    }
  }
}

/// What one decoding job computed for its share of lines, kept from share to share so the steady
/// state allocates nothing: its events, its verdicts and their items, flat.
public final class JobOutput: @unchecked Sendable {
  /// Each line's outputs (reused events).
  public var events: [[Event]] = []
  public var verdicts: [Verdict] = []
  /// Each line's verdicts, as a range of `verdicts`.
  public var lineVerdicts: [Range<Int>] = []
  public var items: [UInt8] = []

  public init() {}
}

/// The pure collectors (those without a `limit`, whose outcome depends on the event alone) as a
/// decoding job decides them, made for that job alone: its own engines and routes, with copies of
/// the collectors (objects the jobs shared had their reference counts written from both cores on
/// every event). An offer of the same line then replays the verdicts in order.
public struct JobEvaluator {
  var engines: [VMEngine]?
  let evaluators: [ReferenceEvaluator]
  /// The routes to the pure collectors, as an offer routes events: going through every pure
  /// collector's source for every event made two jobs 15 times slower than one with 1,000
  /// collectors that watch other models.
  let pureRoutes: ModelRoutes
  let preCounts: [Int]
  let collectors: [CheckedCollector]
  let idPrefixes: [ForwardItem.DestinationIDPrefix]
  let stages: CollectorEngine.Stages
  /// The collectors the current output is routed to (reused from event to event).
  var reached: [Int] = []

  /// The outcomes of the pure collectors that watch this event's model, into `out`.
  public mutating func verdicts(for event: UnsafePointer<Event>, output: Int32, line: UnsafeBufferPointer<UInt8>, into out: JobOutput) {
    guard event.isSuccess else { return }
    if pureRoutes.byModel.isEmpty {
      for k in 0..<pureRoutes.anyModel.count { decide(pureRoutes.anyModel[k], event, output, line, out) }
    } else {
      pureRoutes.collect(model: event.pointee.modelID, into: &reached)
      for k in reached.indices { decide(reached[k], event, output, line, out) }
    }
  }

  /// One pure collector's verdict if the output reaches it.
  @inline(__always) mutating func decide(
    _ index: Int, _ event: UnsafePointer<Event>, _ output: Int32, _ line: UnsafeBufferPointer<UInt8>, _ out: JobOutput
  ) {
    guard pureRoutes.admits(index, event) else { return }
    if let map = collectors[index].conceptMap {
      var mapped = event.pointee
      map.apply(to: &mapped)
      withUnsafePointer(to: mapped) { verdict(index, $0, original: event, output, line, out) }
    } else {
      verdict(index, event, original: event, output, line, out)
    }
  }

  /// One pure collector's verdict on an event (`original`: the event before its concept map).
  mutating func verdict(
    _ index: Int, _ event: UnsafePointer<Event>, original: UnsafePointer<Event>, _ output: Int32, _ line: UnsafeBufferPointer<UInt8>,
    _ out: JobOutput
  ) {
    var state = CollectorState()
    let preCount = preCounts[index]
    var probability = 1.0
    var droppedAt: Int32 = -1
    // The stages in order, by number: an array of stages here was built (or, as a shared constant,
    // had its reference count written by every job) per event.
    for ordinal in stages.range where droppedAt < 0 {
      let stage: StageKind = ordinal == 0 ? .preQueue : .postQueue
      let outcome: StageOutcome
      if engines != nil {
        if ordinal == stages.range.lowerBound { engines![index].begin(event) }
        outcome = engines![index].run(stage, event: event, eventTime: 0, state: &state)
      } else {
        outcome = evaluators[index].run(stage, event: event.pointee, eventTime: 0, state: &state)
      }
      probability *= outcome.inclusionProbability
      if let d = outcome.droppedAt { droppedAt = Int32((stage == .preQueue ? 0 : preCount) + d) }
    }
    var verdict = Verdict(collector: Int32(index), output: output, droppedAt: droppedAt)
    if droppedAt < 0 {
      // The item is written here too; the offer appends it unless the input is a repeat.
      let start = out.items.count
      ForwardItem.write(
        into: &out.items, collectorID: collectors[index].id, datasetIDs: collectors[index].datasetIDs,
        event: original, line: line, id: .derived(input: original.forwardingKey, prefix: idPrefixes[index]),
        inclusionProbability: probability)
      verdict.item = start..<out.items.count
      verdict.topConcept = TopConcept(event)
    }
    out.verdicts.append(verdict)
  }

  /// Copies what an offer reads of an event whose collectors were all decided on a job (status,
  /// time, model, ids), so that the job keeps only one full event in cache.
  public static func summarize(_ e: UnsafePointer<Event>, into s: inout Event) {
    s.line = e.pointee.line
    s.indexInLine = e.pointee.indexInLine
    s.statusCode = e.pointee.statusCode
    s.statusName = e.pointee.statusName
    s.outputIDText = e.pointee.outputIDText
    s.createdAt = e.pointee.createdAt
    s.modelID = e.pointee.modelID
    s.modelUser = e.pointee.modelUser
    s.modelApp = e.pointee.modelApp
    s.modelVersion = e.pointee.modelVersion
    s.inputID = e.pointee.inputID
  }
}

extension CollectorEngine {
  /// A decoding job's evaluator of the pure collectors, sharing no storage with this engine.
  public func makeJobEvaluator() throws -> JobEvaluator {
    JobEvaluator(
      engines: try engines?.map { e throws in try VMEngine(isolating: e.compiled) }, evaluators: evaluators,
      pureRoutes: ModelRoutes(collectors) { pure[$0] }, preCounts: preCounts, collectors: collectors.map { $0 },
      idPrefixes: idPrefixes.map { $0 }, stages: stages)
  }
}
