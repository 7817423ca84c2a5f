import RulesMath
import RulesCompiler
import RulesEvents
import RulesRuntime
import RulesSema
import RulesSyntax
import RulesVM

/// Runs one compiled collector's stages: conditions on the VM, sampling and limits here, with the
/// same outcomes as `ReferenceEvaluator.run`.
///
/// Sendable by hand: its raw views are of immutable storage the engine itself holds (`steps`).
public struct VMEngine: @unchecked Sendable {
  public let compiled: CompiledCollector
  public let interpreter: Interpreter
  var prepared = PreparedConcepts()
  var cache: EventCache
  /// Each stage's statements as the loop reads them: conditions are block numbers with nothing to
  /// copy, where reading a `CompiledStatement` copied its payload (a seed string) per statement, and
  /// raw views, where reading an array held by the engine retained and released it per stage
  /// (7% of R4's time by profile; 52 → 44 ns a collector-event, in a noisy period).
  let steps: StageSteps
  let preSteps: StageSteps.View
  let postSteps: StageSteps.View

  /// An engine for a thread of its own: its program and statements share no storage with `compiled`.
  public init(isolating compiled: CompiledCollector) throws(VerificationError) {
    var copy = compiled
    copy.program = compiled.program.isolatedCopy()
    copy.preQueue = compiled.preQueue.map { $0 }
    copy.postQueue = compiled.postQueue.map { $0 }
    try self.init(copy)
  }

  public init(_ compiled: CompiledCollector) throws(VerificationError) {
    self.compiled = compiled
    interpreter = try Interpreter(compiled.program)
    cache = EventCache(size: compiled.program.cacheSize)
    func reduce(_ statements: [CompiledStatement]) -> [StageSteps.Step] {
      statements.map { s in
        switch s {
        case .require(let block): .condition(block: Int32(block), passWhen: true)
        case .dropIf(let block): .condition(block: Int32(block), passWhen: false)
        case .sample, .limit: .other
        }
      }
    }
    steps = try interpreter.stageSteps([reduce(compiled.preQueue), reduce(compiled.postQueue)])
    preSteps = steps[0]
    postSteps = steps[1]
  }

  /// Starts an event: resolves its top-level concepts to keys once and forgets cached results.
  public mutating func begin(_ event: Event) {
    withUnsafePointer(to: event) { begin($0) }
  }

  /// `begin` for an event lent by pointer (the engine's path: the event is never copied).
  mutating func begin(_ event: UnsafePointer<Event>) {
    interpreter.prepare(event, into: &prepared)
    cache.newEvent()
  }

  public mutating func run(
    _ kind: StageKind, event: Event, eventTime: Double, state: inout CollectorState, observe: (Int, Bool) -> Void = { _, _ in }
  ) -> StageOutcome {
    withUnsafePointer(to: event) { run(kind, event: $0, eventTime: eventTime, state: &state, observe: observe) }
  }

  /// `run` for an event lent by pointer.
  mutating func run(
    _ kind: StageKind, event: UnsafePointer<Event>, eventTime: Double, state: inout CollectorState,
    observe: (Int, Bool) -> Void = { _, _ in }
  ) -> StageOutcome {
    // `begin` prepared this event's concepts; a run without it would read another event's keys.
    assert(prepared.count == event.pointee.concepts.count, "run without begin(event)")
    let steps = kind == .preQueue ? preSteps : postSteps
    var probability = 1.0
    var index = 0
    while index < steps.count {
      // Conditions run in the interpreter's own loop; it stops at a failure or at the next sampling
      // or limit statement, which is decided here.
      let (stoppedAt, passed) = interpreter.runConditions(
        steps, from: index, event: event, prepared: prepared, cache: &cache, observe: observe)
      index = stoppedAt
      if !passed { return StageOutcome(droppedAt: index, inclusionProbability: probability) }
      guard index < steps.count else { break }
      let kept = other(kind, index, event: event, eventTime: eventTime, probability: &probability, state: &state)
      observe(index, kept)
      if !kept { return StageOutcome(droppedAt: index, inclusionProbability: probability) }
      index += 1
    }
    return StageOutcome(droppedAt: nil, inclusionProbability: probability)
  }

  /// A sampling or limit statement: whether the event passes it.
  func other(
    _ kind: StageKind, _ index: Int, event: UnsafePointer<Event>, eventTime: Double, probability: inout Double,
    state: inout CollectorState
  ) -> Bool {
    switch (kind == .preQueue ? compiled.preQueue : compiled.postQueue)[index] {
    case .require, .dropIf:
      preconditionFailure("conditions are steps of their own")
    case .sample(let rate, let seed, let source):
      var key = event.pointee.inputID ?? ""
      if let source, let k = interpreter.samplingKey(source, event.pointee) { key = k }
      let passed = Sampling.keeps(seed: seed, key: key, rate: rate)
      if passed { probability *= rate }
      return passed
    case .limit(let count, let seconds):
      let windowID = Int64((eventTime / seconds).rounded(.down))
      let slot = (kind == .preQueue ? 0 : 1 << 20) + index
      let used = state.windows[slot, default: [:]][windowID, default: 0]
      state.windows[slot, default: [:]][windowID] = used + 1
      return Double(used) < count
    }
  }
}
