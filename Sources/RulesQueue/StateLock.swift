import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An exclusive claim on a state folder for one process: the queue's leases belong to one forwarder,
/// and a second `serve`, `proxy` or `run --forward` on the same folder would take them over
/// (each releases every lease when it starts). An OS lock (`flock` on `DIR/lock`), so a process that
/// dies, even by `kill -9`, gives it up at once; the file holds the owner's process id for the message.
public final class StateLock: @unchecked Sendable {
  /// Another process holds the folder.
  public struct Held: Error, CustomStringConvertible {
    public var directory: String
    public var owner: String?
    public var description: String {
      "the state folder \(directory) is in use by another rulec process\(owner.map { " (pid \($0))" } ?? ""): "
        + "give each serve, proxy or run --forward a state folder of its own"
    }
  }

  private var descriptor: Int32

  /// Takes the lock, or throws `Held`; kept until this object goes away.
  public init(directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let path = (directory as NSString).appendingPathComponent("lock")
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: String(cString: strerror(errno))])
    }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      let owner = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
      close(fd)
      throw Held(directory: directory, owner: owner?.isEmpty == false ? owner : nil)
    }
    descriptor = fd
    let pid = Array("\(getpid())\n".utf8)
    _ = ftruncate(fd, 0)
    _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
  }

  /// Gives the folder up (at once, rather than when the last reference to the store goes).
  public func release() {
    guard descriptor >= 0 else { return }
    close(descriptor)
    descriptor = -1
  }

  deinit { release() }
}
