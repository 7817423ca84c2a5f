import RulesLoader
import ArgumentParser
import Foundation
import RulesDiagnostics
import RulesSema
import RulesSource
import RulesSyntax

/// `rulec fmt`: prints rule files in canonical form, checks or rewrites them.
public struct Fmt: ParsableCommand {
  public static let configuration = CommandConfiguration(
    abstract: "Print rule files in canonical form.",
    discussion: """
      Formats .rule files (YAML files are left alone). Comments are kept; formatting twice changes nothing.
      Exit status: 0 done, 1 unformatted files (--check) or syntax errors, 2 usage or file problems.
      """)

  @Flag(help: "Exit 1 and list the files that are not formatted; change nothing.")
  var check = false

  @Flag(name: .customShort("w"), help: "Rewrite files in place.")
  var write = false

  @Argument(help: "Rule files or folders.")
  var paths: [String]

  public init() {}

  public func run() throws {
    var out = StandardOutput()
    var err = StandardError()
    let code = Fmt.execute(paths: paths, check: check, write: write, out: &out, err: &err)
    if code != 0 { throw ExitCode(code) }
  }

  /// Formats and reports; returns the exit status.
  public static func execute(
    paths: [String], check: Bool, write: Bool, out: inout some TextOutputStream, err: inout some TextOutputStream
  ) -> Int32 {
    let files: [String]
    do {
      files = try RuleLoader.expand(paths)
    } catch {
      err.write("rulec: \(error.description)\n")
      return 2
    }
    var status: Int32 = 0
    let renderer = DiagnosticRenderer(colored: false)
    for path in files {
      if RuleLoader.isYAML(path) {
        if paths.contains(path) { err.write("rulec: \(path): fmt formats .rule files; YAML is left as written\n") }
        continue
      }
      let source: SourceFile
      do {
        source = try RuleLoader.read(path)
      } catch {
        err.write("rulec: \(error.description)\n")
        status = 2
        continue
      }
      let sink = DiagnosticSink()
      let parsed = Parser.parse(source, sink: sink)
      if sink.hasErrors {
        for d in sink.sorted where d.severity == .error { err.write(renderer.render(d) + "\n") }
        err.write("rulec: \(path): not formatted because of syntax errors\n")
        status = max(status, 1)
        continue
      }
      let formatted = Printer.format(parsed)
      let original = String(decoding: source.bytes, as: UTF8.self)
      if check {
        if formatted != original {
          out.write("\(path)\n")
          status = max(status, 1)
        }
      } else if write {
        if formatted != original {
          do {
            try Self.replaceContents(of: path, with: Data(formatted.utf8))
          } catch {
            err.write("rulec: cannot write \(path): \(error.localizedDescription)\n")
            status = 2
          }
        }
      } else {
        out.write(formatted)
      }
    }
    return status
  }

  /// Replaces a file's contents atomically where the file really lies: through a symlink, at its
  /// target, keeping the file's permissions. A new file renamed over the path itself had turned a
  /// symlinked rule file into a plain copy, and left it with default permissions.
  static func replaceContents(of path: String, with data: Data) throws {
    let target = URL(fileURLWithPath: path).resolvingSymlinksInPath()
    let mode = (try? FileManager.default.attributesOfItem(atPath: target.path))?[.posixPermissions]
    try data.write(to: target, options: .atomic)
    if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: target.path) }
  }
}
