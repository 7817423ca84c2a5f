import RulesDiagnostics
import RulesEngine
import RulesSema
import RulesSource
import RulesSyntax

/// `rulec run --sweep EXPR`: how many inputs each collector would accept as the threshold it compares
/// EXPR with moves over a range. Each threshold becomes a variant of the collector, and all variants
/// run in one pass over the recording, with the same sampling and limits as a plain run.
public struct Sweep {
  public var expression: String
  public var values: [Double]
  /// For each variant collector: the original collector's index and the threshold.
  public var variants: [(collector: Int, value: Double)] = []
  public var program: CheckedProgram
  /// Collectors that do not compare EXPR with a constant.
  public var untouched: [String] = []

  /// Why a sweep cannot be made.
  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  /// Parses EXPR and builds the variants; `from`/`to` default to [0, 1] for probabilities and to
  /// [0, 2 × the largest threshold] otherwise.
  public init(expression: String, program original: CheckedProgram, from: Double?, to: Double?, steps: Int) throws(Failure) {
    self.expression = expression
    let sink = DiagnosticSink()
    let file = SourceFile(path: "<sweep>", text: expression)
    let parsed = Parser.parseExpression(tokens: Lexer.lex(file, sink: sink).tokens, file: file, sink: sink)
    guard !sink.hasErrors else { throw Failure(description: "cannot read the sweep expression '\(expression)'") }
    let key = Printer.expression(Self.strip(parsed))
    self.expression = key
    var thresholds: [Double] = []
    for c in original.collectors {
      for s in (c.preQueue ?? []) + (c.postQueue ?? []) {
        switch s.kind {
        case .require(let e), .dropIf(let e): Self.thresholds(e, key, &thresholds)
        default: break
        }
      }
    }
    guard !thresholds.isEmpty else {
      throw Failure(description: "no collector compares '\(key)' with a constant; nothing to sweep")
    }
    let probability = ["max(", "min(", "top(", "margin(", "least_confidence(", "concept("].contains { key.hasPrefix($0) }
    let lo = from ?? 0
    let hi = to ?? (probability ? 1 : max(1, 2 * (thresholds.max() ?? 1)))
    let n = max(1, steps)
    values = (0...n).map { lo + (hi - lo) * Double($0) / Double(n) }
    var collectors: [CheckedCollector] = []
    for (index, c) in original.collectors.enumerated() {
      var touched = false
      for value in values {
        var variant = c
        variant.preQueue = c.preQueue.map { $0.map { Self.substitute($0, key, value, &touched) } }
        variant.postQueue = c.postQueue.map { $0.map { Self.substitute($0, key, value, &touched) } }
        if touched {
          collectors.append(variant)
          variants.append((index, value))
        }
      }
      if !touched { untouched.append(c.id) }
    }
    program = CheckedProgram(collectors: collectors)
  }

  static func strip(_ e: Expr) -> Expr {
    if case .paren(let inner) = e.kind { return strip(inner) }
    return e
  }

  static func substitute(_ s: Statement, _ key: String, _ value: Double, _ touched: inout Bool) -> Statement {
    var out = s
    switch s.kind {
    case .require(let e): out.kind = .require(substitute(e, key, value, &touched))
    case .dropIf(let e): out.kind = .dropIf(substitute(e, key, value, &touched))
    default: break
    }
    return out
  }

  /// The constants `key` is compared with, through `and`, `or`, `not` and parentheses (the places
  /// `substitute` replaces).
  static func thresholds(_ e: Expr, _ key: String, _ out: inout [Double]) {
    switch e.kind {
    case .binary(let op, let l, let r) where op.isComparison:
      if Printer.expression(strip(l)) == key, let k = Constant.number(r) { out.append(k) }
      if Printer.expression(strip(r)) == key, let k = Constant.number(l) { out.append(k) }
    case .binary(_, let l, let r):
      thresholds(l, key, &out)
      thresholds(r, key, &out)
    case .not(let x), .paren(let x): thresholds(x, key, &out)
    default: break
    }
  }

  /// Replaces the constant each comparison of `key` is made with.
  static func substitute(_ e: Expr, _ key: String, _ value: Double, _ touched: inout Bool) -> Expr {
    func literal(_ at: Expr) -> Expr { Expr(.number(value, percent: false, text: "\(value)"), at.range) }
    switch e.kind {
    case .binary(let op, let l, let r) where op.isComparison:
      if Printer.expression(strip(l)) == key, Constant.number(r) != nil {
        touched = true
        return Expr(.binary(op, l, literal(r)), e.range)
      }
      if Printer.expression(strip(r)) == key, Constant.number(l) != nil {
        touched = true
        return Expr(.binary(op, literal(l), r), e.range)
      }
      return e
    case .binary(let op, let l, let r):
      return Expr(.binary(op, substitute(l, key, value, &touched), substitute(r, key, value, &touched)), e.range)
    case .not(let x): return Expr(.not(substitute(x, key, value, &touched)), e.range)
    case .paren(let x): return Expr(.paren(substitute(x, key, value, &touched)), e.range)
    default: return e
    }
  }

  /// The table and a bar chart of accepted inputs per threshold, per collector.
  public func render(_ report: RunReport, original: CheckedProgram) -> String {
    var out = "sweep of \(expression)\n"
    var byCollector: [Int: [(Double, Int, Int)]] = [:]
    for (v, variant) in variants.enumerated() {
      let counts = report.collectors[v]
      byCollector[variant.collector, default: []].append((variant.value, counts.accepted, counts.events))
    }
    for index in byCollector.keys.sorted() {
      let rows = byCollector[index]!
      let most = max(1, rows.map(\.1).max() ?? 1)
      out += "\ncollector \(original.collectors[index].id)\n"
      out += "  threshold  accepted      rate\n"
      for (value, accepted, events) in rows {
        let rate = events == 0 ? 0 : 100 * Double(accepted) / Double(events)
        let bar = String(repeating: "█", count: Int((40 * Double(accepted) / Double(most)).rounded()))
        out += "  " + pad(format(value), 9) + "  " + pad(String(accepted), 8) + "  " + pad(String(format: "%.2f%%", rate), 8) + "  " + bar + "\n"
      }
    }
    for id in untouched { out += "\ncollector \(id): does not compare \(expression) with a constant\n" }
    return out
  }

  func format(_ v: Double) -> String {
    let r = (v * 10000).rounded() / 10000
    return r == r.rounded() ? String(Int(r)) : String(r)
  }

  func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
}

