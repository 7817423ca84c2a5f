import RulesMath

/// A numeric register of a block (`f0`…`f63`). Registers hold binary64; NaN means "missing", which
/// makes every comparison false for free, exactly as Grammar.md asks.
public typealias Register = UInt8

/// A code offset inside a block; jumps and branch targets only go forward.
public typealias Target = Int32

/// The comparisons a branch can make.
public enum CompareOp: UInt8, Sendable, CaseIterable {
  case lt, le, gt, ge, eq, ne

  public var symbol: String {
    switch self {
    case .lt: "<"
    case .le: "<="
    case .gt: ">"
    case .ge: ">="
    case .eq: "=="
    case .ne: "!="
    }
  }

  /// `a OP b`, false when either side is NaN (so `!=` with a missing value is false too).
  @inline(__always) public func holds(_ a: Double, _ b: Double) -> Bool {
    switch self {
    case .lt: a < b
    case .le: a <= b
    case .gt: a > b
    case .ge: a >= b
    case .eq: a == b
    case .ne: a != b && a == a && b == b
    }
  }
}

public enum ArithmeticOp: UInt8, Sendable {
  case add, sub, mul, div

  public var symbol: String {
    switch self {
    case .add: "+"
    case .sub: "-"
    case .mul: "*"
    case .div: "/"
    }
  }
}

/// Numeric fields of the element a `where` block ranges over.
public enum ElementField: UInt8, Sendable, CaseIterable {
  case value, area, width, height, top, left, bottom, right, time, index

  public var name: String { "\(self)" }
}

/// Where a string-valued test reads its text.
public enum StringSource: Sendable, Equatable {
  case inputID, inputText, inputURL, modelID, modelVersion, modelUser, modelApp
  case metadata(Int32)
  case elementName, elementID

  public var name: String {
    switch self {
    case .inputID: "input.id"
    case .inputText: "input.text"
    case .inputURL: "input.url"
    case .modelID: "model.id"
    case .modelVersion: "model.version"
    case .modelUser: "model.user"
    case .modelApp: "model.app"
    case .metadata(let slot): "meta[\(slot)]"
    case .elementName: "name"
    case .elementID: "id"
    }
  }
}

/// The JSON types `type(...)` names, as bits.
public enum JSONType: UInt8, Sendable, CaseIterable {
  case string, number, bool, list, object

  public var bit: UInt8 { 1 << rawValue }
}

/// String tests; each reads a source and a pool entry.
public enum StringTest: UInt8, Sendable {
  /// `==` / `!=` a string constant (false when the source is missing or not a string).
  case equal, notEqual
  /// Membership in a constant set (strings and numbers); `notIn` needs a present value.
  case inSet, notInSet
  case contains, startsWith, endsWith
  /// A regex from the regex pool.
  case matches

  public var mnemonic: String {
    switch self {
    case .equal: "str.eq"
    case .notEqual: "str.ne"
    case .inSet: "in.set"
    case .notInSet: "notin.set"
    case .contains: "contains"
    case .startsWith: "prefix"
    case .endsWith: "suffix"
    case .matches: "match"
    }
  }
}

/// One instruction. The instruction set is defined here once: the verifier reads operand ranges from
/// `registersRead`/`registersWritten`/`targets`, and the disassembler prints `mnemonic` and operands.
///
/// A block is straight-line code with forward branches that ends in `ret`; conditions compile to
/// compare-and-branch instructions with a true and a false target (libpcap's BPF style), so `and`,
/// `or` and `not` cost no instructions of their own.
public enum Instruction: Sendable, Equatable {
  case ret(Bool)
  case jump(Target)

  // Numeric loads (NaN when missing).
  case loadConst(Register, Int32)
  /// The value of a concept (by key) in the current concept scope.
  case loadConcept(Register, Int32)
  /// An aggregate of a collection; `rank` for `top`; `cache` ≥ 0 shares the result within an event.
  case loadAggregate(Register, AggregateKind, collection: Int32, rank: Int32, cache: Int32)
  case loadCount(Register, collection: Int32, cache: Int32)
  case loadField(Register, ElementField)
  case loadMetadataNumber(Register, slot: Int32)
  case loadLength(Register, StringSource)
  case arithmetic(ArithmeticOp, Register, Register, Register)
  case negate(Register, Register)

  // Branches.
  case compare(CompareOp, Register, Register, Target, Target)
  case compareConst(CompareOp, Register, Int32, Target, Target)
  case string(StringTest, StringSource, Int32, Target, Target)
  /// The input kind is one of a bit set (bit i = `InputKind.allCases[i]`); false when missing.
  case kindIn(UInt8, Target, Target)
  /// A metadata value is the bool given (false when missing or of another type).
  case metadataBool(slot: Int32, Bool, Target, Target)
  /// A metadata list holds an element of a constant set (numbers and bools; strings use `.string(.contains)`).
  case metadataContains(slot: Int32, set: Int32, Target, Target)
  /// Two sources hold equal values of the same type (`negated`: equal types, different values).
  case valuesEqual(negated: Bool, StringSource, StringSource, Target, Target)
  case exists(slot: Int32, Target, Target)
  /// The JSON type of a source is in a bit set (`JSONType`); false when missing.
  case typeIn(StringSource, UInt8, Target, Target)
  /// `any`/`all` over a collection (its filter is a block).
  case quantifier(all: Bool, collection: Int32, Target, Target)
  /// The concept in scope has its name (or its id) in a key list: `name == "dog"` and `name in [...]`
  /// inside a concept filter, resolved to keys when compiled, so no concept's text is read at run time.
  case conceptKeyIn(id: Bool, keyList: Int32, Target, Target)
  /// Some concept in scope has its name (or id) in a key list and a value that compares with a
  /// constant: `any concept where (name == "dog" and value > 0.8)` fused into one loop over keys.
  case anyConceptWith(id: Bool, keyList: Int32, CompareOp, number: Int32, Target, Target)

  public var mnemonic: String {
    switch self {
    case .ret: "ret"
    case .jump: "jmp"
    case .loadConst: "ld.k"
    case .loadConcept: "ld.concept"
    case .loadAggregate(_, let kind, _, _, _): "ld.\(kind.name)"
    case .loadCount: "ld.count"
    case .loadField: "ld.field"
    case .loadMetadataNumber: "ld.meta"
    case .loadLength: "ld.len"
    case .arithmetic(let op, _, _, _): "\(op)"
    case .negate: "neg"
    case .compare(let op, _, _, _, _): "br.\(op)"
    case .compareConst(let op, _, _, _, _): "br.\(op).k"
    case .string(let test, _, _, _, _): "br.\(test.mnemonic)"
    case .kindIn: "br.kind"
    case .metadataBool: "br.bool"
    case .metadataContains: "br.contains.set"
    case .valuesEqual(let negated, _, _, _, _): negated ? "br.ne.v" : "br.eq.v"
    case .exists: "br.exists"
    case .typeIn: "br.type"
    case .quantifier(let all, _, _, _): all ? "br.all" : "br.any"
    case .conceptKeyIn: "br.key"
    case .anyConceptWith: "br.any.key"
    }
  }

  public var registersRead: [Register] {
    switch self {
    case .arithmetic(_, _, let a, let b): [a, b]
    case .negate(_, let a): [a]
    case .compare(_, let a, let b, _, _): [a, b]
    case .compareConst(_, let a, _, _, _): [a]
    default: []
    }
  }

  public var registerWritten: Register? {
    switch self {
    case .loadConst(let r, _), .loadConcept(let r, _), .loadAggregate(let r, _, _, _, _), .loadCount(let r, _, _),
      .loadField(let r, _), .loadMetadataNumber(let r, _), .loadLength(let r, _), .arithmetic(_, let r, _, _),
      .negate(let r, _):
      r
    default: nil
    }
  }

  /// Branch and jump targets.
  public var targets: [Target] {
    switch self {
    case .jump(let t): [t]
    case .compare(_, _, _, let t, let f), .compareConst(_, _, _, let t, let f), .string(_, _, _, let t, let f),
      .kindIn(_, let t, let f), .metadataBool(_, _, let t, let f), .metadataContains(_, _, let t, let f),
      .valuesEqual(_, _, _, let t, let f), .exists(_, let t, let f), .quantifier(_, _, let t, let f),
      .typeIn(_, _, let t, let f), .conceptKeyIn(_, _, let t, let f), .anyConceptWith(_, _, _, _, let t, let f):
      [t, f]
    default: []
    }
  }

  /// The same instruction with its targets mapped (the compiler resolves labels with it).
  public func mapTargets(_ f: (Target) -> Target) -> Instruction {
    switch self {
    case .jump(let t): .jump(f(t))
    case .compare(let op, let a, let b, let t, let e): .compare(op, a, b, f(t), f(e))
    case .compareConst(let op, let a, let k, let t, let e): .compareConst(op, a, k, f(t), f(e))
    case .string(let test, let s, let k, let t, let e): .string(test, s, k, f(t), f(e))
    case .kindIn(let bits, let t, let e): .kindIn(bits, f(t), f(e))
    case .metadataBool(let slot, let v, let t, let e): .metadataBool(slot: slot, v, f(t), f(e))
    case .metadataContains(let slot, let set, let t, let e): .metadataContains(slot: slot, set: set, f(t), f(e))
    case .valuesEqual(let n, let a, let b, let t, let e): .valuesEqual(negated: n, a, b, f(t), f(e))
    case .exists(let slot, let t, let e): .exists(slot: slot, f(t), f(e))
    case .typeIn(let s, let bits, let t, let e): .typeIn(s, bits, f(t), f(e))
    case .quantifier(let all, let c, let t, let e): .quantifier(all: all, collection: c, f(t), f(e))
    case .conceptKeyIn(let id, let list, let t, let e): .conceptKeyIn(id: id, keyList: list, f(t), f(e))
    case .anyConceptWith(let id, let list, let op, let k, let t, let e): .anyConceptWith(id: id, keyList: list, op, number: k, f(t), f(e))
    default: self
    }
  }

  public var isTerminal: Bool {
    switch self {
    case .ret, .jump: true
    default: !targets.isEmpty
    }
  }
}
