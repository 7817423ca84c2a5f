import RulesSource

/// What a JSON text is, at the level of bytes: whitespace, strings and their escapes, plain ASCII
/// runs. The one definition both readers of a line use: `JSONCursor` (the decoder's, which throws the
/// exact error) and `ByteCursor` (the scanner's fast path, which gives up and hands the line to the
/// decoder). Each function reads `p[0..<n]` by index and never past `n`.
enum JSONBytes {
  /// Why a string is not valid JSON (the decoder words it).
  enum StringFault {
    case badUnicodeEscape, loneSurrogate, badEscape, controlCharacter, invalidUTF8, unterminated

    var message: String {
      switch self {
      case .badUnicodeEscape: "invalid \\u escape in a string"
      case .loneSurrogate: "a \\u escape of half a surrogate pair in a string (strict JSON parsers refuse it)"
      case .badEscape: "invalid escape in a string"
      case .controlCharacter: "unescaped control character in a string"
      case .invalidUTF8: "invalid UTF-8 in a string"
      case .unterminated: "truncated JSON: unterminated string"
      }
    }
  }

  /// Whether the key at `key` is `word`'s lowerCamelCase spelling (`created_at` → `createdAt`): the
  /// proto3 JSON mapping writes field names so by default (protobuf's `MessageToJson`), and parsers
  /// accept both. False for a word without `_`, whose two spellings are one.
  static func isLowerCamel(of word: StaticString, _ p: UnsafePointer<UInt8>, _ key: Range<Int>) -> Bool {
    let w = word.utf8Start
    let n = word.utf8CodeUnitCount
    guard key.count < n else { return false }
    var k = key.lowerBound
    var upper = false
    for i in 0..<n {
      var b = w[i]
      if b == UInt8(ascii: "_") {
        upper = true
        continue
      }
      if upper {
        if b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") { b -= 32 }
        upper = false
      }
      guard k < key.upperBound, p[k] == b else { return false }
      k += 1
    }
    return k == key.upperBound
  }

  @inline(__always) static func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

  @inline(__always) static func skipWhitespace(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ n: Int) {
    while i < n && isWhitespace(p[i]) { i += 1 }
  }

  /// Reads a string's contents from `i` (just after its opening quote), validating escapes and
  /// UTF-8: nil with `i` just after the closing quote, or the fault with `i` where it lies. Sets
  /// `escaped` when there is an escape and clears `ascii` when there is a byte of 0x80 or more.
  @inline(__always) static func scanString(
    _ p: UnsafePointer<UInt8>, _ i: inout Int, _ n: Int, escaped: inout Bool, ascii: inout Bool
  ) -> StringFault? {
    while true {
      // Plain ASCII eight bytes at a time: stop at a quote, backslash, control byte or high bit
      // (this halved the time spent in strings on 2 KB outputs).
      while i + 8 <= n {
        let stop = specialBytes(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
        if stop != 0 {
          i += stop.trailingZeroBitCount >> 3
          break
        }
        i += 8
      }
      guard i < n else { return .unterminated }
      let c = p[i]
      if c == UInt8(ascii: "\"") {
        i += 1
        return nil
      }
      if c == UInt8(ascii: "\\") {
        escaped = true
        guard i + 1 < n else { return .unterminated }
        switch p[i + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
          UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
          i += 2
        case UInt8(ascii: "u"):
          guard let unit = hex4(p, i + 2, n) else { return .badUnicodeEscape }
          i += 6
          // UTF-16 surrogates come in pairs (`\ud83d\ude00`); half of one is no character, and
          // strict parsers refuse the items it would be copied into.
          if unit & 0xF800 == 0xD800 {
            guard unit < 0xDC00, i + 1 < n, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u"),
              let low = hex4(p, i + 2, n), low & 0xFC00 == 0xDC00
            else { return .loneSurrogate }
            i += 6
          }
        default:
          return .badEscape
        }
      } else if c < 0x20 {
        return .controlCharacter
      } else if c >= 0x80 {
        ascii = false
        let length = Bytes.utf8Length(p, at: i, end: n)
        guard length > 0 else { return .invalidUTF8 }
        i += length
      } else {
        i += 1
      }
    }
  }

  /// The value of four hex digits at `k` (of a `\u` escape), or nil.
  @inline(__always) static func hex4(_ p: UnsafePointer<UInt8>, _ k: Int, _ n: Int) -> UInt32? {
    guard k + 3 < n else { return nil }
    var value: UInt32 = 0
    for j in 0..<4 {
      guard let digit = Bytes.hexValue(p[k + j]) else { return nil }
      value = value << 4 | digit
    }
    return value
  }

  /// The closing quote of plain ASCII text that starts at `s` (no escape, control or non-ASCII byte
  /// before it), or −1.
  @inline(__always) static func plainStringEnd(_ p: UnsafePointer<UInt8>, _ s: Int, _ n: Int) -> Int {
    var k = s
    while k + 8 <= n {
      let stop = specialBytes(UnsafeRawPointer(p + k).loadUnaligned(as: UInt64.self))
      if stop != 0 {
        k += stop.trailingZeroBitCount >> 3
        return p[k] == UInt8(ascii: "\"") ? k : -1
      }
      k += 8
    }
    while k < n {
      let x = p[k]
      if x == UInt8(ascii: "\"") { return k }
      if x == UInt8(ascii: "\\") || x < 0x20 || x >= 0x80 { return -1 }
      k += 1
    }
    return -1
  }

  /// The high bit of each byte of `w` that ends a run of plain string text: a quote, a backslash, a
  /// control character or a non-ASCII byte. The lowest set bit is exact (bits above it may be false
  /// alarms), which is all a scan needs.
  @inline(__always) static func specialBytes(_ w: UInt64) -> UInt64 {
    let q = w ^ 0x2222_2222_2222_2222
    let b = w ^ 0x5C5C_5C5C_5C5C_5C5C
    return (w | ((w &- 0x2020_2020_2020_2020) & ~w) | ((q &- 0x0101_0101_0101_0101) & ~q)
      | ((b &- 0x0101_0101_0101_0101) & ~b)) & 0x8080_8080_8080_8080
  }
}
