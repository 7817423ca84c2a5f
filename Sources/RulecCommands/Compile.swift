import RulesLoader
import ArgumentParser
import Foundation
import RulesCompiler
import RulesDiagnostics
import RulesEvents
import RulesSema
import RulesVM

/// `rulec compile`: compiles and verifies rules; `--disasm` prints the bytecode.
public struct Compile: ParsableCommand {
  public static let configuration = CommandConfiguration(
    abstract: "Compile rules to bytecode, verify it, and optionally print it.")

  @Argument(help: "A rule file, a YAML file or a folder.")
  var rules: String

  @Flag(help: "Print the bytecode: offsets, source lines, mnemonics, operands and jump targets.")
  var disasm = false

  @Flag(name: .customLong("no-optimize"), help: "Compile without the optimisations (to compare).")
  var noOptimize = false

  public init() {}

  public func run() throws {
    var out = StandardOutput()
    var err = StandardError()
    let status = Compile.execute(rules: rules, disasm: disasm, options: noOptimize ? .none : CompilerOptions(), out: &out, err: &err)
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
}
