import Foundation
import RulesDiagnostics
import RulesSema
import RulesTesting
import RulesSQL
import RulesLoader
import RulesSource
import Testing

/// Every example in Grammar.md checks as the document says, and its code table matches the catalogue.
@Suite struct GrammarDocumentTests {
  struct Example: CustomTestStringConvertible, Sendable {
    var kind: String
    var body: String
    var line: Int
    var testDescription: String { "Grammar.md:\(line) (\(kind))" }
  }

  static let document = read("Grammar.md")

  static var examples: [Example] {
    var out: [Example] = []
    var current: Example?
    for (index, line) in document.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      if var open = current {
        if line == "```" {
          out.append(open)
          current = nil
        } else {
          open.body += line + "\n"
          current = open
        }
      } else if line.hasPrefix("```"), ["rule", "pre", "post", "yaml", "ruletest"].contains(String(line.dropFirst(3))) {
        current = Example(kind: String(line.dropFirst(3)), body: "", line: index + 1)
      }
    }
    return out
  }

  @Test func documentHasExamplesOfEveryKind() {
    let kinds = Set(Self.examples.map(\.kind))
    #expect(kinds == ["rule", "pre", "post", "yaml", "ruletest"])
    #expect(Self.examples.count >= 15)
  }

  @Test(arguments: examples)
  func exampleChecksAsDocumented(example: Example) {
    var body = example.body
    var expected: String?
    if body.hasPrefix("# expect: ") {
      let first = body.prefix { $0 != "\n" }
      expected = String(first.dropFirst("# expect: ".count))
      body = String(body.dropFirst(first.count + 1))
    }
    if example.kind == "ruletest" {
      // A rule test file, run against the catalogue's example rules: it passes, or gives its code.
      let (diagnostics, results) = runTests(body)
      if let expected {
        #expect(codes(diagnostics).contains(expected), "expected \(expected), found \(codes(diagnostics))")
      } else {
        #expect(diagnostics.isEmpty, "expected no diagnostics, found \(codes(diagnostics))")
        #expect(!results.isEmpty && results.allSatisfy { $0.status == .passed }, "\(results.map { ($0.name, $0.status, $0.failures.map(\.got)) })")
      }
      return
    }
    let text: String
    let path: String
    switch example.kind {
    case "pre":
      text = collector(pre: body)
      path = "example.rule"
    case "post":
      text = collector(post: body)
      path = "example.rule"
    case "yaml":
      text = body
      path = "example.yaml"
    default:
      text = body
      path = "example.rule"
    }
    var found = codes(check(text, path: path))
    if expected?.hasPrefix("RC6") == true {
      // An example of what `rulec compile --target sql` refuses.
      let sink = DiagnosticSink()
      let program = Checker(sink: sink).check([RuleLoader.parse(SourceFile(path: path, text: text), sink: sink)])
      _ = SQLCompiler(dialect: .duckdb, sink: sink).compile(program, from: .file("outputs.jsonl"))
      found = codes(sink.sorted)
    }
    if let expected {
      #expect(found.contains(expected), "expected \(expected), found \(found)")
    } else {
      // Unused map targets are expected in statement snippets that name concepts only as examples.
      #expect(found.filter { $0 != "RC4005" }.isEmpty, "expected no diagnostics, found \(found)")
    }
  }

  @Test func codeTableMatchesCatalogue() {
    for code in DiagnosticCode.all {
      let row = "| \(code.id) | \(code.name) | \(code.severity.rawValue) | \(code.summary) |"
      #expect(Self.document.contains(row), "Grammar.md lacks the row: \(row)")
    }
  }
}
