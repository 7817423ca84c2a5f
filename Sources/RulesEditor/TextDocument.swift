import Foundation
import RulesSource

/// An open document as the editor has it: its text, edited in place by the editor's incremental
/// changes. Positions are the Language Server Protocol's: a 0-based line and a 0-based column in
/// UTF-16 code units.
public struct TextDocument: Sendable {
  public var uri: String
  public var version: Int
  public private(set) var bytes: [UInt8]

  public init(uri: String, version: Int, text: String) {
    self.uri = uri
    self.version = version
    bytes = Array(text.utf8)
  }

  /// The file path a `file://` URI names (percent-decoded), or the URI itself.
  public var path: String {
    guard uri.hasPrefix("file://") else { return uri }
    return String(uri.dropFirst("file://".count)).removingPercentEncoding ?? String(uri.dropFirst("file://".count))
  }

  /// The byte offset of an LSP position, clamped to the document (a position past the end of a line
  /// is the end of that line, as the protocol says).
  public func offset(line: Int, character: Int) -> Int {
    var start = 0
    var current = 0
    while current < line {
      guard let newline = bytes[start...].firstIndex(of: 10) else { return bytes.count }
      start = newline + 1
      current += 1
    }
    var i = start
    var units = 0
    while i < bytes.count && bytes[i] != 10 && units < character {
      let length = Self.scalarLength(bytes[i])
      units += length == 4 ? 2 : 1
      i = Swift.min(bytes.count, i + length)
    }
    return i
  }

  /// The LSP position of a byte offset.
  public func position(of offset: Int) -> (line: Int, character: Int) {
    let clamped = Swift.max(0, Swift.min(offset, bytes.count))
    var line = 0
    var lineStart = 0
    var i = 0
    while i < clamped {
      if bytes[i] == 10 {
        line += 1
        lineStart = i + 1
      }
      i += 1
    }
    var units = 0
    var k = lineStart
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
      return
    }
    let start = offset(line: range.start.line, character: range.start.character)
    let end = Swift.max(start, offset(line: range.end.line, character: range.end.character))
    bytes.replaceSubrange(start..<end, with: Array(text.utf8))
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
