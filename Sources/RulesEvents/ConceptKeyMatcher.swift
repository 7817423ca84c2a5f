import Foundation
import RulesSource

/// Resolves concept names and ids to the rules' concept keys straight from a line's bytes, so the
/// scanner never makes a `String` of a concept it only needs to compare (40 strings a 20-concept
/// output).
///
/// Keys are matched as Swift compares strings. For ASCII keys and names that is byte equality; a key
/// or name with other characters is compared as a `String` (canonical equivalence: "é" written as
/// one or two scalars is one name).
public struct ConceptKeyMatcher: Sendable {
  /// The keys, in key order.
  public let keys: [String]
  /// An identity of this key table (never 0): an event's resolved keys are used only by programs
  /// whose key table has the same identity.
  public let tableID: UInt64
  let byString: [String: Int32]
  /// The keys' bytes back to back, with each key's start; all ASCII when `bytesMatch` is true.
  let bytes: [UInt8]
  let starts: [Int]
  /// Open-addressed table of key indices by FNV-1a of the bytes (−1 = empty), used above `linearLimit` keys.
  let table: [Int32]
  let bytesMatch: Bool

  static let linearLimit = 8

  public init(keys: [String]) {
    self.keys = keys
    var byString: [String: Int32] = [:]
    for (i, k) in keys.enumerated() where byString[k] == nil { byString[k] = Int32(i) }
    self.byString = byString
    var bytes: [UInt8] = []
    var starts: [Int] = []
    for k in keys {
      starts.append(bytes.count)
      bytes.append(contentsOf: k.utf8)
    }
    starts.append(bytes.count)
    self.bytes = bytes
    self.starts = starts
    bytesMatch = bytes.allSatisfy { $0 < 0x80 }
    var table: [Int32] = []
    if keys.count > Self.linearLimit {
      var size = 16
      while size < keys.count * 2 { size *= 2 }
      table = Array(repeating: -1, count: size)
      bytes.withUnsafeBufferPointer { b in
        for i in keys.indices where byString[keys[i]] == Int32(i) {
          var slot = Int(truncatingIfNeeded: Self.hash(b.baseAddress! + starts[i], starts[i + 1] - starts[i])) & (size - 1)
          while table[slot] >= 0 { slot = (slot + 1) & (size - 1) }
          table[slot] = Int32(i)
        }
      }
    }
    self.table = table
    // Each key's bytes, then 0xFF (which UTF-8 never holds) to end it.
    var id = Bytes.fnv1a64(EmptyCollection<UInt8>())
    for k in keys { id = Bytes.fnv1a64(CollectionOfOne(0xFF), continuing: Bytes.fnv1a64(k.utf8, continuing: id)) }
    tableID = id == 0 ? 1 : id
  }

  /// The identity a program with these concept keys expects (see `tableID`).
  public static func tableID(of keys: [String]) -> UInt64 { ConceptKeyMatcher(keys: keys).tableID }

  @inline(__always) static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
    let h = Bytes.fnv1a64(UnsafeBufferPointer(start: p, count: n))
    return h ^ (h >> 29)
  }

  /// The key of a string, or −1.
  public func key(_ s: String) -> Int32 { byString[s] ?? -1 }

  /// The key of the raw (unescaped) string at `p`, or −1.
  @inline(__always) func key(_ p: UnsafePointer<UInt8>, _ n: Int, ascii: Bool) -> Int32 {
    if keys.isEmpty { return -1 }
    guard bytesMatch && ascii else {
      return key(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self))
    }
    return bytes.withUnsafeBufferPointer { b in
      let base = b.baseAddress!
      if table.isEmpty {
        for i in 0..<keys.count where starts[i + 1] - starts[i] == n && memcmp(base + starts[i], p, n) == 0 {
          return Int32(i)
        }
        return -1
      }
      return table.withUnsafeBufferPointer { t in
        let mask = t.count - 1
        var slot = Int(truncatingIfNeeded: Self.hash(p, n)) & mask
        while true {
          let k = Int(t[slot])
          if k < 0 { return -1 }
          if starts[k + 1] - starts[k] == n && memcmp(base + starts[k], p, n) == 0 { return Int32(k) }
          slot = (slot + 1) & mask
        }
      }
    }
  }
}
