import CompressNIO
import Foundation
import NIOCore

/// `rulec proxy --record DIR`: every output the proxy sees, stamped with its source and caller, appended
/// to JSON Lines files that `rulec run --events DIR/*` reads. A file is closed and a new one begun
/// every hour (by the clock's UTC hour) and when it reaches its size limit; a closed file is fsynced
/// first, so what rotated away is on disk. Names are `outputs-YYYYMMDD-HH-001.jsonl`, `-002`… in the
/// same hour, so that their names sort in the order they were written (`DIR/*` in a shell); a file is
/// never overwritten.
///
/// With gzip each batch (one call's outputs) is a gzip member of its own: a file cut by a crash loses
/// at most its last member, and members one after another read as one stream.
public final class OutputRecorder: @unchecked Sendable {
  public struct Options: Sendable {
    public var directory: String
    public var maxBytes: Int = 256 << 20
    public var gzip = false
    public init(directory: String) { self.directory = directory }
  }

  let options: Options
  let lock = NSLock()
  var fd: Int32 = -1
  var hour = ""
  var written = 0
  /// Files begun so far (for tests and the log).
  public private(set) var files: [String] = []

  public init(_ options: Options) throws {
    self.options = options
    try FileManager.default.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
  }

  deinit { close() }

  /// Appends lines (each ends with a newline) as one write; throws the OS reason when it cannot.
  public func append(_ lines: [[UInt8]], at date: Date = Date()) throws {
    guard !lines.isEmpty else { return }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(lines.reduce(0) { $0 + $1.count })
    for line in lines { bytes += line }
    if options.gzip {
      var buffer = ByteBuffer(bytes: bytes)
      let compressed = try buffer.compress(with: .gzip())
      bytes = Array(buffer: compressed)
    }
    try lock.withLock {
      let now = Self.hourName(date)
      if fd < 0 || now != hour || written + bytes.count > options.maxBytes && written > 0 { try rotate(now) }
      var offset = 0
      while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 {
          if errno == EINTR { continue }
          throw RecorderError(reason: String(cString: strerror(errno)))
        }
        offset += n
      }
      written += bytes.count
    }
  }

  /// Fsyncs and closes the current file.
  public func close() {
    lock.withLock {
      guard fd >= 0 else { return }
      _ = fsync(fd)
      _ = Foundation.close(fd)
      fd = -1
    }
  }

  private func rotate(_ now: String) throws {
    if fd >= 0 {
      _ = fsync(fd)
      _ = Foundation.close(fd)
      fd = -1
    }
    let suffix = options.gzip ? ".jsonl.gz" : ".jsonl"
    var k = 1
    while true {
      let path = "\(options.directory)/outputs-\(now)-\(String(format: "%03d", k))\(suffix)"
      let opened = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
      if opened >= 0 {
        fd = opened
        files.append(path)
        break
      }
      guard errno == EEXIST else { throw RecorderError(reason: "cannot create \(path): \(String(cString: strerror(errno)))") }
      k += 1
    }
    hour = now
    written = 0
  }

  static func hourName(_ date: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let c = calendar.dateComponents([.year, .month, .day, .hour], from: date)
    return String(format: "%04d%02d%02d-%02d", c.year!, c.month!, c.day!, c.hour!)
  }

  public struct RecorderError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
  }
}
