import Foundation
import RulesDiagnostics

/// The results of a `rulec test` run, printed for people, as JSON, or as JUnit XML for CI systems.
public struct TestReport: Sendable {
  public var results: [CaseResult]
  /// Test files read (a file whose cases all failed to parse still counts).
  public var files: Int
  public var seconds: Double
  /// With `--coverage`: what the cases exercised.
  public var coverage: TestCoverage?
  /// `--min-coverage`: the run fails below this percentage.
  public var minimumCoverage: Double?

  public init(results: [CaseResult], files: Int, seconds: Double, coverage: TestCoverage? = nil, minimumCoverage: Double? = nil) {
    self.results = results
    self.files = files
    self.seconds = seconds
    self.coverage = coverage
    self.minimumCoverage = minimumCoverage
  }

  /// Whether the coverage is below `--min-coverage`.
  public var coverageTooLow: Bool {
    guard let minimumCoverage, let coverage else { return false }
    return coverage.percent < minimumCoverage
  }

  public var passed: Int { results.count { $0.status == .passed } }
  public var failed: Int { results.count { $0.status == .failed } }
  public var errors: Int { results.count { $0.status == .error } }

  /// 0 when every case passed, 1 when one failed, 2 when one could not run (or there were none).
  public var exitStatus: Int32 {
    if results.isEmpty || errors > 0 { return 2 }
    return failed > 0 || coverageTooLow ? 1 : 0
  }

  static func duration(_ s: Double) -> String {
    s < 1 ? String(format: "%.1f ms", s * 1000) : String(format: "%.2f s", s)
  }

  /// As `swift test` prints: each case, and under a failing one what was expected, what the rules
  /// did, and the trace of the event's input.
  public func human(colored: Bool = false) -> String {
    func paint(_ text: String, _ code: String) -> String { colored ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    var out = ""
    var file: String?
    for r in results {
      if r.file != file {
        file = r.file
        out += "\(r.file)\n"
      }
      switch r.status {
      case .passed:
        out += "  \(paint("✔", "32")) \(r.name) (\(Self.duration(r.seconds)))\n"
      case .failed:
        out += "  \(paint("✘", "31")) \(r.name)\n"
        for f in r.failures {
          out += "      \(r.file):\(f.location.line):\(f.location.column): expected \(f.collector) \(f.expected)\n"
          out += "      got \(f.got)\n"
          if !f.trace.isEmpty {
            out += "      trace of input \(f.input ?? "?"):\n"
            for line in f.trace { out += "      \(line.trimmingCharacters(in: .whitespaces))\n" }
          }
        }
      case .error:
        out += "  \(paint("!", "33")) \(r.name): not run, \(r.error ?? "an error")\n"
      }
    }
    var summary = "\(results.count) test\(results.count == 1 ? "" : "s") in \(files) file\(files == 1 ? "" : "s"): \(passed) passed"
    if failed > 0 { summary += ", \(failed) failed" }
    if errors > 0 { summary += ", \(errors) not run (errors)" }
    out += summary + " (\(Self.duration(seconds)))\n"
    if let coverage { out += coverage.human }
    if coverageTooLow, let minimumCoverage, let coverage {
      out += "coverage \(TestCoverage.percentText(coverage.covered, coverage.outcomes)) is below --min-coverage \(Self.number(minimumCoverage))%\n"
    }
    return out
  }

  public var json: String {
    JSONValue.object([
      (
        "tests",
        .array(
          results.map { r in
            var fields: [(String, JSONValue)] = [
              ("file", .string(r.file)), ("name", .string(r.name)), ("line", .int(r.location.line)), ("status", .string(r.status.rawValue)),
              ("seconds", .double(r.seconds)), ("checks", .int(r.checks)),
            ]
            if !r.failures.isEmpty {
              fields.append(
                (
                  "failures",
                  .array(
                    r.failures.map { f in
                      .object([
                        ("collector", .string(f.collector)), ("expected", .string(f.expected)), ("got", .string(f.got)),
                        ("line", .int(f.location.line)), ("column", .int(f.location.column)),
                        ("input", f.input.map(JSONValue.string) ?? .null), ("trace", .array(f.trace.map { .string($0.trimmingCharacters(in: .whitespaces)) })),
                      ])
                    })
                ))
            }
            if let e = r.error { fields.append(("error", .string(e))) }
            return .object(fields)
          })
      ),
      (
        "summary",
        .object([
          ("files", .int(files)), ("tests", .int(results.count)), ("passed", .int(passed)), ("failed", .int(failed)),
          ("errors", .int(errors)), ("seconds", .double(seconds)),
        ])
      ),
    ] + (coverage.map { [("coverage", $0.json)] } ?? [])).rendered() + "\n"
  }

  /// JUnit XML as Jenkins, GitLab and GitHub's test reporters read it: a `testsuite` per test file,
  /// a `testcase` per case, `failure` with the expectation and the trace, `error` for a case that
  /// could not run.
  public var junit: String {
    var out = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
    out += #"<testsuites name="rulec test" tests="\#(results.count)" failures="\#(failed)" errors="\#(errors)" time="\#(Self.seconds(seconds))">"# + "\n"
    var order: [String] = []
    var byFile: [String: [CaseResult]] = [:]
    for r in results {
      if byFile[r.file] == nil { order.append(r.file) }
      byFile[r.file, default: []].append(r)
    }
    for file in order {
      let cases = byFile[file]!
      let time = cases.reduce(0) { $0 + $1.seconds }
      out += "  <testsuite name=\"\(Self.escape(file))\" tests=\"\(cases.count)\" failures=\"\(cases.count { $0.status == .failed })\" "
      out += "errors=\"\(cases.count { $0.status == .error })\" skipped=\"0\" time=\"\(Self.seconds(time))\">\n"
      let classname = Self.escape(Self.className(file))
      for r in cases {
        out += "    <testcase name=\"\(Self.escape(r.name))\" classname=\"\(classname)\" file=\"\(Self.escape(r.file))\" line=\"\(r.location.line)\" time=\"\(Self.seconds(r.seconds))\""
        switch r.status {
        case .passed:
          out += "/>\n"
        case .failed:
          out += ">\n"
          let first = r.failures[0]
          let message = "expected \(first.collector) \(first.expected), got \(first.got)"
          var text = ""
          for f in r.failures {
            text += "\(r.file):\(f.location.line):\(f.location.column): expected \(f.collector) \(f.expected)\ngot \(f.got)\n"
            for line in f.trace { text += line.trimmingCharacters(in: .whitespaces) + "\n" }
          }
          out += "      <failure message=\"\(Self.escape(message))\" type=\"expectation\">\(Self.escape(text))</failure>\n"
          out += "    </testcase>\n"
        case .error:
          out += ">\n      <error message=\"\(Self.escape(r.error ?? "error"))\" type=\"error\"/>\n    </testcase>\n"
        }
      }
      out += "  </testsuite>\n"
    }
    out += "</testsuites>\n"
    return out
  }

  static func seconds(_ s: Double) -> String { String(format: "%.6f", s) }

  static func number(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }

  /// A JUnit class name for a test file: its path from the current folder without the extension,
  /// dotted (`rules/combined.ruletest` → `rules.combined`); a file outside the current folder by
  /// its name alone.
  static func className(_ file: String) -> String {
    var path = (file as NSString).deletingPathExtension
    let here = FileManager.default.currentDirectoryPath + "/"
    if path.hasPrefix(here) {
      path.removeFirst(here.count)
    } else if path.hasPrefix("/") || path.hasPrefix("..") {
      path = (path as NSString).lastPathComponent
    }
    if path.hasPrefix("./") { path.removeFirst(2) }
    return path.replacingOccurrences(of: "/", with: ".")
  }

  /// Text for an XML attribute or element: the five entities, and control characters XML 1.0 cannot
  /// carry replaced by U+FFFD.
  static func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      case "\n", "\t": out.unicodeScalars.append(scalar)
      case "\r": out += "&#13;"
      default:
        if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
          out += "\u{FFFD}"
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out
  }
}
