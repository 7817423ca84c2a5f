import RulesEvents
import RulesRuntime
import RulesSema
import RulesSource
import RulesSyntax

/// What a set of events exercised of a program (`rulec test --coverage`): per statement, how many
/// events it let through and how many it dropped; per operand of an `and`/`or` chain in a `require`
/// or `drop if` condition, how many times it decided the chain (for `or`, the first true operand;
/// for `and`, the first false one; else the last). Chains inside `where` filters are evaluated per
/// element and are not counted. Shared by the engines of every case that tests the same rules.
public final class Coverage {
  /// An operand of a chain.
  public struct Branch: Sendable {
    public var op: BinaryOperator
    public var operand: Expr
    public var decided = 0
  }

  /// One statement: its outcomes and its chains' operands.
  public struct StatementCoverage: Sendable {
    public var passed = 0
    public var dropped = 0
    public var branches: [Branch] = []
    /// The branch index of each operand, by the operand's source range.
    var branchIndex: [SourceRange: Int] = [:]
  }

  /// Per collector, per statement (counted across both stages, as `RunReport` counts them).
  public private(set) var collectors: [[StatementCoverage]]

  public init(program: CheckedProgram) {
    collectors = program.collectors.map { c in
      ((c.preQueue ?? []) + (c.postQueue ?? [])).map { s in
        var coverage = StatementCoverage()
        if case .require(let e) = s.kind { Self.collectBranches(e, into: &coverage) }
        if case .dropIf(let e) = s.kind { Self.collectBranches(e, into: &coverage) }
        return coverage
      }
    }
  }

  /// The operands of every `and`/`or` chain of a condition, outside `where` filters, in order.
  static func collectBranches(_ root: Expr, into coverage: inout StatementCoverage) {
    var pending = [root]
    while let e = pending.popLast() {
      switch e.kind {
      case .binary(let op, _, _) where op == .and || op == .or:
        let operands = e.chainOperands(op)
        for operand in operands {
          coverage.branchIndex[operand.range] = coverage.branches.count
          coverage.branches.append(Branch(op: op, operand: operand))
        }
        pending += operands.reversed()
      case .not(let x), .paren(let x): pending.append(x)
      default: break
      }
    }
  }

  /// Counts one statement met by an event (already mapped), evaluating its chains operand by
  /// operand with the collector's reference evaluator.
  func record(_ collector: Int, _ statement: Int, _ condition: Expr?, _ event: Event, _ passed: Bool, _ evaluator: ReferenceEvaluator) {
    if passed { collectors[collector][statement].passed += 1 } else { collectors[collector][statement].dropped += 1 }
    guard let condition, !collectors[collector][statement].branches.isEmpty else { return }
    _ = decide(condition, collector, statement, event, evaluator)
  }

  /// The condition's truth, as the evaluators compute it, noting which operand decided each chain.
  /// Recursion follows nesting (at most `Parser.nestingLimit` deep), never a chain's length.
  func decide(_ e: Expr, _ collector: Int, _ statement: Int, _ event: Event, _ evaluator: ReferenceEvaluator) -> Bool {
    switch e.kind {
    case .paren(let x): return decide(x, collector, statement, event, evaluator)
    case .not(let x): return !decide(x, collector, statement, event, evaluator)
    case .binary(let op, _, _) where op == .and || op == .or:
      // `or` stops at the first true operand, `and` at the first false one; else the last decides.
      let operands = e.chainOperands(op)
      let stopsOn = op == .or
      var result = !stopsOn
      var deciding = operands.count - 1
      for (k, operand) in operands.enumerated() where decide(operand, collector, statement, event, evaluator) == stopsOn {
        deciding = k
        result = stopsOn
        break
      }
      if let index = collectors[collector][statement].branchIndex[operands[deciding].range] {
        collectors[collector][statement].branches[index].decided += 1
      }
      return result
    default:
      return evaluator.evaluate(e, event: event).isTrue
    }
  }
}

extension CollectorEngine {
  /// Counts a statement met into `coverage`: the event as the statement saw it (mapped).
  mutating func cover(_ coverage: Coverage, _ collector: Int, _ statement: Int, _ event: Event, _ passed: Bool) {
    let c = collectors[collector]
    let preCount = c.preQueue?.count ?? 0
    let list = statement < preCount ? (c.preQueue ?? []) : (c.postQueue ?? [])
    let s = list[statement < preCount ? statement : statement - preCount]
    var condition: Expr?
    if case .require(let e) = s.kind { condition = e }
    if case .dropIf(let e) = s.kind { condition = e }
    coverage.record(collector, statement, condition, event, passed, evaluators[collector])
  }
}
