import RulesCompiler
import RulesEvents
import RulesRuntime
import RulesSema
import RulesSyntax
import RulesVM

/// Runs one compiled collector's stages: conditions on the VM, sampling and limits here, with the
/// same outcomes as `ReferenceEvaluator.run`.
public struct VMEngine: Sendable {
  public let compiled: CompiledCollector
  public let interpreter: Interpreter
  var prepared = PreparedConcepts()
  var cache: EventCache

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
  }

  /// Starts an event: resolves its top-level concepts to keys once and forgets cached results.
  public mutating func begin(_ event: Event) {
    withUnsafePointer(to: event) { begin($0) }
  }

  /// `begin` for an event lent by pointer (the runner's path: the event is never copied).
  public mutating func begin(_ event: UnsafePointer<Event>) {
    interpreter.prepare(event, into: &prepared)
    cache.newEvent()
  }

  public mutating func run(
    _ kind: StageKind, event: Event, eventTime: Double, state: inout CollectorState, observe: (Int, Bool) -> Void = { _, _ in }
  ) -> StageOutcome {
    withUnsafePointer(to: event) { run(kind, event: $0, eventTime: eventTime, state: &state, observe: observe) }
  }

  /// `run` for an event lent by pointer.
  public mutating func run(
    _ kind: StageKind, event: UnsafePointer<Event>, eventTime: Double, state: inout CollectorState,
    observe: (Int, Bool) -> Void = { _, _ in }
  ) -> StageOutcome {
    let statements = kind == .preQueue ? compiled.preQueue : compiled.postQueue
    var probability = 1.0
    for (index, statement) in statements.enumerated() {
      let passed: Bool
      switch statement {
      case .require(let block):
        passed = interpreter.evaluate(block: block, event: event, top: prepared, cache: &cache)
      case .dropIf(let block):
        passed = !interpreter.evaluate(block: block, event: event, top: prepared, cache: &cache)
      case .sample(let rate, let seed, let source):
        var key = event.pointee.inputID ?? ""
        if let source, let k = interpreter.samplingKey(source, event.pointee) { key = k }
        passed = Sampling.keeps(seed: seed, key: key, rate: rate)
        if passed { probability *= rate }
      case .limit(let count, let seconds):
        let windowID = Int64((eventTime / seconds).rounded(.down))
        let slot = (kind == .preQueue ? 0 : 1 << 20) + index
        let used = state.windows[slot, default: [:]][windowID, default: 0]
        passed = Double(used) < count
        state.windows[slot, default: [:]][windowID] = used + 1
      }
      observe(index, passed)
      if !passed { return StageOutcome(droppedAt: index, inclusionProbability: probability) }
    }
    return StageOutcome(droppedAt: nil, inclusionProbability: probability)
  }
}
