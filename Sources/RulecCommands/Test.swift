import ArgumentParser
import Foundation
import RulesDiagnostics
import RulesLoader
import RulesSource
import RulesTesting

/// How `rulec test` prints its results.
public enum TestFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
  case human, json, junit
}

/// `rulec test`: runs the cases of rule test files (`*.ruletest`) against the rules they name.
public struct Test: ParsableCommand {
  public static let configuration = CommandConfiguration(
    abstract: "Run rule tests (*.ruletest files): events, and what each collector must make of them.",
    discussion: """
      Folders are searched for *.ruletest files, subfolders included. Problems in test files are \
      printed to standard error as `rulec check` prints them.
      Exit status: 0 every test passed, 1 a test failed, 2 a test could not run (an error in a test \
      file or in its rules), no test files were found, or a path could not be read.
      """)

  @Option(help: "Output format: human, json or junit (JUnit XML, for CI systems).")
  var format: TestFormat = .human

  @Flag(help: "Report what the cases exercised of the rules: statements that never let an event through or never dropped one, and operands of and/or that never decided.")
  var coverage = false

  @Option(help: "Fail (exit 1) when the coverage is below this percentage; implies --coverage.")
  var minCoverage: Double?

  @Option(help: "Colour: auto, always or never.")
  var color: ColorChoice = .auto

  @Argument(help: "Test files (.ruletest) or folders (default: the current folder).")
  var paths: [String] = ["."]

  public init() {}

  public func run() throws {
    var out = StandardOutput()
    var err = StandardError()
    let code = Test.execute(
      paths: paths, format: format, coverage: coverage || minCoverage != nil, minimumCoverage: minCoverage, colored: color.enabled(),
      out: &out, err: &err)
    if code != 0 { throw ExitCode(code) }
  }

  /// Finds the test files under `paths`, runs them and prints the report; returns the exit status.
  public static func execute(
    paths: [String], format: TestFormat, coverage: Bool = false, minimumCoverage: Double? = nil, colored: Bool = false,
    out: inout some TextOutputStream, err: inout some TextOutputStream
  ) -> Int32 {
    let started = DispatchTime.now().uptimeNanoseconds
    let files: [String]
    do {
      files = try RuleLoader.testFiles(paths)
    } catch {
      err.write("rulec: \(error.description)\n")
      return 2
    }
    guard !files.isEmpty else {
      err.write("rulec: no test files (*.ruletest) in \(paths.joined(separator: ", "))\n")
      return 2
    }
    let sink = DiagnosticSink()
    let runner = TestRunner(sink: sink)
    runner.measuresCoverage = coverage
    var results: [CaseResult] = []
    for path in files {
      guard let data = FileManager.default.contents(atPath: path) else {
        err.write("rulec: cannot read \(path): \(String(cString: strerror(errno)))\n")
        return 2
      }
      results += runner.run(SourceFile(path: path, bytes: [UInt8](data)))
    }
    let renderer = DiagnosticRenderer(colored: colored)
    for d in sink.sorted { err.write(renderer.render(d) + "\n") }
    let report = TestReport(
      results: results, files: files.count, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
      coverage: coverage ? runner.coverage : nil, minimumCoverage: minimumCoverage)
    if report.coverageTooLow, format != .human, let minimumCoverage {
      err.write("rulec: coverage \(TestCoverage.percentText(runner.coverage.covered, runner.coverage.outcomes)) is below --min-coverage \(minimumCoverage)%\n")
    }
    switch format {
    case .human: out.write(report.human(colored: colored))
    case .json: out.write(report.json)
    case .junit: out.write(report.junit)
    }
    return report.exitStatus
  }
}
