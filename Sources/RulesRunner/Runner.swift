import Foundation
import RulesCompiler
import RulesEvents
import RulesRuntime
import RulesSema
import RulesSyntax
import RulesVM
import CacheHints

/// Runs checked collectors over a recording of model outputs (`rulec run`): decodes each line, sends
/// each successful output to the collectors that watch its model, runs their pre- and post-queue
/// stages, and writes one PostInputs item per accepted input.
/// A 64-bit fingerprint of an input id (FNV-1a 64): the dedupe set keeps 8 bytes an accepted input.
/// Two of a collector's accepted inputs share one with probability about n² / 2⁶⁵ (3 × 10⁻⁸ for a
/// million), which would make the second look like a repeat of the first.
struct InputFingerprint: Hashable {
  var value: UInt64

  init(_ key: String) {
    // Over the bytes as a buffer: iterating `String.UTF8View` was 1% of a run.
    var key = key
    value = key.withUTF8 { InputPrefetch.fingerprint(of: $0) }
  }
}

/// An event's forwarding key and its fingerprint, worked out once for all the collectors it reaches.
struct InputIdentity {
  var key: String
  var fingerprint: InputFingerprint
  init(_ key: String) {
    self.key = key
    fingerprint = InputFingerprint(key)
  }
}

/// The fingerprints a collector accepted: open addressing over the fingerprints themselves (already
/// well mixed), instead of a `Set`, which hashed each one again with SipHash on every event.
struct FingerprintSet {
  private var slots: [UInt64] = Array(repeating: 0, count: 1024)
  private var count = 0
  /// Whether the fingerprint 0 (the empty-slot marker) is in the set.
  private var hasZero = false

  func contains(_ f: InputFingerprint) -> Bool {
    if f.value == 0 { return hasZero }
    let mask = slots.count - 1
    var i = InputPrefetch.home(of: f.value, mask: mask)
    while true {
      let v = slots[i]
      if v == f.value { return true }
      if v == 0 { return false }
      i = (i + 1) & mask
    }
  }

  /// Whether the set has outgrown the first-level cache (32 KiB of slots), so that looking up an
  /// input is worth a prefetch: R5's set (tens of thousands of inputs) missed the cache on most
  /// lookups, and a hint costs a hash of the input id a line.
  var isLarge: Bool { slots.count >= 1 << 12 }

  /// Starts loading the slot where `f` would be found (the replay of `--jobs` does so a few lines ahead).
  @inline(__always) func prefetch(_ f: InputFingerprint) {
    let mask = slots.count - 1
    let i = InputPrefetch.home(of: f.value, mask: mask)
    slots.withUnsafeBufferPointer { rulec_prefetch($0.baseAddress! + i) }
  }

  /// Hands the slots' place to `hints` as table `index`. Valid until the set next changes, after
  /// which the runner hands it again.
  func hint(_ hints: InputPrefetch, as index: Int) {
    slots.withUnsafeBufferPointer { hints.set(index, base: $0.baseAddress, mask: $0.count - 1) }
  }

  mutating func insert(_ f: InputFingerprint) {
    if f.value == 0 {
      hasZero = true
      return
    }
    if (count + 1) * 2 > slots.count { grow() }
    let mask = slots.count - 1
    var i = InputPrefetch.home(of: f.value, mask: mask)
    while true {
      let v = slots[i]
      if v == f.value { return }
      if v == 0 {
        slots[i] = f.value
        count += 1
        return
      }
      i = (i + 1) & mask
    }
  }

  private mutating func grow() {
    let old = slots
    slots = Array(repeating: 0, count: old.count * 2)
    count = 0
    for v in old where v != 0 { insert(InputFingerprint(value: v)) }
  }
}

extension InputFingerprint {
  init(value: UInt64) { self.value = value }
}

extension Event {
  /// What identifies the input for dedupe and destination ids: its id, else the output's id, else its place.
  public var forwardingKey: String { withUnsafePointer(to: self) { $0.forwardingKey } }
}

extension SourcePattern {
  /// Whether an output of this model reaches the collector.
  public func matches(_ e: Event) -> Bool { withUnsafePointer(to: e) { matches($0) } }

  /// Whether the pattern names nothing, so that every output matches.
  var matchesEveryOutput: Bool { user == nil && app == nil && model == nil && version == nil }

  /// `matches` for an event lent by pointer: reads only the fields the pattern names (handing
  /// `pointee` to a function that takes an `Event` copied the whole event).
  @inline(__always) func matches(_ e: UnsafePointer<Event>) -> Bool {
    if let user, user != (e.pointee.modelUser ?? "") { return false }
    if let app, app != (e.pointee.modelApp ?? "") { return false }
    if let model, model != (e.pointee.modelID ?? "") { return false }
    if let version, version != e.pointee.modelVersion { return false }
    return true
  }
}

extension UnsafePointer where Pointee == Event {
  /// `Event.isSuccess` and `Event.forwardingKey`, read field by field from the lent event (handing
  /// `pointee` to something that takes an `Event` copied the whole event).
  @inline(__always) var isSuccess: Bool { Event.isSuccess(code: pointee.statusCode, name: pointee.statusName) }

  /// The one definition of the forwarding key (`Event.forwardingKey` reads it through here).
  @inline(__always) var forwardingKey: String {
    pointee.inputID ?? pointee.outputID ?? "line\(pointee.line)-\(pointee.indexInLine)"
  }
}

/// The outcome of one pure collector on one output of a line, computed on a decoding job
/// (`droppedAt`: the statement that dropped it, counted across both stages, or -1).
public struct Verdict: Sendable {
  var collector: Int32
  /// The output's index in its line.
  var output: Int32
  var droppedAt: Int32
  /// For an accepted input: where its PostInputs item lies in the job's item buffer, and the top
  /// concept for the class mix.
  var item: Range<Int> = 0..<0
  var topConcept: TopConcept?
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

/// What one decoding job computed for its share of a block, kept from block to block so the
/// steady state allocates nothing: its events, its verdicts and their items, flat.
final class JobOutput: @unchecked Sendable {
  /// Each line's outputs (reused events).
  var events: [[Event]] = []
  var verdicts: [Verdict] = []
  /// Each line's verdicts, as a range of `verdicts`.
  var lineVerdicts: [Range<Int>] = []
  var items: [UInt8] = []
}

/// What a decoding job reads, made for it alone: its own scanner, engines and routes, with copies of
/// the collectors' sources (objects the jobs shared had their reference counts written from both
/// cores on every event).
struct JobContext {
  let scanner: OutputScanner
  var engines: [VMEngine]?
  /// The routes to the pure collectors, as the main thread routes events: going through every
  /// pure collector's source for every event made two jobs 15 times slower than one with 1,000
  /// collectors that watch other models.
  let pureRoutes: ModelRoutes
  let preCounts: [Int]
  let collectors: [CheckedCollector]
  /// The event a line is decoded into, kept from round to round (made anew for each share, its
  /// arrays were allocated again: half an allocation a line with two jobs).
  var scratch: [Event] = []
}

/// A line's verdicts as the main thread reads them.
struct Precomputed {
  let verdicts: ArraySlice<Verdict>
  let items: UnsafeBufferPointer<UInt8>
  let output: Int32
}

/// The runner as the decoding jobs see it: they only read what never changes during a run.
struct UnsafeSendableRunner: @unchecked Sendable {
  let runner: Runner
  init(_ runner: Runner) { self.runner = runner }
}

/// The replay of a round as a task beside the decoding jobs: it runs on one thread at a time and
/// the round's caller waits for it, so what it touches is not shared while it runs.
struct ReplayTask: @unchecked Sendable {
  let body: () -> Void
}

/// A buffer shared by the decoding jobs; each job writes only its own indices.
struct UnsafeSendableBuffer<T>: @unchecked Sendable {
  let base: UnsafeMutableBufferPointer<T>
  init(_ base: UnsafeMutableBufferPointer<T>) { self.base = base }
  subscript(i: Int) -> T {
    get { base[i] }
    nonmutating set { base[i] = newValue }
  }
}

/// Which collectors an event reaches, by its model id: those of that model and those of any model,
/// in definition order. An event pays nothing for collectors that watch other models (and nothing
/// is allocated when only one of the lists applies).
struct ModelRoutes {
  let byModel: [String: [Int]]
  let anyModel: [Int]
  /// Each collector's source, and whether it names no user, app, model or version, so that it takes
  /// every output the routes bring it without comparing (see `admits`).
  let sources: [SourcePattern]
  let takesEveryOutput: [Bool]
  /// The last model ids looked up (each route set has its own, used by one thread at a time).
  let recent = RecentRoutes()

  /// Routes to the collectors `keep` accepts.
  init(_ collectors: [CheckedCollector], keeping keep: (Int) -> Bool = { _ in true }) {
    var byModel: [String: [Int]] = [:]
    var anyModel: [Int] = []
    for (i, c) in collectors.enumerated() where keep(i) {
      if let model = c.source.model { byModel[model, default: []].append(i) } else { anyModel.append(i) }
    }
    self.byModel = byModel
    self.anyModel = anyModel
    sources = collectors.map(\.source)
    takesEveryOutput = sources.map(\.matchesEveryOutput)
  }

  /// Whether an output that `forEach` brought to collector `index` reaches it: its user, app and
  /// version must match too. An open source is not compared (the comparison copied the pattern,
  /// five strings, per event); a pattern is read in place through a buffer pointer.
  @inline(__always) func admits(_ index: Int, _ event: UnsafePointer<Event>) -> Bool {
    takesEveryOutput[index] || sources.withUnsafeBufferPointer { $0[index].matches(event) }
  }

  @inline(__always) func forEach(model: String?, _ body: (Int) -> Void) {
    // Without collectors of a named model the model id is not hashed at all.
    if byModel.isEmpty {
      for index in anyModel { body(index) }
      return
    }
    let specific = model.map { model in recent.routes(of: model) { byModel[$0] ?? [] } } ?? []
    if specific.isEmpty {
      for index in anyModel { body(index) }
    } else if anyModel.isEmpty {
      for index in specific { body(index) }
    } else {
      for index in (specific + anyModel).sorted() { body(index) }
    }
  }
}

/// The collectors of the last few model ids an event named, so that the id is compared with a
/// remembered one (one pointer compare when the scanner kept the same `String`) instead of hashed
/// into `byModel`: with 1,000 collectors of other models the hash cost R4 43 ns an event in a loop
/// over `Runner.process` (401 → 444 ns). Raw storage: as class properties, every use was checked for
/// exclusive access at run time.
final class RecentRoutes: @unchecked Sendable {
  static let size = 4
  private let models: UnsafeMutablePointer<String?>
  private let found: UnsafeMutablePointer<[Int]>
  private let next: UnsafeMutablePointer<Int>

  init() {
    models = .allocate(capacity: Self.size)
    models.initialize(repeating: nil, count: Self.size)
    found = .allocate(capacity: Self.size)
    found.initialize(repeating: [], count: Self.size)
    next = .allocate(capacity: 1)
    next.initialize(to: 0)
  }

  deinit {
    models.deinitialize(count: Self.size)
    models.deallocate()
    found.deinitialize(count: Self.size)
    found.deallocate()
    next.deallocate()
  }

  /// The collectors of `model`, remembered or worked out by `lookUp`.
  @inline(__always) func routes(of model: String, _ lookUp: (String) -> [Int]) -> [Int] {
    for k in 0..<Self.size where models[k] == model { return found[k] }
    let k = next.pointee
    next.pointee = (k + 1) % Self.size
    models[k] = model
    found[k] = lookUp(model)
    return found[k]
  }
}

/// What a run changes as it goes: the report, the collectors' limit windows and accepted inputs,
/// the engines' per-event state, the items not yet handed over. The loop holds it in a local and
/// passes it down `inout`; as properties of the runner (a class) every event paid dynamic
/// exclusivity checks on them, 4–5% of a run (R4 and R3, 300k outputs: 0.66 → 0.63 s and
/// 0.88 → 0.84 s with the checks switched off).
struct RunTally {
  var report: RunReport
  /// The bytecode engines, or nil when running the reference evaluator (`--engine reference`).
  var engines: [VMEngine]?
  var states: [CollectorState]
  /// Inputs each collector accepted in this run, by a 64-bit fingerprint of the input id. The set is
  /// the one thing that grows with the run: with R3 (804,174 of 1M inputs accepted) peak RSS was
  /// 105 MB keeping the ids, and is 80 MB with fingerprints.
  var acceptedIDs: [FingerprintSet]
  /// One job's scanner hints, and the collectors whose sets it hints (see `hintAccepted`).
  var inputPrefetch: InputPrefetch?
  var hinted: [Int] = []
  var clock = EventClock()
  /// Accepted items not yet handed to `emit`.
  var output: [UInt8] = []
  /// The input followed by `--explain` (copied from the runner when a run starts), and the trace.
  var explainInput: String?
  var explanation: [String] = []

  /// A tally that holds nothing (what the runner keeps while a run has its tally out).
  static let empty = RunTally(report: RunReport(collectors: []), engines: nil, states: [], acceptedIDs: [])
}

public final class Runner {
  let collectors: [CheckedCollector]
  let evaluators: [ReferenceEvaluator]
  let decoder: OutputDecoder
  /// What the compiled rules read (the scanner skips the rest), and the run's concept key table.
  let scannerNeeds: DecodeNeeds
  let conceptKeys: [String]
  let routes: ModelRoutes
  /// Collectors without a `limit`: their outcome depends on the event alone.
  let pure: [Bool]
  /// Each collector's part of its destination ids.
  let idPrefixes: [ForwardItem.DestinationIDPrefix]
  /// Outside a run, what runs so far changed; during one, an empty tally (the run holds it).
  var tally: RunTally
  /// The funnel so far.
  public var report: RunReport { tally.report }
  /// Stop at the first bad line (`--strict`).
  public var stopAtBadLine = false
  /// Called for each event of this input id, with a trace of every statement (`--explain`).
  public var explainInput: String?
  public var explanation: [String] { tally.explanation }
  /// Told of every accepted input, in file order: its collector, destination id and item (`--forward`).
  public var onAccept: ((CheckedCollector, String, ArraySlice<UInt8>) -> Void)?

  /// Which evaluator runs the conditions.
  public enum Engine: String, Sendable, CaseIterable {
    /// The bytecode VM (the default).
    case vm
    /// The plain evaluator over the syntax tree that defines the semantics.
    case reference
  }

  public init(program: CheckedProgram, engine: Engine = .vm, compilerOptions: CompilerOptions = CompilerOptions()) throws {
    collectors = program.collectors
    var projection = MetadataProjection()
    evaluators = program.collectors.map { ReferenceEvaluator(collector: $0, projection: &projection) }
    var keyTable: [String] = []
    var needs = DecodeNeeds.everything
    var engines: [VMEngine]?
    if engine == .vm {
      let compiler = Compiler(options: compilerOptions)
      var compiled = program.collectors.map { c in compiler.compile(c, projection: &projection) }
      // One concept key table for the run: the scanner resolves each concept once for every collector.
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
    let pure = program.collectors.map { c in
      ((c.preQueue ?? []) + (c.postQueue ?? [])).allSatisfy { if case .limit = $0.kind { false } else { true } }
    }
    self.pure = pure
    tally = RunTally(
      report: RunReport(collectors: program.collectors), engines: engines,
      states: Array(repeating: CollectorState(), count: program.collectors.count),
      acceptedIDs: Array(repeating: FingerprintSet(), count: program.collectors.count))
  }

  /// Moves the tally out for a run, which works on it as a local; `putBack` returns it.
  func takeTally() -> RunTally {
    var t = RunTally.empty
    swap(&t, &tally)
    t.explainInput = explainInput
    return t
  }

  func putBack(_ t: inout RunTally) { swap(&t, &tally) }

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
    return needs
  }

  /// The scanner for this run: everything when explaining (the reference evaluator shows values).
  func makeScanner() -> OutputScanner {
    OutputScanner(
      projection: decoder.projection, conceptKeys: conceptKeys, needs: explainInput == nil ? scannerNeeds : .everything)
  }

  /// Why a run stopped early.
  public struct StoppedAtBadLine: Error {
    public var line: Int
    public var reason: String
  }

  /// Accepted items are handed to `emit` about this many bytes at a time.
  static let outputBlock = 1 << 20

  /// Threads that decode lines (`--jobs`); evaluation stays in file order, so the output and the
  /// report do not depend on it.
  public var jobs = 1

  /// How one line decoded: its outputs (held in the decoding job's reused events), or why it failed.
  enum LineOutcome {
    case events(Int)
    case failed(DecodeError)
    case blank
  }

  /// Runs over every line of `reader`; `emit` receives the accepted items, one JSON line each, in
  /// blocks of about 1 MiB (and the rest at the end). `progress` is told the bytes read and the
  /// events seen so far.
  public func run(_ reader: ChunkReader, emit: ([UInt8]) -> Void, progress: ((Int, Int) -> Void)? = nil) throws {
    var t = takeTally()
    defer {
      if !t.output.isEmpty {
        emit(t.output)
        t.output.removeAll(keepingCapacity: true)
      }
      putBack(&t)
    }
    let scanner = makeScanner()
    let jobs = max(1, self.jobs)
    if jobs == 1 {
      // One job: each line is decoded into the same reused events and evaluated at once, while its
      // bytes are still in cache. The scanner starts loading the accepted-input slots of a line's
      // input as soon as it reads the input's id (see `hintAccepted`).
      var events: [Event] = []
      t.inputPrefetch = scanner.inputPrefetch
      t.hinted = []
      defer { t.inputPrefetch = nil }
      try reader.forEachBlock { block, lines in
        defer {
          if let progress, case .bytes(_, let r)? = lines.last { progress(r.upperBound + 1, t.report.events) }
        }
        for line in lines {
          guard let (number, bytes) = try readable(line, in: block, &t) else { continue }
          try handle(Self.decode(scanner, bytes, number, into: &events), events, bytes, number, verdicts: nil, items: nil, &t)
          flushIfFull(emit, &t)
        }
      }
      return
    }
    // Several jobs: each share of a round's lines is decoded into its own reused events (and the
    // collectors whose outcome depends on the event alone are decided there); then the lines are
    // replayed in file order, so the output and the report do not depend on `jobs`. Rounds overlap:
    // round k is replayed as one more task beside the decoding of round k + 1 (replaying after the
    // jobs had finished left a core idle meanwhile), and each round has two shares per job, so the
    // tasks even out over the cores.
    let precompute = decidesOnJobs
    let summarize = precompute && !pure.contains(false)
    let shares = 2 * jobs
    // Two sets of share outputs: the one being filled and the one being replayed.
    let outputSets = (0..<2).map { _ in (0..<shares).map { _ in JobOutput() } }
    // Each job has its own scanner and engines: objects shared by the jobs had their reference
    // counts bumped from both cores on every event, and the cache line bounced between them.
    let made = try (0..<shares).map { _ throws in
      JobContext(
        scanner: makeScanner(), engines: try t.engines?.map { e throws in try VMEngine(isolating: e.compiled) },
        pureRoutes: ModelRoutes(collectors) { pure[$0] },
        preCounts: collectors.map { $0.preQueue?.count ?? 0 }, collectors: collectors.map { $0 })
    }
    // In raw storage: each share's task works on its own context in place.
    let contexts = UnsafeMutableBufferPointer<JobContext>.allocate(capacity: shares)
    _ = contexts.initialize(from: made)
    defer {
      contexts.deinitialize()
      contexts.deallocate()
    }
    let shared = UnsafeSendableRunner(self)
    let jobContexts = UnsafeSendableBuffer(contexts)
    // The bytes of the next round: smaller after a round of many small outputs (see below).
    // The first round is small (a run that starts with dense lines would fill a whole round before
    // the limit could adapt) and grows by doubling.
    var roundLimit = Self.firstRound
    try reader.forEachBlock { block, blockLines in
      let blockBytes = UnsafeSendableBuffer(UnsafeMutableBufferPointer(mutating: block))
      // A block goes through in rounds of at most 256 KiB: what the jobs hand over is held until it
      // is replayed, and 8 MiB of empty outputs (`{}` is 3 bytes) held 2.8 million of them (1 GB).
      // With two rounds alive at once (one decoded, one replayed), lines of 10,000 empty outputs
      // peaked at 136 MB in rounds of 256 KiB, 196 MB in rounds of 512 KiB, 104 MB in rounds of
      // 128 KiB; on ordinary outputs 256 KiB is as fast as 512 KiB and 128 KiB 10% slower (R4, two
      // jobs, 300k outputs: 0.56, 0.55 and 0.62 s). Rounds dense in outputs are made smaller
      // (`roundOutputs`): that input now peaks at 101 MB, as fast as in fixed rounds.
      var replaying: Round?
      var roundStart = 0
      var parity = 0
      while roundStart < blockLines.count {
        var roundEnd = roundStart
        var roundBytes = 0
        while roundEnd < blockLines.count && (roundEnd == roundStart || roundBytes < roundLimit) {
          if case .bytes(_, let r) = blockLines[roundEnd] { roundBytes += r.count + 1 }
          roundEnd += 1
        }
        let round = Round(lines: Array(blockLines[roundStart..<roundEnd]), shares: shares, outputs: outputSets[parity])
        roundStart = roundEnd
        parity ^= 1
        // The replay runs as one of the tasks (on whichever thread takes it; never two at once).
        var stopped: Error?
        withoutActuallyEscaping({
          if let previous = replaying {
            do { try self.replay(previous, block: block, progress: progress, emit: emit, &t) } catch { stopped = error }
          }
        }) { replayPrevious in
          let task = ReplayTask(body: replayPrevious)
          DispatchQueue.concurrentPerform(iterations: shares + 1) { index in
            if index < shares {
              shared.runner.decode(
                share: index, of: round, block: blockBytes, context: jobContexts.base.baseAddress! + index, precompute: precompute,
                summarize: summarize)
            } else {
              task.body()
            }
          }
        }
        if let stopped { throw stopped }
        // What a round holds grows with its outputs, not its bytes: a round of lines of empty
        // outputs held 87,000 of them. A round with more than `roundOutputs` makes the next one
        // smaller in proportion; the limit then grows back by doubling. Lines of 10,000 empty
        // outputs peaked at 101 MB with two jobs; with a small first round and growth only well
        // below the limit, at 78 MB.
        var decoded = 0
        for outcome in round.outcomes { if case .events(let count) = outcome { decoded += count } }
        if decoded > Self.roundOutputs {
          roundLimit = max(Self.smallestRound, roundBytes / decoded * Self.roundOutputs)
        } else {
          // Only well below the limit: doubling after a round at the limit made dense input
          // alternate between one and two limits' worth of outputs.
          if decoded * 2 <= Self.roundOutputs { roundLimit = min(Self.roundBytes, roundLimit * 2) }
        }
        replaying = round
      }
      if let replaying { try replay(replaying, block: block, progress: progress, emit: emit, &t) }
    }
  }

  /// The lines of one round of `--jobs`, the jobs' shares of them, and what the jobs made of them.
  final class Round: @unchecked Sendable {
    let lines: [ChunkReader.Line]
    /// Each line's outcome, written by the job whose share holds it.
    let outcomes: UnsafeMutableBufferPointer<LineOutcome>
    /// Share j is lines `bounds[j]..<bounds[j + 1]`: shares of about equal bytes (equal numbers of
    /// lines left one job waiting for the other when one share held the long lines).
    let bounds: [Int]
    let outputs: [JobOutput]

    init(lines: [ChunkReader.Line], shares: Int, outputs: [JobOutput]) {
      self.lines = lines
      self.outputs = outputs
      outcomes = .allocate(capacity: max(1, lines.count))
      outcomes.initialize(repeating: .blank)
      var total = 0
      for line in lines { if case .bytes(_, let r) = line { total += r.count + 1 } }
      var bounds = [0]
      var bytes = 0
      for (k, line) in lines.enumerated() {
        if case .bytes(_, let r) = line { bytes += r.count + 1 }
        while bounds.count < shares && bytes * shares >= total * bounds.count { bounds.append(k + 1) }
      }
      while bounds.count <= shares { bounds.append(lines.count) }
      self.bounds = bounds
    }

    deinit {
      outcomes.deinitialize()
      outcomes.deallocate()
    }
  }

  /// One job's share of a round: decodes its lines into the job's reused events and, when
  /// `precompute`, decides the pure collectors on them. Reads only immutable state of the runner.
  func decode(
    share job: Int, of round: Round, block blockBytes: UnsafeSendableBuffer<UInt8>, context: UnsafeMutablePointer<JobContext>,
    precompute: Bool, summarize: Bool
  ) {
    let lo = round.bounds[job]
    let hi = round.bounds[job + 1]
    let out = round.outputs[job]
    out.verdicts.removeAll(keepingCapacity: true)
    out.lineVerdicts.removeAll(keepingCapacity: true)
    out.items.removeAll(keepingCapacity: true)
    guard lo < hi else { return }
    // The job's events are a local while it works: reached through the class they were checked
    // for exclusive access and uniqueness (and copied) on every use.
    var events = out.events
    out.events = []
    defer { out.events = events }
    while events.count < hi - lo { events.append([]) }
    var scratch = context.pointee.scratch
    context.pointee.scratch = []
    defer { context.pointee.scratch = scratch }
    for k in lo..<hi {
      let first = out.verdicts.count
      defer { out.lineVerdicts.append(first..<out.verdicts.count) }
      guard case .bytes(let number, let range) = round.lines[k] else { continue }
      let bytes = UnsafeBufferPointer(rebasing: blockBytes.base[range])
      // The line is decoded into `scratch`. When every collector is decided here it stays the
      // one event in cache and the main thread gets only what it reads (status, time, model,
      // ids): keeping each line's full events until then walked megabytes of concept arrays per
      // block, and two jobs cost 1.5 times the CPU of one. Otherwise the line's own events are
      // swapped in and back out (an O(1) swap of array buffers).
      if !summarize { swap(&scratch, &events[k - lo]) }
      let outcome = Self.decode(context.pointee.scanner, bytes, number, into: &scratch)
      round.outcomes[k] = outcome
      if precompute, case .events(let count) = outcome {
        scratch.withUnsafeBufferPointer { decoded in
          for e in 0..<count {
            verdicts(for: decoded.baseAddress! + e, output: Int32(e), line: bytes, context: &context.pointee, into: out)
          }
        }
      }
      if !summarize {
        swap(&scratch, &events[k - lo])
      } else if case .events(let count) = outcome {
        while events[k - lo].count < count { events[k - lo].append(Event()) }
        // Lent by pointer: `scratch[e]` as an argument copied the event, retaining and releasing
        // its every field (R4, two jobs: retain and release 5.1% → 4.1% of the profile).
        scratch.withUnsafeBufferPointer { decoded in
          for e in 0..<count { Self.summarize(decoded.baseAddress! + e, into: &events[k - lo][e]) }
        }
      }
    }
  }

  /// Goes through a decoded round's lines in file order on the main thread: counts, accepted
  /// items and the report, exactly as one job would.
  func replay(
    _ round: Round, block: UnsafeBufferPointer<UInt8>, progress: ((Int, Int) -> Void)?, emit: ([UInt8]) -> Void, _ t: inout RunTally
  ) throws {
    defer {
      if let progress, case .bytes(_, let r)? = round.lines.last { progress(r.upperBound + 1, t.report.events) }
    }
    let decided = decidesOnJobs
    // As with one job: the accepted-input slots of a line a few lines ahead are loaded meanwhile.
    let prefetching = t.acceptedIDs.contains { $0.isLarge }
    for job in 0..<(round.bounds.count - 1) {
      let out = round.outputs[job]
      let lo = round.bounds[job]
      let hi = round.bounds[job + 1]
      for k in lo..<hi {
        if prefetching && k + Self.prefetchDistance < hi {
          prefetchAccepted(round.outcomes[k + Self.prefetchDistance], out.events[k + Self.prefetchDistance - lo], &t)
        }
        guard let (number, bytes) = try readable(round.lines[k], in: block, &t) else { continue }
        if decided {
          try out.items.withUnsafeBufferPointer { items in
            let verdicts = out.verdicts[out.lineVerdicts[k - lo]]
            try handle(round.outcomes[k], out.events[k - lo], bytes, number, verdicts: verdicts, items: items, &t)
          }
        } else {
          try handle(round.outcomes[k], out.events[k - lo], bytes, number, verdicts: nil, items: nil, &t)
        }
        flushIfFull(emit, &t)
      }
    }
  }

  /// Whether `--jobs` decide the pure collectors on the decoding threads (not while explaining, which
  /// follows each statement on the main thread).
  var decidesOnJobs: Bool { explainInput == nil && pure.contains(true) }

  /// How many lines ahead the replay prefetches (it spends about a fifth of a microsecond a line).
  static let prefetchDistance = 4

  /// The bytes of lines the jobs take in one round (see `run`).
  static let roundBytes = 256 << 10
  /// The outputs a round may hold before the next round is made smaller, and the smallest round.
  static let roundOutputs = 16_384
  static let smallestRound = 4 << 10
  static let firstRound = 32 << 10

  /// Copies what the main thread reads of an event whose collectors were all decided on a job.
  static func summarize(_ e: UnsafePointer<Event>, into s: inout Event) {
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

  /// A line's number and bytes; nil for a line too long to read, which is counted as bad.
  func readable(
    _ line: ChunkReader.Line, in block: UnsafeBufferPointer<UInt8>, _ t: inout RunTally
  ) throws -> (Int, UnsafeBufferPointer<UInt8>)? {
    switch line {
    case .tooLong(let number, let length):
      t.report.lines = number
      try bad(number, "line is \(length) bytes, longer than the limit of \(LineReader.defaultMaxLineLength)", &t)
      return nil
    case .bytes(let number, let range):
      // Counted by `handle`.
      return (number, UnsafeBufferPointer(rebasing: block[range]))
    }
  }

  /// Hands the accepted items over once about 1 MiB has gathered.
  @inline(__always) func flushIfFull(_ emit: ([UInt8]) -> Void, _ t: inout RunTally) {
    guard t.output.count >= Self.outputBlock else { return }
    emit(t.output)
    t.output.removeAll(keepingCapacity: true)
  }

  /// After an input was accepted: once the collector's set is larger than the caches, the scanner
  /// of one job is told where it lies (again, as it may have moved), for up to
  /// `InputPrefetch.capacity` collectors. The lookup of each input then found its slot in cache
  /// (R3 over 1M outputs: a wait for memory on most events).
  @inline(__always) func hintAccepted(_ index: Int, _ t: inout RunTally) {
    guard let hints = t.inputPrefetch, t.acceptedIDs[index].isLarge else { return }
    if let k = t.hinted.firstIndex(of: index) {
      t.acceptedIDs[index].hint(hints, as: k)
    } else if t.hinted.count < InputPrefetch.capacity {
      t.acceptedIDs[index].hint(hints, as: t.hinted.count)
      t.hinted.append(index)
    }
  }

  /// Starts loading the slots of the accepted-input sets where a decoded line's outputs will be looked
  /// up, for the first outputs of the line (one, in the usual recording).
  @inline(__always) func prefetchAccepted(_ outcome: LineOutcome, _ events: [Event], _ t: inout RunTally) {
    guard case .events(let count) = outcome, count > 0 else { return }
    events.withUnsafeBufferPointer { events in
      for e in 0..<min(count, 4) {
        let event = events.baseAddress! + e
        guard event.isSuccess else { continue }
        let fingerprint = InputFingerprint(event.forwardingKey)
        routes.forEach(model: event.pointee.modelID) { t.acceptedIDs[$0].prefetch(fingerprint) }
      }
    }
  }

  /// Decodes one line (a blank line holds no output).
  static func decode(_ scanner: OutputScanner, _ bytes: UnsafeBufferPointer<UInt8>, _ number: Int, into events: inout [Event]) -> LineOutcome {
    if bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { return .blank }
    do throws(DecodeError) {
      return .events(try scanner.decode(line: bytes, lineNumber: number, into: &events))
    } catch {
      return .failed(error)
    }
  }

  /// Counts a bad line, or sends a line's outputs on.
  func handle(
    _ outcome: LineOutcome, _ events: [Event], _ bytes: UnsafeBufferPointer<UInt8>, _ number: Int,
    verdicts: ArraySlice<Verdict>?, items: UnsafeBufferPointer<UInt8>?, _ t: inout RunTally
  ) throws {
    t.report.lines = number
    switch outcome {
    case .blank: break
    case .failed(let error):
      try bad(number, error.description, &t)
    case .events(let count):
      // Through a buffer pointer each event is lent, not copied (an array element read was a copy
      // that retained every field: 3.6% of a two-job run).
      events.withUnsafeBufferPointer { events in
        // A line's verdicts come in output order: each output gets its own run of them (searching
        // the whole line's for every output was quadratic in a line of 10,000 outputs).
        var cursor = verdicts?.startIndex ?? 0
        for e in 0..<count {
          if let verdicts, let items {
            var end = cursor
            while end < verdicts.endIndex && verdicts[end].output == Int32(e) { end += 1 }
            process(
              events.baseAddress! + e, line: bytes, precomputed: Precomputed(verdicts: verdicts[cursor..<end], items: items, output: Int32(e)),
              &t)
            cursor = end
          } else {
            process(events.baseAddress! + e, line: bytes, precomputed: nil, &t)
          }
        }
      }
    }
  }

  func bad(_ line: Int, _ reason: String, _ t: inout RunTally) throws {
    t.report.recordBadLine(line, reason)
    if stopAtBadLine { throw StoppedAtBadLine(line: line, reason: reason) }
  }

  /// Sends one output to the collectors that watch its model; `line` holds the bytes it was read from.
  /// `verdicts`, when given, holds the outcome of the pure collectors computed on a decoding thread.
  public func process(_ event: Event, line: UnsafeBufferPointer<UInt8>) {
    var t = takeTally()
    defer { putBack(&t) }
    withUnsafePointer(to: event) { process($0, line: line, precomputed: nil, &t) }
  }

  /// The runner's path: events are lent by pointer, never copied (a copy retained and released
  /// every string and array of the event: 4% of a run, and contended between jobs).
  func process(_ event: UnsafePointer<Event>, line: UnsafeBufferPointer<UInt8>, precomputed verdicts: Precomputed?, _ t: inout RunTally) {
    t.report.events += 1
    guard event.isSuccess else {
      t.report.skippedStatus += 1
      return
    }
    let eventTime = t.clock.time(of: event.pointee.createdAt)
    var matched = false
    var identity: InputIdentity?
    routes.forEach(model: event.pointee.modelID) { index in
      matched = offer(index, event, line, eventTime, verdicts, &identity, &t) || matched
    }
    if !matched { t.report.skippedModel += 1 }
  }

  /// Runs one collector on one event if it watches the event's model; returns whether it does.
  func offer(
    _ index: Int, _ event: UnsafePointer<Event>, _ line: UnsafeBufferPointer<UInt8>, _ eventTime: Double, _ verdicts: Precomputed?,
    _ identity: inout InputIdentity?, _ t: inout RunTally
  ) -> Bool {
    // The collector is read in place: binding it to a local copied it and retained its fields on
    // every event (it is copied below only for an accepted input).
    guard routes.admits(index, event) else { return false }
    t.report.collectors[index].events += 1
    if identity == nil { identity = InputIdentity(event.forwardingKey) }
    let inputKey = identity!.key
    // Inputs are remembered by their source id; the destination id is derived only on acceptance.
    let fingerprint = identity!.fingerprint
    if t.acceptedIDs[index].contains(fingerprint) {
      t.report.collectors[index].duplicates += 1
      return true
    }
    if let verdicts, let verdict = verdicts.verdicts.first(where: { $0.collector == index && $0.output == verdicts.output }) {
      // Computed on a decoding thread: replay its statement counts.
      let total = t.report.collectors[index].statements.count
      let stop = verdict.droppedAt < 0 ? total : Int(verdict.droppedAt)
      for s in 0..<stop { t.report.collectors[index].statements[s].passed += 1 }
      if stop < total { t.report.collectors[index].statements[stop].dropped += 1 }
      guard verdict.droppedAt < 0 else { return true }
      t.acceptedIDs[index].insert(fingerprint)
      hintAccepted(index, &t)
      t.report.collectors[index].accepted += 1
      if let top = verdict.topConcept { t.report.collectors[index].mix.add(top, line: line) }
      let start = t.output.count
      t.output.append(contentsOf: UnsafeBufferPointer(rebasing: verdicts.items[verdict.item]))
      let c = collectors[index]
      onAccept?(c, ForwardItem.destinationID(collector: c.id, input: inputKey), t.output[start...])
      return true
    }
    var passed = true
    var probability = 1.0
    if let map = collectors[index].conceptMap {
      var mapped = event.pointee
      map.apply(to: &mapped)
      (passed, probability) = withUnsafePointer(to: mapped) { mapped in
        let outcome = evaluate(index, mapped, eventTime, &t)
        if outcome.passed, let top = TopConcept(mapped) { t.report.collectors[index].mix.add(top, line: line) }
        return outcome
      }
    } else {
      (passed, probability) = evaluate(index, event, eventTime, &t)
      if passed, let top = TopConcept(event) { t.report.collectors[index].mix.add(top, line: line) }
    }
    guard passed else { return true }
    t.acceptedIDs[index].insert(fingerprint)
    hintAccepted(index, &t)
    t.report.collectors[index].accepted += 1
    let start = t.output.count
    if let onAccept {
      let c = collectors[index]
      let id = ForwardItem.destinationID(collector: c.id, input: inputKey)
      ForwardItem.write(into: &t.output, collector: c, event: event, line: line, id: id, inclusionProbability: probability)
      onAccept(c, id, t.output[start...])
    } else {
      // A dry run: the collector's fields are read in place and the id written as bytes.
      ForwardItem.write(
        into: &t.output, collectorID: collectors[index].id, datasetIDs: collectors[index].datasetIDs, event: event, line: line,
        id: .derived(input: inputKey, prefix: idPrefixes[index]), inclusionProbability: probability)
    }
    return true
  }

  /// The outcomes of the pure collectors that watch this event's model, computed off the main thread
  /// with the job's own engines into the job's output. Reads only immutable state of the runner.
  func verdicts(
    for event: UnsafePointer<Event>, output: Int32, line: UnsafeBufferPointer<UInt8>, context: inout JobContext, into out: JobOutput
  ) {
    guard event.isSuccess else { return }
    func decide(_ index: Int) {
      guard context.pureRoutes.admits(index, event) else { return }
      if let map = context.collectors[index].conceptMap {
        var mapped = event.pointee
        map.apply(to: &mapped)
        withUnsafePointer(to: mapped) { verdict(index, $0, original: event, output, line, &context, out) }
      } else {
        verdict(index, event, original: event, output, line, &context, out)
      }
    }
    context.pureRoutes.forEach(model: event.pointee.modelID, decide)
  }

  /// One pure collector's verdict on an event (`original`: the event before its concept map).
  func verdict(
    _ index: Int, _ event: UnsafePointer<Event>, original: UnsafePointer<Event>, _ output: Int32, _ line: UnsafeBufferPointer<UInt8>,
    _ context: inout JobContext, _ out: JobOutput
  ) {
    var state = CollectorState()
    let preCount = context.preCounts[index]
    var probability = 1.0
    var droppedAt: Int32 = -1
    // Both stages in order, by number: an array of stages here was built (or, as a shared constant,
    // had its reference count written by every job) per event.
    for ordinal in 0..<2 where droppedAt < 0 {
      let stage: StageKind = ordinal == 0 ? .preQueue : .postQueue
      let outcome: StageOutcome
      if context.engines != nil {
        if stage == .preQueue { context.engines![index].begin(event) }
        outcome = context.engines![index].run(stage, event: event, eventTime: 0, state: &state)
      } else {
        outcome = evaluators[index].run(stage, event: event.pointee, eventTime: 0, state: &state)
      }
      probability *= outcome.inclusionProbability
      if let d = outcome.droppedAt { droppedAt = Int32((stage == .preQueue ? 0 : preCount) + d) }
    }
    var verdict = Verdict(collector: Int32(index), output: output, droppedAt: droppedAt)
    if droppedAt < 0 {
      // The item is written here too; the main thread appends it unless the input is a repeat.
      let start = out.items.count
      ForwardItem.write(
        into: &out.items, collectorID: context.collectors[index].id, datasetIDs: context.collectors[index].datasetIDs,
        event: original, line: line, id: .derived(input: original.forwardingKey, prefix: idPrefixes[index]),
        inclusionProbability: probability)
      verdict.item = start..<out.items.count
      verdict.topConcept = TopConcept(event)
    }
    out.verdicts.append(verdict)
  }

  /// Runs both stages of one collector on one (mapped) event, counting every statement met.
  func evaluate(
    _ index: Int, _ event: UnsafePointer<Event>, _ eventTime: Double, _ t: inout RunTally
  ) -> (passed: Bool, probability: Double) {
    let explaining = t.explainInput != nil && t.explainInput == event.pointee.inputID
    let preCount = collectors[index].preQueue?.count ?? 0
    var probability = 1.0
    var passed = true
    // Both stages in order, by number: an array of stages here was built (or, as a shared constant,
    // had its reference count written by every job) per event.
    for ordinal in 0..<2 where passed {
      let stage: StageKind = ordinal == 0 ? .preQueue : .postQueue
      let base = stage == .preQueue ? 0 : preCount
      let outcome: StageOutcome
      if t.engines != nil {
        if stage == .preQueue { t.engines![index].begin(event) }
        outcome = t.engines![index].run(stage, event: event, eventTime: eventTime, state: &t.states[index])
      } else {
        outcome = evaluators[index].run(stage, event: event.pointee, eventTime: eventTime, state: &t.states[index])
      }
      // Both engines stop at the first statement an input fails, so the statements it met are
      // those up to `droppedAt` (counted from the outcome rather than in a callback, which would
      // have had to reach the report while the engine and its state were borrowed from `t`).
      let stageCount = stage == .preQueue ? preCount : t.report.collectors[index].statements.count - preCount
      let met = outcome.droppedAt.map { $0 + 1 } ?? stageCount
      for i in 0..<met {
        let ok = i != outcome.droppedAt
        Self.count(index, base + i, ok, &t.report)
        if explaining { explain(index, base + i, event.pointee, ok, &t) }
      }
      passed = outcome.passed
      probability *= outcome.inclusionProbability
    }
    if explaining { t.explanation.append("  collector \(collectors[index].id): \(passed ? "accepted" : "dropped")") }
    return (passed, probability)
  }

  @inline(__always) static func count(_ collector: Int, _ statement: Int, _ passed: Bool, _ report: inout RunReport) {
    if passed {
      report.collectors[collector].statements[statement].passed += 1
    } else {
      report.collectors[collector].statements[statement].dropped += 1
    }
  }

  /// One line per statement met: its text, the values its comparisons saw, and the outcome.
  func explain(_ collector: Int, _ statement: Int, _ event: Event, _ passed: Bool, _ t: inout RunTally) {
    let s = t.report.collectors[collector].statements[statement]
    let c = collectors[collector]
    let list = (s.stage == .preQueue ? c.preQueue : c.postQueue) ?? []
    let index = s.stage == .preQueue ? statement : statement - (c.preQueue?.count ?? 0)
    var seen: [String] = []
    switch list[index].kind {
    case .require(let e), .dropIf(let e):
      for atom in Self.comparisons(e) {
        guard case .binary(let op, let lhs, let rhs) = atom.kind else { continue }
        let l = evaluators[collector].evaluate(lhs, event: event)
        let r = evaluators[collector].evaluate(rhs, event: event)
        seen.append("\(Printer.expression(lhs)) = \(Self.show(l)) \(op.rawValue) \(Self.show(r))")
      }
    default: break
    }
    let values = seen.isEmpty ? "" : " [" + seen.joined(separator: "; ") + "]"
    t.explanation.append(
      "  line \(event.line): \(c.id) \(s.stage.rawValue) line \(s.line): \(s.text)\(values) → \(passed ? "pass" : "drop")")
  }

  /// The comparisons at the top of a condition (through `and`, `or`, `not` and parentheses).
  static func comparisons(_ e: Expr) -> [Expr] {
    switch e.kind {
    case .binary(.and, let l, let r), .binary(.or, let l, let r): return comparisons(l) + comparisons(r)
    case .not(let x), .paren(let x): return comparisons(x)
    case .binary: return [e]
    default: return []
    }
  }

  static func show(_ v: Value) -> String {
    switch v {
    case .missing: return "missing"
    case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    case .string(let s): return Printer.quote(s)
    case .bool(let b): return b ? "true" : "false"
    case .list(let items): return "[" + items.map(show).joined(separator: ", ") + "]"
    case .object: return "{…}"
    case .kind(let k): return k.rawValue
    }
  }
}
