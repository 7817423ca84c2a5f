import Foundation
import RulesSource

/// An open document as the editor has it: its text, edited in place by the editor's incremental
/// changes. Positions are the Language Server Protocol's: a 0-based line and a 0-based column in
/// UTF-16 code units.
public struct TextDocument: Sendable {
  public var uri: String
  public var version: Int
  public private(set) var bytes: [UInt8]
  /// The byte offset at which each line starts (`lineStarts[0] == 0`), kept up to date by `apply`,
  /// so that positions cost a binary search, not a walk from the top of a 6 MB document.
  public private(set) var lineStarts: [Int]

  public init(uri: String, version: Int, text: String) {
    self.uri = uri
    self.version = version
    bytes = Array(text.utf8)
    lineStarts = [0] + Self.newlines(in: bytes[...], base: 0)
  }

  /// The file path a `file://` URI names (percent-decoded), or the URI itself.
  public var path: String {
    guard uri.hasPrefix("file://") else { return uri }
    return String(uri.dropFirst("file://".count)).removingPercentEncoding ?? String(uri.dropFirst("file://".count))
  }

  /// The offsets just after each newline of `slice`, shifted by `base`.
  static func newlines(in slice: ArraySlice<UInt8>, base: Int) -> [Int] {
    var starts: [Int] = []
    var i = slice.startIndex
    while let newline = slice[i...].firstIndex(of: 10) {
      starts.append(newline + 1 - slice.startIndex + base)
      i = newline + 1
    }
    return starts
  }

  /// The byte offset of an LSP position, clamped to the document (a position past the end of a line
  /// is the end of that line, as the protocol says).
  public func offset(line: Int, character: Int) -> Int {
    guard line >= 0 else { return 0 }
    guard line < lineStarts.count else { return bytes.count }
    var i = lineStarts[line]
    var units = 0
    while i < bytes.count && bytes[i] != 10 && units < character {
      let length = Self.scalarLength(bytes[i])
      units += length == 4 ? 2 : 1
      i = Swift.min(bytes.count, i + length)
    }
    return i
  }

  /// The index of the line holding a byte offset.
  public func line(of offset: Int) -> Int { SourceFile.lineIndex(of: offset, in: lineStarts) }

  /// The LSP position of a byte offset.
  public func position(of offset: Int) -> (line: Int, character: Int) {
    let clamped = Swift.max(0, Swift.min(offset, bytes.count))
    let line = line(of: clamped)
    var units = 0
    var k = lineStarts[line]
    while k < clamped {
      let length = Self.scalarLength(bytes[k])
      units += length == 4 ? 2 : 1
      k += length
    }
    return (line, units)
  }

  /// Applies one change: a range replaced by text, or (without a range) the whole text.
  public mutating func apply(range: (start: (line: Int, character: Int), end: (line: Int, character: Int))?, text: String) {
    guard let range else {
      bytes = Array(text.utf8)
      lineStarts = [0] + Self.newlines(in: bytes[...], base: 0)
      return
    }
    let start = offset(line: range.start.line, character: range.start.character)
    let end = Swift.max(start, offset(line: range.end.line, character: range.end.character))
    let inserted = Array(text.utf8)
    bytes.replaceSubrange(start..<end, with: inserted)
    // Lines starting inside the replaced range go; the inserted text's come in; later ones shift.
    let delta = inserted.count - (end - start)
    let first = line(of: start) + 1
    var last = first
    while last < lineStarts.count && lineStarts[last] <= end { last += 1 }
    for k in last..<lineStarts.count { lineStarts[k] += delta }
    lineStarts.replaceSubrange(first..<last, with: Self.newlines(in: inserted[...], base: start))
  }

  /// The length of the UTF-8 sequence a lead byte starts (1 for a stray continuation byte).
  static func scalarLength(_ lead: UInt8) -> Int {
    switch lead {
    case 0xF0...0xF7: 4
    case 0xE0...0xEF: 3
    case 0xC0...0xDF: 2
    default: 1
    }
  }
}
