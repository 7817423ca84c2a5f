import RulesLoader
import ArgumentParser
import Foundation
import RulesCompiler
import RulesDiagnostics
import RulesEvents
import RulesSema
import RulesSQL
import RulesVM

/// `rulec compile`: compiles and verifies rules; `--disasm` prints the bytecode; `--target sql`
/// prints one SQL query that accepts what `rulec run` accepts.
public struct Compile: ParsableCommand {
  public static let configuration = CommandConfiguration(
    abstract: "Compile rules to bytecode (verified, optionally printed) or to one SQL query.",
    discussion: """
      --target sql --dialect duckdb|spark writes a query computing, over Clarifai outputs, the items \
      rulec run accepts: item_id, collector, source_input_id and inclusion_probability, in rulec's \
      order. --from names what it reads: a .jsonl/.json file (read with the dialect's own reader), a \
      .parquet file, or a table, view or subquery, with the columns line_number and line. Constructs without a translation \
      (a second limit in a collector, a regular expression the engine would read differently) are \
      errors (RC6001, RC6002), never a query that means something else.
      """)

  /// What the rules compile to.
  public enum Target: String, ExpressibleByArgument, CaseIterable, Sendable {
    case bytecode, sql
  }

  @Argument(help: "A rule file, a YAML file or a folder.")
  var rules: String

  @Flag(help: "Print the bytecode: offsets, source lines, mnemonics, operands and jump targets.")
  var disasm = false

  @Flag(name: .customLong("no-optimize"), help: "Compile without the optimisations (to compare).")
  var noOptimize = false

  @Option(help: "bytecode (the default) or sql.") var target: Target = .bytecode
  @Option(help: "The SQL dialect: duckdb or spark.") var dialect: String = "duckdb"
  @Option(name: .customLong("from"), help: "What the query reads: a .jsonl or .json file, or a .parquet file or a relation with line_number and line.")
  var from: String?

  @Flag(help: "With --target sql: the funnel query (per collector and statement, the counts of rulec run --report) instead of the items.")
  var report = false

  @Option(help: "With --target sql: rounds of window functions that settle a limit (an input needs one more each time it misses the budget and comes again).")
  var limitRounds = SQLCompiler.defaultLimitRounds

  public init() {}

  public func run() throws {
    var out = StandardOutput()
    var err = StandardError()
    let status: Int32
    if target == .sql {
      // No default source: a query over a file name the user never gave would fail only later,
      // inside the engine, or read the wrong file.
      guard let from else {
        throw ValidationError("--target sql needs --from: a .jsonl file, or a relation with line_number and line")
      }
      status = Compile.sql(rules: rules, dialect: dialect, from: from, report: report, limitRounds: limitRounds, out: &out, err: &err)
    } else {
      status = Compile.execute(rules: rules, disasm: disasm, options: noOptimize ? .none : CompilerOptions(), out: &out, err: &err)
    }
    if status != 0 { throw ExitCode(status) }
  }

  public static func execute(
    rules: String, disasm: Bool, options: CompilerOptions, out: inout some TextOutputStream,
    err: inout some TextOutputStream
  ) -> Int32 {
    let program: CheckedProgram
    switch RuleLoader.loadForUse(rules, err: &err) {
    case .success(let p): program = p
    case .failure(let status): return status.code
    }
    var projection = MetadataProjection()
    let compiler = Compiler(options: options)
    var instructions = 0
    for (i, c) in program.collectors.enumerated() {
      let compiled = compiler.compile(c, projection: &projection)
      do {
        try Verifier.verify(compiled.program)
      } catch {
        err.write("rulec: internal error: collector \(c.id) failed verification: \(error)\n")
        return 1
      }
      instructions += compiled.program.code.count
      if disasm { out.write((i > 0 ? "\n" : "") + compiled.disassembly) }
    }
    if !disasm {
      out.write("\(program.collectors.count) collectors, \(instructions) instructions, verified\n")
    }
    return 0
  }

  /// `--target sql`: the query on `out`, or diagnostics on `err` (exit 1; 2 for usage).
  public static func sql(
    rules: String, dialect name: String, from: String, report: Bool = false, limitRounds: Int = SQLCompiler.defaultLimitRounds,
    colored: Bool = false, out: inout some TextOutputStream,
    err: inout some TextOutputStream
  ) -> Int32 {
    guard let dialect = SQLDialect(rawValue: name) else {
      err.write("rulec: unknown SQL dialect '\(name)' (known: \(SQLDialect.allCases.map(\.rawValue).joined(separator: ", ")))\n")
      return 2
    }
    let program: CheckedProgram
    switch RuleLoader.loadForUse(rules, err: &err) {
    case .success(let p): program = p
    case .failure(let status): return status.code
    }
    let lower = from.lowercased()
    let isFile = [".jsonl", ".json", ".ndjson"].contains { lower.hasSuffix($0) }
    let sink = DiagnosticSink()
    let source: SQLSource = isFile ? .file(from) : lower.hasSuffix(".parquet") ? .parquet(from) : .relation(from)
    guard let query = SQLCompiler(dialect: dialect, sink: sink, limitRounds: limitRounds).compile(program, from: source, report: report) else {
      let renderer = DiagnosticRenderer(colored: colored)
      for d in sink.sorted { err.write(renderer.render(d)) }
      err.write("rulec: no query written: \(sink.errorCount) construct\(sink.errorCount == 1 ? "" : "s") without a SQL translation\n")
      return 1
    }
    out.write(query)
    return 0
  }
}
