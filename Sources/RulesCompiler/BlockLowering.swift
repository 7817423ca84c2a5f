import RulesMath
import RulesEvents
import RulesSema
import RulesSource
import RulesSyntax
import RulesVM

/// Lowers the expressions of one block: conditions to branches with true and false labels, numbers
/// to registers used as a stack (so a block needs as many registers as its deepest expression).
struct BlockLowering {
  var builder: ProgramBuilder
  let role: Block.Role
  /// The element kinds in scope, innermost last (fields such as `value` and `area` read the last).
  let scopes: [CollectionSpec.Kind]

  /// Code with label numbers in its targets until `finish` resolves them.
  var code: [Instruction] = []
  var offsets: [SourceOffset] = []
  var labels: [Int] = []
  var top: Register = 0
  var maxRegisters = 0
  var location: SourceOffset = 0

  init(builder: ProgramBuilder, role: Block.Role, scopes: [CollectionSpec.Kind]) {
    self.builder = builder
    self.role = role
    self.scopes = scopes
  }

  // MARK: Emission

  mutating func newLabel() -> Target {
    labels.append(-1)
    return Target(labels.count - 1)
  }

  mutating func place(_ label: Target) { labels[Int(label)] = code.count }

  mutating func emit(_ i: Instruction) {
    code.append(i)
    offsets.append(location)
  }

  mutating func allocate() -> Register {
    let r = top
    top += 1
    maxRegisters = max(maxRegisters, Int(top))
    return r
  }

  /// The block's code with labels resolved to offsets, each instruction's source offset, and its registers.
  func finish() -> ([Instruction], [SourceOffset], Int) {
    let resolved = code.map { $0.mapTargets { Target(labels[Int($0)]) } }
    return (resolved, offsets, maxRegisters)
  }

  /// A block's body: the condition, then `ret true` and `ret false`.
  mutating func conditionBody(_ e: Expr, _ projection: inout MetadataProjection) {
    let t = newLabel()
    let f = newLabel()
    condition(e, t, f, &projection)
    place(t)
    emit(.ret(true))
    place(f)
    emit(.ret(false))
  }

  // MARK: Conditions

  /// Emits code that continues at `t` when `e` holds and at `f` when it does not.
  mutating func condition(_ e: Expr, _ t: Target, _ f: Target, _ projection: inout MetadataProjection) {
    location = e.range.start
    if builder.options.foldConstants, let known = Folding.decide(e) {
      emit(.jump(known ? t : f))
      return
    }
    switch e.kind {
    case .paren(let inner):
      condition(inner, t, f, &projection)
    case .bool(let b):
      emit(.jump(b ? t : f))
    case .not(let inner):
      condition(inner, f, t, &projection)
    case .binary(.and, _, _), .binary(.or, _, _):
      let isAnd = { if case .binary(.and, _, _) = e.kind { true } else { false } }()
      var items = Folding.chain(e, and: isAnd)
      if builder.options.foldConstants {
        // `true and x` is `x`, `false or x` is `x`: operands that decide nothing are dropped.
        items = items.filter { Folding.decide($0) != isAnd }
        if items.isEmpty {
          emit(.jump(isAnd ? t : f))
          return
        }
      }
      if builder.options.orderTests { items = Cost.ordered(items) }
      for (i, item) in items.enumerated() {
        if i == items.count - 1 {
          condition(item, t, f, &projection)
        } else {
          let next = newLabel()
          if isAnd { condition(item, next, f, &projection) } else { condition(item, t, next, &projection) }
          place(next)
        }
      }
    case .quantifier(.any, let c) where fusedKeyValue(c) != nil:
      // `any concept where (name == "dog" and value > 0.8)`: one loop over the keys, no filter block.
      let (id, keys, op, bound) = fusedKeyValue(c)!
      emit(.anyConceptWith(id: id, keyList: keyList(keys), op, number: builder.number(bound), t, f))
    case .quantifier(let q, let c):
      let spec = collection(c, &projection)
      location = e.range.start
      emit(.quantifier(all: q == .all, collection: spec, t, f))
    case .call(let name, let args) where name.text == "exists":
      existence(args[0], t, f, &projection)
    case .binary(let op, let lhs, let rhs):
      comparison(op, lhs, rhs, t, f, &projection)
    default:
      // The checker only lets conditions through; anything else is false.
      emit(.jump(f))
    }
  }

  mutating func existence(_ path: Expr, _ t: Target, _ f: Target, _ projection: inout MetadataProjection) {
    if let p = StatementWalker.metadataPath(path) {
      emit(.exists(slot: builder.metadataSlot(p, &projection), t, f))
    } else if isKind(path) {
      emit(.kindIn(0b1111, t, f))
    } else if let s = source(path, &projection) {
      // A present string starts with "".
      emit(.string(.startsWith, s, builder.string(""), t, f))
    } else {
      emit(.jump(f))
    }
  }

  func isKind(_ e: Expr) -> Bool {
    if case .path(let w) = Folding.strip(e).kind, w.count == 2, w[0].text == "input", w[1].text == "kind" { return true }
    return false
  }

  /// The kinds a literal (or list of literals) names, as a bit set.
  func kindBits(_ e: Expr) -> UInt8 {
    var bits: UInt8 = 0
    func add(_ x: Expr) {
      switch x.kind {
      case .name(let n), .string(let n):
        if let k = InputKind(rawValue: n) { bits |= k.bit }
      case .list(let items): items.forEach(add)
      case .paren(let inner): add(inner)
      default: break
      }
    }
    add(e)
    return bits
  }

  /// A literal value, if the expression is one (bare words are strings).
  enum Literal {
    case number(Double), string(String), bool(Bool)
  }

  func literal(_ e: Expr) -> Literal? {
    switch Folding.strip(e).kind {
    case .string(let s): return .string(s)
    case .bool(let b): return .bool(b)
    case .name(let n) where scopes.isEmpty || !Self.isField(n, scopes.last!): return .string(n)
    default: return Constant.number(e).map(Literal.number)
    }
  }

  static func isField(_ name: String, _ kind: CollectionSpec.Kind) -> Bool {
    switch kind {
    case .concepts: ["value", "name", "id"].contains(name)
    case .regions: ["value", "id", "top", "left", "bottom", "right", "width", "height", "area"].contains(name)
    case .frames: ["time", "index", "id"].contains(name)
    }
  }

  /// Whether an expression is numeric (loads into a register) rather than a string or metadata source.
  func isNumeric(_ e: Expr) -> Bool {
    switch Folding.strip(e).kind {
    case .call(let name, _): return name.text != "type"
    case .number, .negate: return true
    case .binary(let op, _, _): return op.isArithmetic
    case .name(let n):
      guard let kind = scopes.last else { return false }
      return Self.isField(n, kind) && n != "name" && n != "id"
    default: return Constant.number(e) != nil
    }
  }

  mutating func comparison(
    _ op: BinaryOperator, _ lhs: Expr, _ rhs: Expr, _ t: Target, _ f: Target, _ projection: inout MetadataProjection
  ) {
    location = lhs.range.start
    // Input kinds.
    if isKind(lhs) {
      let all: UInt8 = 0b1111
      let named = kindBits(rhs)
      switch op {
      case .equal, .in: emit(.kindIn(named, t, f))
      case .notEqual, .notIn: emit(.kindIn(all & ~named, t, f))
      default: emit(.jump(f))
      }
      return
    }
    if let (call, other) = typeComparison(lhs, rhs), let src = source(call, &projection) {
      var names: [Expr] = [other]
      if case .list(let items) = Folding.strip(other).kind { names = items }
      var bits: UInt8 = 0
      for n in names {
        if case .string(let s)? = literal(n), let type = JSONType.allCases.first(where: { "\($0)" == s }) { bits |= type.bit }
      }
      let all = JSONType.allCases.reduce(UInt8(0)) { $0 | $1.bit }
      emit(.typeIn(src, op == .equal || op == .in ? bits : all & ~bits, t, f))
      return
    }
    switch op {
    case .less, .lessEqual, .greater, .greaterEqual:
      numericCompare(op, lhs, rhs, t, f, &projection)
    case .equal, .notEqual:
      let negated = op == .notEqual
      let l = literal(lhs)
      let r = literal(rhs)
      if isNumeric(lhs) || isNumeric(rhs) || { if case .number = l { true } else if case .number = r { true } else { false } }() {
        numericCompare(op, lhs, rhs, t, f, &projection)
      } else if case .bool(let b)? = r, let p = StatementWalker.metadataPath(lhs) {
        emit(.metadataBool(slot: builder.metadataSlot(p, &projection), b != negated, t, f))
      } else if case .bool(let b)? = l, let p = StatementWalker.metadataPath(rhs) {
        emit(.metadataBool(slot: builder.metadataSlot(p, &projection), b != negated, t, f))
      } else if case .string(let s)? = r ?? l, let field = conceptTextField(l == nil ? lhs : rhs) {
        // A concept's name or id against a string: a key test (its text is never missing).
        emit(.conceptKeyIn(id: field, keyList: keyList([s]), negated ? f : t, negated ? t : f))
      } else if case .string(let s)? = r, let src = source(lhs, &projection) {
        emit(.string(negated ? .notEqual : .equal, src, builder.string(s), t, f))
      } else if case .string(let s)? = l, let src = source(rhs, &projection) {
        emit(.string(negated ? .notEqual : .equal, src, builder.string(s), t, f))
      } else if let a = source(lhs, &projection), let b = source(rhs, &projection) {
        emit(.valuesEqual(negated: negated, a, b, t, f))
      } else {
        emit(.jump(f))
      }
    case .in, .notIn:
      guard case .list(let items) = Folding.strip(rhs).kind else { return emit(.jump(f)) }
      if isNumeric(lhs) {
        // A number in a list: one equality test per numeric item.
        let r = number(lhs, &projection)
        let numbers = items.compactMap { Constant.number($0) }
        if op == .in {
          for n in numbers {
            let next = newLabel()
            emit(.compareConst(.eq, r, builder.number(n), t, next))
            place(next)
          }
          emit(.jump(f))
        } else {
          for n in numbers {
            let next = newLabel()
            emit(.compareConst(.ne, r, builder.number(n), next, f))
            place(next)
          }
          // `not in` also needs a present value: x == x is false for NaN.
          emit(.compare(.eq, r, r, t, f))
        }
        top = r
        return
      }
      if let field = conceptTextField(lhs) {
        // Only strings can equal a concept's name or id.
        let keys = items.compactMap { item -> String? in if case .string(let s)? = literal(item) { s } else { nil } }
        emit(.conceptKeyIn(id: field, keyList: keyList(keys), op == .in ? t : f, op == .in ? f : t))
        return
      }
      guard let src = source(lhs, &projection) else { return emit(.jump(f)) }
      var set = ConstantSet()
      for item in items {
        switch literal(item) {
        case .string(let s)?: set.strings.insert(s)
        case .number(let n)?: set.numbers.insert(n)
        case .bool(let b)?: set.bools.insert(b)
        case nil: break
        }
      }
      builder.program.sets.append(set)
      emit(.string(op == .in ? .inSet : .notInSet, src, Int32(builder.program.sets.count - 1), t, f))
    case .contains, .startsWith, .endsWith, .matches:
      guard let src = source(lhs, &projection) else { return emit(.jump(f)) }
      switch (op, literal(rhs)) {
      case (.contains, .string(let s)?): emit(.string(.contains, src, builder.string(s), t, f))
      case (.startsWith, .string(let s)?): emit(.string(.startsWith, src, builder.string(s), t, f))
      case (.endsWith, .string(let s)?): emit(.string(.endsWith, src, builder.string(s), t, f))
      case (.matches, .string(let pattern)?):
        let index: Int32
        if let existing = builder.program.regexSources.firstIndex(of: pattern) {
          index = Int32(existing)
        } else {
          builder.program.regexSources.append(pattern)
          builder.program.regexes.append((try? Regex(pattern)) ?? (try! Regex("(?!)")))
          index = Int32(builder.program.regexes.count - 1)
        }
        emit(.string(.matches, src, index, t, f))
      case (.contains, .number(let n)?):
        guard case .metadata(let slot) = src else { return emit(.jump(f)) }
        var set = ConstantSet()
        set.numbers.insert(n)
        builder.program.sets.append(set)
        emit(.metadataContains(slot: slot, set: Int32(builder.program.sets.count - 1), t, f))
      case (.contains, .bool(let b)?):
        guard case .metadata(let slot) = src else { return emit(.jump(f)) }
        var set = ConstantSet()
        set.bools.insert(b)
        builder.program.sets.append(set)
        emit(.metadataContains(slot: slot, set: Int32(builder.program.sets.count - 1), t, f))
      default:
        emit(.jump(f))
      }
    default:
      emit(.jump(f))
    }
  }

  /// `type(x) OP literal` (either way round): the argument of `type` and the other side.
  func typeComparison(_ lhs: Expr, _ rhs: Expr) -> (Expr, Expr)? {
    if case .call(let n, let args) = Folding.strip(lhs).kind, n.text == "type", let a = args.first { return (a, rhs) }
    if case .call(let n, let args) = Folding.strip(rhs).kind, n.text == "type", let a = args.first { return (a, lhs) }
    return nil
  }

  mutating func numericCompare(
    _ op: BinaryOperator, _ lhs: Expr, _ rhs: Expr, _ t: Target, _ f: Target, _ projection: inout MetadataProjection
  ) {
    let cmp: CompareOp =
      switch op {
      case .less: .lt
      case .lessEqual: .le
      case .greater: .gt
      case .greaterEqual: .ge
      case .equal: .eq
      default: .ne
      }
    let saved = top
    if builder.options.foldConstants, let k = Constant.number(rhs) {
      let a = number(lhs, &projection)
      emit(.compareConst(cmp, a, builder.number(k), t, f))
    } else if builder.options.foldConstants, let k = Constant.number(lhs) {
      let a = number(rhs, &projection)
      let flipped: CompareOp =
        switch cmp {
        case .lt: .gt
        case .le: .ge
        case .gt: .lt
        case .ge: .le
        default: cmp
        }
      emit(.compareConst(flipped, a, builder.number(k), t, f))
    } else {
      let a = number(lhs, &projection)
      let b = number(rhs, &projection)
      emit(.compare(cmp, a, b, t, f))
    }
    top = saved
  }
}
