import RulesSource

/// The deterministic sampling decision of `sample RATE [by PATH] [seed SEED]`.
///
/// An input is kept iff `fnv1a64("<seed>:<key>") mod 1_000_000 < round(rate × 1_000_000)`, where
/// the key is the input id (or the `by` value) and the seed defaults to the collector id. Anyone can
/// reproduce a decision from Grammar.md's test vectors in another language.
public enum Sampling {
  public static let buckets: UInt64 = 1_000_000

  /// FNV-1a, 64-bit (`Bytes.fnv1a64`, its one definition).
  @inlinable
  public static func fnv1a64<Input: Sequence>(_ bytes: Input, continuing start: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64
  where Input.Element == UInt8 {
    Bytes.fnv1a64(bytes, continuing: start)
  }

  /// The bucket of `"<seed>:<key>"`, in 0..<1,000,000.
  public static func bucket(seed: String, key: String) -> UInt64 {
    // The three parts are hashed in turn over their own bytes (building `"<seed>:<key>"` as an
    // array allocated three times per event; R1 over 300k outputs: 0.63 → 0.57 s).
    var seed = seed
    var key = key
    var hash = seed.withUTF8 { fnv1a64($0) }
    hash = fnv1a64(CollectionOfOne(UInt8(ascii: ":")), continuing: hash)
    hash = key.withUTF8 { fnv1a64($0, continuing: hash) }
    return hash % buckets
  }

  /// How many of the 1,000,000 buckets a rate keeps.
  public static func threshold(rate: Double) -> UInt64 {
    UInt64(max(0, min(1, rate)) * Double(buckets) + 0.5)
  }

  /// Whether the input is kept.
  public static func keeps(seed: String, key: String, rate: Double) -> Bool {
    bucket(seed: seed, key: key) < threshold(rate: rate)
  }
}
