import RulesLoader
import Foundation
import RulesDiagnostics
import RulesSema
import RulesSource
import RulesSyntax

/// Reads each collector's PostInputs key from its reference (an environment variable or a file). A
/// missing key is an error that names the collector and the reference, never a value.
public enum KeyReferences {
  /// Why a key could not be read.
  public struct Missing: Error, CustomStringConvertible {
    public var description: String
  }

  public static func read(_ program: CheckedProgram) throws(Missing) -> [String: String] {
    var keys: [String: String] = [:]
    for c in program.collectors {
      switch c.key {
      case .environment(let name):
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
          throw Missing(description: "collector '\(c.id)': environment variable \(name) is not set (it holds the PostInputs key)")
        }
        keys[c.id] = value
      case .file(let path):
        guard let data = FileManager.default.contents(atPath: path) else {
          throw Missing(description: "collector '\(c.id)': cannot read the key file \(path)")
        }
        let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw Missing(description: "collector '\(c.id)': the key file \(path) is empty") }
        keys[c.id] = value
      }
    }
    return keys
  }
}

/// The rule files a set of collectors came from, as one text to store with queued items, and back.
public enum RuleSnapshot {
  /// The files' paths and texts as a JSON document.
  public static func text(of program: CheckedProgram) -> String {
    var seen = Set<String>()
    var files: [[String: String]] = []
    for c in program.collectors where seen.insert(c.file.path).inserted {
      files.append(["path": c.file.path, "text": String(decoding: c.file.bytes, as: UTF8.self)])
    }
    let data = (try? JSONSerialization.data(withJSONObject: files, options: [.sortedKeys])) ?? Data("[]".utf8)
    return String(decoding: data, as: UTF8.self)
  }

  /// The collectors of a stored snapshot, checked again (map files are read from disk as they are now).
  public static func program(from text: String) -> CheckedProgram? {
    guard let files = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: String]] else { return nil }
    let sink = DiagnosticSink()
    var parsed: [RuleFile] = []
    for f in files {
      guard let path = f["path"], let body = f["text"] else { return nil }
      parsed.append(RuleLoader.parse(SourceFile(path: path, text: body), sink: sink))
    }
    let program = Checker(sink: sink).check(parsed)
    return sink.hasErrors ? nil : program
  }
}
