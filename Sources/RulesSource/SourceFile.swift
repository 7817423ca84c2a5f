/// A byte offset into a source file's UTF-8 bytes.
public typealias SourceOffset = Int

/// A half-open range of byte offsets into one source file.
public struct SourceRange: Hashable, Sendable {
  public var start: SourceOffset
  public var end: SourceOffset

  public init(_ start: SourceOffset, _ end: SourceOffset) {
    self.start = start
    self.end = max(start, end)
  }

  /// An empty range at one offset, for "missing" syntax.
  public static func at(_ offset: SourceOffset) -> SourceRange { SourceRange(offset, offset) }

  /// The smallest range covering both.
  public func union(_ other: SourceRange) -> SourceRange {
    SourceRange(Swift.min(start, other.start), Swift.max(end, other.end))
  }

  public var length: Int { end - start }
}

/// A 1-based line and column, for printing only. Columns count Unicode scalars, like an editor.
public struct LineColumn: Hashable, Sendable, CustomStringConvertible {
  public var line: Int
  public var column: Int
  public init(line: Int, column: Int) {
    self.line = line
    self.column = column
  }
  public var description: String { "\(line):\(column)" }
}

/// One rule file: its path, its raw bytes (never decoded up front) and one line table.
///
/// Everything downstream stores byte offsets; `location(of:)` turns an offset into a
/// line and column only when a diagnostic is printed.
public final class SourceFile: Sendable {
  public let path: String
  public let bytes: [UInt8]
  /// Byte offset at which each line starts; `lineStarts[0] == 0`.
  public let lineStarts: [Int]

  public init(path: String, bytes: [UInt8]) {
    self.path = path
    self.bytes = bytes
    var starts = [0]
    starts.reserveCapacity(bytes.count / 32 + 1)
    for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") {
      starts.append(i + 1)
    }
    self.lineStarts = starts
  }

  public convenience init(path: String, text: String) {
    self.init(path: path, bytes: Array(text.utf8))
  }

  /// The 0-based line index holding `offset` (binary search over the line table).
  public func lineIndex(of offset: SourceOffset) -> Int { Self.lineIndex(of: offset, in: lineStarts) }

  /// The index of the last line start at or before `offset` in a table of line starts (the
  /// editor keeps such a table of its own, patched as the text changes).
  public static func lineIndex(of offset: SourceOffset, in lineStarts: [Int]) -> Int {
    var lo = 0
    var hi = lineStarts.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
    }
    return lo
  }

  /// The byte range of a 0-based line, without its line break.
  public func lineRange(_ index: Int) -> Range<Int> {
    let start = lineStarts[index]
    var end = index + 1 < lineStarts.count ? lineStarts[index + 1] - 1 : bytes.count
    if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
    return start..<max(start, end)
  }

  /// The text of a 0-based line, with invalid UTF-8 shown as U+FFFD.
  public func lineText(_ index: Int) -> String {
    String(decoding: bytes[lineRange(index)], as: UTF8.self)
  }

  /// 1-based line and column (in Unicode scalars) of a byte offset.
  public func location(of offset: SourceOffset) -> LineColumn {
    let clamped = Swift.max(0, Swift.min(offset, bytes.count))
    let line = lineIndex(of: clamped)
    let start = lineStarts[line]
    return LineColumn(line: line + 1, column: scalarCount(start..<clamped) + 1)
  }

  /// Number of Unicode scalars in a byte range; each invalid byte counts as one.
  public func scalarCount(_ range: Range<Int>) -> Int {
    var count = 0
    for i in range where bytes[i] & 0xC0 != 0x80 { count += 1 }
    return count
  }

  /// Byte offset of a 1-based line and scalar-based column (as Yams reports them).
  public func offset(line: Int, column: Int) -> SourceOffset {
    guard line >= 1 else { return 0 }
    guard line <= lineStarts.count else { return bytes.count }
    var i = lineStarts[line - 1]
    var remaining = column - 1
    while remaining > 0 && i < bytes.count && bytes[i] != UInt8(ascii: "\n") {
      i += 1
      while i < bytes.count && bytes[i] & 0xC0 == 0x80 { i += 1 }
      remaining -= 1
    }
    return i
  }

  /// The text of a byte range.
  public func text(_ range: SourceRange) -> String {
    let lo = Swift.max(0, Swift.min(range.start, bytes.count))
    let hi = Swift.max(lo, Swift.min(range.end, bytes.count))
    return String(decoding: bytes[lo..<hi], as: UTF8.self)
  }
}
