import Foundation
import RulesSource

/// A forward-only reader over one line for `OutputScanner`: every method returns false on anything
/// it does not handle or that is not valid JSON (the caller then hands the line to `OutputDecoder`).
/// The line is at least one byte long and bounds are checked against `n`.
struct ByteCursor {
  let p: UnsafePointer<UInt8>
  let n: Int
  var i = 0
  /// Deeper nesting is left to the decoder (which allows 256 levels).
  static let depthLimit = 64

  /// Set by `openObject` when the value was `null` (consumed).
  var isNullObject = false

  /// List elements read so far in this line (see `OutputDecoder.maxListElementsPerLine`).
  var listElements = 0

  /// Counts one more list element; false past the line's limit (the decoder then words the error).
  @inline(__always) mutating func countListElement() -> Bool {
    listElements += 1
    return listElements <= OutputDecoder.maxListElementsPerLine
  }

  /// `JSONCursor.powersOfTenTable`, read once a line: reading the global itself called
  /// `swift_once` for every number (1% of R4).
  let powersOfTen: UnsafePointer<Double>

  init(p: UnsafePointer<UInt8>, n: Int) {
    self.p = p
    self.n = n
    powersOfTen = JSONCursor.powersOfTenTable
  }

  /// A string's contents: `start..<start+count` between the quotes.
  struct StringSpan {
    var start = 0
    var count = 0
    var escaped = false
    var ascii = true
  }

  @inline(__always) mutating func ws() { JSONBytes.skipWhitespace(p, &i, n) }

  /// The next byte after whitespace, or 0 at the end (0 is never valid there).
  @inline(__always) mutating func peek() -> UInt8 {
    if i < n, p[i] > 0x20 { return p[i] }
    ws()
    return i < n ? p[i] : 0
  }

  @inline(__always) func matches(_ key: Range<Int>, _ word: StaticString) -> Bool {
    key.count == word.utf8CodeUnitCount && memcmp(p + key.lowerBound, word.utf8Start, key.count) == 0
  }

  func text(_ s: StringSpan) -> String {
    if s.escaped { return JSONCursor.unescape(UnsafeBufferPointer(start: p, count: n), s.start..<(s.start + s.count)) }
    return String(decoding: UnsafeBufferPointer(start: p + s.start, count: s.count), as: UTF8.self)
  }

  /// Reads a key and its `:`; the key's raw range (compared raw, as the decoder does).
  @inline(__always) mutating func key(_ range: inout Range<Int>) -> Bool {
    var s = StringSpan()
    guard string(&s) else { return false }
    range = s.start..<(s.start + s.count)
    guard peek() == UInt8(ascii: ":") else { return false }
    i += 1
    return true
  }

  /// Reads a string (at its opening quote), validating escapes and UTF-8.
  mutating func string(_ s: inout StringSpan) -> Bool {
    i += 1
    s.start = i
    guard JSONBytes.scanString(p, &i, n, escaped: &s.escaped, ascii: &s.ascii) == nil else { return false }
    s.count = i - 1 - s.start
    return true
  }

  /// Reads a number exactly as `JSONCursor.number` does (the short decimals here, the rest there).
  mutating func number(_ v: inout Double) -> Bool {
    let start = i
    var k = i
    let negative = k < n && p[k] == UInt8(ascii: "-")
    if negative { k += 1 }
    guard k < n, p[k] &- 48 < 10 else { return false }
    var mantissa: Int64 = 0
    var digits = 0
    if p[k] == UInt8(ascii: "0") {
      k += 1
      digits = 1
    } else {
      while k < n, p[k] &- 48 < 10 {
        mantissa = mantissa &* 10 &+ Int64(p[k] &- 48)
        digits += 1
        k += 1
      }
    }
    var fraction = -1
    if k < n && p[k] == UInt8(ascii: ".") {
      k += 1
      fraction = 0
      while k < n, p[k] &- 48 < 10 {
        mantissa = mantissa &* 10 &+ Int64(p[k] &- 48)
        digits += 1
        fraction += 1
        k += 1
      }
      guard fraction > 0 else { return false }
    }
    let exponent = k < n && (p[k] == UInt8(ascii: "e") || p[k] == UInt8(ascii: "E"))
    if exponent || digits > 15 { return longNumber(from: start, &v) }
    i = k
    if fraction < 0 {
      v = Double(negative ? -mantissa : mantissa)
    } else {
      let d = Double(mantissa) / powersOfTen[fraction]
      v = negative ? -d : d
    }
    return true
  }

  /// Exponents and long numbers: the decoder's own reader, which rounds and range-checks them.
  @inline(never) mutating func longNumber(from start: Int, _ v: inout Double) -> Bool {
    var cursor = JSONCursor(UnsafeBufferPointer(start: p, count: n))
    cursor.i = start
    do throws(DecodeError) {
      v = try cursor.number()
    } catch {
      return false
    }
    i = cursor.i
    return true
  }

  /// Reads the usual concept after its `{`: `"id":"…","name":"…","value":N` in that order without
  /// spaces, then `}` or `,"app_id":"…"}`, its strings plain ASCII. Anything else returns false (the
  /// caller goes back and reads the object key by key). Not looking keys up made the concept list
  /// about a third cheaper; comparing the keys a word at a time and scanning the strings here, in
  /// line, took another 6–8% off R2 and R4 end to end (300k outputs: 0.77 → 0.73 s, 0.81 → 0.75 s).
  @inline(__always) mutating func plainConcept(_ id: inout StringSpan, _ name: inout StringSpan, _ value: inout Double) -> Bool {
    plainConceptHead(&id, &name) && plainConceptTail(&value)
  }

  /// The head of the usual concept, `"id":"…","name":"…","value":`, leaving the cursor at the value
  /// (which starts like a number).
  @inline(__always) mutating func plainConceptHead(_ id: inout StringSpan, _ name: inout StringSpan) -> Bool {
    var k = i
    guard k + 8 <= n, word(at: k) & 0xFFFF_FFFF_FFFF == Self.pattern("\"id\":\"", 0, 6) else { return false }
    k += 6
    guard plainText(&k, &id) else { return false }
    guard k + 9 <= n, word(at: k) == Self.pattern(",\"name\":\"", 0, 8), p[k + 8] == UInt8(ascii: "\"") else { return false }
    k += 9
    guard plainText(&k, &name) else { return false }
    guard k + 10 <= n, word(at: k) == Self.pattern(",\"value\":", 0, 8), p[k + 8] == UInt8(ascii: ":"),
      p[k + 9] == UInt8(ascii: "-") || p[k + 9] &- 48 < 10
    else { return false }
    i = k + 9
    return true
  }

  /// The rest of the usual concept: its value, then `}` or `,"app_id":"…"}`.
  @inline(__always) mutating func plainConceptTail(_ value: inout Double) -> Bool {
    guard number(&value), i < n else { return false }
    let k = i
    if p[k] == UInt8(ascii: "}") {
      i = k + 1
      return true
    }
    guard k + 12 <= n, word(at: k) == Self.pattern(",\"app_id\":\"", 0, 8), word(at: k + 3) == Self.pattern(",\"app_id\":\"", 3, 8)
    else { return false }
    let appEnd = plainStringEnd(k + 11)
    guard appEnd >= 0, appEnd + 1 < n, p[appEnd + 1] == UInt8(ascii: "}") else { return false }
    i = appEnd + 2
    return true
  }

  /// The 8 bytes at `k` as a little-endian word (the caller checked `k + 8 <= n`).
  @inline(__always) func word(at k: Int) -> UInt64 { UnsafeRawPointer(p + k).loadUnaligned(as: UInt64.self) }

  /// `count` bytes of `s` from `from`, as `word(at:)` reads them (folded to a constant where inlined).
  @inline(__always) static func pattern(_ s: StaticString, _ from: Int, _ count: Int) -> UInt64 {
    var w: UInt64 = 0
    for k in 0..<count { w |= UInt64(s.utf8Start[from + k]) << UInt64(8 * k) }
    return w
  }

  /// The closing quote of plain ASCII text that starts at `s`, or −1.
  @inline(__always) func plainStringEnd(_ s: Int) -> Int { JSONBytes.plainStringEnd(p, s, n) }

  /// Reads plain ASCII text that starts at `k` into `span`, leaving `k` after its closing quote.
  @inline(__always) func plainText(_ k: inout Int, _ span: inout StringSpan) -> Bool {
    let end = plainStringEnd(k)
    guard end >= 0 else { return false }
    span.start = k
    span.count = end - k
    k = end + 1
    return true
  }

  @inline(__always) mutating func word(_ w: StaticString) -> Bool {
    let count = w.utf8CodeUnitCount
    guard i + count <= n, memcmp(p + i, w.utf8Start, count) == 0 else { return false }
    i += count
    return true
  }

  @inline(__always) mutating func null() -> Bool { word("null") }

  /// Reads `{` or `null` (then `isNullObject` is set).
  @inline(__always) mutating func openObject() -> Bool {
    let b = peek()
    if b == UInt8(ascii: "n") {
      isNullObject = true
      return null()
    }
    isNullObject = false
    guard b == UInt8(ascii: "{") else { return false }
    i += 1
    return true
  }

  /// Reads an object's fields after its `{`, calling `field` with each key (its value not read).
  @inline(__always) mutating func fields(_ field: (inout ByteCursor, Range<Int>) -> Bool) -> Bool {
    if peek() == UInt8(ascii: "}") {
      i += 1
      return true
    }
    while true {
      guard peek() == UInt8(ascii: "\"") else { return false }
      var key = 0..<0
      guard self.key(&key) else { return false }
      guard field(&self, key) else { return false }
      guard peek() != 0 else { return false }
      let next = p[i]
      i += 1
      if next == UInt8(ascii: "}") { return true }
      guard next == UInt8(ascii: ",") else { return false }
    }
  }

  /// Reads a string or `null`: false for anything else; else `isNull`, or the string's span in `s`.
  @inline(__always) mutating func stringOrNull(_ s: inout StringSpan, _ isNull: inout Bool) -> Bool {
    let b = peek()
    isNull = b == UInt8(ascii: "n")
    if isNull { return null() }
    return b == UInt8(ascii: "\"") && string(&s)
  }

  /// A string or null, kept in `field` (reused when it already holds the same text).
  @inline(__always) mutating func optionalText(_ field: inout String?, _ fields: inout UInt32, _ bit: UInt32) -> Bool {
    var s = StringSpan()
    var isNull = false
    guard stringOrNull(&s, &isNull) else { return false }
    fields |= bit
    if isNull {
      field = nil
      return true
    }
    if !s.escaped, var old = field {
      let same = old.withUTF8 { o in o.count == s.count && (s.count == 0 || memcmp(o.baseAddress!, p + s.start, s.count) == 0) }
      if same { return true }
    }
    field = text(s)
    return true
  }

  /// A string or null kept in place when it is short (see `ShortText`).
  @inline(__always) mutating func optionalShortText(_ field: inout ShortText, _ fields: inout UInt32, _ bit: UInt32) -> Bool {
    var s = StringSpan()
    var isNull = false
    guard stringOrNull(&s, &isNull) else { return false }
    fields |= bit
    if isNull {
      field = ShortText()
    } else if s.escaped {
      field = ShortText(text(s))
    } else {
      field.set(utf8: UnsafeBufferPointer(start: p + s.start, count: s.count))
    }
    return true
  }

  /// A string or null whose text no rule reads.
  @inline(__always) mutating func optionalStringSkipped() -> Bool {
    var s = StringSpan()
    var isNull = false
    return stringOrNull(&s, &isNull)
  }

  /// Skips any value, checking that it is JSON.
  mutating func skip(_ depth: Int) -> Bool {
    guard depth < ByteCursor.depthLimit else { return false }
    switch peek() {
    case UInt8(ascii: "\""):
      var s = StringSpan()
      return string(&s)
    case UInt8(ascii: "{"):
      i += 1
      if peek() == UInt8(ascii: "}") {
        i += 1
        return true
      }
      while true {
        guard peek() == UInt8(ascii: "\"") else { return false }
        var s = StringSpan()
        guard string(&s), peek() == UInt8(ascii: ":") else { return false }
        i += 1
        guard skip(depth + 1), peek() != 0 else { return false }
        let next = p[i]
        i += 1
        if next == UInt8(ascii: "}") { return true }
        guard next == UInt8(ascii: ",") else { return false }
      }
    case UInt8(ascii: "["):
      i += 1
      if peek() == UInt8(ascii: "]") {
        i += 1
        return true
      }
      while true {
        guard skip(depth + 1), peek() != 0 else { return false }
        let next = p[i]
        i += 1
        if next == UInt8(ascii: "]") { return true }
        guard next == UInt8(ascii: ",") else { return false }
      }
    case UInt8(ascii: "t"): return word("true")
    case UInt8(ascii: "f"): return word("false")
    case UInt8(ascii: "n"): return null()
    default:
      var v = 0.0
      return number(&v)
    }
  }
}
