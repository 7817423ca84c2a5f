import RulesLoader
import ArgumentParser
import Foundation
import RulesDiagnostics
import RulesEngine
import RulesEvents
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
      3 some lines could not be read (they are counted and listed in the report), 4 with --forward when
      some inputs were not delivered (they stay in the queue or the dead letters of --state).
      """)

  @Argument(help: "A rule file, a YAML file or a folder.")
  var rules: String

  @Option(name: .customLong("events"), parsing: .upToNextOption, help: "Recordings (JSON Lines); '-' for standard input.")
  var events: [String]

  @Option(help: "Write accepted items here instead of standard output.")
  var out: String?

  @Option(help: "Write the report as JSON here.")
  var report: String?

  @Flag(help: "Stop at the first bad line, and exit 3 on a warning (most outputs reaching no collector).")
  var strict = false

  @Option(help: "Print every statement met by the events of this input id, with the values seen.")
  var explain: String?

  @Option(help: "Threads that decode events: the run's own and N − 1 more (the output and report do not depend on it).")
  var jobs = 1

  @Option(help: "Show how many inputs each collector accepts as the threshold EXPR is compared with moves.")
  var sweep: String?

  @Option(help: "Sweep from this threshold (default 0).")
  var from: Double?

  @Option(help: "Sweep to this threshold (default 1 for probabilities, else twice the largest threshold).")
  var to: Double?

  @Option(help: "Sweep in this many steps.")
  var steps = 20

  @Flag(help: "Also send the accepted inputs to their destination apps (through the queue in --state).")
  var forward = false

  @Flag(help: "Never show the progress bar (shown when standard error is a terminal).")
  var noProgress = false

  @Option(help: "The state folder that holds the forwarding queue and dead letters.")
  var state = "./rulec-state"

  @Option(help: "Clarifai's API base URL.")
  var apiBase = "https://api.clarifai.com"

  @Option(help: "Give up waiting for retries after this many seconds (what is left stays queued).")
  var forwardTimeout = 300.0

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
      jobs: jobs, sweep: sweep.map { SweepRequest(expression: $0, from: from, to: to, steps: steps) },
      // The bar uses no colour: NO_COLOR does not hide it (a terminal still wants to see a run move).
      progress: isatty(2) != 0 && !noProgress,
      forward: forward ? ForwardRequest(state: state, apiBase: apiBase, timeout: forwardTimeout) : nil, err: &err,
      stdout: { writeText(STDOUT_FILENO, $0) }, stdoutBytes: { Run.writeAll(STDOUT_FILENO, $0) })
    if status != 0 { throw ExitCode(status) }
  }

  /// Writes all of `bytes` to `fd`, straight from the array (going through `Data` copied each 1 MiB
  /// block); nil, or the `errno` of the write that failed.
  public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
    bytes.withUnsafeBytes { writeAll(fd, $0) }
  }

  static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer) -> Int32? {
    var done = 0
    while done < raw.count {
      #if canImport(Glibc)
        let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
      #else
        let n = Darwin.write(fd, raw.baseAddress! + done, raw.count - done)
      #endif
      if n < 0 {
        if errno == EINTR { continue }
        return errno
      }
      done += n
    }
    return nil
  }

  /// Runs and reports; returns the exit status. `stdout` receives the accepted items when `out` is nil
  /// (or `stdoutBytes`, when given, receives them as they are: making a `String` of each 1 MiB block
  /// validated it as UTF-8 again, 3% of a run that accepts most inputs; it returns the write error).
  public static func execute(
    rules: String, events: [String], out: String?, report reportPath: String?, strict: Bool, explain: String?,
    engine: Runner.Engine = .vm, jobs: Int = 1, sweep: SweepRequest? = nil, progress: Bool = false,
    forward: ForwardRequest? = nil, err: inout some TextOutputStream, stdout: (String) -> Void,
    stdoutBytes: (([UInt8]) -> Int32?)? = nil
  ) -> Int32 {
    let program: CheckedProgram
    switch RuleLoader.loadForUse(rules, err: &err) {
    case .success(let p): program = p
    case .failure(let status): return status.code
    }

    var sweeping: Sweep?
    var runProgram = program
    if let sweep {
      do {
        sweeping = try Sweep(expression: sweep.expression, program: program, from: sweep.from, to: sweep.to, steps: sweep.steps)
        runProgram = sweeping!.program
      } catch {
        err.write("rulec: \(error.description)\n")
        return 2
      }
    }

    // The items go to a new file that replaces `--out` only once every event was read: a run that
    // fails leaves the old file as it was (it used to be emptied before the events were opened).
    var outputFile: OutputFile?
    defer { outputFile?.discard() }
    if let out {
      do {
        outputFile = try OutputFile(path: out)
      } catch {
        err.write("rulec: \(error.description)\n")
        return 2
      }
    }
    let output = outputFile?.descriptor
    // The runner hands over items in blocks of about 1 MiB rather than one write per item. A write
    // that fails (a full disk) is reported when the run ends, and the items after it are not
    // written; `FileHandle.write` had stopped the process on it.
    var writeError: Int32?
    func write(_ block: [UInt8]) {
      guard sweeping == nil, writeError == nil else { return }  // a sweep prints its table instead of items
      if let output {
        writeError = Run.writeAll(output, block)
      } else if let stdoutBytes {
        writeError = stdoutBytes(block)
      } else {
        stdout(String(decoding: block, as: UTF8.self))
      }
    }
    let runner: Runner
    do {
      runner = try Runner(program: runProgram, engine: engine)
    } catch {
      err.write("rulec: internal error: the compiled rules failed verification: \(error)\n")
      return 1
    }
    runner.stopAtBadLine = strict
    runner.jobs = jobs
    var backfill: Backfill?
    // The state folder is given up when the run ends, not when the last reference to its store goes.
    defer { backfill?.store.releaseLock() }
    if let forward {
      do {
        backfill = try Backfill(forward, program: program)
      } catch {
        err.write("rulec: \(error)\n")
        return 2
      }
      runner.onAccept = { collector, id, item in backfill!.add(collector, id, item) }
    }
    runner.explainInput = explain
    var stopped: Runner.StoppedAtBadLine?
    for path in events {
      do {
        let recording: RecordingFile
        do {
          recording = try RecordingFile(path: path)
        } catch {
          err.write("rulec: cannot read \(path): \(error)\n")
          return 2
        }
        // A recording that is one JSON document (an indented response, an array of outputs) rather
        // than JSON Lines is read whole.
        do {
          if let document = try recording.documentBytes(limit: Self.largestDocument), try runner.run(document: document, emit: write) { continue }
        } catch let tooLarge as RecordingFile.DocumentTooLarge {
          err.write("rulec: \(path): \(tooLarge)\n")
          return 2
        }
        // Progress in bytes of the file, which a gzip file's decompressed bytes are not.
        let meter = progress ? ProgressMeter(total: recording.isGzip ? nil : recording.size) : nil
        try runner.run(ChunkReader(source: recording.source()), emit: write, progress: meter.map { m in { bytes, events in m.update(bytes: bytes, events: events) } })
        meter?.finish()
      } catch let e as Runner.StoppedAtBadLine {
        stopped = e
        break
      } catch {
        err.write("rulec: cannot read \(path): \(error)\n")
        return 2
      }
    }
    if explain != nil {
      err.write("explain \(explain!):\n" + (runner.explanation.isEmpty ? "  no event of this input reached a collector\n" : runner.explanation.joined(separator: "\n") + "\n"))
    }
    if let sweeping {
      stdout(sweeping.render(runner.report, original: program))
      if runner.report.badLineCount > 0 { err.write("\(runner.report.badLineCount) bad lines (run without --sweep to list them)\n") }
      return runner.report.badLineCount > 0 ? 3 : 0
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
    // After the report, which holds what the run found even when its items could not all be written.
    if let writeError {
      err.write("rulec: cannot write \(out ?? "standard output"): \(String(cString: strerror(writeError)))\n")
      return 2
    }
    if let stopped {
      err.write("rulec: stopped at bad line \(stopped.line): \(stopped.reason)\n")
      return 3
    }
    if let outputFile, let out {
      do {
        try outputFile.commit(as: out)
      } catch {
        err.write("rulec: \(error.description)\n")
        return 2
      }
    }
    if let backfill {
      do {
        let summary = try backfill.finish()
        err.write(summary.text)
        if !summary.complete { return 4 }
      } catch let failure as Backfill.QueueFailure {
        err.write("rulec: \(failure)\n")
        return 2
      } catch {
        err.write("rulec: forwarding failed: \(error)\n")
        return 4
      }
    }
    // A run that collected from nothing fails; one that mostly did, under --strict.
    if runner.report.badLineCount > 0 || runner.report.reachedNoCollector { return 3 }
    return strict && !runner.report.warnings.isEmpty ? 3 : 0
  }
}

extension Runner.Engine: ExpressibleByArgument {}

extension Run {
  /// The largest recording read as one JSON document (it is held in memory whole).
  static let largestDocument = 1 << 30
}

/// The options of `--sweep`.
public struct SweepRequest: Sendable {
  public var expression: String
  public var from: Double?
  public var to: Double?
  public var steps: Int

  public init(expression: String, from: Double? = nil, to: Double? = nil, steps: Int = 20) {
    self.expression = expression
    self.from = from
    self.to = to
    self.steps = steps
  }
}

/// A one-line progress display on standard error, redrawn at most four times a second.
final class ProgressMeter {
  let total: Int?
  let start = Date()
  var last = Date.distantPast
  var base = 0
  var shown = false

  init(total: Int?) { self.total = total }

  func update(bytes: Int, events: Int) {
    let now = Date()
    guard now.timeIntervalSince(last) >= 0.25 else { return }
    last = now
    let done = base + bytes
    let seconds = max(0.001, now.timeIntervalSince(start))
    var line = "\r\u{1B}[K"
    if let total, total > 0 {
      let fraction = min(1, Double(done) / Double(total))
      let filled = Int(fraction * 30)
      line += "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: 30 - filled) + "] "
      line += String(format: "%3.0f%% ", fraction * 100)
    }
    line += String(format: "%.1f MB/s, %d events", Double(done) / seconds / 1e6, events)
    writeText(STDERR_FILENO, line)
    shown = true
  }

  func finish() {
    if shown { writeText(STDERR_FILENO, "\r\u{1B}[K") }
  }
}
