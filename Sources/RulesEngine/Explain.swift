import RulesEvents
import RulesRuntime
import RulesSyntax

/// `--explain`: a trace of every statement the followed input met, with the values its comparisons saw.
extension CollectorEngine {
  /// One line per statement met: its text, the values its comparisons saw, and the outcome.
  mutating func explain(_ collector: Int, _ statement: Int, _ event: Event, _ passed: Bool) {
    let s = report.collectors[collector].statements[statement]
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
    explanation.append(
      "  line \(event.line): \(c.id) \(s.stage.rawValue) line \(s.line): \(s.text)\(values) → \(passed ? "pass" : "drop")")
  }

  /// The comparisons at the top of a condition (through `and`, `or`, `not` and parentheses).
  static func comparisons(_ e: Expr) -> [Expr] {
    var out: [Expr] = []
    var pending = [e]  // a stack of its own: a chain of 1,000 operands is a tree 1,000 deep
    while let e = pending.popLast() {
      switch e.kind {
      case .binary(.and, let l, let r), .binary(.or, let l, let r): pending += [r, l]
      case .not(let x), .paren(let x): pending.append(x)
      case .binary: out.append(e)
      default: break
      }
    }
    return out
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
