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

  public init(_ compiled: CompiledCollector) throws(VerificationError) {
    self.compiled = compiled
    interpreter = try Interpreter(compiled.program)
    cache = EventCache(size: compiled.program.cacheSize)
  }

  /// Starts an event: resolves its top-level concepts to keys once and forgets cached results.
  public mutating func begin(_ event: Event) {
    interpreter.prepare(event, into: &prepared)
    cache.newEvent()
  }

  public mutating func run(
    _ kind: StageKind, event: Event, eventTime: Double, state: inout CollectorState, observe: (Int, Bool) -> Void = { _, _ in }
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
        var key = event.inputID ?? ""
        if let source, let k = interpreter.samplingKey(source, event) { key = k }
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
