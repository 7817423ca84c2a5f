import Foundation
import RulesSource

/// Why a line of a recording could not be read.
public struct DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
  public var reason: String
  /// Byte offset in the line.
  public var offset: Int

  public init(_ reason: String, at offset: Int) {
    self.reason = reason
    self.offset = offset
  }

  public var description: String { "\(reason) at byte \(offset + 1)" }
}

/// A forward-only JSON reader over one line's bytes. It reads the values the decoder asks for and
/// skips everything else without building anything; it rejects what is not JSON (RFC 8259):
/// bad syntax, invalid UTF-8, unescaped control characters, numbers out of range.
struct JSONCursor {
  let bytes: UnsafeBufferPointer<UInt8>
  var i = 0
  /// Arrays and objects may nest this deep; deeper input is rejected rather than overflowing the stack.
  static let depthLimit = 256

  init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  /// List elements decoded so far in this line (see `OutputDecoder.maxListElementsPerLine`).
  var listElements = 0

  /// Counts one more list element decoded into memory; past the line's limit, the line is bad.
  mutating func countListElement() throws(DecodeError) {
    listElements += 1
    guard listElements <= OutputDecoder.maxListElementsPerLine else {
      throw fail("more than \(OutputDecoder.maxListElementsPerLine) list elements in one line")
    }
  }

  var atEnd: Bool { i >= bytes.count }

  func fail(_ reason: String) -> DecodeError { DecodeError(reason, at: min(i, bytes.count)) }

  @inline(__always) mutating func skipWhitespace() {
    // An empty line has no base address, and nothing to skip.
    guard let base = bytes.baseAddress else { return }
    JSONBytes.skipWhitespace(base, &i, bytes.count)
  }

  @inline(__always) mutating func peek() -> UInt8? {
    skipWhitespace()
    return i < bytes.count ? bytes[i] : nil
  }

  mutating func expect(_ byte: UInt8, _ what: String) throws(DecodeError) {
    guard peek() == byte else { throw atEnd ? fail("truncated JSON: expected \(what)") : fail("expected \(what)") }
    i += 1
  }

  /// Reads `{`, then calls `field` with each key's byte range (value not yet read), until `}`.
  mutating func object(_ field: (inout JSONCursor, Range<Int>) throws(DecodeError) -> Void) throws(DecodeError) {
    try expect(UInt8(ascii: "{"), "'{'")
    if peek() == UInt8(ascii: "}") {
      i += 1
      return
    }
    while true {
      guard peek() == UInt8(ascii: "\"") else { throw atEnd ? fail("truncated JSON") : fail("expected a key") }
      let key = try stringRange()
      try expect(UInt8(ascii: ":"), "':'")
      skipWhitespace()
      try field(&self, key.range)
      guard let next = peek() else { throw fail("truncated JSON: unclosed object") }
      i += 1
      if next == UInt8(ascii: "}") { return }
      guard next == UInt8(ascii: ",") else { throw fail("expected ',' or '}'") }
    }
  }

  /// Reads `[`, then calls `element` for each element, until `]`.
  mutating func array(_ element: (inout JSONCursor) throws(DecodeError) -> Void) throws(DecodeError) {
    try expect(UInt8(ascii: "["), "'['")
    if peek() == UInt8(ascii: "]") {
      i += 1
      return
    }
    while true {
      skipWhitespace()
      try element(&self)
      guard let next = peek() else { throw fail("truncated JSON: unclosed array") }
      i += 1
      if next == UInt8(ascii: "]") { return }
      guard next == UInt8(ascii: ",") else { throw fail("expected ',' or ']'") }
    }
  }

  /// Whether a key is `word`, in its own spelling or in proto3 JSON's lowerCamelCase (`createdAt`
  /// for `created_at`).
  func key(_ range: Range<Int>, is word: StaticString) -> Bool {
    guard range.count == word.utf8CodeUnitCount else {
      return range.count < word.utf8CodeUnitCount && JSONBytes.isLowerCamel(of: word, bytes.baseAddress!, range)
    }
    let w = word.utf8Start
    for k in 0..<range.count where bytes[range.lowerBound + k] != w[k] { return false }
    return true
  }

  func text(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }

  /// Reads a string's raw byte range (between the quotes) and whether it holds escapes; validates it.
  mutating func stringRange() throws(DecodeError) -> (range: Range<Int>, escaped: Bool) {
    guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string") }
    i += 1
    let start = i
    var escaped = false
    var ascii = true
    if let fault = JSONBytes.scanString(bytes.baseAddress!, &i, bytes.count, escaped: &escaped, ascii: &ascii) {
      throw fail(fault.message)
    }
    return (start..<(i - 1), escaped)
  }

  /// Reads a string value, decoding escapes.
  mutating func string() throws(DecodeError) -> String {
    let (range, escaped) = try stringRange()
    return escaped ? JSONCursor.unescape(bytes, range) : text(range)
  }

  /// Why a number is refused that is valid JSON but not finite as a binary64.
  static let outOfRange = "number out of range"

  /// Reads a number; it must be finite as a binary64.
  mutating func number() throws(DecodeError) -> Double {
    skipWhitespace()
    let start = i
    if i < bytes.count && bytes[i] == UInt8(ascii: "-") { i += 1 }
    guard i < bytes.count, JSONCursor.isDigit(bytes[i]) else { throw fail("expected a number") }
    if bytes[i] == UInt8(ascii: "0") {
      i += 1
    } else {
      while i < bytes.count && JSONCursor.isDigit(bytes[i]) { i += 1 }
    }
    var integral = true
    if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
      integral = false
      i += 1
      guard i < bytes.count, JSONCursor.isDigit(bytes[i]) else { throw fail("invalid number") }
      while i < bytes.count && JSONCursor.isDigit(bytes[i]) { i += 1 }
    }
    if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
      integral = false
      i += 1
      if i < bytes.count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
      guard i < bytes.count, JSONCursor.isDigit(bytes[i]) else { throw fail("invalid number") }
      while i < bytes.count && JSONCursor.isDigit(bytes[i]) { i += 1 }
    }
    // Decimals with at most 15 significant digits and a short fraction (concept values such as
    // 0.9841) are exact as digits / 10^k: both are exact binary64 numbers and one IEEE division
    // rounds correctly (Clinger's fast path), so strtod is needed only for the rest.
    if !integral, let v = JSONCursor.fastDecimal(bytes, start, i) { return v }
    // Short integers are common (codes, indices): add the digits up directly.
    if integral && i - start <= 15 {
      var value: Int64 = 0
      var k = start
      let negative = bytes[k] == UInt8(ascii: "-")
      if negative { k += 1 }
      while k < i {
        value = value * 10 + Int64(bytes[k] - 48)
        k += 1
      }
      return Double(negative ? -value : value)
    }
    guard let value = Double(text(start..<i)), value.isFinite else {
      i = start
      throw fail(Self.outOfRange)
    }
    return value
  }

  /// Reads `true`, `false` or `null` (nil).
  mutating func literal() throws(DecodeError) -> Bool? {
    skipWhitespace()
    func match(_ word: StaticString) -> Bool {
      let n = word.utf8CodeUnitCount
      guard i + n <= bytes.count else { return false }
      for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return false }
      return true
    }
    if match("true") {
      i += 4
      return true
    }
    if match("false") {
      i += 5
      return false
    }
    if match("null") {
      i += 4
      return nil
    }
    throw atEnd ? fail("truncated JSON") : fail("unexpected character")
  }

  /// Skips any value, checking it is valid JSON.
  mutating func skipValue(depth: Int = 0) throws(DecodeError) {
    guard depth < JSONCursor.depthLimit else { throw fail("JSON nests deeper than \(JSONCursor.depthLimit) levels") }
    guard let b = peek() else { throw fail("truncated JSON: expected a value") }
    switch b {
    case UInt8(ascii: "\""): _ = try stringRange()
    case UInt8(ascii: "{"): try object { (c, _) throws(DecodeError) in try c.skipValue(depth: depth + 1) }
    case UInt8(ascii: "["): try array { (c) throws(DecodeError) in try c.skipValue(depth: depth + 1) }
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try number()
    default: _ = try literal()
    }
  }

  /// The kind of the next value, without consuming it.
  mutating func nextIsNull() -> Bool { peek() == UInt8(ascii: "n") }

  // MARK: The common concept

  /// Reads the usual concept object — `{"id": "…", "name": "…", "value": 0.98, "app_id": "…"}`, keys in
  /// any order, strings of plain ASCII, other values plain strings, numbers or literals — in one
  /// straight pass without closures (25% fewer instructions for a whole R4 run, 6% less time). Anything else (escapes, non-ASCII, `null`, nesting, a repeated
  /// key, bad syntax) returns nil with the cursor where it was, and the general path reads the object
  /// and reports what is wrong exactly as before.
  mutating func plainConcept() -> ConceptValue? {
    let start = i
    if let concept = readPlainConcept() { return concept }
    i = start
    return nil
  }

  // Plain loops over a raw pointer with the offset in a local, instead of local functions that capture
  // it and `try?` (which boxed the typed error).
  private mutating func readPlainConcept() -> ConceptValue? {
    guard let b = bytes.baseAddress else { return nil }
    let n = bytes.count
    var i = self.i
    JSONBytes.skipWhitespace(b, &i, n)
    guard i < n, b[i] == UInt8(ascii: "{") else { return nil }
    i += 1
    JSONBytes.skipWhitespace(b, &i, n)
    var concept = ConceptValue(id: "", name: "", value: 0)
    var seen: UInt8 = 0
    if i < n && b[i] == UInt8(ascii: "}") {
      self.i = i + 1
      return concept
    }
    while true {
      guard i < n, b[i] == UInt8(ascii: "\"") else { return nil }
      let keyStart = i + 1
      let keyEnd = JSONBytes.plainStringEnd(b, keyStart, n)
      guard keyEnd >= 0 else { return nil }
      let length = keyEnd - keyStart
      i = keyEnd + 1
      JSONBytes.skipWhitespace(b, &i, n)
      guard i < n, b[i] == UInt8(ascii: ":") else { return nil }
      i += 1
      JSONBytes.skipWhitespace(b, &i, n)
      guard i < n else { return nil }
      var which: UInt8 = 0
      if length == 2 && b[keyStart] == UInt8(ascii: "i") && b[keyStart + 1] == UInt8(ascii: "d") {
        which = 1
      } else if length == 4 && memcmp(b + keyStart, "name", 4) == 0 {
        which = 2
      } else if length == 5 && memcmp(b + keyStart, "value", 5) == 0 {
        which = 4
      }
      if which != 0 {
        guard seen & which == 0 else { return nil }
        seen |= which
      }
      let v = b[i]
      if v == UInt8(ascii: "\"") {
        guard which != 4 else { return nil }
        let end = JSONBytes.plainStringEnd(b, i + 1, n)
        guard end >= 0 else { return nil }
        if which != 0 {
          let text = String(decoding: UnsafeBufferPointer(start: b + i + 1, count: end - i - 1), as: UTF8.self)
          if which == 1 { concept.id = text } else { concept.name = text }
        }
        i = end + 1
      } else if v == UInt8(ascii: "-") || JSONCursor.isDigit(v) {
        guard which == 4 || which == 0 else { return nil }
        self.i = i
        do throws(DecodeError) {
          let number = try self.number()
          if which == 4 { concept.value = number }
        } catch {
          return nil
        }
        i = self.i
      } else if which == 0 && v == UInt8(ascii: "t") && i + 4 <= n && memcmp(b + i, "true", 4) == 0 {
        i += 4
      } else if which == 0 && v == UInt8(ascii: "f") && i + 5 <= n && memcmp(b + i, "false", 5) == 0 {
        i += 5
      } else {
        return nil
      }
      JSONBytes.skipWhitespace(b, &i, n)
      guard i < n else { return nil }
      if b[i] == UInt8(ascii: ",") {
        i += 1
        JSONBytes.skipWhitespace(b, &i, n)
        continue
      }
      guard b[i] == UInt8(ascii: "}") else { return nil }
      self.i = i + 1
      return concept
    }
  }

  // MARK: Helpers

  static let powersOfTen: [Double] = (0...22).map { Double("1e\($0)")! }

  /// The same powers as a raw table. Reading the array retained and released its one buffer for
  /// every number; with two jobs that reference count was written from both cores 20 times an
  /// output, and the cache line bounced between them.
  nonisolated(unsafe) static let powersOfTenTable: UnsafePointer<Double> = {
    let table = UnsafeMutablePointer<Double>.allocate(capacity: powersOfTen.count)
    for (i, p) in powersOfTen.enumerated() { table[i] = p }
    return UnsafePointer(table)
  }()

  /// `-?digits.digits` with at most 15 digits in all, without an exponent; nil otherwise.
  static func fastDecimal(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
    var k = start
    let negative = bytes[k] == UInt8(ascii: "-")
    if negative { k += 1 }
    var mantissa: Int64 = 0
    var digits = 0
    var fraction = -1
    while k < end {
      let b = bytes[k]
      if b == UInt8(ascii: ".") {
        fraction = 0
      } else if isDigit(b) {
        // Wrapping: a long number overflows here but is rejected below (more than 15 digits).
        mantissa = mantissa &* 10 &+ Int64(b - 48)
        digits += 1
        if fraction >= 0 { fraction += 1 }
      } else {
        return nil  // an exponent
      }
      k += 1
    }
    guard digits <= 15, fraction >= 0, fraction <= 22 else { return nil }
    let v = Double(mantissa) / powersOfTenTable[fraction]
    return negative ? -v : v
  }

  @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

  static func hex(_ b: UInt8) -> UInt32? { Bytes.hexValue(b) }

  static func utf8Length(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
    Bytes.utf8Length(bytes.baseAddress!, at: i, end: bytes.count)
  }

  /// Decodes the escapes of a validated string's raw bytes (validation refuses lone surrogates; U+FFFD stands for one regardless).
  static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
    var out = [UInt8]()
    out.reserveCapacity(range.count)
    var i = range.lowerBound
    func scalarAt(_ k: Int) -> UInt32 {
      (hex(bytes[k])! << 12) | (hex(bytes[k + 1])! << 8) | (hex(bytes[k + 2])! << 4) | hex(bytes[k + 3])!
    }
    while i < range.upperBound {
      let b = bytes[i]
      guard b == UInt8(ascii: "\\") else {
        out.append(b)
        i += 1
        continue
      }
      let e = bytes[i + 1]
      i += 2
      switch e {
      case UInt8(ascii: "b"): out.append(8)
      case UInt8(ascii: "f"): out.append(12)
      case UInt8(ascii: "n"): out.append(10)
      case UInt8(ascii: "r"): out.append(13)
      case UInt8(ascii: "t"): out.append(9)
      case UInt8(ascii: "u"):
        var value = scalarAt(i)
        i += 4
        if (0xD800...0xDBFF).contains(value), i + 5 < range.upperBound, bytes[i] == UInt8(ascii: "\\"),
          bytes[i + 1] == UInt8(ascii: "u")
        {
          let low = scalarAt(i + 2)
          if (0xDC00...0xDFFF).contains(low) {
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            i += 6
          }
        }
        let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
        out.append(contentsOf: Array(String(Character(scalar)).utf8))
      default: out.append(e)
      }
    }
    return String(decoding: out, as: UTF8.self)
  }
}
