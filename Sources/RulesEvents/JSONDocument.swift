/// A recording that is not JSON Lines: one JSON document spread over lines, as protobuf's
/// `MessageToJson` writes a response by default (indented), or a JSON array of outputs or responses.
public enum JSONDocument {
  /// How a recording is laid out.
  public enum Layout: Sendable, Equatable {
    /// One output or response a line (the usual recording).
    case jsonLines
    /// One JSON value over the whole file: an object, or an array of them.
    case document
  }

  /// The layout of a recording, from its first bytes: a document when it starts with `[`, or with
  /// an object that its first line does not close; JSON Lines otherwise.
  public static func layout(ofPrefix prefix: [UInt8]) -> Layout {
    prefix.withUnsafeBufferPointer { bytes in
      var start = 0
      guard let base = bytes.baseAddress else { return .jsonLines }
      JSONBytes.skipWhitespace(base, &start, bytes.count)
      guard start < bytes.count else { return .jsonLines }
      if bytes[start] == UInt8(ascii: "[") { return .document }
      guard bytes[start] == UInt8(ascii: "{") else { return .jsonLines }
      let end = bytes[start...].firstIndex(of: 10) ?? bytes.count
      var c = JSONCursor(UnsafeBufferPointer(rebasing: bytes[0..<end]))
      c.i = start
      do throws(DecodeError) {
        try c.skipValue()
        return .jsonLines
      } catch {
        // An object the first line leaves open is spread over lines; any other fault is a bad
        // line of JSON Lines, and is reported as such.
        return error.reason.hasPrefix("truncated JSON") && end < bytes.count ? .document : .jsonLines
      }
    }
  }

  /// A value's bytes without the whitespace between tokens (a document's indentation would
  /// otherwise be copied into the one-line items made from it). Strings are copied whole, their
  /// ends found by the one reader of JSON strings (`JSONBytes.scanString`).
  public static func compact(_ value: UnsafeBufferPointer<UInt8>) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(value.count)
    guard let p = value.baseAddress else { return out }
    var i = 0
    while i < value.count {
      let b = p[i]
      if b == UInt8(ascii: "\"") {
        let start = i
        i += 1
        var escaped = false
        var ascii = true
        // The value was read as JSON already; a fault can only leave the rest as it is.
        if JSONBytes.scanString(p, &i, value.count, escaped: &escaped, ascii: &ascii) != nil { i = value.count }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: value[start..<i]))
        continue
      }
      if !JSONBytes.isWhitespace(b) { out.append(b) }
      i += 1
    }
    return out
  }

  /// The byte ranges of a document's values: the array's elements, or the one object. Throws what
  /// is not JSON (with its offset in `bytes`).
  public static func values(of bytes: UnsafeBufferPointer<UInt8>) throws(DecodeError) -> [Range<Int>] {
    var c = JSONCursor(bytes)
    guard let first = c.peek() else { throw DecodeError("empty document", at: 0) }
    var ranges: [Range<Int>] = []
    if first == UInt8(ascii: "[") {
      try c.array { (c) throws(DecodeError) in
        c.skipWhitespace()
        let start = c.i
        try c.skipValue()
        ranges.append(start..<c.i)
      }
    } else {
      let start = c.i
      try c.skipValue()
      ranges.append(start..<c.i)
    }
    guard c.peek() == nil else { throw c.fail("unexpected text after the JSON document") }
    return ranges
  }
}
