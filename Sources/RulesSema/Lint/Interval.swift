import RulesSyntax

/// A set of real numbers `lo ... hi`, each end open or closed; empty when it holds no number.
struct Interval: Equatable, CustomStringConvertible {
  var lo: Double
  var loClosed: Bool
  var hi: Double
  var hiClosed: Bool

  static let everything = Interval(lo: -.infinity, loClosed: false, hi: .infinity, hiClosed: false)
  static let unit = Interval(lo: 0, loClosed: true, hi: 1, hiClosed: true)
  static let nonNegative = Interval(lo: 0, loClosed: true, hi: .infinity, hiClosed: false)

  /// The values `x` for which `x OP c` holds (`!=` is not an interval and gives nil).
  init?(_ op: BinaryOperator, _ c: Double) {
    switch op {
    case .less: self.init(lo: -.infinity, loClosed: false, hi: c, hiClosed: false)
    case .lessEqual: self.init(lo: -.infinity, loClosed: false, hi: c, hiClosed: true)
    case .greater: self.init(lo: c, loClosed: false, hi: .infinity, hiClosed: false)
    case .greaterEqual: self.init(lo: c, loClosed: true, hi: .infinity, hiClosed: false)
    case .equal: self.init(lo: c, loClosed: true, hi: c, hiClosed: true)
    default: return nil
    }
  }

  init(lo: Double, loClosed: Bool, hi: Double, hiClosed: Bool) {
    self.lo = lo
    self.loClosed = loClosed
    self.hi = hi
    self.hiClosed = hiClosed
  }

  var isEmpty: Bool { lo > hi || (lo == hi && !(loClosed && hiClosed)) }

  func intersection(_ o: Interval) -> Interval {
    var r = self
    if o.lo > r.lo || (o.lo == r.lo && !o.loClosed) {
      r.lo = o.lo
      r.loClosed = o.loClosed
    }
    if o.hi < r.hi || (o.hi == r.hi && !o.hiClosed) {
      r.hi = o.hi
      r.hiClosed = o.hiClosed
    }
    return r
  }

  /// Whether every number of `o` is in `self`.
  func covers(_ o: Interval) -> Bool {
    if o.isEmpty { return true }
    let loOK = lo < o.lo || (lo == o.lo && (loClosed || !o.loClosed))
    let hiOK = hi > o.hi || (hi == o.hi && (hiClosed || !o.hiClosed))
    return loOK && hiOK
  }

  /// Whether the union of `parts` covers `domain`.
  static func unionCovers(_ parts: [Interval], _ domain: Interval) -> Bool {
    let sorted = parts.map { $0.intersection(domain) }.filter { !$0.isEmpty }.sorted {
      $0.lo < $1.lo || ($0.lo == $1.lo && $0.loClosed && !$1.loClosed)
    }
    guard let first = sorted.first, first.lo < domain.lo || (first.lo == domain.lo && (first.loClosed || !domain.loClosed))
    else { return false }
    var reachHi = first.hi
    var reachClosed = first.hiClosed
    for part in sorted.dropFirst() {
      // A gap exists if the next part starts after the reach, or at it with both ends open.
      if part.lo > reachHi || (part.lo == reachHi && !part.loClosed && !reachClosed) { break }
      if part.hi > reachHi {
        reachHi = part.hi
        reachClosed = part.hiClosed
      } else if part.hi == reachHi {
        reachClosed = reachClosed || part.hiClosed
      }
    }
    return reachHi > domain.hi || (reachHi == domain.hi && (reachClosed || !domain.hiClosed))
  }

  var description: String {
    func show(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d) }
    return (loClosed ? "[" : "(") + show(lo) + ", " + show(hi) + (hiClosed ? "]" : ")")
  }
}
