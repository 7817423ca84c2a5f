import RulesMath
import RulesEvents
import RulesSema
import RulesSource
import RulesSyntax
import RulesVM

/// Lowering of values: numbers, calls, aggregates, strings and collections, into registers.
extension BlockLowering {

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
      guard let kind = AggregateKind(name: name), case .collection(let c)? = args.first.map({ Folding.strip($0).kind }) else {
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
