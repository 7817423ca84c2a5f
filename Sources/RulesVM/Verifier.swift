/// Why a program was rejected.
public struct VerificationError: Error, Sendable, CustomStringConvertible, Equatable {
  public var block: Int
  public var pc: Int
  public var reason: String
  public var description: String { "block \(block), offset \(pc): \(reason)" }
}

/// Checks a program once, so the interpreter can run it without checks (libpcap's
/// `bpf_validate` in spirit): known operands in range, registers written before they are read,
/// forward branches inside the block, a `ret` at the end of every path, filter blocks that only call
/// blocks after them (so evaluation always terminates), and a bounded register file.
public enum Verifier {
  public static func verify(_ p: Program) throws(VerificationError) {
    for (b, block) in p.blocks.enumerated() {
      func fail(_ pc: Int, _ reason: String) -> VerificationError { VerificationError(block: b, pc: pc, reason: reason) }
      guard block.count > 0, block.start >= 0, block.start + block.count <= p.code.count else {
        throw fail(0, "block outside the code")
      }
      guard block.registers <= Program.registerLimit else { throw fail(0, "too many registers") }
      // Definitely-written registers at each offset (nil: not reached yet; dead code is allowed).
      var written = [RegisterSet?](repeating: nil, count: block.count + 1)
      written[0] = RegisterSet()
      for pc in 0..<block.count {
        let instruction = p.code[block.start + pc]
        try checkOperands(instruction, p, b, fail: { fail(pc, $0) })
        for t in instruction.targets {
          guard t > pc, Int(t) < block.count else { throw fail(pc, "branch target \(t) is not forward inside the block") }
        }
        if !instruction.isTerminal && pc + 1 >= block.count { throw fail(pc, "the block ends without ret") }
        guard let before = written[pc] else { continue }
        for r in instruction.registersRead {
          guard Int(r) < block.registers else { throw fail(pc, "register f\(r) out of range") }
          guard before.contains(r) else { throw fail(pc, "register f\(r) read before it is written") }
        }
        var after = before
        if let r = instruction.registerWritten {
          guard Int(r) < block.registers else { throw fail(pc, "register f\(r) out of range") }
          after.insert(r)
        }
        for t in instruction.targets { written[Int(t)] = written[Int(t)].map { $0.intersection(after) } ?? after }
        if !instruction.isTerminal { written[pc + 1] = written[pc + 1].map { $0.intersection(after) } ?? after }
      }
    }
  }

  /// A set of registers as 256 bits.
  struct RegisterSet {
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    func contains(_ r: Register) -> Bool {
      let bit = UInt64(1) << UInt64(r & 63)
      switch r >> 6 {
      case 0: return words.0 & bit != 0
      case 1: return words.1 & bit != 0
      case 2: return words.2 & bit != 0
      default: return words.3 & bit != 0
      }
    }

    mutating func insert(_ r: Register) {
      let bit = UInt64(1) << UInt64(r & 63)
      switch r >> 6 {
      case 0: words.0 |= bit
      case 1: words.1 |= bit
      case 2: words.2 |= bit
      default: words.3 |= bit
      }
    }

    func intersection(_ o: RegisterSet) -> RegisterSet {
      RegisterSet(words: (words.0 & o.words.0, words.1 & o.words.1, words.2 & o.words.2, words.3 & o.words.3))
    }
  }

  static func checkOperands(
    _ i: Instruction, _ p: Program, _ block: Int, fail: (String) -> VerificationError
  ) throws(VerificationError) {
    func index(_ value: Int32, _ count: Int, _ what: String) throws(VerificationError) {
      guard value >= 0 && Int(value) < count else { throw fail("\(what) \(value) out of range") }
    }
    func source(_ s: StringSource) throws(VerificationError) {
      if case .metadata(let slot) = s { try index(slot, p.metadataPaths.count, "metadata slot") }
    }
    func collection(_ c: Int32) throws(VerificationError) {
      try index(c, p.collections.count, "collection")
      let spec = p.collections[Int(c)]
      if spec.keyList >= 0 { try index(spec.keyList, p.keyLists.count, "key list") }
      if spec.filter >= 0 {
        try index(spec.filter, p.blocks.count, "filter block")
        guard spec.filter > Int32(block) else { throw fail("filter block \(spec.filter) does not come after block \(block)") }
        guard p.blocks[Int(spec.filter)].role == .filter(spec.kind) else { throw fail("block \(spec.filter) is not a filter of \(spec.kind)") }
      }
    }
    func cache(_ c: Int32) throws(VerificationError) {
      if c >= 0 { try index(c, p.cacheSize, "cache slot") }
    }
    switch i {
    case .ret, .jump, .arithmetic, .negate, .compare, .kindIn, .loadField: break
    case .loadConst(_, let k): try index(k, p.numbers.count, "number")
    case .loadConcept(_, let k): try index(k, p.conceptKeys.count, "concept key")
    case .loadAggregate(_, let kind, let c, let rank, let slot):
      try collection(c)
      guard p.collections[Int(c)].kind == .concepts else { throw fail("aggregate of a non-concept collection") }
      if kind == .top { guard rank >= 1 else { throw fail("rank \(rank) below 1") } }
      try cache(slot)
    case .loadCount(_, let c, let slot):
      try collection(c)
      try cache(slot)
    case .loadMetadataNumber(_, let slot): try index(slot, p.metadataPaths.count, "metadata slot")
    case .loadLength(_, let s): try source(s)
    case .compareConst(_, _, let k, _, _): try index(k, p.numbers.count, "number")
    case .string(let test, let s, let k, _, _):
      try source(s)
      switch test {
      case .inSet, .notInSet: try index(k, p.sets.count, "set")
      case .matches: try index(k, p.regexes.count, "regex")
      default: try index(k, p.strings.count, "string")
      }
    case .metadataBool(let slot, _, _, _), .exists(let slot, _, _):
      try index(slot, p.metadataPaths.count, "metadata slot")
    case .metadataContains(let slot, let k, _, _):
      try index(slot, p.metadataPaths.count, "metadata slot")
      try index(k, p.sets.count, "set")
    case .typeIn(let s, _, _, _): try source(s)
    case .valuesEqual(_, let a, let b, _, _):
      try source(a)
      try source(b)
    case .quantifier(_, let c, _, _): try collection(c)
    case .anyConceptWith(_, let list, _, let k, _, _):
      try index(list, p.keyLists.count, "key list")
      for key in p.keyLists[Int(list)] { try index(key, p.conceptKeys.count, "concept key") }
      try index(k, p.numbers.count, "number")
    case .conceptKeyIn(_, let list, _, _):
      guard p.blocks[block].role == .filter(.concepts) else { throw fail("a concept key test outside a concept filter") }
      try index(list, p.keyLists.count, "key list")
      for key in p.keyLists[Int(list)] { try index(key, p.conceptKeys.count, "concept key") }
    }
  }
}
