import RulesLoader
import Foundation
import RulecCommands
import RulesDiagnostics
import RulesSema
import RulesSource
import RulesSyntax
import Testing

/// The shipped examples: clean under --strict, formatted, and each YAML twin means what its DSL file means.
@Suite struct ExampleRulesTests {
  static let examples = ["random-sample", "metadata-filter", "uncertain", "confident", "concept-threshold",
    "knowledge-graph-map", "combined"]

  @Test func everyRuleFolderIsStrictlyClean() {
    for folder in ["rules", "rules/yaml"] {
      var out = Capture()
      let status = Check.execute(
        paths: [TestPaths.path(folder)], format: .human, strict: true, conceptsPath: nil, colored: false, out: &out)
      #expect(status == 0, "\(folder): \(out.text)")
      // `rules` with its subfolders: its 7 files, their 7 YAML twins and the 6 benchmark rules.
      #expect(out.text.hasSuffix("0 errors, 0 warnings in \(folder == "rules" ? 20 : 7) files\n"))
    }
  }

  @Test func everyRuleFileIsFormatted() {
    var out = Capture()
    var err = Capture()
    #expect(Fmt.execute(paths: [TestPaths.path("rules")], check: true, write: false, out: &out, err: &err) == 0)
    #expect(out.text.isEmpty, "unformatted: \(out.text)")
  }

  /// A dump of what a collector means, independent of how it was written.
  static func meaning(_ c: CheckedCollector) -> String {
    var lines = [
      "id \(c.id)", "description \(c.description)",
      "source \(c.source.user ?? "*")/\(c.source.app ?? "*")/\(c.source.model ?? "*") \(c.source.version ?? "*") \(c.source.caller ?? "")",
      "destination \(c.destinationUser)/\(c.destinationApp) \(c.datasetIDs)", "key \(c.key)",
    ]
    if let map = c.conceptMap {
      lines.append("map \(map.targetOf.sorted { $0.key < $1.key }.map { "\($0.key)->\($0.value)" }) drop=\(map.dropUnmapped)")
    }
    for (name, stage) in [("pre", c.preQueue), ("post", c.postQueue)] {
      guard let stage else { continue }
      lines.append(name)
      lines += stage.map { Printer.statement($0, canonicalNumbers: true) }
    }
    return lines.joined(separator: "\n")
  }

  static func program(_ relative: String) -> CheckedProgram {
    let sink = DiagnosticSink()
    let file = RuleLoader.parse(try! RuleLoader.read(TestPaths.path(relative)), sink: sink)
    let program = Checker(sink: sink).check([file])
    #expect(sink.diagnostics.isEmpty, "\(relative): \(codes(sink.diagnostics))")
    return program
  }

  @Test(arguments: examples)
  func yamlTwinMeansTheSame(name: String) {
    let dsl = Self.program("rules/\(name).rule").collectors.map(Self.meaning)
    let yaml = Self.program("rules/yaml/\(name).yaml").collectors.map(Self.meaning)
    #expect(!dsl.isEmpty)
    #expect(dsl == yaml)
  }
}
