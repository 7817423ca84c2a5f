import ArgumentParser
import Foundation
import RulesDiagnostics
import RulesEngine
import RulesEvents
import RulesLoader
import RulesRunner
import RulesSema

/// `rulec diff`: what a change to the rules changes, statically and on a recording.
public struct Diff: ParsableCommand {
  public static let configuration = CommandConfiguration(
    abstract: "Compare two versions of rules: statements changed, and inputs gained and lost on a recording.",
    discussion: """
      OLD and NEW are rule files or folders, or git revisions of them (HEAD~1:rules/). Both versions \
      run in one pass over the recording.
      --fail-if METRIC OP VALUE fails the run (exit 1) when a collector meets it: METRIC is accepted, \
      gained or lost; OP is >, >=, < or <=; VALUE is a count, or for accepted a ratio of new to old \
      (2x). Exit status: 0 no --fail-if met, 1 one met, 2 rules or events that cannot be read, 3 no \
      output of the recording reached a collector of either version.
      """)

  @Argument(help: "The rules before the change: a file, a folder, or REVISION:PATH.") var old: String
  @Argument(help: "The rules after the change.") var new: String
  @Option(name: .long, help: "Recordings to run both versions on (JSON Lines, plain or .gz).") var events: [String] = []
  @Option(help: "Output format: human or json.") var format: OutputFormat = .human
  @Option(help: "Fail when a collector meets this, as 'accepted > 2x' or 'lost > 0' (repeatable).") var failIf: [String] = []
  @Option(help: "Example input ids listed per collector for gains and losses.") var examples = 5

  public init() {}

  public func validate() throws {
    guard format != .sarif else { throw ValidationError("--format is human or json") }
    for gate in failIf { _ = try Gate(gate) }
  }

  public func run() throws {
    var out = StandardOutput()
    var err = StandardError()
    let code = Diff.execute(old: old, new: new, events: events, format: format, failIf: failIf, examples: examples, out: &out, err: &err)
    if code != 0 { throw ExitCode(code) }
  }

  /// `--fail-if METRIC OP VALUE`.
  struct Gate: CustomStringConvertible {
    enum Metric: String { case accepted, gained, lost }
    var metric: Metric
    var op: String
    var value: Double
    var ratio: Bool
    var description: String

    init(_ text: String) throws {
      let parts = text.split(separator: " ").map(String.init)
      guard parts.count == 3, let metric = Metric(rawValue: parts[0]), [">", ">=", "<", "<="].contains(parts[1]) else {
        throw ValidationError("--fail-if '\(text)': write METRIC OP VALUE, as 'accepted > 2x' or 'lost > 0' (METRIC: accepted, gained, lost)")
      }
      var value = parts[2]
      ratio = value.hasSuffix("x")
      if ratio { value.removeLast() }
      guard let number = Double(value), number >= 0, !ratio || metric == .accepted else {
        throw ValidationError("--fail-if '\(text)': the value is a count, or for accepted a ratio such as 2x")
      }
      self.metric = metric
      op = parts[1]
      self.value = number
      description = text
    }

    /// Whether an outcome meets the gate (a ratio needs both versions; from 0, any gain is infinite).
    func met(_ o: RuleDiff.Outcome) -> Bool {
      let x: Double
      switch metric {
      case .accepted:
        guard let n = o.accepted.new else { return false }
        if ratio {
          guard let before = o.accepted.old else { return false }
          x = before == 0 ? (n == 0 ? 1 : .infinity) : Double(n) / Double(before)
        } else {
          x = Double(n)
        }
      case .gained: x = Double(o.gained.count)
      case .lost: x = Double(o.lost.count)
      }
      switch op {
      case ">": return x > value
      case ">=": return x >= value
      case "<": return x < value
      default: return x <= value
      }
    }
  }

  /// Runs the comparison and prints it; returns the exit status. Used in-process by tests.
  public static func execute(
    old: String, new: String, events: [String], format: OutputFormat, failIf: [String] = [], examples: Int = 5,
    out: inout some TextOutputStream, err: inout some TextOutputStream
  ) -> Int32 {
    let gates: [Gate]
    do {
      gates = try failIf.map(Gate.init)
    } catch {
      err.write("rulec: \(error)\n")
      return 2
    }
    var scratch: [String] = []
    defer { for folder in scratch { try? FileManager.default.removeItem(atPath: folder) } }
    var programs: [CheckedProgram] = []
    for spec in [old, new] {
      let path: String
      do {
        path = try materialize(spec, scratch: &scratch)
      } catch {
        err.write("rulec: \(error)\n")
        return 2
      }
      switch RuleLoader.loadForUse(path, err: &err) {
      case .success(let p): programs.append(p)
      case .failure(let status): return status.code == 1 ? 2 : status.code
      }
    }
    let diff = RuleDiff(old: programs[0], new: programs[1])
    var outcomes: [RuleDiff.Outcome]?
    var lines = 0
    var reachedNothing = false
    if !events.isEmpty {
      let runner: Runner
      do {
        runner = try Runner(program: diff.program)
      } catch {
        err.write("rulec: internal error: the compiled rules failed verification: \(error)\n")
        return 1
      }
      var accepted = Array(repeating: Set<String>(), count: diff.program.collectors.count)
      // The engine hands over each accepted input as a compact record (its collector, its source
      // input id) instead of writing an item: 1.5 → 1.1 times a run (Documentation/Performance.md).
      runner.recordsAcceptedInputs = true
      func note(_ block: [UInt8]) {
        AcceptedInputRecords.forEach(in: block) { collector, input in
          if collector < accepted.count { accepted[collector].insert(input) }
        }
      }
      for path in events {
        do {
          let recording = try RecordingFile(path: path)
          if let document = try recording.documentBytes(limit: Run.largestDocument), try runner.run(document: document, emit: note) { continue }
          try runner.run(ChunkReader(source: recording.source()), emit: note)
        } catch {
          err.write("rulec: cannot read \(path): \(error)\n")
          return 2
        }
      }
      lines = runner.report.lines
      if runner.report.badLineCount > 0 { err.write("rulec: \(runner.report.badLineCount) bad lines skipped (rulec run lists them)\n") }
      outcomes = diff.outcomes(report: runner.report, accepted: accepted)
      if runner.report.events == runner.report.skippedModel + runner.report.skippedStatus {
        // A zero is never silent: a recording that reached no collector compares nothing.
        let seen = runner.report.skippedModels.prefix(5).map { "\($0.path) (\($0.count))" }.joined(separator: ", ")
        err.write("rulec: no output of the recording reached a collector of either version\(seen.isEmpty ? "" : "; models seen: \(seen)")\n")
        reachedNothing = true
      }
    }
    let tripped = (outcomes ?? []).flatMap { o in gates.filter { $0.met(o) }.map { (o.id, $0) } }
    out.write(
      format == .json
        ? render(json: diff, outcomes, old: old, new: new, events: events, tripped: tripped, examples: examples)
        : render(human: diff, outcomes, old: old, new: new, events: events, lines: lines, tripped: tripped, examples: examples))
    if !tripped.isEmpty { return 1 }
    return reachedNothing ? 3 : 0
  }

  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// A path as given, or `REVISION:PATH` checked out from git into a scratch folder.
  static func materialize(_ spec: String, scratch: inout [String]) throws -> String {
    if FileManager.default.fileExists(atPath: spec) { return spec }
    guard let colon = spec.firstIndex(of: ":"), colon != spec.startIndex else {
      throw Failure(description: "cannot read \(spec): \(String(cString: strerror(ENOENT)))")
    }
    let revision = String(spec[..<colon])
    var path = String(spec[spec.index(after: colon)...])
    if path.isEmpty { path = "." }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-diff-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    scratch.append(folder)
    // `git archive` writes the revision's files under PATH (for a file, its whole folder, which
    // holds the map files it names); tar unpacks them into the scratch folder.
    let script = "git archive --format=tar \"$1\" -- \"$2\" | tar -x -C \"$3\""
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    let tree = path.hasSuffix("/") || !RuleLoader.extensions.contains((path as NSString).pathExtension) ? path : (path as NSString).deletingLastPathComponent
    process.arguments = ["-c", "set -o pipefail; " + script, "bash", revision, tree.isEmpty ? "." : tree, folder]
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    process.waitUntilExit()
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let result = (folder as NSString).appendingPathComponent(path)
    guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: result) else {
      throw Failure(description: "cannot read \(path) at git revision \(revision)\(message.isEmpty ? "" : ": \(message)")")
    }
    return result
  }

  static func percent(_ part: Int?, _ whole: Int?) -> String {
    guard let part, let whole, whole > 0 else { return "-" }
    return String(format: "%.1f%%", Double(part) * 100 / Double(whole))
  }

  static func render(
    human diff: RuleDiff, _ outcomes: [RuleDiff.Outcome]?, old: String, new: String, events: [String], lines: Int,
    tripped: [(String, Gate)], examples: Int
  ) -> String {
    var out = "rulec diff \(old) → \(new)\n"
    var statics = ""
    for p in diff.pairs {
      switch (p.old, p.new) {
      case (nil, _): statics += "  + collector \(p.id) (added)\n"
      case (_, nil): statics += "  - collector \(p.id) (removed)\n"
      default:
        let clauses = diff.clauseChanges(p)
        let changes = diff.statementChanges(p)
        guard !clauses.isEmpty || !changes.isEmpty else { continue }
        statics += "  \(p.id)\n"
        for c in clauses { statics += "    ~ \(c)\n" }
        for c in changes {
          switch c.kind {
          case .added: statics += "    + \(c.stage) line \(c.newLine!): \(c.newText!)\n"
          case .removed: statics += "    - \(c.stage) line \(c.oldLine!): \(c.oldText!)\n"
          case .changed:
            let moved = c.moved.isEmpty ? "" : " (" + c.moved.map { "\(Self.number($0.0)) → \(Self.number($0.1))" }.joined(separator: ", ") + ")"
            statics += "    ~ \(c.stage) line \(c.oldLine!) → \(c.newLine!): \(c.oldText!) → \(c.newText!)\(moved)\n"
          }
        }
      }
    }
    out += statics.isEmpty ? "no change to collectors or statements\n" : "changes\n" + statics
    guard let outcomes else { return out + "(no --events: the effect on a recording is not shown)\n" }
    out += "on \(lines) line\(lines == 1 ? "" : "s") of \(events.joined(separator: ", "))\n"
    for o in outcomes {
      let before = o.accepted.old.map(String.init) ?? "-"
      let after = o.accepted.new.map(String.init) ?? "-"
      out += "  \(o.id): accepted \(before) → \(after) (\(percent(o.accepted.old, o.events.old)) → \(percent(o.accepted.new, o.events.new)) of the events it saw), gained \(o.gained.count), lost \(o.lost.count)\n"
      if !o.gained.isEmpty { out += "    gained e.g. " + o.gained.prefix(examples).joined(separator: ", ") + "\n" }
      if !o.lost.isEmpty { out += "    lost e.g. " + o.lost.prefix(examples).joined(separator: ", ") + "\n" }
      guard o.accepted.old != o.accepted.new || !o.gained.isEmpty || !o.lost.isEmpty else { continue }
      let pair = diff.pairs.first { $0.id == o.id }!
      let rows = diff.alignment(pair)
      guard !rows.isEmpty else { continue }
      out += "    funnel (passed/dropped)   old → new\n"
      for row in rows {
        let a = row.old.map { o.funnel.old[$0] }
        let b = row.new.map { o.funnel.new[$0] }
        let text = row.new.map { diff.statementText(pair.new!, $0) } ?? diff.statementText(pair.old!, row.old!)
        let counts = { (s: RunReport.StatementCount?) in s.map { "\($0.passed)/\($0.dropped)" } ?? "-" }
        out += "      \(row.stage) \(text): \(counts(a)) → \(counts(b))\n"
      }
    }
    for (id, gate) in tripped { out += "fail-if met: \(id): \(gate)\n" }
    return out
  }

  static func number(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d) }

  static func render(
    json diff: RuleDiff, _ outcomes: [RuleDiff.Outcome]?, old: String, new: String, events: [String], tripped: [(String, Gate)],
    examples: Int
  ) -> String {
    func optional(_ n: Int?) -> JSONValue { n.map { .int($0) } ?? .null }
    let collectors: [JSONValue] = diff.pairs.enumerated().map { (k, p) in
      var fields: [(String, JSONValue)] = [
        ("id", .string(p.id)), ("status", .string(p.old == nil ? "added" : p.new == nil ? "removed" : "both")),
        ("clauses", .array(diff.clauseChanges(p).map(JSONValue.string))),
        (
          "statements",
          .array(
            diff.statementChanges(p).map { c in
              .object([
                ("change", .string(c.kind.rawValue)), ("stage", .string(c.stage)), ("old_line", optional(c.oldLine)),
                ("new_line", optional(c.newLine)), ("old", c.oldText.map(JSONValue.string) ?? .null), ("new", c.newText.map(JSONValue.string) ?? .null),
                ("moved", .array(c.moved.map { .array([.double($0.0), .double($0.1)]) })),
              ])
            })
        ),
      ]
      if let o = outcomes?[k] {
        fields += [
          ("events", .object([("old", optional(o.events.old)), ("new", optional(o.events.new))])),
          ("accepted", .object([("old", optional(o.accepted.old)), ("new", optional(o.accepted.new))])),
          ("gained", .int(o.gained.count)), ("lost", .int(o.lost.count)),
          ("gained_examples", .array(o.gained.prefix(examples).map(JSONValue.string))),
          ("lost_examples", .array(o.lost.prefix(examples).map(JSONValue.string))),
        ]
      }
      return .object(fields)
    }
    return JSONValue.object([
      ("old", .string(old)), ("new", .string(new)), ("events", .array(events.map(JSONValue.string))), ("collectors", .array(collectors)),
      ("fail_if_met", .array(tripped.map { .object([("collector", .string($0.0)), ("gate", .string($0.1.description))]) })),
    ]).rendered() + "\n"
  }
}
