import ArgumentParser
import Foundation
import RulesSema
import RulesServe

/// Writes to standard output.
public struct StandardOutput: TextOutputStream {
  public init() {}
  public mutating func write(_ string: String) { writeText(STDOUT_FILENO, string) }
}

/// Writes to standard error.
public struct StandardError: TextOutputStream {
  public init() {}
  public mutating func write(_ string: String) { writeText(STDERR_FILENO, string) }
}

/// Writes text to a descriptor with `write(2)`. A text stream has no way to report an error, and
/// `FileHandle.write` stopped the process on one (a full disk, a closed pipe's EPIPE): the text is
/// dropped instead, and a command that must know (`run`'s items) writes through `Run.writeAll`.
func writeText(_ fd: Int32, _ string: String) {
  var string = string
  _ = string.withUTF8 { Run.writeAll(fd, UnsafeRawBufferPointer($0)) }
}

/// The server of `serve` and `proxy`, with the collectors' keys read and the state folder opened (and
/// locked); a key that cannot be read or a folder that cannot be had stops the command (exit 2).
func openCollectorServer(
  _ configuration: CollectorServer.Configuration, rules: String, program: CheckedProgram, err: inout some TextOutputStream
) async throws -> CollectorServer {
  do {
    let keys = try Backfill.readKeys(program)
    return try await CollectorServer.open(configuration: configuration, rulesPath: rules, program: program, keys: keys)
  } catch {
    err.write("rulec: \(error)\n")
    throw ExitCode(2)
  }
}

/// Holds values until the process exits, so that a large syntax tree is not torn down just before exit.
enum RetainedForExit {
  nonisolated(unsafe) private static var values: [Any] = []
  private static let lock = NSLock()

  static func keep(_ value: Any) {
    lock.withLock { values.append(value) }
  }
}

/// When to colour human output.
public enum ColorChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
  case auto, always, never

  /// Colour on a terminal only, unless forced; `NO_COLOR` turns `auto` off.
  public func enabled(fileDescriptor: Int32 = 1) -> Bool {
    switch self {
    case .always: return true
    case .never: return false
    case .auto:
      if ProcessInfo.processInfo.environment["NO_COLOR"] != nil { return false }
      return isatty(fileDescriptor) != 0
    }
  }
}
