import RulesLoader
import Foundation
import RulecCommands
import RulesDiagnostics
import RulesSema
import RulesSource
import RulesSyntax
import RulesTesting
import Testing

/// Paths and helpers shared by the tests.
enum TestPaths {
  /// The package root, found from this file's location.
  static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let golden = root.appendingPathComponent("Tests/RulesTests/Golden")
  static let rules = root.appendingPathComponent("rules")

  static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

  /// Makes paths in output relative to the package root, so goldens do not depend on the checkout.
  static func relativize(_ text: String) -> String {
    text.replacingOccurrences(of: root.path + "/", with: "")
  }
}

extension Process {
  /// Waits for the process to end on a dispatch thread, not a cooperative one: the test suite runs
  /// on two cooperative threads, and a test blocked in `waitUntilExit` there stalls every other
  /// test's timers (a PostgreSQL call's 5 s timeout fired in CI that way).
  func exited() async {
    nonisolated(unsafe) let process = self
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
      DispatchQueue.global().async {
        process.waitUntilExit()
        done.resume()
      }
    }
  }
}

/// A `TextOutputStream` that collects text.
struct Capture: TextOutputStream {
  var text = ""
  mutating func write(_ string: String) { text += string }
}

/// Compares `actual` with the golden file; with `RULEC_RECORD=1` in the environment, rewrites it.
func assertGolden(_ actual: String, _ relative: String, sourceLocation: SourceLocation = #_sourceLocation) {
  let url = TestPaths.golden.appendingPathComponent(relative)
  if ProcessInfo.processInfo.environment["RULEC_RECORD"] == "1" {
    try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try? Data(actual.utf8).write(to: url)
    return
  }
  guard let data = FileManager.default.contents(atPath: url.path) else {
    Issue.record("missing golden file \(relative); run with RULEC_RECORD=1 to create it", sourceLocation: sourceLocation)
    return
  }
  let expected = String(decoding: data, as: UTF8.self)
  #expect(actual == expected, "golden \(relative) differs; re-record with RULEC_RECORD=1 and review the diff", sourceLocation: sourceLocation)
}

/// Parses and checks source text held in memory (DSL or YAML by the path's extension).
func check(_ text: String, path: String = "test.rule", concepts: Set<String>? = nil) -> [Diagnostic] {
  check(bytes: Array(text.utf8), path: path, concepts: concepts)
}

func check(bytes: [UInt8], path: String = "test.rule", concepts: Set<String>? = nil) -> [Diagnostic] {
  let sink = DiagnosticSink()
  let file = RuleLoader.parse(SourceFile(path: path, bytes: bytes), sink: sink)
  _ = Checker(options: CheckOptions(concepts: concepts.map { ConceptCatalog(names: $0) }), sink: sink).check([file])
  return sink.sorted
}

func codes(_ ds: [Diagnostic]) -> [String] { ds.map(\.code.id) }

/// A complete collector around the given pre- or post-queue statements.
func collector(pre: String? = nil, post: String? = nil, map: String? = nil) -> String {
  var text = """
    collector demo {
      source clarifai/main/general-image-recognition
      destination me/dataset
      key env DEMO_KEY

    """
  if let map { text += "  \(map)\n" }
  if let pre { text += "  pre_queue {\n\(pre)\n  }\n" }
  if let post { text += "  post_queue {\n\(post)\n  }\n" }
  return text + "}\n"
}

/// Reads a file under the package root.
func read(_ relative: String) -> String {
  String(decoding: FileManager.default.contents(atPath: TestPaths.path(relative)) ?? Data(), as: UTF8.self)
}

/// Runs a rule test file's text against `rules` (written as `example.rule` beside it, in a folder
/// of its own); returns the diagnostics and the results.
func runTests(_ text: String, rules: String = DiagnosticCode.exampleRules) -> ([Diagnostic], [CaseResult]) {
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-ruletest-\(UUID().uuidString)").path
  try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: folder) }
  try? rules.write(toFile: folder + "/example.rule", atomically: true, encoding: .utf8)
  let sink = DiagnosticSink()
  let results = TestRunner(sink: sink).run(SourceFile(path: folder + "/example.ruletest", text: text))
  return (sink.sorted, results)
}
