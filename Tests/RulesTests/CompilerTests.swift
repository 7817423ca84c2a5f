import RulesLoader
import Foundation
import RulecCommands
import RulesCompiler
import RulesDiagnostics
import RulesEvents
import RulesSema
import RulesSource
import RulesSyntax
import RulesVM
import Testing

/// Disassembly goldens (one per optimisation, showing its effect) and the verifier's rejections.
@Suite struct CompilerTests {
  static func disassemble(_ path: String, _ options: CompilerOptions) -> String {
    var out = Capture()
    var err = Capture()
    let status = Compile.execute(rules: TestPaths.path(path), disasm: true, options: options, out: &out, err: &err)
    #expect(status == 0, "\(err.text)")
    return TestPaths.relativize(out.text)
  }

  @Test func examplesDisassembly() {
    assertGolden(Self.disassemble("rules/combined.rule", CompilerOptions()), "disasm/combined.disasm")
  }

  @Test func everyPassShowsItsEffect() {
    let all = Self.disassemble("Tests/RulesTests/Golden/disasm/passes.rule", CompilerOptions())
    assertGolden(all, "disasm/passes.disasm")
    /// The disassembly with one pass turned off, checked against its golden.
    func without(_ golden: String, _ turnOff: (inout CompilerOptions) -> Void) -> String {
      var options = CompilerOptions()
      turnOff(&options)
      let text = Self.disassemble("Tests/RulesTests/Golden/disasm/passes.rule", options)
      assertGolden(text, "disasm/passes.\(golden).disasm")
      return text
    }
    let unfolded = without("no-fold") { $0.foldConstants = false }
    #expect(all.contains("f0 < 0.6") && !unfolded.contains("f0 < 0.6"))
    #expect(unfolded.contains("add"))
    let unordered = without("no-order") { $0.orderTests = false }
    // Ordered: the metadata test comes before the entropy; unordered: after.
    func position(_ text: String, _ needle: String) -> Int { text.range(of: needle).map { text.distance(from: text.startIndex, to: $0.lowerBound) } ?? -1 }
    #expect(position(all, "br.str.eq") < position(all, "ld.entropy"))
    #expect(position(unordered, "br.str.eq") > position(unordered, "ld.entropy"))
    let unshared = without("no-share") { $0.shareSubexpressions = false }
    #expect(all.contains(", cache 0") && !unshared.contains(", cache "))
    #expect(all.contains("br.in.set     metadata.country, {\"CA\", \"MX\", \"US\"}"))
    let byText = without("no-keys") { $0.conceptNamesAsKeys = false }
    #expect(all.contains("br.key        name in {dog}") && !all.contains("br.str.eq     name"))
    #expect(all.contains("br.any.key    concepts where name in {dog} and value > 0.8") && !byText.contains("br.any.key"))
    #expect(byText.contains("br.str.eq     name, \"dog\"") && !byText.contains("br.key"))
  }

  @Test func compileSummary() {
    var out = Capture()
    var err = Capture()
    #expect(Compile.execute(rules: TestPaths.path("rules"), disasm: false, options: CompilerOptions(), out: &out, err: &err) == 0)
    #expect(out.text.hasPrefix("9 collectors, ") && out.text.hasSuffix("verified\n"))
    #expect(Compile.execute(rules: TestPaths.path("Tests/RulesTests/Golden/check/several.rule"), disasm: false, options: CompilerOptions(), out: &out, err: &err) == 1)
  }

  static func program(_ code: [Instruction], registers: Int = 2, blocks: [Block]? = nil) -> Program {
    var p = Program()
    p.code = code
    p.blocks = blocks ?? [Block(start: 0, count: code.count, registers: registers, role: .condition)]
    p.numbers = [0.5]
    p.locations = code.map { _ in (1, 1) }
    return p
  }

  @Test func verifierRejectsHostilePrograms() {
    let cases: [(String, Program)] = [
      ("backward jump", Self.program([.loadConst(0, 0), .jump(0), .ret(true)])),
      ("read before write", Self.program([.compareConst(.lt, 1, 0, 1, 2), .ret(true), .ret(false)])),
      ("register out of range", Self.program([.loadConst(5, 0), .ret(true)], registers: 2)),
      ("number out of range", Self.program([.loadConst(0, 9), .ret(true)])),
      ("no ret at the end", Self.program([.loadConst(0, 0)])),
      ("target past the end", Self.program([.loadConst(0, 0), .compareConst(.lt, 0, 0, 2, 7), .ret(true)])),
      ("metadata slot out of range", Self.program([.exists(slot: 0, 1, 2), .ret(true), .ret(false)])),
      ("collection out of range", Self.program([.quantifier(all: false, collection: 3, 1, 2), .ret(true), .ret(false)])),
      ("block outside the code", Self.program([.ret(true)], blocks: [Block(start: 0, count: 4, registers: 0, role: .condition)])),
      ("key test outside a concept filter", Self.program([.conceptKeyIn(id: false, keyList: 0, 1, 2), .ret(true), .ret(false)])),
      ("fused key test with no key list", Self.program([.anyConceptWith(id: false, keyList: 0, .gt, number: 0, 1, 2), .ret(true), .ret(false)])),
      ("key list out of range", Self.program(
        [.conceptKeyIn(id: false, keyList: 4, 1, 2), .ret(true), .ret(false)],
        blocks: [Block(start: 0, count: 3, registers: 0, role: .filter(.concepts))])),
    ]
    for (name, p) in cases {
      #expect(throws: VerificationError.self, "\(name)") { try Verifier.verify(p) }
    }
    var selfCalling = Self.program([.quantifier(all: false, collection: 0, 1, 2), .ret(true), .ret(false)])
    selfCalling.collections = [CollectionSpec(kind: .concepts, filter: 0)]
    #expect(throws: VerificationError.self) { try Verifier.verify(selfCalling) }
    #expect(throws: Never.self) { try Verifier.verify(Self.program([.loadConst(0, 0), .compareConst(.lt, 0, 0, 2, 3), .ret(true), .ret(false)])) }
  }

  /// Every example collector compiles to a program the verifier accepts.
  @Test func examplesVerify() throws {
    for folder in ["rules", "rules/yaml"] {
      let sink = DiagnosticSink()
      let program = try RuleLoader.load([TestPaths.path(folder)], options: CheckOptions(), sink: sink).program
      var projection = MetadataProjection()
      for c in program.collectors {
        try Verifier.verify(Compiler().compile(c, projection: &projection).program)
        try Verifier.verify(Compiler(options: .none).compile(c, projection: &projection).program)
      }
    }
  }
}
