/// What the proto3 JSON mapping lets a string stand for, read the same way by the decoder, the
/// scanner and the proxy (Grammar.md §9 item 1), so that all three give one value or one refusal.
enum ProtoJSON {
  /// A float or double field written as a string.
  enum QuotedNumber: Equatable {
    case value(Double)
    /// Not `"NaN"`, `"Infinity"`, `"-Infinity"` or a JSON number with nothing around it.
    case notANumber
    /// A JSON number past binary64's range (`"1e999"`): refused like the same number unquoted.
    case outOfRange
  }

  /// The number a string holds: the three special values, or a JSON number exactly (RFC 8259 §6),
  /// parsed by `JSONCursor.number` so `"0.9"` gives the bits `0.9` gives. Stricter than Python's
  /// `json_format`, which hands the text to `float()` and so also takes `" 0.9"`, `"1_0"`, `"inf"`
  /// or `".5"`; as strict as Go's `protojson`. Those forms are no serializer's output: a line that
  /// holds them is more likely wrong than written by a client.
  static func number(quoted t: UnsafeBufferPointer<UInt8>) -> QuotedNumber {
    if equals(t, "NaN") { return .value(.nan) }
    if equals(t, "Infinity") { return .value(.infinity) }
    if equals(t, "-Infinity") { return .value(-.infinity) }
    // `JSONCursor.number` skips leading whitespace, which a quoted number may not have.
    guard let first = t.first, first == UInt8(ascii: "-") || JSONCursor.isDigit(first) else { return .notANumber }
    var c = JSONCursor(t)
    do throws(DecodeError) {
      let v = try c.number()
      return c.i == t.count ? .value(v) : .notANumber
    } catch {
      return error.reason == JSONCursor.outOfRange ? .outOfRange : .notANumber
    }
  }

  /// An enum field (a status code) written as a string.
  enum QuotedEnum: Equatable {
    /// An integer, as `json_format` reads it (`int()` after the name lookup fails).
    case number(Int)
    /// An identifier: an enum value's name, looked up by the reader.
    case name
    /// Neither: `json_format` refuses it ("Invalid enum value").
    case invalid
  }

  /// Whether a string holds an enum name or an enum number. Python's `json_format` first looks the
  /// text up as a name, then reads it with `int()`; C++'s parser does the same with `SimpleAtoi`. So
  /// `"10000"`, `" 10000"`, `"+10000"` and `"010000"` are 10000, and a name must be an identifier
  /// (`[A-Za-z_][A-Za-z0-9_]*`, as protobuf requires of enum value names). Digits are ASCII only, and
  /// `int()`'s `_` between digits is not taken (C++ refuses it). Numbers of 10 digits or more are
  /// `invalid`, as for a number written unquoted (`abs(code) < 1e9`).
  static func enumValue(quoted t: UnsafeBufferPointer<UInt8>) -> QuotedEnum {
    if let first = t.first, isNameStart(first) {
      return t.allSatisfy { isNameStart($0) || JSONCursor.isDigit($0) } ? .name : .invalid
    }
    var k = 0
    var end = t.count
    while k < end && isSpace(t[k]) { k += 1 }
    while end > k && isSpace(t[end - 1]) { end -= 1 }
    var negative = false
    if k < end && (t[k] == UInt8(ascii: "+") || t[k] == UInt8(ascii: "-")) {
      negative = t[k] == UInt8(ascii: "-")
      k += 1
    }
    while k < end - 1 && t[k] == UInt8(ascii: "0") { k += 1 }  // leading zeros do not count towards the limit
    guard k < end, end - k <= 9 else { return .invalid }
    var value = 0
    for i in k..<end {
      guard JSONCursor.isDigit(t[i]) else { return .invalid }
      value = value * 10 + Int(t[i] - 48)
    }
    return .number(negative ? -value : value)
  }

  /// Python's `int()` and absl's `SimpleAtoi` strip ASCII whitespace (space, \t, \n, \v, \f, \r).
  static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }

  static func isNameStart(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || b == UInt8(ascii: "_")
  }

  static func equals(_ t: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
    t.count == word.utf8CodeUnitCount && t.elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
  }

  /// A status code as proto3 JSON gives it: an integer (written as a number, or as a string of one),
  /// or an enum name. `null` and a status object without `code` are the default, 0 (not success).
  enum StatusCode: Equatable {
    case number(Int)
    case name(String)
  }
}
