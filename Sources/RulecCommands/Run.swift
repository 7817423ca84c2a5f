import ArgumentParser
import Foundation
import RulesDiagnostics
import RulesRunner
import RulesSema
import RulesSource
import RulesSyntax

/// `rulec run`: dry-runs collectors over recorded predictions.
public struct Run: ParsableCommand {
  public static let configuration = CommandConfiguration(
    abstract: "Dry-run collectors over recorded model outputs (JSON Lines).",
    discussion: """
      Writes one PostInputs item per accepted input (stdout or --out) and a funnel report on standard
      error (and as JSON with --report). Exit status: 0 done, 1 rule errors, 2 usage or file problems,
      3 some lines could not be read (they are counted and listed in the report).
      """)

  @Argument(help: "A rule file, a YAML file or a folder.")
  var rules: String

  @Option(name: .customLong("events"), parsing: .upToNextOption, help: "Recordings (JSON Lines); '-' for standard input.")
  var events: [String]

  @Option(help: "Write accepted items here instead of standard output.")
  var out: String?

  @Option(help: "Write the report as JSON here.")
  var report: String?

  @Flag(help: "Stop at the first bad line.")
  var strict = false

  @Option(help: "Print every statement met by the events of this input id, with the values seen.")
  var explain: String?

  @Option(help: "Threads that decode events (the output and report do not depend on it).")
  var jobs = 1

  @Option(help: .hidden)
  var engine: Runner.Engine = .vm

  public init() {}

  public func validate() throws {
    if events.isEmpty { throw ValidationError("give at least one recording with --events FILE") }
    if jobs < 1 || jobs > 256 { throw ValidationError("--jobs takes a number from 1 to 256") }
  }

  public func run() throws {
    var err = StandardError()
    let status = Run.execute(
      rules: rules, events: events, out: out, report: report, strict: strict, explain: explain, engine: engine,
      jobs: jobs, err: &err, stdout: { FileHandle.standardOutput.write(Data($0.utf8)) })
    if status != 0 { throw ExitCode(status) }
  }

  /// Runs and reports; returns the exit status. `stdout` receives the accepted items when `out` is nil.
  public static func execute(
    rules: String, events: [String], out: String?, report reportPath: String?, strict: Bool, explain: String?,
    engine: Runner.Engine = .vm, jobs: Int = 1, err: inout some TextOutputStream, stdout: (String) -> Void
  ) -> Int32 {
    let sink = DiagnosticSink()
    let program: CheckedProgram
    do {
      program = try RuleLoader.load([rules], options: CheckOptions(), sink: sink).program
    } catch {
      err.write("rulec: \(error.description)\n")
      return 2
    }
    let renderer = DiagnosticRenderer(colored: false)
    if sink.hasErrors {
      for d in sink.sorted { err.write(renderer.render(d) + "\n") }
      err.write(DiagnosticRenderer.summary(errors: sink.errorCount, warnings: sink.warningCount, files: 1) + "\n")
      return 1
    }
    for d in sink.sorted { err.write(renderer.render(d) + "\n") }

    var output: FileHandle?
    if let out {
      guard FileManager.default.createFile(atPath: out, contents: nil), let h = FileHandle(forWritingAtPath: out) else {
        err.write("rulec: cannot write \(out)\n")
        return 2
      }
      output = h
    }
    // The runner hands over items in blocks of about 1 MiB rather than one write per item.
    func write(_ block: [UInt8]) {
      if let output { output.write(Data(block)) } else { stdout(String(decoding: block, as: UTF8.self)) }
    }
    let runner: Runner
    do {
      runner = try Runner(program: program, engine: engine)
    } catch {
      err.write("rulec: internal error: the compiled rules failed verification: \(error)\n")
      return 1
    }
    runner.stopAtBadLine = strict
    runner.jobs = jobs
    runner.explainInput = explain
    var stopped: Runner.StoppedAtBadLine?
    for path in events {
      let handle: FileHandle
      if path == "-" {
        handle = FileHandle.standardInput
      } else {
        guard let h = FileHandle(forReadingAtPath: path) else {
          err.write("rulec: cannot read \(path)\n")
          return 2
        }
        handle = h
      }
      do {
        try runner.run(ChunkReader(handle: handle), emit: write)
      } catch let e as Runner.StoppedAtBadLine {
        stopped = e
        break
      } catch {
        err.write("rulec: cannot read \(path): \(error.localizedDescription)\n")
        return 2
      }
    }
    try? output?.close()
    if explain != nil {
      err.write("explain \(explain!):\n" + (runner.explanation.isEmpty ? "  no event of this input reached a collector\n" : runner.explanation.joined(separator: "\n") + "\n"))
    }
    err.write(runner.report.human)
    if let reportPath {
      do {
        try Data((runner.report.json.rendered() + "\n").utf8).write(to: URL(fileURLWithPath: reportPath))
      } catch {
        err.write("rulec: cannot write \(reportPath): \(error.localizedDescription)\n")
        return 2
      }
    }
    if let stopped {
      err.write("rulec: stopped at bad line \(stopped.line): \(stopped.reason)\n")
      return 3
    }
    return runner.report.badLineCount > 0 ? 3 : 0
  }
}

extension Runner.Engine: ExpressibleByArgument {}
