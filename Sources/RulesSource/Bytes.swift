/// Byte-level helpers shared by the rule lexer and the event scanner.
public enum Bytes {
  /// FNV-1a, 64-bit, with the standard offset basis and prime: the one definition (sampling buckets,
  /// destination ids and input fingerprints all hash with it). `continuing` is the hash of the bytes
  /// before these: FNV-1a runs byte by byte, so text in pieces hashes as the pieces joined.
  @inlinable
  public static func fnv1a64<Input: Sequence>(_ bytes: Input, continuing start: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64
  where Input.Element == UInt8 {
    var hash = start
    for b in bytes {
      hash ^= UInt64(b)
      hash &*= 0x0000_0100_0000_01b3
    }
    return hash
  }

  /// The length of the valid UTF-8 sequence starting at `i` (before `end`), or 0 if it is invalid:
  /// a bad lead byte, a missing continuation, an overlong form, a surrogate or a value past U+10FFFF.
  @inline(__always)
  public static func utf8Length(_ bytes: UnsafePointer<UInt8>, at i: Int, end: Int) -> Int {
    let b = bytes[i]
    let length: Int
    let lowest: UInt32
    switch b {
    case 0..<0x80: return 1
    case 0xC2...0xDF: length = 2; lowest = 0x80
    case 0xE0...0xEF: length = 3; lowest = 0x800
    case 0xF0...0xF4: length = 4; lowest = 0x10000
    default: return 0
    }
    guard i + length <= end else { return 0 }
    var scalar = UInt32(b) & (0x7F >> length)
    for k in 1..<length {
      let c = bytes[i + k]
      guard c & 0xC0 == 0x80 else { return 0 }
      scalar = scalar << 6 | UInt32(c & 0x3F)
    }
    guard scalar >= lowest, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return 0 }
    return length
  }

  /// The value of a hex digit, or nil.
  @inline(__always)
  public static func hexValue(_ b: UInt8) -> UInt32? {
    switch b {
    case 48...57: UInt32(b - 48)
    case 97...102: UInt32(b - 87)
    case 65...70: UInt32(b - 55)
    default: nil
    }
  }
}
