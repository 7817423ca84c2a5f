import Foundation
import RulecCommands
import RulesDiagnostics
import RulesLoader
import RulesSQL
import RulesSema
import RulesSource
import Testing

/// `rulec compile --target sql`: the query as written (a golden file), what it refuses, and the
/// random programs of the differential tests. The queries are run by a real DuckDB against
/// `rulec run` in `tools/sql/test_sql.py` (from `.ci/run`), which also runs the random cases this
/// suite writes when `RULEC_SQL_CASES` names a folder.
@Suite struct SQLCompilerTests {
  /// The query and the compiler's diagnostics; nil and nothing when the rules have errors.
  static func compile(_ text: String, path: String = "t.rule", dialect: SQLDialect = .duckdb) -> (String?, [Diagnostic])? {
    let checking = DiagnosticSink()
    let program = Checker(sink: checking).check([RuleLoader.parse(SourceFile(path: path, text: text), sink: checking)])
    guard !checking.hasErrors else { return nil }
    let sink = DiagnosticSink()
    let query = SQLCompiler(dialect: dialect, sink: sink).compile(program, from: .file("outputs.jsonl"))
    return (query, sink.sorted)
  }

  @Test func theQueryReadsAsWritten() {
    var out = Capture()
    var err = Capture()
    #expect(Compile.sql(rules: TestPaths.path("rules/knowledge-graph-map.rule"), dialect: "duckdb", from: "recording.jsonl", out: &out, err: &err) == 0)
    #expect(err.text.isEmpty)
    assertGolden(out.text, "sql/knowledge-graph-map.duckdb.sql")
    // A relation instead of a file: read as it is.
    out = Capture()
    #expect(Compile.sql(rules: TestPaths.path("rules/uncertain.rule"), dialect: "duckdb", from: "warehouse.outputs", out: &out, err: &err) == 0)
    #expect(out.text.contains("FROM warehouse.outputs") && !out.text.contains("read_text"))
  }

  /// The Spark query: the same steps in Spark SQL 4, after the analyzer setting it needs.
  @Test func theSparkQueryReadsAsWritten() {
    var out = Capture()
    var err = Capture()
    #expect(Compile.sql(rules: TestPaths.path("rules/knowledge-graph-map.rule"), dialect: "spark", from: "recording.jsonl", out: &out, err: &err) == 0)
    #expect(err.text.isEmpty)
    assertGolden(out.text, "sql/knowledge-graph-map.spark.sql")
    out = Capture()
    #expect(Compile.sql(rules: TestPaths.path("rules/uncertain.rule"), dialect: "spark", from: "lake.outputs", out: &out, err: &err) == 0)
    #expect(out.text.contains("FROM lake.outputs") && !out.text.contains("text.`"))
    #expect(out.text.contains("SET spark.sql.analyzer.maxIterations = 1400;"))
  }

  /// What Spark cannot spell the way rulec means it is refused there, and only there.
  @Test func sparkRefusesWhatItWouldReadOtherwise() {
    let quoted = collector(pre: "require metadata.\"it's\" == 1")
    #expect(Self.compile(quoted, dialect: .duckdb)!.0 != nil)
    let (query, found) = Self.compile(quoted, dialect: .spark)!
    #expect(query == nil && found.map(\.code.id) == ["RC6001"] && found[0].message.text.contains("quote or a backslash"))
    for pattern in ["(?i)café", "[a-z&&[^b]]"] {
      let rules = collector(post: "require input.text matches \"\(pattern)\"")
      #expect(Self.compile(rules, dialect: .duckdb)!.0 != nil, "\(pattern)")
      let (query, found) = Self.compile(rules, dialect: .spark)!
      #expect(query == nil && found.map(\.code.id) == ["RC6002"] && found[0].message.text.contains("java.util.regex"), "\(pattern)")
    }
    #expect(Self.compile(collector(post: "require input.text matches \"(?i)cafe\""), dialect: .spark)!.0 != nil)
  }

  @Test func whatHasNoTranslationIsRefusedAtItsStatement() {
    let (query, found) = Self.compile(collector(pre: "require max(concepts) < 0.6\n    require any region where area > 0.1\n    limit 5 per day\n    limit 1 per hour"))!
    #expect(query == nil)
    #expect(found.map(\.code.id) == ["RC6001"])
    #expect(found.first?.message.text.contains("a second 'limit'") == true)
    #expect(found.first.map { String(decoding: $0.file.bytes[$0.range.start..<$0.range.end], as: UTF8.self) } == "limit 1 per hour")
    var out = Capture()
    var err = Capture()
    #expect(Compile.sql(rules: TestPaths.path("Tests/RulesTests/Golden/codes/RC6001.rule"), dialect: "duckdb", from: "x.jsonl", out: &out, err: &err) == 1)
    #expect(out.text.isEmpty && err.text.contains("error[RC6001]") && err.text.contains("no query written"))
    #expect(Compile.sql(rules: TestPaths.path("rules/uncertain.rule"), dialect: "oracle", from: "x.jsonl", out: &out, err: &err) == 2)
  }

  /// Every program of the differential generator compiles, or is refused only for what has no
  /// translation yet (a second `limit`). With `RULEC_SQL_CASES=DIR`, the compiled cases are
  /// written there (rules and recording) for `tools/sql/test_sql.py`.
  @Test func randomProgramsCompileOrAreRefusedForAReason() throws {
    let folder = ProcessInfo.processInfo.environment["RULEC_SQL_CASES"]
    var compiled = 0
    var refused = 0
    for seed in UInt64(1)...300 {
      var random = RandomCase(rng: SplitMix(state: seed &* 0x9E37_79B9))
      let rules = random.program()
      guard let (query, found) = Self.compile(rules) else { continue }  // the checker's errors: not a program
      if query == nil {
        refused += 1
        for d in found {
          #expect(d.code.id == "RC6001", "\(rules): \(d.message.text)")
          #expect(d.message.text.contains("a second 'limit'"), "\(d.message.text)")
        }
        continue
      }
      compiled += 1
      // Spark compiles the same programs, or refuses one only for what it cannot spell alike.
      if let (spark, refusals) = Self.compile(rules, dialect: .spark), spark == nil {
        for d in refusals {
          #expect(d.message.text.contains("quote or a backslash") || d.message.text.contains("java.util.regex"), "\(rules): \(d.message.text)")
        }
      }
      if let folder {
        let events = (0..<120).map { random.event($0) }.joined(separator: "\n") + "\n"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try rules.write(toFile: "\(folder)/case-\(seed).rule", atomically: true, encoding: .utf8)
        try events.write(toFile: "\(folder)/case-\(seed).jsonl", atomically: true, encoding: .utf8)
      }
    }
    #expect(compiled > 150 && refused > 5, "compiled \(compiled), refused \(refused)")
  }

  /// Patterns both engines read alike compile; the rest are RC6002 at their statement.
  @Test func regularExpressionsThatWouldDifferAreRefused() {
    for pattern in ["^a", "(?i)unsubscribe|out of office", "order [0-9]+", "a.b*?c{2,3}", "(?:ab)+$", "\\.", "[^x]"] {
      let (query, found) = Self.compile(collector(post: "require input.text matches \"\(pattern.replacingOccurrences(of: "\\", with: "\\\\"))\""))!
      #expect(query != nil && found.isEmpty, "\(pattern): \(found.map(\.message.text))")
    }
    for pattern in ["\\d+", "\\bword\\b", "a(?=b)", "(a)\\1", "(?>a)", "a++", "\\p{L}", "(?s).", "\\S"] {
      let (query, found) = Self.compile(collector(post: "require input.text matches \"\(pattern.replacingOccurrences(of: "\\", with: "\\\\"))\""))!
      #expect(query == nil && found.map(\.code.id) == ["RC6002"], "\(pattern): \(found.map(\.code.id))")
    }
  }
}
