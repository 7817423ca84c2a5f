import Foundation
import RulecCommands
import RulesDiagnostics
import RulesLoader
import RulesSQL
import RulesSema
import RulesSource
import Testing

/// `rulec explain`: each code's bad example triggers it and its good example does not.
@Suite struct ExplainTests {
  @Test(arguments: DiagnosticCode.all.filter { !$0.bad.isEmpty }.map(\.id))
  func examplesMatchTheirCode(id: String) throws {
    let code = DiagnosticCode.find(id)!
    if id.hasPrefix("RC5") {
      // A rule test file, run against the example rules.
      let (bad, _) = runTests(code.bad)
      #expect(codes(bad).contains(id), "bad example of \(id) gives \(codes(bad))")
      let (good, results) = runTests(code.good)
      #expect(!codes(good).contains(id), "good example of \(id) gives \(codes(good))")
      #expect(good.allSatisfy { $0.severity != .error }, "good example of \(id) has errors: \(codes(good))")
      #expect(results.allSatisfy { $0.status == .passed }, "good example of \(id): \(results.map(\.status))")
      return
    }
    if id.hasPrefix("RC6") {
      // What `rulec compile --target sql` refuses: the bad example, not the good one.
      func compiled(_ text: String) -> [String] {
        let sink = DiagnosticSink()
        let program = Checker(sink: sink).check([RuleLoader.parse(SourceFile(path: "example.rule", text: text), sink: sink)])
        _ = SQLCompiler(dialect: .duckdb, sink: sink).compile(program, from: .file("outputs.jsonl"))
        return codes(sink.sorted)
      }
      #expect(compiled(code.bad).contains(id), "bad example of \(id) gives \(compiled(code.bad))")
      #expect(!compiled(code.good).contains(id), "good example of \(id) gives \(compiled(code.good))")
      return
    }
    let ext = id.hasPrefix("RC2") ? "yaml" : "rule"
    let concepts: Set<String>? = ["RC3015", "RC4013"].contains(id) ? ["dog", "cat", "person"] : nil
    let bad = check(code.bad, path: "example.\(ext)", concepts: concepts)
    #expect(codes(bad).contains(id), "bad example of \(id) gives \(codes(bad))")
    let good = check(code.good, path: "example.\(ext)", concepts: concepts)
    #expect(!codes(good).contains(id), "good example of \(id) gives \(codes(good))")
    #expect(good.allSatisfy { $0.severity != .error }, "good example of \(id) has errors: \(codes(good))")
  }

  @Test func printsExplanation() {
    var out = Capture()
    var err = Capture()
    #expect(Explain.execute(code: "rc3005", out: &out, err: &err) == 0)
    #expect(out.text.hasPrefix("RC3005 probability-out-of-range (error)"))
    #expect(out.text.contains("Bad:") && out.text.contains("Good:"))
    #expect(Explain.execute(code: "unknown-name", out: &out, err: &err) == 0)
  }

  @Test func unknownCodeIsAUsageError() {
    var out = Capture()
    var err = Capture()
    #expect(Explain.execute(code: "RC3OO1", out: &out, err: &err) == 2)
    #expect(err.text.contains("did you mean 'RC3001'?"))
  }
}
