import RulesMath
import RulesEvents
import RulesSema
import RulesSource
import RulesSyntax
import RulesVM

/// A rough cost of testing a condition, to test cheap conditions first.
enum Cost {
  static func of(_ e: Expr) -> Int {
    switch Folding.strip(e).kind {
    case .bool: return 0
    case .binary(.and, let l, let r), .binary(.or, let l, let r): return of(l) + of(r)
    case .not(let x): return of(x)
    case .quantifier: return 50
    case .binary(.matches, _, _): return 100
    case .binary(_, let l, let r): return value(l) + value(r) + 1
    case .call: return 2
    default: return 5
    }
  }

  static func value(_ e: Expr) -> Int {
    switch Folding.strip(e).kind {
    case .number, .string, .bool, .name, .list: return 0
    case .path: return 2
    case .call(let name, _): return name.text == "concept" ? 4 : (name.text == "entropy" || name.text == "top" || name.text == "margin" ? 30 : 20)
    case .binary(_, let l, let r): return value(l) + value(r) + 1
    case .negate(let x): return value(x) + 1
    default: return 10
    }
  }

  /// Stable order by cost: conditions are pure, so `and` and `or` may test them in any order.
  static func ordered(_ items: [Expr]) -> [Expr] {
    items.enumerated().sorted { a, b in
      let x = of(a.element)
      let y = of(b.element)
      return x != y ? x < y : a.offset < b.offset
    }.map(\.element)
  }
}
