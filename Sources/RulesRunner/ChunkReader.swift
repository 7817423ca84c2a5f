import Foundation

/// Reads a recording in large blocks and hands over whole lines a block at a time, so several
/// threads can decode the lines of one block while memory stays flat (a block is about 8 MiB; a line
/// longer than `maxLineLength` is reported, not buffered).
public struct ChunkReader {
  public static let defaultBlockSize = 8 << 20

  let handle: FileHandle
  let blockSize: Int
  let maxLineLength: Int

  public init(handle: FileHandle, blockSize: Int = ChunkReader.defaultBlockSize, maxLineLength: Int = LineReader.defaultMaxLineLength) {
    self.handle = handle
    self.blockSize = blockSize
    self.maxLineLength = maxLineLength
  }

  /// One line of a block: its number and byte range, or the length of a line that was too long.
  public enum Line: Sendable {
    case bytes(number: Int, range: Range<Int>)
    case tooLong(number: Int, length: Int)
  }

  /// Calls `body` with each block's bytes and the lines in it, in order.
  public func forEachBlock(_ body: (UnsafeBufferPointer<UInt8>, [Line]) throws -> Void) throws {
    // The file is read straight into one buffer that lives for the whole run (reading through
    // `Data` and appending it copied every byte twice more: 5% of a run's time).
    var buffer = [UInt8](repeating: 0, count: blockSize * 2)
    var filled = 0
    var number = 0
    var skipping: Int?  // length so far of an over-long line being skipped
    var atEnd = false
    var lines: [Line] = []
    let fd = handle.fileDescriptor
    // A pipe or terminal hands over what it has: waiting for a whole block would stall a live stream.
    var info = stat()
    let regularFile = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    while !atEnd {
      if buffer.count - filled < blockSize { buffer.append(contentsOf: repeatElement(0, count: blockSize)) }
      let got = try buffer.withUnsafeMutableBufferPointer { b -> Int in
        var total = 0
        while total < blockSize {
          let n = read(fd, b.baseAddress! + filled + total, blockSize - total)
          if n < 0 {
            if errno == EINTR { continue }
            throw CocoaError(.fileReadUnknown)
          }
          if n == 0 { break }
          total += n
          if !regularFile { break }
        }
        return total
      }
      if got == 0 { atEnd = true }
      filled += got
      lines.removeAll(keepingCapacity: true)
      var start = 0
      var consumed = 0
      try buffer.withUnsafeBufferPointer { whole in
        let all = UnsafeBufferPointer(rebasing: whole[0..<filled])
        while start < all.count {
          let found = memchr(all.baseAddress! + start, 10, all.count - start)
          let end: Int
          if let found {
            end = all.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
          } else if atEnd {
            end = all.count
          } else {
            break
          }
          if let s = skipping {
            number += 1
            lines.append(.tooLong(number: number, length: s + end - start))
            skipping = nil
          } else {
            var stop = end
            if stop > start && all[stop - 1] == 13 { stop -= 1 }
            number += 1
            if stop - start > maxLineLength {
              lines.append(.tooLong(number: number, length: stop - start))
            } else {
              lines.append(.bytes(number: number, range: start..<stop))
            }
          }
          start = end + 1
          consumed = min(start, all.count)
        }
        // A line that has not ended yet and is already too long is skipped rather than kept.
        if !atEnd && all.count - consumed > maxLineLength {
          skipping = (skipping ?? 0) + all.count - consumed
          consumed = all.count
        }
        if !lines.isEmpty { try body(all, lines) }
      }
      // Keep the unfinished line at the front of the buffer.
      let rest = filled - consumed
      if rest > 0 && consumed > 0 {
        buffer.withUnsafeMutableBufferPointer { b in
          _ = memmove(b.baseAddress!, b.baseAddress! + consumed, rest)
        }
      }
      filled = rest
    }
  }
}
