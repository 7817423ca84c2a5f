import RulesSource

/// An expression node: a kind and the byte range it covers.
public struct Expr: Sendable {
  public var kind: ExprKind
  public var range: SourceRange

  public init(_ kind: ExprKind, _ range: SourceRange) {
    self.kind = kind
    self.range = range
  }
}

public indirect enum ExprKind: Sendable {
  /// A number literal; `percent` literals are already divided by 100. `text` is the spelling.
  case number(Double, percent: Bool, text: String)
  case string(String)
  case bool(Bool)
  case list([Expr])
  /// A bare name: an element field inside `where`, an input kind, or an unknown name.
  case name(String)
  /// `metadata.a.b`, `input.kind`, `model.id`: the root word then the segments.
  case path([Word])
  case call(Word, [Expr])
  case collection(CollectionExpr)
  /// `any C` / `all C`, where C usually carries a filter.
  case quantifier(Quantifier, CollectionExpr)
  case not(Expr)
  case negate(Expr)
  case binary(BinaryOperator, Expr, Expr)
  case paren(Expr)
  /// Stands where the parser found no expression; a diagnostic was already emitted.
  case missing
}

public enum Quantifier: String, Sendable {
  case any
  case all
}

public enum CollectionKind: String, Sendable {
  case concepts
  case regions
  case frames

  /// The singular spelling (`concept`), also accepted.
  public var singular: String { String(rawValue.dropLast()) }
}

/// `concepts [in LIST] [where PRED | OP VALUE]`.
public struct CollectionExpr: Sendable {
  public var kind: CollectionKind
  /// The keyword as written (`concept` or `concepts`), kept for the formatter.
  public var keyword: Word
  public var list: Expr?
  public var filter: CollectionFilter?

  public init(kind: CollectionKind, keyword: Word, list: Expr? = nil, filter: CollectionFilter? = nil) {
    self.kind = kind
    self.keyword = keyword
    self.list = list
    self.filter = filter
  }
}

extension CollectionExpr {
  /// The concept names or ids of its `in [...]` list (bare words and strings), nil without one.
  public var listedNames: [String]? {
    guard let list, case .list(let items) = list.kind else { return nil }
    return items.compactMap {
      switch $0.kind {
      case .name(let n), .string(let n): n
      default: nil
      }
    }
  }
}

/// How a collection's elements are filtered.
public enum CollectionFilter: Sendable {
  /// `where PRED`, evaluated with the element's fields in scope.
  case `where`(Expr)
  /// `> 0.3`: shorthand for `where value > 0.3`.
  case compare(BinaryOperator, Expr)
}

public enum BinaryOperator: String, Sendable {
  case or
  case and
  case equal = "=="
  case notEqual = "!="
  case less = "<"
  case lessEqual = "<="
  case greater = ">"
  case greaterEqual = ">="
  case `in`
  case notIn = "not in"
  case contains
  case startsWith = "starts_with"
  case endsWith = "ends_with"
  case matches
  case add = "+"
  case subtract = "-"
  case multiply = "*"
  case divide = "/"

  public var isComparison: Bool {
    switch self {
    case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: true
    default: false
    }
  }

  public var isArithmetic: Bool {
    switch self {
    case .add, .subtract, .multiply, .divide: true
    default: false
    }
  }

  /// The comparison with its operands swapped (`a < b` is `b > a`).
  public var flipped: BinaryOperator {
    switch self {
    case .less: .greater
    case .lessEqual: .greaterEqual
    case .greater: .less
    case .greaterEqual: .lessEqual
    default: self
    }
  }

  /// The comparison that holds exactly when this one fails (for present, non-NaN values).
  public var negated: BinaryOperator? {
    switch self {
    case .less: .greaterEqual
    case .lessEqual: .greater
    case .greater: .lessEqual
    case .greaterEqual: .less
    case .equal: .notEqual
    case .notEqual: .equal
    default: nil
    }
  }

  /// Binding strength; higher binds tighter.
  public var precedence: Int {
    switch self {
    case .or: 1
    case .and: 2
    case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .in, .notIn, .contains, .startsWith,
      .endsWith, .matches:
      4
    case .add, .subtract: 5
    case .multiply, .divide: 6
    }
  }
}

extension Expr {
  /// The operands of the chain of `op` rooted here (`a or b or c` → `[a, b, c]`), in order,
  /// through parentheses when `throughParentheses`. With a stack of its own: the parser builds
  /// chains left-deep, up to `Parser.chainLimit` operands, and passes that recursed once per
  /// operand overflowed a small thread stack.
  public func chainOperands(_ op: BinaryOperator, throughParentheses: Bool = false) -> [Expr] {
    var out: [Expr] = []
    var pending = [self]
    while var e = pending.popLast() {
      if throughParentheses { while case .paren(let inner) = e.kind { e = inner } }
      if case .binary(let o, let l, let r) = e.kind, o == op {
        pending.append(r)
        pending.append(l)
      } else {
        out.append(e)
      }
    }
    return out
  }

  /// A binary operation as a left-deep chain of operators of one precedence (`a - b + c` is
  /// `(a - b) + c`): its first operand, then each operator with its right operand, in order.
  /// Comparisons do not chain. Walked in a loop, as `chainOperands`.
  public func leftChain() -> (head: Expr, steps: [(BinaryOperator, Expr)])? {
    guard case .binary(let op, let lhs, let rhs) = kind else { return nil }
    return Self.leftChain(op, lhs, rhs)
  }

  /// `leftChain` of the operation `lhs op rhs`, without making its node.
  public static func leftChain(_ op: BinaryOperator, _ lhs: Expr, _ rhs: Expr) -> (head: Expr, steps: [(BinaryOperator, Expr)]) {
    var steps = [(op, rhs)]
    var head = lhs
    while !op.isComparison, case .binary(let o, let l, let r) = head.kind, o.precedence == op.precedence {
      steps.append((o, r))
      head = l
    }
    return (head, steps.reversed())
  }
}
