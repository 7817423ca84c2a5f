import RulesEvents

/// A collection operand: which elements, narrowed by a concept-key list, filtered by a block.
public struct CollectionSpec: Sendable, Equatable {
  public enum Kind: UInt8, Sendable {
    case concepts, regions, frames
  }

  public var kind: Kind
  /// Index into `Program.keyLists` (concept keys of an `in [...]` list), or -1.
  public var keyList: Int32
  /// The filter block run once per element, or -1 for none.
  public var filter: Int32

  public init(kind: Kind, keyList: Int32 = -1, filter: Int32 = -1) {
    self.kind = kind
    self.keyList = keyList
    self.filter = filter
  }
}

/// A straight-line stretch of code with forward branches that ends in `ret`.
public struct Block: Sendable, Equatable {
  public enum Role: Sendable, Equatable {
    /// The condition of statement `statement` of a stage.
    case condition
    /// A `where` filter run with one element in scope.
    case filter(CollectionSpec.Kind)
  }

  public var start: Int
  public var count: Int
  public var registers: Int
  public var role: Role

  public init(start: Int, count: Int, registers: Int, role: Role) {
    self.start = start
    self.count = count
    self.registers = registers
    self.role = role
  }
}

/// A set of literal values for `in [...]`.
public struct ConstantSet: Sendable, Equatable {
  public var strings: Set<String> = []
  public var numbers: Set<Double> = []
  public var bools: Set<Bool> = []
  public init() {}
}

/// The bytecode of one collector's conditions: one code buffer, blocks within it, and the pools its
/// operands index. Everything expensive (names to keys and slots, string interning, constant lists
/// to sets, regexes) was done when it was compiled.
public struct Program: @unchecked Sendable {
  public var code: [Instruction] = []
  public var blocks: [Block] = []
  /// Source line and column of each instruction, for the disassembler.
  public var locations: [(line: Int, column: Int)] = []
  public var numbers: [Double] = []
  public var strings: [String] = []
  public var sets: [ConstantSet] = []
  public var regexSources: [String] = []
  public var regexes: [Regex<AnyRegexOutput>] = []
  /// Concept names or ids that rules name; a concept's key is its index here.
  public var conceptKeys: [String] = []
  public var keyLists: [[Int32]] = []
  public var collections: [CollectionSpec] = []
  /// Metadata paths by slot, for the disassembler.
  public var metadataPaths: [[String]] = []
  /// Results shared within one event (common sub-expressions such as `max(concepts)`).
  public var cacheSize = 0

  public init() {}

  /// The number of registers no block may exceed.
  public static let registerLimit = 255
}

extension Program {
  /// Renumbers the concept keys into a table shared by every program of a run (a linker's
  /// relocation), so the decoder resolves each concept's name and id once for all collectors.
  /// `table` grows with this program's keys; afterwards `conceptKeys` is the table as it stands.
  public mutating func relocateConceptKeys(into table: inout [String]) {
    var index: [String: Int32] = [:]
    for (i, k) in table.enumerated() where index[k] == nil { index[k] = Int32(i) }
    let map: [Int32] = conceptKeys.map { key in
      if let i = index[key] { return i }
      table.append(key)
      index[key] = Int32(table.count - 1)
      return Int32(table.count - 1)
    }
    code = code.map { instruction in
      if case .loadConcept(let r, let key) = instruction { return .loadConcept(r, map[Int(key)]) }
      return instruction
    }
    keyLists = keyLists.map { list in list.map { map[Int($0)] } }
    conceptKeys = table
  }

  /// The string sources the code reads (for what the decoder must keep).
  public var sourcesRead: [StringSource] {
    code.flatMap { instruction -> [StringSource] in
      switch instruction {
      case .loadLength(_, let s), .string(_, let s, _, _, _), .typeIn(let s, _, _, _): [s]
      case .valuesEqual(_, let a, let b, _, _): [a, b]
      default: []
      }
    }
  }

  /// Whether any rule reads regions or frames.
  public var readsRegionsOrFrames: Bool { collections.contains { $0.kind != .concepts } }
}

extension Program {
  /// A copy that shares no storage with this one, for a thread of its own. Arrays are shared
  /// between copies of a value and their reference counts are written on every read of a pool, so
  /// two jobs reading one program kept moving the same cache lines between their cores.
  public func isolatedCopy() -> Program {
    func fresh(_ s: String) -> String { String(decoding: Array(s.utf8), as: UTF8.self) }
    var p = Program()
    p.code = code.map { $0 }
    p.blocks = blocks.map { $0 }
    p.locations = locations.map { $0 }
    p.numbers = numbers.map { $0 }
    p.strings = strings.map(fresh)
    p.sets = sets.map { s in
      var copy = ConstantSet()
      copy.strings = Set(s.strings.map(fresh))
      copy.numbers = Set(s.numbers.map { $0 })
      copy.bools = Set(s.bools.map { $0 })
      return copy
    }
    p.regexSources = regexSources.map(fresh)
    p.regexes = regexes
    p.conceptKeys = conceptKeys.map(fresh)
    p.keyLists = keyLists.map { $0.map { $0 } }
    p.collections = collections.map { $0 }
    p.metadataPaths = metadataPaths.map { $0.map(fresh) }
    p.cacheSize = cacheSize
    return p
  }
}
