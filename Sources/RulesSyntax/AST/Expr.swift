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
