import Foundation
import RulesDiagnostics
import RulesEngine
import RulesSema
import RulesSource
import RulesSyntax

/// What the test cases exercised of the rules they test (`rulec test --coverage`). Each statement
/// has two outcomes to show, letting an event through and dropping one; each operand of an
/// `and`/`or` chain in a condition has one, deciding the chain (Grammar.md §13). The figure is the
/// share of outcomes some case showed, over every rule set tested.
public struct TestCoverage: Sendable {
  /// One statement's gaps.
  public struct Statement: Sendable {
    public var stage: String
    public var line: Int
    public var text: String
    public var passed: Int
    public var dropped: Int
    /// Operands of its chains that never decided one, by their text and place.
    public var undecided: [(text: String, location: LineColumn)]
    public var outcomes: Int
    public var covered: Int
  }

  public struct Collector: Sendable {
    public var file: String
    public var id: String
    public var statements: [Statement]
    public var outcomes: Int { statements.reduce(0) { $0 + $1.outcomes } }
    public var covered: Int { statements.reduce(0) { $0 + $1.covered } }
  }

  public var collectors: [Collector] = []
  public var outcomes: Int { collectors.reduce(0) { $0 + $1.outcomes } }
  public var covered: Int { collectors.reduce(0) { $0 + $1.covered } }
  /// 100 when there is nothing to cover.
  public var percent: Double { outcomes == 0 ? 100 : Double(covered) * 100 / Double(outcomes) }

  init(_ measured: [(program: CheckedProgram, coverage: Coverage)]) {
    for (program, coverage) in measured {
      for (c, collector) in program.collectors.enumerated() {
        let statements = (collector.preQueue ?? []).map { ("pre_queue", $0) } + (collector.postQueue ?? []).map { ("post_queue", $0) }
        var out = Collector(file: collector.file.path, id: collector.id, statements: [])
        for (k, (stage, s)) in statements.enumerated() {
          let counts = coverage.collectors[c][k]
          let undecided = counts.branches.filter { $0.decided == 0 }.map {
            (text: collector.file.text($0.operand.range), location: collector.file.location(of: $0.operand.range.start))
          }
          out.statements.append(
            Statement(
              stage: stage, line: collector.file.location(of: s.range.start).line, text: collector.file.text(s.range),
              passed: counts.passed, dropped: counts.dropped, undecided: undecided, outcomes: 2 + counts.branches.count,
              covered: (counts.passed > 0 ? 1 : 0) + (counts.dropped > 0 ? 1 : 0) + counts.branches.count - undecided.count))
        }
        collectors.append(out)
      }
    }
  }

  public static func percentText(_ covered: Int, _ outcomes: Int) -> String {
    String(format: "%.1f%%", outcomes == 0 ? 100 : Double(covered) * 100 / Double(outcomes))
  }

  /// Each collector's figure, and under it what no case showed.
  public var human: String {
    var out = "coverage: \(Self.percentText(covered, outcomes)) (\(covered) of \(outcomes) outcomes)\n"
    var file: String?
    for c in collectors {
      if c.file != file {
        file = c.file
        out += "  \(c.file)\n"
      }
      out += "    \(c.id): \(Self.percentText(c.covered, c.outcomes))\n"
      for s in c.statements where s.covered < s.outcomes {
        var gaps: [String] = []
        if s.passed == 0 && s.dropped == 0 {
          gaps.append("never reached")
        } else {
          if s.passed == 0 { gaps.append("never let an event through") }
          if s.dropped == 0 { gaps.append("never dropped an event") }
        }
        gaps += s.undecided.map { "'\($0.text)' never decided" }
        out += "      \(s.stage) line \(s.line): \(s.text)\n"
        for gap in gaps { out += "        \(gap)\n" }
      }
    }
    return out
  }

  public var json: JSONValue {
    .object([
      ("percent", .double((percent * 10).rounded() / 10)), ("outcomes", .int(outcomes)), ("covered", .int(covered)),
      (
        "collectors",
        .array(
          collectors.map { c in
            .object([
              ("file", .string(c.file)), ("collector", .string(c.id)), ("outcomes", .int(c.outcomes)), ("covered", .int(c.covered)),
              (
                "statements",
                .array(
                  c.statements.map { s in
                    .object([
                      ("stage", .string(s.stage)), ("line", .int(s.line)), ("text", .string(s.text)), ("passed", .int(s.passed)),
                      ("dropped", .int(s.dropped)),
                      (
                        "undecided",
                        .array(s.undecided.map { .object([("text", .string($0.text)), ("line", .int($0.location.line)), ("column", .int($0.location.column))]) })
                      ),
                    ])
                  })
              ),
            ])
          })
      ),
    ])
  }
}
