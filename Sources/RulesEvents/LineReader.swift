import Foundation

/// Reads a file (or standard input) line by line in fixed-size chunks, so memory stays flat whatever
/// the file's size. A line longer than `maxLineLength` is not buffered: it is reported as too long.
public struct LineReader {
  public static let defaultMaxLineLength = 16 << 20

  let handle: FileHandle
  let maxLineLength: Int
  let chunkSize = 1 << 20

  public init(handle: FileHandle, maxLineLength: Int = LineReader.defaultMaxLineLength) {
    self.handle = handle
    self.maxLineLength = maxLineLength
  }

  /// What `forEachLine` hands over for each line.
  public enum Line {
    case bytes(UnsafeBufferPointer<UInt8>)
    /// The line was longer than the limit; its length in bytes.
    case tooLong(Int)
  }

  /// Calls `body` with each line (without its `\n` or `\r\n`) and its 1-based number.
  public func forEachLine(_ body: (Int, Line) throws -> Void) throws {
    var pending = [UInt8]()
    var overflow: Int?  // bytes of an over-long line seen so far
    var number = 0
    while true {
      let data = try handle.read(upToCount: chunkSize) ?? Data()
      if data.isEmpty { break }
      try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
        let chunk = raw.bindMemory(to: UInt8.self)
        var start = 0
        while start < chunk.count {
          // memchr finds the end of a line with vector instructions instead of a byte loop.
          let found = memchr(chunk.baseAddress! + start, 10, chunk.count - start)
          guard let found else {
            // No end of line in this chunk: keep the tail for the next one.
            if let o = overflow {
              overflow = o + chunk.count - start
            } else if pending.count + chunk.count - start > maxLineLength {
              overflow = pending.count + chunk.count - start
              pending.removeAll(keepingCapacity: true)
            } else {
              pending.append(contentsOf: chunk[start...])
            }
            break
          }
          let newline = chunk.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
          number += 1
          if let o = overflow {
            try body(number, .tooLong(o + newline - start))
            overflow = nil
          } else if pending.isEmpty {
            var end = newline
            if end > start && chunk[end - 1] == 13 { end -= 1 }
            if end - start > maxLineLength {
              try body(number, .tooLong(end - start))
            } else {
              try body(number, .bytes(UnsafeBufferPointer(rebasing: chunk[start..<end])))
            }
          } else {
            pending.append(contentsOf: chunk[start..<newline])
            if pending.last == 13 { pending.removeLast() }
            if pending.count > maxLineLength {
              try body(number, .tooLong(pending.count))
            } else {
              try pending.withUnsafeBufferPointer { try body(number, .bytes($0)) }
            }
            pending.removeAll(keepingCapacity: true)
          }
          start = newline + 1
        }
      }
    }
    if let o = overflow {
      try body(number + 1, .tooLong(o))
    } else if !pending.isEmpty {
      if pending.last == 13 { pending.removeLast() }
      try pending.withUnsafeBufferPointer { try body(number + 1, .bytes($0)) }
    }
  }
}
