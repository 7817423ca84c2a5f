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

  // MARK: Values

  /// Emits code leaving the expression's number in a new register (NaN when missing).
  mutating func number(_ e: Expr, _ projection: inout MetadataProjection) -> Register {
    location = e.range.start
    if builder.options.foldConstants, let k = Constant.number(e) {
      let r = allocate()
      emit(.loadConst(r, builder.number(k)))
      return r
    }
    switch e.kind {
    case .paren(let inner):
      return number(inner, &projection)
    case .number(let v, _, _):
      let r = allocate()
      emit(.loadConst(r, builder.number(v)))
      return r
    case .negate(let inner):
      let a = number(inner, &projection)
      emit(.negate(a, a))
      return a
    case .binary(let op, let l, let rr) where op.isArithmetic:
      let a = number(l, &projection)
      let b = number(rr, &projection)
      let aop: ArithmeticOp =
        switch op {
        case .add: .add
        case .subtract: .sub
        case .multiply: .mul
        default: .div
        }
      emit(.arithmetic(aop, a, a, b))
      top = a + 1
      return a
    case .name(let n):
      let r = allocate()
      if let field = ElementField(rawValue: ElementField.allCases.firstIndex { $0.name == n }.map { UInt8($0) } ?? 255) {
        emit(.loadField(r, field))
      } else {
        emit(.loadConst(r, builder.number(.nan)))
      }
      return r
    case .path:
      let r = allocate()
      if let p = StatementWalker.metadataPath(e) {
        emit(.loadMetadataNumber(r, slot: builder.metadataSlot(p, &projection)))
      } else {
        emit(.loadConst(r, builder.number(.nan)))
      }
      return r
    case .call(let name, let args):
      return call(name.text, args, e, &projection)
    default:
      let r = allocate()
      emit(.loadConst(r, builder.number(.nan)))
      return r
    }
  }

  mutating func call(_ name: String, _ args: [Expr], _ e: Expr, _ projection: inout MetadataProjection) -> Register {
    switch name {
    case "concept":
      let r = allocate()
      switch args.first?.kind {
      case .name(let n)?, .string(let n)?: emit(.loadConcept(r, builder.key(n)))
      default: emit(.loadConst(r, builder.number(.nan)))
      }
      return r
    case "length":
      let r = allocate()
      if let s = source(args[0], &projection) {
        location = e.range.start
        emit(.loadLength(r, s))
      } else {
        emit(.loadConst(r, builder.number(.nan)))
      }
      return r
    case "count":
      guard case .collection(let c)? = args.first.map({ Folding.strip($0).kind }) else {
        let r = allocate()
        emit(.loadConst(r, builder.number(.nan)))
        return r
      }
      let spec = collection(c, &projection)
      let r = allocate()
      location = e.range.start
      emit(.loadCount(r, collection: spec, cache: cacheSlot(e)))
      return r
    default:
      let kind: AggregateKind? =
        switch name {
        case "max": .max
        case "min": .min
        case "top": .top
        case "margin": .margin
        case "entropy": .entropy
        case "least_confidence": .leastConfidence
        default: nil
        }
      guard let kind, case .collection(let c)? = args.first.map({ Folding.strip($0).kind }) else {
        let r = allocate()
        emit(.loadConst(r, builder.number(.nan)))
        return r
      }
      let spec = collection(c, &projection)
      let rank = args.count > 1 ? Int32(Constant.number(args[1]) ?? 1) : 1
      let r = allocate()
      location = e.range.start
      emit(.loadAggregate(r, kind, collection: spec, rank: rank, cache: cacheSlot(e)))
      return r
    }
  }

  /// A per-event cache slot for a top-level aggregate, shared by every statement of the collector.
  mutating func cacheSlot(_ e: Expr) -> Int32 {
    guard builder.options.shareSubexpressions, scopes.isEmpty else { return -1 }
    let key = Printer.expression(e)
    if let slot = builder.cacheIndex[key] { return slot }
    let slot = Int32(builder.program.cacheSize)
    builder.program.cacheSize += 1
    builder.cacheIndex[key] = slot
    return slot
  }

  /// `concepts where (name|id == "s" | in [...]) and value OP number` (either order, no key list),
  /// as the parts of one `br.any.key`; nil for anything else.
  func fusedKeyValue(_ c: CollectionExpr) -> (id: Bool, keys: [String], CompareOp, Double)? {
    guard builder.options.conceptNamesAsKeys, c.kind == .concepts, c.list == nil, case .where(let predicate)? = c.filter else {
      return nil
    }
    let items = Folding.chain(Folding.strip(predicate), and: true)
    guard items.count == 2 else { return nil }
    func field(_ e: Expr) -> Bool? {
      switch Folding.strip(e).kind {
      case .name("name"): false
      case .name("id"): true
      default: nil
      }
    }
    func keyTest(_ e: Expr) -> (Bool, [String])? {
      guard case .binary(let op, let l, let r) = Folding.strip(e).kind, let id = field(l) else { return nil }
      switch (op, Folding.strip(r).kind) {
      case (.equal, .string(let s)): return (id, [s])
      case (.in, .list(let list)):
        var keys: [String] = []
        for item in list {
          switch item.kind {
          case .string(let s): keys.append(s)
          // A bare word is a string unless it names a field of the concept (`name in [id]`).
          case .name(let s) where !["value", "name", "id"].contains(s): keys.append(s)
          default: return nil
          }
        }
        return (id, keys)
      default: return nil
      }
    }
    func valueTest(_ e: Expr) -> (CompareOp, Double)? {
      guard case .binary(let op, let l, let r) = Folding.strip(e).kind else { return nil }
      let ops: [BinaryOperator: (CompareOp, CompareOp)] = [
        .less: (.lt, .gt), .lessEqual: (.le, .ge), .greater: (.gt, .lt), .greaterEqual: (.ge, .le), .equal: (.eq, .eq), .notEqual: (.ne, .ne),
      ]
      guard let (direct, mirrored) = ops[op] else { return nil }
      if case .name("value") = Folding.strip(l).kind, let k = Constant.number(r) { return (direct, k) }
      if case .name("value") = Folding.strip(r).kind, let k = Constant.number(l) { return (mirrored, k) }
      return nil
    }
    for (a, b) in [(items[0], items[1]), (items[1], items[0])] {
      if let (id, keys) = keyTest(a), let (op, k) = valueTest(b) { return (id, keys, op, k) }
    }
    return nil
  }

  /// Whether `e` is the name (false) or id (true) of the concept in scope, or nil.
  func conceptTextField(_ e: Expr) -> Bool? {
    guard builder.options.conceptNamesAsKeys, scopes.last == .concepts else { return nil }
    switch Folding.strip(e).kind {
    case .name("name"): return false
    case .name("id"): return true
    default: return nil
    }
  }

  /// A key list of concept names or ids.
  mutating func keyList(_ names: [String]) -> Int32 {
    builder.program.keyLists.append(names.map { builder.key($0) })
    return Int32(builder.program.keyLists.count - 1)
  }

  /// Where a string-valued (or metadata) expression is read from.
  mutating func source(_ e: Expr, _ projection: inout MetadataProjection) -> StringSource? {
    switch Folding.strip(e).kind {
    case .path(let words):
      if let p = StatementWalker.metadataPath(words) { return .metadata(builder.metadataSlot(p, &projection)) }
      guard words.count == 2 else { return nil }
      switch (words[0].text, words[1].text) {
      case ("input", "id"): return .inputID
      case ("input", "text"): return .inputText
      case ("input", "url"): return .inputURL
      case ("model", "id"): return .modelID
      case ("model", "version"): return .modelVersion
      case ("model", "user"): return .modelUser
      case ("model", "app"): return .modelApp
      default: return nil
      }
    case .name("name") where scopes.last == .concepts: return .elementName
    case .name("id") where scopes.last != nil: return .elementID
    default: return nil
    }
  }

  /// Registers a collection operand; its filter becomes a block of its own.
  mutating func collection(_ c: CollectionExpr, _ projection: inout MetadataProjection) -> Int32 {
    let kind: CollectionSpec.Kind =
      switch c.kind {
      case .concepts: .concepts
      case .regions: .regions
      case .frames: .frames
      }
    var spec = CollectionSpec(kind: kind)
    if let list = c.list, case .list(let items) = list.kind {
      let keys = items.compactMap { item -> Int32? in
        switch item.kind {
        case .name(let n), .string(let n): builder.key(n)
        default: nil
        }
      }
      builder.program.keyLists.append(keys)
      spec.keyList = Int32(builder.program.keyLists.count - 1)
    }
    if let filter = c.filter {
      let inner = scopes + [kind]
      spec.filter = Int32(
        builder.block(role: .filter(kind), scopes: inner, &projection) { lowering, projection in
          switch filter {
          case .where(let predicate):
            lowering.conditionBody(predicate, &projection)
          case .compare(let op, let rhs):
            // `> 0.3` is `where value > 0.3`.
            let value = Expr(.name("value"), c.keyword.range)
            lowering.conditionBody(Expr(.binary(op, value, rhs), c.keyword.range.union(rhs.range)), &projection)
          }
        })
    }
    builder.program.collections.append(spec)
    return Int32(builder.program.collections.count - 1)
  }
}

/// Compile-time facts about expressions.
enum Folding {
  static func strip(_ e: Expr) -> Expr {
    if case .paren(let inner) = e.kind { return strip(inner) }
    return e
  }

  /// The operands of a chain of `and` (or of `or`), flattened through parentheses.
  static func chain(_ e: Expr, and: Bool) -> [Expr] {
    let e = strip(e)
    switch e.kind {
    case .binary(.and, let l, let r) where and: return chain(l, and: true) + chain(r, and: true)
    case .binary(.or, let l, let r) where !and: return chain(l, and: false) + chain(r, and: false)
    default: return [e]
    }
  }

  /// The value of a condition known at compile time: literals, and comparisons of two constants.
  static func decide(_ e: Expr) -> Bool? {
    switch strip(e).kind {
    case .bool(let b): return b
    case .not(let inner): return decide(inner).map { !$0 }
    case .binary(.and, let l, let r):
      let a = decide(l)
      let b = decide(r)
      if a == false || b == false { return false }
      if a == true && b == true { return true }
      return nil
    case .binary(.or, let l, let r):
      let a = decide(l)
      let b = decide(r)
      if a == true || b == true { return true }
      if a == false && b == false { return false }
      return nil
    case .binary(let op, let l, let r) where op.isComparison:
      guard let a = Constant.number(l), let b = Constant.number(r) else { return nil }
      switch op {
      case .less: return a < b
      case .lessEqual: return a <= b
      case .greater: return a > b
      case .greaterEqual: return a >= b
      case .equal: return a == b
      default: return a != b
      }
    default: return nil
    }
  }
}

/// A rough cost of testing a condition, to test cheap conditions first.
enum Cost {
  static func of(_ e: Expr) -> Int {
    switch Folding.strip(e).kind {
    case .bool: return 0
    case .binary(.and, let l, let r), .binary(.or, let l, let r): return of(l) + of(r)
    case .not(let x): return of(x)
    case .quantifier: return 50
    case .binary(.matches, _, _): return 100
    case .binary(_, let l, let r): return value(l) + value(r) + 1
    case .call: return 2
    default: return 5
    }
  }

  static func value(_ e: Expr) -> Int {
    switch Folding.strip(e).kind {
    case .number, .string, .bool, .name, .list: return 0
    case .path: return 2
    case .call(let name, _): return name.text == "concept" ? 4 : (name.text == "entropy" || name.text == "top" || name.text == "margin" ? 30 : 20)
    case .binary(_, let l, let r): return value(l) + value(r) + 1
    case .negate(let x): return value(x) + 1
    default: return 10
    }
  }

  /// Stable order by cost: conditions are pure, so `and` and `or` may test them in any order.
  static func ordered(_ items: [Expr]) -> [Expr] {
    items.enumerated().sorted { a, b in
      let x = of(a.element)
      let y = of(b.element)
      return x != y ? x < y : a.offset < b.offset
    }.map(\.element)
  }
}
