import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `rulec run --out PATH`: the items go to a new file beside the one the path names, which replaces
/// it only when the run has read all its events (`commit`). A run that fails before (a misspelt
/// `--events`, rules that do not check, a strict stop, a full disk) leaves yesterday's file as it
/// was. A symlink keeps pointing where it did (its target is replaced), and what is not a regular
/// file (`/dev/null`, a pipe) is written in place, since it cannot be replaced.
final class OutputFile {
  /// Why the output could not be written or put in place, with the path and the OS's reason.
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  let descriptor: Int32
  /// The file the items end up in (a symlink's target).
  let destination: String
  /// The new file, renamed over `destination` on commit; nil when written in place.
  private(set) var temporary: String?
  private var closed = false

  init(path: String) throws(Failure) {
    let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    var info = stat()
    let exists = stat(resolved, &info) == 0
    if exists && (info.st_mode & S_IFMT) != S_IFREG {
      let fd = open(resolved, O_WRONLY | O_CLOEXEC)
      guard fd >= 0 else { throw Failure(description: "cannot write \(path): \(Self.reason())") }
      descriptor = fd
      destination = resolved
      return
    }
    let folder = (resolved as NSString).deletingLastPathComponent
    let name = (resolved as NSString).lastPathComponent
    let temporary = (folder.isEmpty ? "." : folder) + "/.\(name).rulec-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    // The new file gets the old one's permissions (or the usual 0644, less the umask).
    let mode = exists ? mode_t(info.st_mode & 0o7777) : 0o644
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
    guard fd >= 0 else { throw Failure(description: "cannot write \(path): \(Self.reason())") }
    if exists { _ = fchmod(fd, mode) }
    descriptor = fd
    destination = resolved
    self.temporary = temporary
  }

  static func reason() -> String { String(cString: strerror(errno)) }

  /// Puts the new file in place of the old one.
  func commit(as path: String) throws(Failure) {
    guard !closed else { return }
    closed = true
    let closeFailed = close(descriptor) != 0 ? Self.reason() : nil
    guard let temporary else {
      if let closeFailed { throw Failure(description: "cannot write \(path): \(closeFailed)") }
      return
    }
    if let closeFailed {
      unlink(temporary)
      throw Failure(description: "cannot write \(path): \(closeFailed)")
    }
    guard rename(temporary, destination) == 0 else {
      let why = Self.reason()
      unlink(temporary)
      throw Failure(description: "cannot put the items in place at \(path): \(why)")
    }
  }

  /// Drops the new file; the old one stays as it was.
  func discard() {
    guard !closed else { return }
    closed = true
    close(descriptor)
    if let temporary { unlink(temporary) }
  }

  deinit { discard() }
}
