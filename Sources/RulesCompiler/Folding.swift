import RulesMath
import RulesEvents
import RulesSema
import RulesSource
import RulesSyntax
import RulesVM

/// Compile-time facts about expressions.
enum Folding {
  static func strip(_ e: Expr) -> Expr {
    if case .paren(let inner) = e.kind { return strip(inner) }
    return e
  }

  /// The operands of a chain of `and` (or of `or`), flattened through parentheses.
  static func chain(_ e: Expr, and: Bool) -> [Expr] {
    var out: [Expr] = []
    chain(e, and: and, into: &out)
    return out
  }

  /// Appends the operands (linear in the chain's length; concatenating arrays was quadratic).
  static func chain(_ e: Expr, and: Bool, into out: inout [Expr]) {
    out += e.chainOperands(and ? .and : .or, throughParentheses: true)
  }

  /// The value of a condition known at compile time: literals, and comparisons of two constants.
  static func decide(_ e: Expr) -> Bool? {
    switch strip(e).kind {
    case .bool(let b): return b
    case .not(let inner): return decide(inner).map { !$0 }
    case .binary(.and, _, _):
      let known = chain(e, and: true).map(decide)
      if known.contains(false) { return false }
      return known.allSatisfy { $0 == true } ? true : nil
    case .binary(.or, _, _):
      let known = chain(e, and: false).map(decide)
      if known.contains(true) { return true }
      return known.allSatisfy { $0 == false } ? false : nil
    case .binary(let op, let l, let r) where op.isComparison:
      guard let a = Constant.number(l), let b = Constant.number(r) else { return nil }
      switch op {
      case .less: return a < b
      case .lessEqual: return a <= b
      case .greater: return a > b
      case .greaterEqual: return a >= b
      case .equal: return a == b
      default: return a != b
      }
    default: return nil
    }
  }
}
