import Foundation
import RulesDiagnostics
import RulesSource
import RulesSyntax
import RulesSema
import RulesYAML

/// Finds rule files, reads them and runs the front end (DSL or YAML) and the checker.
public struct RuleLoader {
  /// A path that could not be read: a usage or file-system problem (exit status 2).
  public struct LoadError: Error, CustomStringConvertible {
    public var description: String
  }

  public static let extensions = ["rule", "yaml", "yml"]

  /// Expands folders into the rule and YAML files directly inside them (sorted); files stay as named.
  public static func expand(_ paths: [String]) throws(LoadError) -> [String] {
    var out: [String] = []
    let fm = FileManager.default
    for path in paths {
      var isDirectory: ObjCBool = false
      guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw LoadError(description: "no such file or folder: \(path)")
      }
      if isDirectory.boolValue {
        // Only the folder's own files: a subfolder (twins, maps, benchmarks) is named on its own.
        guard let names = try? fm.contentsOfDirectory(atPath: path) else {
          throw LoadError(description: "cannot list folder: \(path)")
        }
        var found: [String] = []
        // Rule test files in YAML (`*.ruletest.yaml`) sit beside the rules and are not rules.
        for name in names where extensions.contains((name as NSString).pathExtension.lowercased()) && !isTestFile(name) {
          let full = (path as NSString).appendingPathComponent(name)
          var sub: ObjCBool = false
          if fm.fileExists(atPath: full, isDirectory: &sub), !sub.boolValue { found.append(full) }
        }
        out += found.sorted()
      } else {
        out.append(path)
      }
    }
    return out
  }

  /// The rule sets under `paths` for `rulec check`: the files named, checked together as one set,
  /// then every folder at or below each folder named that holds rule files, each a set of its own
  /// (collector ids are unique within a set; twins in `rules/yaml/` repeat the ids of `rules/`).
  /// Hidden folders are skipped. Sorted, so the report is stable.
  public static func ruleSets(_ paths: [String]) throws(LoadError) -> [[String]] {
    let fm = FileManager.default
    var named: [String] = []
    var sets: [[String]] = []
    for path in paths {
      var isDirectory: ObjCBool = false
      guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw LoadError(description: "no such file or folder: \(path)")
      }
      guard isDirectory.boolValue else {
        named.append(path)
        continue
      }
      var folders = [path]
      var found: [[String]] = []
      while let folder = folders.popLast() {
        let files = try expand([folder])
        if !files.isEmpty { found.append(files) }
        guard let names = try? fm.contentsOfDirectory(atPath: folder) else {
          throw LoadError(description: "cannot list folder: \(folder)")
        }
        for name in names.sorted().reversed() where !name.hasPrefix(".") {
          let full = (folder as NSString).appendingPathComponent(name)
          var sub: ObjCBool = false
          if fm.fileExists(atPath: full, isDirectory: &sub), sub.boolValue { folders.append(full) }
        }
      }
      if found.isEmpty { throw LoadError(description: "no rule files (.rule, .yaml, .yml) in \(path) or its subfolders") }
      sets += found
    }
    return (named.isEmpty ? [] : [named]) + sets
  }

  /// Whether a file name is a rule test file's (`*.ruletest`, `*.ruletest.yaml`, `*.ruletest.yml`).
  public static func isTestFile(_ name: String) -> Bool {
    name.hasSuffix(".ruletest") || name.hasSuffix(".ruletest.yaml") || name.hasSuffix(".ruletest.yml")
  }

  /// The rule test files (`*.ruletest`, `*.ruletest.yaml`) named, and those in the folders named and their subfolders
  /// (hidden ones skipped), sorted within each folder.
  public static func testFiles(_ paths: [String]) throws(LoadError) -> [String] {
    var out: [String] = []
    let fm = FileManager.default
    for path in paths {
      var isFolder: ObjCBool = false
      guard fm.fileExists(atPath: path, isDirectory: &isFolder) else {
        throw LoadError(description: "cannot read \(path): \(String(cString: strerror(ENOENT)))")
      }
      guard isFolder.boolValue else {
        out.append(path)
        continue
      }
      let found = (fm.enumerator(atPath: path)?.allObjects as? [String] ?? [])
        .filter {
          isTestFile($0) && !$0.split(separator: "/").contains { $0.hasPrefix(".") }
        }
        .sorted()
      out += found.map { path == "." ? $0 : (path as NSString).appendingPathComponent($0) }
    }
    return out
  }

  /// Reads a file's bytes.
  public static func read(_ path: String) throws(LoadError) -> SourceFile {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw LoadError(description: "cannot read file: \(path)")
    }
    return SourceFile(path: path, bytes: [UInt8](data))
  }

  public static func isYAML(_ path: String) -> Bool {
    let ext = (path as NSString).pathExtension.lowercased()
    return ext == "yaml" || ext == "yml"
  }

  /// Parses one file with the front end its extension names.
  public static func parse(_ file: SourceFile, sink: DiagnosticSink) -> RuleFile {
    isYAML(file.path) ? YAMLFrontEnd.parse(file, sink: sink) : Parser.parse(file, sink: sink)
  }

  /// Loads rules for a command that runs or compiles them: prints every diagnostic to `err`, and
  /// returns the program, or the exit status when it cannot go on (2: file problems, 1: rule errors).
  public static func loadForUse(_ path: String, err: inout some TextOutputStream) -> Result<CheckedProgram, ExitStatus> {
    let sink = DiagnosticSink()
    let program: CheckedProgram
    do {
      program = try load([path], options: CheckOptions(), sink: sink).program
    } catch {
      err.write("rulec: \(error.description)\n")
      return .failure(ExitStatus(code: 2))
    }
    let renderer = DiagnosticRenderer(colored: false)
    for d in sink.sorted { err.write(renderer.render(d) + "\n") }
    if sink.hasErrors {
      err.write(DiagnosticRenderer.summary(errors: sink.errorCount, warnings: sink.warningCount, files: 1) + "\n")
      return .failure(ExitStatus(code: 1))
    }
    return .success(program)
  }

  /// An exit status a command stops with.
  public struct ExitStatus: Error {
    public var code: Int32
  }

  /// Parses and checks every file under `paths`.
  public static func load(_ paths: [String], options: CheckOptions, sink: DiagnosticSink) throws(LoadError) -> (
    files: [RuleFile], program: CheckedProgram
  ) {
    let files = try expand(paths).map { path throws(LoadError) in try read(path) }.map { parse($0, sink: sink) }
    let program = Checker(options: options, sink: sink).check(files)
    return (files, program)
  }
}
