import RulesMath
import RulesEvents
import RulesSema
import RulesSource
import RulesSyntax
import RulesVM

/// Which optimisations the compiler applies (all by default; the golden tests turn them off one at a
/// time to show what each does).
public struct CompilerOptions: Sendable {
  /// Fold constant arithmetic and decide comparisons of constants at compile time.
  public var foldConstants = true
  /// Order the operands of `and`/`or` chains cheapest first (they are pure, so this is safe).
  public var orderTests = true
  /// Compute top-level aggregates (`max(concepts)`, `entropy(concepts)`) once per event.
  public var shareSubexpressions = true
  /// Turn `name == "dog"` and `id in [...]` inside a concept filter into key tests, so the decoder
  /// never makes a string of a concept's name (R4: 0.48 → 0.43 s on 100k outputs).
  public var conceptNamesAsKeys = true

  public init() {}

  public static let none: CompilerOptions = {
    var o = CompilerOptions()
    o.foldConstants = false
    o.orderTests = false
    o.shareSubexpressions = false
    o.conceptNamesAsKeys = false
    return o
  }()
}

/// A statement of a compiled stage: conditions are blocks; sampling and limits are run by the engine.
public enum CompiledStatement: Sendable, Equatable {
  case require(block: Int)
  case dropIf(block: Int)
  /// `key` reads the `by` value; nil means the input id.
  case sample(rate: Double, seed: String, key: StringSource?)
  case limit(count: Double, seconds: Double)
}

/// One collector compiled: its program and its two stages.
public struct CompiledCollector: Sendable {
  public var collector: CheckedCollector
  public var program: Program
  public var preQueue: [CompiledStatement]
  public var postQueue: [CompiledStatement]
}

/// Lowers checked collectors to bytecode.
///
/// Conditions become compare-and-branch code with a true and a false target, so `and`, `or` and
/// `not` only route branches; names become keys and slots, constant lists become sets, regexes are
/// compiled once. Metadata paths are registered in the shared projection so the decoder reads them.
public struct Compiler {
  public var options: CompilerOptions

  public init(options: CompilerOptions = CompilerOptions()) { self.options = options }

  public func compile(_ c: CheckedCollector, projection: inout MetadataProjection) -> CompiledCollector {
    var builder = ProgramBuilder(collector: c, options: options)
    let pre = (c.preQueue ?? []).map { builder.statement($0, projection: &projection) }
    let post = (c.postQueue ?? []).map { builder.statement($0, projection: &projection) }
    return CompiledCollector(collector: c, program: builder.program, preQueue: pre, postQueue: post)
  }
}

/// Builds one collector's program.
struct ProgramBuilder {
  let collector: CheckedCollector
  let options: CompilerOptions
  var program = Program()
  var numberIndex: [Double: Int32] = [:]
  var stringIndex: [String: Int32] = [:]
  var keyIndex: [String: Int32] = [:]
  var cacheIndex: [String: Int32] = [:]

  init(collector: CheckedCollector, options: CompilerOptions) {
    self.collector = collector
    self.options = options
  }

  // MARK: Pools

  mutating func number(_ v: Double) -> Int32 {
    if let i = numberIndex[v], v == v { return i }
    program.numbers.append(v)
    numberIndex[v] = Int32(program.numbers.count - 1)
    return Int32(program.numbers.count - 1)
  }

  mutating func string(_ s: String) -> Int32 {
    if let i = stringIndex[s] { return i }
    program.strings.append(s)
    stringIndex[s] = Int32(program.strings.count - 1)
    return Int32(program.strings.count - 1)
  }

  mutating func key(_ s: String) -> Int32 {
    if let i = keyIndex[s] { return i }
    program.conceptKeys.append(s)
    keyIndex[s] = Int32(program.conceptKeys.count - 1)
    return Int32(program.conceptKeys.count - 1)
  }

  mutating func metadataSlot(_ path: [String], _ projection: inout MetadataProjection) -> Int32 {
    let slot = projection.slot(for: path)
    while program.metadataPaths.count <= slot { program.metadataPaths.append([]) }
    program.metadataPaths[slot] = path
    return Int32(slot)
  }

  // MARK: Statements

  mutating func statement(_ s: Statement, projection: inout MetadataProjection) -> CompiledStatement {
    switch s.kind {
    case .require(let e):
      return .require(block: condition(e, &projection))
    case .dropIf(let e):
      return .dropIf(block: condition(e, &projection))
    case .sample(let rate, let by, let seed):
      var key: StringSource?
      if let by {
        var lowering = BlockLowering(builder: self, role: .condition, scopes: [])
        key = lowering.source(by, &projection)
        self = lowering.builder
      }
      return .sample(rate: Constant.number(rate) ?? 0, seed: seed?.text ?? collector.id, key: key)
    case .limit(let count, let window, let unit):
      let seconds = (window.flatMap { Constant.number($0) } ?? 1) * (TimeUnit(word: unit.text)?.seconds ?? 1)
      return .limit(count: Constant.number(count) ?? 0, seconds: seconds)
    }
  }

  /// Compiles a condition into a new block and returns its index.
  mutating func condition(_ e: Expr, _ projection: inout MetadataProjection) -> Int {
    block(role: .condition, scopes: [], &projection) { lowering, projection in
      lowering.conditionBody(e, &projection)
    }
  }

  /// Reserves a block index (so blocks a body calls come after it), lowers the body, appends its code.
  mutating func block(
    role: Block.Role, scopes: [CollectionSpec.Kind], _ projection: inout MetadataProjection,
    _ body: (inout BlockLowering, inout MetadataProjection) -> Void
  ) -> Int {
    let index = program.blocks.count
    program.blocks.append(Block(start: 0, count: 1, registers: 0, role: role))
    var lowering = BlockLowering(builder: self, role: role, scopes: scopes)
    body(&lowering, &projection)
    let (code, locations, registers) = lowering.finish()
    self = lowering.builder
    program.blocks[index] = Block(start: program.code.count, count: code.count, registers: registers, role: role)
    program.code += code
    for offset in locations {
      let l = collector.file.location(of: offset)
      program.locations.append((l.line, l.column))
    }
    return index
  }
}

extension CompiledCollector {
  /// The collector's bytecode as text: a header naming each statement's block, then the blocks.
  public var disassembly: String {
    var out = "; collector \(collector.id)  (\(collector.file.path):\(collector.file.location(of: collector.range.start).line))\n"
    let p = program
    out += "; blocks \(p.blocks.count), instructions \(p.code.count), numbers \(p.numbers.count), strings \(p.strings.count), "
    out += "sets \(p.sets.count), regexes \(p.regexes.count), concept keys \(p.conceptKeys.count), cached \(p.cacheSize)\n"
    for (stage, statements, source) in [
      ("pre_queue", preQueue, collector.preQueue ?? []), ("post_queue", postQueue, collector.postQueue ?? []),
    ] where !statements.isEmpty {
      out += "; \(stage)\n"
      for (n, (compiled, s)) in zip(statements, source).enumerated() {
        let line = collector.file.location(of: s.range.start).line
        let what: String
        switch compiled {
        case .require(let b): what = "block \(b)"
        case .dropIf(let b): what = "block \(b), negated"
        case .sample(let rate, let seed, let key):
          what = "sample: keep if fnv1a64(\"\(seed):\" + \(key.map { Disassembler.source($0, p) } ?? "input.id")) mod 1e6 < \(Sampling.threshold(rate: rate))"
        case .limit(let count, let seconds): what = "limit: \(Disassembler.number(count)) per window of \(Disassembler.number(seconds)) s"
        }
        out += ";   \(n + 1). line \(line): \(Printer.statement(s))  => \(what)\n"
      }
    }
    return out + Disassembler.blocks(p)
  }
}
