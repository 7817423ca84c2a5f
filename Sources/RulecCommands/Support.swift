import ArgumentParser
import Foundation

/// Writes to standard output through `print`, so output order matches the process's stdout.
public struct StandardOutput: TextOutputStream {
  public init() {}
  public mutating func write(_ string: String) {
    FileHandle.standardOutput.write(Data(string.utf8))
  }
}

/// Writes to standard error.
public struct StandardError: TextOutputStream {
  public init() {}
  public mutating func write(_ string: String) {
    FileHandle.standardError.write(Data(string.utf8))
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
