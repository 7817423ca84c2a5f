import RulesEvents

/// A run-time value of the reference evaluator. `missing` stands for absent fields, `null`, concepts
/// not in the output, aggregates of empty lists and NaN; every comparison with it is false.
public indirect enum Value: Sendable, Equatable {
  case missing
  case number(Double)
  case string(String)
  case bool(Bool)
  case list([Value])
  /// A metadata object: present, but not comparable.
  case object
  case kind(InputKind)

  init(_ m: MetadataValue?) {
    switch m {
    case nil, .null?: self = .missing
    case .bool(let b)?: self = .bool(b)
    case .number(let n)?: self = .number(n)
    case .string(let s)?: self = .string(s)
    case .list(let items)?: self = .list(items.map { Value($0) })
    case .object?: self = .object
    }
  }

  /// A number result; NaN and infinities are missing.
  static func number(checked v: Double) -> Value { v.isFinite ? .number(v) : .missing }

  var number: Double? {
    if case .number(let n) = self { return n }
    return nil
  }

  public var isTrue: Bool {
    if case .bool(true) = self { return true }
    return false
  }

  /// Equality of two present scalars of the same type; nil when either is missing or the types differ.
  static func equal(_ a: Value, _ b: Value) -> Bool? {
    switch (a, b) {
    case (.number(let x), .number(let y)): x == y
    case (.string(let x), .string(let y)): x == y
    case (.bool(let x), .bool(let y)): x == y
    case (.kind(let x), .kind(let y)): x == y
    default: nil
    }
  }

  /// The text a value contributes to a sampling key: strings as they are, numbers in their shortest
  /// round-trip form without a trailing `.0`, bools as `true`/`false`; nil for anything else.
  public var samplingKey: String? {
    switch self {
    case .string(let s): return s
    case .bool(let b): return b ? "true" : "false"
    case .number(let n):
      if n == n.rounded() && abs(n) < 1e15 { return String(Int64(n)) }
      return String(n)
    default: return nil
    }
  }
}
