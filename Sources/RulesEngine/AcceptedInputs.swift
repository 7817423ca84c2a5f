import CacheHints
import RulesEvents

/// A 64-bit fingerprint of an input id (FNV-1a 64): the dedupe set keeps 8 bytes an accepted input.
/// Two of a collector's accepted inputs share one with probability about n² / 2⁶⁵ (3 × 10⁻⁸ for a
/// million), which would make the second look like a repeat of the first.
struct InputFingerprint: Hashable {
  var value: UInt64

  init(_ key: String) {
    // Over the bytes as a buffer: iterating `String.UTF8View` was 1% of a run.
    var key = key
    value = key.withUTF8 { InputPrefetch.fingerprint(of: $0) }
  }
}

/// An event's forwarding key and its fingerprint, worked out once for all the collectors it reaches.
struct InputIdentity {
  var key: String
  var fingerprint: InputFingerprint
  init(_ key: String) {
    self.key = key
    fingerprint = InputFingerprint(key)
  }
}

/// The fingerprints a collector accepted: open addressing over the fingerprints themselves (already
/// well mixed), instead of a `Set`, which hashed each one again with SipHash on every event.
struct FingerprintSet {
  private var slots: [UInt64] = Array(repeating: 0, count: 1024)
  private var count = 0
  /// Whether the fingerprint 0 (the empty-slot marker) is in the set.
  private var hasZero = false

  @inline(__always) func contains(_ f: InputFingerprint) -> Bool {
    if f.value == 0 { return hasZero }
    let mask = slots.count - 1
    var i = InputPrefetch.home(of: f.value, mask: mask)
    while true {
      let v = slots[i]
      if v == f.value { return true }
      if v == 0 { return false }
      i = (i + 1) & mask
    }
  }

  /// Whether the set has outgrown the first-level cache (32 KiB of slots), so that looking up an
  /// input is worth a prefetch: R5's set (tens of thousands of inputs) missed the cache on most
  /// lookups, and a hint costs a hash of the input id a line.
  var isLarge: Bool { slots.count >= 1 << 12 }

  /// Starts loading the slot where `f` would be found (the replay of `--jobs` does so a few lines ahead).
  @inline(__always) func prefetch(_ f: InputFingerprint) {
    let mask = slots.count - 1
    let i = InputPrefetch.home(of: f.value, mask: mask)
    slots.withUnsafeBufferPointer { rulec_prefetch($0.baseAddress! + i) }
  }

  /// Hands the slots' place to `hints` as table `index`. Valid until the set next changes, after
  /// which the runner hands it again.
  func hint(_ hints: InputPrefetch, as index: Int) {
    slots.withUnsafeBufferPointer { hints.set(index, base: $0.baseAddress, mask: $0.count - 1) }
  }

  mutating func insert(_ f: InputFingerprint) {
    if f.value == 0 {
      hasZero = true
      return
    }
    if (count + 1) * 2 > slots.count { grow() }
    let mask = slots.count - 1
    var i = InputPrefetch.home(of: f.value, mask: mask)
    while true {
      let v = slots[i]
      if v == f.value { return }
      if v == 0 {
        slots[i] = f.value
        count += 1
        return
      }
      i = (i + 1) & mask
    }
  }

  private mutating func grow() {
    let old = slots
    slots = Array(repeating: 0, count: old.count * 2)
    count = 0
    for v in old where v != 0 { insert(InputFingerprint(value: v)) }
  }
}

extension InputFingerprint {
  init(value: UInt64) { self.value = value }
}

