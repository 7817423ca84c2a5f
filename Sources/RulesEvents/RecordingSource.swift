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

/// One recording named on the command line (a path, or `-` for standard input): whether it is gzip,
/// whether it is one JSON document or JSON Lines, and a fresh source of its bytes from the start.
public final class RecordingFile {
  public let path: String
  let fd: Int32
  let owned: Bool
  /// The file starts with gzip's magic bytes (its name does not matter).
  public let isGzip: Bool
  /// The size on disk of a regular file (compressed, for gzip).
  public let size: Int?

  /// Opens `path`; every failure names the operating system's reason.
  public init(path: String) throws {
    self.path = path
    if path == "-" {
      fd = STDIN_FILENO
      owned = false
      isGzip = false
      size = nil
      return
    }
    let opened = open(path, O_RDONLY | O_CLOEXEC)
    guard opened >= 0 else { throw RecordingReadError(reason: String(cString: strerror(errno))) }
    fd = opened
    owned = true
    var info = stat()
    let regular = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    if regular && (info.st_mode & S_IFMT) != S_IFDIR {
      size = Int(info.st_size)
    } else {
      size = nil
    }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      close(opened)
      throw RecordingReadError(reason: "it is a folder (name its files, such as \(path)/*.jsonl)")
    }
    var magic: (UInt8, UInt8) = (0, 0)
    let got = regular ? withUnsafeMutableBytes(of: &magic) { pread(opened, $0.baseAddress, 2, 0) } : 0
    isGzip = got == 2 && magic == (0x1F, 0x8B)
  }

  deinit { if owned { close(fd) } }

  /// A source of the recording's bytes from its start (decompressed, for gzip). Standard input is
  /// read once, as it comes.
  public func source() throws -> RecordingSource {
    if fd != STDIN_FILENO, lseek(fd, 0, SEEK_SET) < 0 { throw RecordingReadError(reason: String(cString: strerror(errno))) }
    if isGzip { return try GzipSource(fileDescriptor: fd) }
    return FileSource(FileHandle(fileDescriptor: fd, closeOnDealloc: false))
  }

  /// The recording's bytes when it is one JSON document rather than JSON Lines (see
  /// `JSONDocument.layout`); nil for JSON Lines and for standard input. A document larger than
  /// `limit` bytes (decompressed) is an error: it would be held in memory whole.
  public func documentBytes(limit: Int) throws -> [UInt8]? {
    guard fd != STDIN_FILENO else { return nil }
    let source = try source()
    var bytes = [UInt8](repeating: 0, count: 1 << 16)
    let got = try bytes.withUnsafeMutableBufferPointer { try source.read(into: $0.baseAddress!, count: $0.count, whole: true) }
    bytes.removeLast(bytes.count - got)
    guard JSONDocument.layout(ofPrefix: bytes) == .document else { return nil }
    if !isGzip, let size, size > limit { throw DocumentTooLarge(size: size, limit: limit) }
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let n = try chunk.withUnsafeMutableBufferPointer { try source.read(into: $0.baseAddress!, count: $0.count, whole: true) }
      if n == 0 { break }
      bytes += chunk[0..<n]
      if bytes.count > limit { throw DocumentTooLarge(size: nil, limit: limit) }
    }
    return bytes
  }

  /// A recording that is one JSON document over the size read whole.
  public struct DocumentTooLarge: Error, CustomStringConvertible {
    public var size: Int?
    public var limit: Int
    public var description: String {
      "it is one JSON document of \(size.map { "\($0) bytes" } ?? "more than \(limit >> 20) MiB decompressed"); write recordings over \(limit >> 20) MiB as JSON Lines"
    }
  }
}
