import CacheHints
import RulesEvents
import RulesSource

/// The tables where a run looks up whether a collector already accepted an input (open addressing
/// over 64-bit fingerprints of input ids, `fingerprint(of:)`), so that the scanner can start loading
/// an input's slots as soon as it reads the input's id. The lookup comes after the rest of the line
/// is read, and in a table larger than the caches it waited for memory on nearly every event.
///
/// Only a hint: it changes no result. The runner sets the tables and resets them whenever one moves
/// (`set`); a scanner is used by one thread at a time. Raw storage, because as properties of the
/// scanner each use was checked for exclusive access at run time.
final class InputPrefetch: InputIDHint, @unchecked Sendable {
  /// Tables hinted at most (the runner picks the largest first ones).
  static let capacity = 4

  private let bases: UnsafeMutablePointer<UnsafePointer<UInt64>?>
  private let masks: UnsafeMutablePointer<Int>

  init() {
    bases = .allocate(capacity: Self.capacity)
    bases.initialize(repeating: nil, count: Self.capacity)
    masks = .allocate(capacity: Self.capacity)
    masks.initialize(repeating: 0, count: Self.capacity)
  }

  deinit {
    bases.deallocate()
    masks.deallocate()
  }

  /// The fingerprint of an input id (FNV-1a 64 of its UTF-8).
  @inline(__always) static func fingerprint(of id: UnsafeBufferPointer<UInt8>) -> UInt64 { Bytes.fnv1a64(id) }

  /// Where a fingerprint's probe starts in a table of `mask + 1` slots.
  @inline(__always) static func home(of fingerprint: UInt64, mask: Int) -> Int {
    Int(truncatingIfNeeded: fingerprint ^ (fingerprint >> 32)) & mask
  }

  /// Hints table `index` (below `capacity`): its slots start at `base` (nil: none) and number `mask + 1`.
  func set(_ index: Int, base: UnsafePointer<UInt64>?, mask: Int) {
    bases[index] = base
    masks[index] = mask
  }

  /// Whether any table is hinted.
  var isActive: Bool { bases[0] != nil }

  /// Starts loading the home slot of the input `id` in every hinted table.
  func inputIDRead(_ id: UnsafeBufferPointer<UInt8>) {
    let f = Self.fingerprint(of: id)
    for k in 0..<Self.capacity {
      guard let base = bases[k] else { return }
      rulec_prefetch(base + Self.home(of: f, mask: masks[k]))
    }
  }
}
