import CompressNIO
import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
@inline(__always) func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ count: Int) -> Int { Glibc.read(fd, p, count) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ count: Int) -> Int { Darwin.read(fd, p, count) }
#endif

/// Where a recording's bytes come from: a file or a pipe as they are, or a gzip file decompressed on
/// the way. One thread reads at a time (the read-ahead thread, or the caller), in order.
public protocol RecordingSource: AnyObject, Sendable {
  /// Reads up to `count` bytes into `p`: all of them unless the source ends when `whole`, else what
  /// one read gives. 0 at the end.
  func read(into p: UnsafeMutablePointer<UInt8>, count: Int, whole: Bool) throws -> Int
  /// Whether to read the next block on another thread while the current one is evaluated: a
  /// regular file or a decompression, not a live pipe (waiting for a whole block would stall it).
  var readsAhead: Bool { get }
}

/// Why a recording could not be read, in the operating system's or the decompressor's words.
public struct RecordingReadError: Error, CustomStringConvertible, Sendable {
  public var reason: String
  public init(reason: String) { self.reason = reason }
  public var description: String { reason }
}

/// A file descriptor read as it is.
public final class FileSource: RecordingSource, @unchecked Sendable {
  let handle: FileHandle
  public let readsAhead: Bool

  public init(_ handle: FileHandle) {
    self.handle = handle
    var info = stat()
    readsAhead = fstat(handle.fileDescriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
  }

  public func read(into p: UnsafeMutablePointer<UInt8>, count: Int, whole: Bool) throws -> Int {
    try ChunkReader.read(handle.fileDescriptor, into: p, count: count, whole: whole)
  }
}

/// A gzip file (RFC 1952) decompressed as it is read, through CompressNIO's zlib streams. Members
/// written one after another (`cat a.gz b.gz`, or a log appended to in gzip pieces) read as one
/// stream; a file cut short is an error, not a silent end.
public final class GzipSource: RecordingSource, @unchecked Sendable {
  /// Whether bytes start like gzip (its magic number 1f 8b).
  public static func isGzip(_ prefix: some Collection<UInt8>) -> Bool {
    prefix.count >= 2 && prefix[prefix.startIndex] == 0x1F && prefix[prefix.index(after: prefix.startIndex)] == 0x8B
  }

  public let readsAhead = true
  let fd: Int32
  let decompressor: ZlibDecompressor
  /// Compressed bytes read from the file and not yet inflated.
  var input: ByteBuffer
  /// Inflated bytes not yet handed over.
  var output: ByteBuffer
  var fileEnded = false
  var finished = false
  static let inputSize = 256 << 10
  static let outputSize = 1 << 20

  /// Decompresses what the descriptor reads from its current position.
  public init(fileDescriptor fd: Int32) throws {
    self.fd = fd
    do {
      decompressor = try ZlibDecompressor(algorithm: .gzip)
    } catch {
      throw RecordingReadError(reason: "cannot start gzip decompression: \(error)")
    }
    input = ByteBufferAllocator().buffer(capacity: Self.inputSize)
    output = ByteBufferAllocator().buffer(capacity: Self.outputSize)
  }

  public func read(into p: UnsafeMutablePointer<UInt8>, count: Int, whole: Bool) throws -> Int {
    var total = 0
    while total < count {
      if output.readableBytes == 0 {
        if finished { break }
        try inflateMore()
        continue
      }
      let n = min(output.readableBytes, count - total)
      output.withUnsafeReadableBytes { raw in (p + total).update(from: raw.bindMemory(to: UInt8.self).baseAddress!, count: n) }
      output.moveReaderIndex(forwardBy: n)
      total += n
      if !whole && total > 0 { break }
    }
    return total
  }

  /// Inflates into `output` (emptied first) until it holds something or the stream has ended.
  private func inflateMore() throws {
    output.clear()
    while output.readableBytes == 0 && !finished {
      if input.readableBytes == 0 && !fileEnded { try fill() }
      do {
        try decompressor.inflate(from: &input, to: &output)
      } catch let error as CompressNIOError where error == .bufferOverflow {
        return  // `output` is full
      } catch let error as CompressNIOError where error == .inputBufferOverflow {
        // zlib needs more input: read more, unless the file has ended, which cut the stream short.
        if fileEnded { throw RecordingReadError(reason: "the gzip stream ends early (the file is cut short)") }
        continue
      } catch let error as CompressNIOError where error == .corruptData {
        throw RecordingReadError(reason: "the gzip data is corrupt")
      } catch {
        throw RecordingReadError(reason: "gzip decompression failed: \(error)")
      }
      // Without an error zlib stops only when the input is used up or a member has ended: input
      // left over means another member follows.
      if input.readableBytes > 0 {
        try decompressor.reset()
      } else if fileEnded && output.readableBytes == 0 {
        // Nothing left to read and nothing more came out: zlib is at the end of its stream (had it
        // wanted more, it would have said so above).
        finished = true
      }
    }
  }

  private func fill() throws {
    input.discardReadBytes()
    input.reserveCapacity(minimumWritableBytes: Self.inputSize)
    let got = try input.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.inputSize) { raw in
      try ChunkReader.read(fd, into: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: Self.inputSize, whole: true)
    }
    if got == 0 { fileEnded = true }
  }
}
