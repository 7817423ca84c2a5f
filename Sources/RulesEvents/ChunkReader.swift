import Foundation

/// Reads a recording in large blocks and hands over whole lines a block at a time, so several
/// threads can decode the lines of one block while memory stays flat (a block is about 8 MiB; a line
/// longer than `maxLineLength` is reported, not buffered).
public struct ChunkReader {
  public static let defaultBlockSize = 8 << 20

  let source: RecordingSource
  let blockSize: Int
  let maxLineLength: Int

  public init(handle: FileHandle, blockSize: Int = ChunkReader.defaultBlockSize, maxLineLength: Int = LineReader.defaultMaxLineLength) {
    self.init(source: FileSource(handle), blockSize: blockSize, maxLineLength: maxLineLength)
  }

  /// Reads the bytes a source gives (a file, a pipe, or a gzip stream decompressed on the way).
  public init(source: RecordingSource, blockSize: Int = ChunkReader.defaultBlockSize, maxLineLength: Int = LineReader.defaultMaxLineLength) {
    self.source = source
    self.blockSize = blockSize
    self.maxLineLength = maxLineLength
  }

  /// One line of a block: its number and byte range, or the length of a line that was too long.
  public enum Line: Sendable {
    case bytes(number: Int, range: Range<Int>)
    case tooLong(number: Int, length: Int)
  }

  /// Calls `body` with each block's bytes and the lines in it, in order.
  ///
  /// A regular file is read ahead: while `body` works on one block, the next is read into a second
  /// buffer on another thread and split into lines there, so copying the file out of the page cache
  /// (about 50 ms for 200 MB, 15% of a one-job run) and finding its newlines (3% of a one-job run)
  /// overlap with the work instead of adding to it.
  public func forEachBlock(_ body: (UnsafeBufferPointer<UInt8>, [Line]) throws -> Void) throws {
    try forEachBlock { block, lines, _ in try body(block, lines) }
  }

  /// `forEachBlock`, also telling where in the stream each block starts (the offset of its first
  /// byte), so that a line's range in the block places it in the whole file (progress).
  public func forEachBlock(_ body: (UnsafeBufferPointer<UInt8>, [Line], _ offset: Int) throws -> Void) throws {
    let source = self.source
    var offset = 0
    // A pipe or terminal hands over what it has: waiting for a whole block would stall a live stream.
    let regularFile = source.readsAhead
    var current = Block(capacity: blockSize * 2)
    var spare = Block(capacity: blockSize * 2)
    let splitter = LineSplitter(maxLineLength: maxLineLength)
    let readAhead = regularFile ? ReadAhead() : nil
    defer {
      readAhead?.finish()
      current.free()
      spare.free()
    }
    try current.fill(source, from: 0, count: blockSize, whole: regularFile)
    splitter.split(current)
    while true {
      // The next block starts with this one's unfinished line; its read and split run alongside `body`.
      let rest = current.filled - current.consumed
      if !current.atEnd {
        spare.reserve(rest + blockSize)
        if rest > 0 { memcpy(spare.base, current.base + current.consumed, rest) }
        if let readAhead {
          let (next, size) = (spare, blockSize)
          readAhead.start {
            try next.fill(source, from: rest, count: size, whole: true)
            splitter.split(next)
          }
        }
      }
      if !current.lines.isEmpty { try body(UnsafeBufferPointer(start: current.base, count: current.filled), current.lines, offset) }
      if current.atEnd { return }
      offset += current.consumed
      if let readAhead {
        try readAhead.wait()
      } else {
        try spare.fill(source, from: rest, count: blockSize, whole: false)
        splitter.split(spare)
      }
      swap(&current, &spare)
    }
  }

  /// One buffer of the file: its bytes, and the lines `LineSplitter` found in them.
  final class Block: @unchecked Sendable {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    /// Bytes held (a carried-over line start, then what was read).
    var filled = 0
    /// The read found the end of the file.
    var atEnd = false
    var lines: [Line] = []
    /// Bytes up to the end of the last whole line (what follows is carried into the next block).
    var consumed = 0

    init(capacity: Int) {
      base = Self.allocate(capacity)
      self.capacity = capacity
    }

    /// Bytes on 2 MiB boundaries, offered to the kernel for huge pages (`MADV_HUGEPAGE`; a hint it
    /// may ignore): the scanner walks every page of every block once, and huge pages spare it a
    /// TLB miss every 4 KiB.
    static func allocate(_ count: Int) -> UnsafeMutablePointer<UInt8> {
      let huge = 2 << 20
      #if os(Linux)
      var raw: UnsafeMutableRawPointer?
      let rounded = (count + huge - 1) / huge * huge
      if posix_memalign(&raw, huge, rounded) == 0, let raw {
        _ = madvise(raw, rounded, MADV_HUGEPAGE)
        return raw.bindMemory(to: UInt8.self, capacity: count)
      }
      #endif
      return .allocate(capacity: count)
    }

    /// Grows to at least `count` bytes, keeping nothing (it is only grown before being filled).
    func reserve(_ count: Int) {
      guard count > capacity else { return }
      free()
      base = Self.allocate(count)
      capacity = count
    }

    /// Reads after the `carried` bytes already there (see `ChunkReader.read`).
    func fill(_ source: RecordingSource, from carried: Int, count: Int, whole: Bool) throws {
      let got = try source.read(into: base + carried, count: count, whole: whole)
      filled = carried + got
      atEnd = got == 0
    }

    func free() {
      #if os(Linux)
      // `posix_memalign`'s bytes, or `allocate`'s, which on Linux come from `malloc` too.
      Foundation.free(base)
      #else
      base.deallocate()
      #endif
    }
  }

  /// Splits blocks into lines, numbering them across blocks. Blocks are split one at a time, in
  /// order (the read-ahead thread splits the next block only after the previous split ended).
  final class LineSplitter: @unchecked Sendable {
    let maxLineLength: Int
    var number = 0
    /// The length so far of an over-long line being skipped.
    var skipping: Int?

    init(maxLineLength: Int) { self.maxLineLength = maxLineLength }

    func split(_ block: Block) {
      block.lines.removeAll(keepingCapacity: true)
      var start = 0
      var consumed = 0
      let all = UnsafeBufferPointer(start: UnsafePointer(block.base), count: block.filled)
      while start < all.count {
        let found = memchr(all.baseAddress! + start, 10, all.count - start)
        let end: Int
        if let found {
          end = all.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
        } else if block.atEnd {
          end = all.count
        } else {
          break
        }
        if let s = skipping {
          number += 1
          block.lines.append(.tooLong(number: number, length: s + end - start))
          skipping = nil
        } else {
          var stop = end
          if stop > start && all[stop - 1] == 13 { stop -= 1 }
          number += 1
          if stop - start > maxLineLength {
            block.lines.append(.tooLong(number: number, length: stop - start))
          } else {
            block.lines.append(.bytes(number: number, range: start..<stop))
          }
        }
        start = end + 1
        consumed = min(start, all.count)
      }
      // A line that has not ended yet and is already too long is skipped rather than kept.
      if !block.atEnd && all.count - consumed > maxLineLength {
        skipping = (skipping ?? 0) + all.count - consumed
        consumed = all.count
      }
      block.consumed = consumed
    }
  }

  /// Reads up to `count` bytes (all of them unless the file ends, when `whole`; else what one read gives).
  static func read(_ fd: Int32, into p: UnsafeMutablePointer<UInt8>, count: Int, whole: Bool) throws -> Int {
    var total = 0
    while total < count {
      let n = systemRead(fd, p + total, count - total)
      if n < 0 {
        if errno == EINTR { continue }
        throw RecordingReadError(reason: String(cString: strerror(errno)))
      }
      if n == 0 { break }
      total += n
      if !whole { break }
    }
    return total
  }
}

/// Reads the next block of a file on a thread of its own.
final class ReadAhead: @unchecked Sendable {
  private let queue = DispatchQueue(label: "rulec.read-ahead")
  private let done = DispatchSemaphore(value: 0)
  private var failure: Error?
  private var inFlight = false

  /// Runs `work` on the read-ahead thread; `wait` returns when it is done (and rethrows its error).
  func start(_ work: @escaping @Sendable () throws -> Void) {
    inFlight = true
    queue.async {
      do { try work() } catch { self.failure = error }
      self.done.signal()
    }
  }

  func wait() throws {
    guard inFlight else { return }
    done.wait()
    inFlight = false
    if let failure {
      self.failure = nil
      throw failure
    }
  }

  /// Waits for work still in flight (before its buffer is freed).
  func finish() { try? wait() }
}
