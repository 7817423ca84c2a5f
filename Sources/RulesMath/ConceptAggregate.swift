import Foundation

/// Aggregates over the values of a concept collection (Grammar.md section 6.1).
public enum AggregateKind: UInt8, Sendable, CaseIterable {
  case max, min, top, margin, entropy, leastConfidence

  /// The built-in's name in the language.
  public var name: String {
    switch self {
    case .max: "max"
    case .min: "min"
    case .top: "top"
    case .margin: "margin"
    case .entropy: "entropy"
    case .leastConfidence: "least_confidence"
    }
  }

  public init?(name: String) {
    guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
    self = kind
  }

  /// Whether its value is a probability, in [0, 1] (entropy is only non-negative): what the checker
  /// types and the interval lints assume.
  public var isProbability: Bool { self != .entropy }

  /// Whether it takes a rank after the collection (`top(concepts, 2)`).
  public var takesRank: Bool { self == .top }
}

/// The one implementation of the aggregates, used by both the reference evaluator and the VM so that
/// they compute bit-identical results (same operations in the same order).
public enum ConceptAggregate {
  /// The aggregate of the values (NaN when it is missing: no values, fewer than 2 for a margin, a
  /// zero sum for entropy, or a non-finite result). `top` and `margin` sort `values` in place.
  /// Inlinable: in a module of its own it was called, not inlined, from the VM's loop (R2: 0.4% of
  /// a run in the call alone).
  @inlinable
  public static func compute(_ kind: AggregateKind, _ values: UnsafeMutableBufferPointer<Double>, rank: Int) -> Double {
    var v = values
    let count = v.count
    guard count > 0 else { return .nan }
    let result: Double
    switch kind {
    case .max: result = v.max()!
    case .min: result = v.min()!
    case .leastConfidence: result = 1 - v.max()!
    case .top:
      v.sort(by: >)
      result = v[Swift.min(Swift.max(rank, 1), count) - 1]
    case .margin:
      guard count >= 2 else { return .nan }
      v.sort(by: >)
      result = v[0] - v[1]
    case .entropy:
      let sum = v.reduce(0, +)
      guard sum != 0 else { return .nan }
      var h = 0.0
      for x in v {
        let p = x / sum
        if p != 0 { h -= p * Foundation.log(p) }
      }
      result = h
    }
    return result.isFinite ? result : .nan
  }
}
