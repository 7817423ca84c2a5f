import Foundation
import RulesEvents
import RulesSema

/// A concept list with each concept's name and id resolved to the program's concept keys once,
/// so tests compare integers instead of strings.
public struct PreparedConcepts: Sendable {
  public var concepts: [ConceptValue] = []
  public var nameKey: [Int32] = []
  public var idKey: [Int32] = []
  /// The event's own concepts and keys are used instead (the scanner resolved them).
  public var fromEvent = false

  public init() {}

  /// Fills the buffers in place (keeping their capacity: no allocation once they are large enough).
  ///
  /// With no keys there is nothing to resolve; with a few, comparing strings beats hashing them
  /// (hashing 2 × 20 concept strings per event was 90% of the VM's time on R2: 2.0 µs per event).
  public mutating func prepare(_ list: [ConceptValue], keys: [String: Int32], few: [String]) {
    concepts = list
    nameKey.removeAll(keepingCapacity: true)
    idKey.removeAll(keepingCapacity: true)
    if keys.isEmpty {
      // No instruction reads keys (the verifier checks key operands against an empty table), so
      // there is nothing to fill: R2 went from 316 to 213 ns a collector-event (VMBenchmarks).
      return
    } else if few.count <= 8 {
      for c in list {
        var n: Int32 = -1
        var i: Int32 = -1
        for (k, key) in few.enumerated() {
          if n < 0 && c.name == key { n = Int32(k) }
          if i < 0 && c.id == key { i = Int32(k) }
        }
        nameKey.append(n)
        idKey.append(i)
      }
    } else {
      for c in list {
        nameKey.append(keys[c.name] ?? -1)
        idKey.append(keys[c.id] ?? -1)
      }
    }
  }
}

/// The concept list a block runs over, as raw buffers that live for one evaluation: taking the
/// event's own arrays this way costs no reference counting (copying three arrays into a prepared
/// list cost six atomic operations a collector-event).
struct ConceptScope {
  let concepts: UnsafeBufferPointer<ConceptValue>
  let nameKey: UnsafeBufferPointer<Int32>
  let idKey: UnsafeBufferPointer<Int32>

  /// Calls `body` with a scope over three arrays of equal length.
  @inline(__always) static func with<R>(
    _ concepts: [ConceptValue], _ nameKey: [Int32], _ idKey: [Int32], _ body: (UnsafePointer<ConceptScope>) -> R
  ) -> R {
    concepts.withUnsafeBufferPointer { c in
      nameKey.withUnsafeBufferPointer { n in
        idKey.withUnsafeBufferPointer { i in
          withUnsafePointer(to: ConceptScope(concepts: c, nameKey: n, idKey: i)) { body($0) }
        }
      }
    }
  }
}

/// Per-event results of common sub-expressions (`max(concepts)` computed once per event).
public struct EventCache: @unchecked Sendable {
  var values: [Double]
  var stamps: [UInt32]
  var generation: UInt32 = 1
  /// Every block's registers, each block in a window of its own (a block never runs inside
  /// itself: filters come after the blocks that use them). Allocated once instead of on every run
  /// of a block: R4's filter runs once per concept, and R4 went from 234 to 152 ns a collector-event.
  var registerStorage: [Double] = []
  /// The register file while a condition runs (`registerStorage`, moved out meanwhile); nil otherwise.
  var registerFile: UnsafeMutablePointer<Double>?

  public init(size: Int) {
    values = Array(repeating: 0, count: size)
    stamps = Array(repeating: 0, count: size)
  }

  /// Forgets every result (one increment, no clearing).
  public mutating func newEvent() {
    generation &+= 1
    if generation == 0 {
      for i in stamps.indices { stamps[i] = 0 }
      generation = 1
    }
  }
}

/// The element a filter block runs with.
enum ScopeElement {
  case none
  case concept(Int)
  case region(RegionValue)
  case frame(FrameValue)
}

/// Runs verified bytecode (a class, so calls share one instance instead of copying the program's
/// pools). This is the one file with unsafe code: after `Verifier.verify`, register
/// and pool indices are known to be in range, so the loop reads raw buffers with state in locals.
public final class Interpreter: @unchecked Sendable {
  public let program: Program
  let keyIndex: [String: Int32]
  /// The identity of the program's key table: events whose keys the scanner resolved against the
  /// same table are used as they are.
  let keyTableID: UInt64

  /// Where each block's registers start in the register file, and the file's size.
  let registerBase: UnsafeMutablePointer<Int>
  let registerCount: Int

  deinit { registerBase.deallocate() }

  /// Verifies the program; only a verified program can be run.
  public init(_ program: Program) throws(VerificationError) {
    try Verifier.verify(program)
    self.program = program
    registerBase = .allocate(capacity: max(1, program.blocks.count))
    var total = 0
    for (i, b) in program.blocks.enumerated() {
      registerBase[i] = total
      total += max(1, b.registers)
    }
    registerCount = max(1, total)
    var keys: [String: Int32] = [:]
    for (i, k) in program.conceptKeys.enumerated() where keys[k] == nil { keys[k] = Int32(i) }
    keyIndex = keys
    keyTableID = ConceptKeyMatcher.tableID(of: program.conceptKeys)
  }

  /// Prepares the output's top-level concept list for this program.
  public func prepare(_ concepts: [ConceptValue], into prepared: inout PreparedConcepts) {
    prepared.prepare(concepts, keys: keyIndex, few: program.conceptKeys)
  }

  /// Prepares an event's top-level concepts: when the scanner resolved their keys against this
  /// program's key table the event's own arrays are used as they are, else keys are resolved from
  /// the strings into `prepared`.
  public func prepare(_ event: Event, into prepared: inout PreparedConcepts) {
    withUnsafePointer(to: event) { prepare($0, into: &prepared) }
  }

  /// `prepare(_:into:)` for an event lent by pointer (the runner's path: no copy of the event).
  public func prepare(_ event: UnsafePointer<Event>, into prepared: inout PreparedConcepts) {
    let e = event.pointee.conceptNameKeys.count
    if event.pointee.conceptKeyTable == keyTableID && e == event.pointee.concepts.count
      && event.pointee.conceptIDKeys.count == e
    {
      prepared.fromEvent = true
    } else {
      prepared.fromEvent = false
      prepare(event.pointee.concepts, into: &prepared)
    }
  }

  /// Evaluates a condition block on an event prepared into `top`.
  public func evaluate(block: Int, event: Event, top: PreparedConcepts, cache: inout EventCache) -> Bool {
    withUnsafePointer(to: event) { evaluate(block: block, event: $0, top: top, cache: &cache) }
  }

  /// `evaluate` for an event lent by pointer.
  public func evaluate(block: Int, event e: UnsafePointer<Event>, top: PreparedConcepts, cache: inout EventCache) -> Bool {
    // The event and the concept list are handed down the recursion by pointer: passing the structs
    // themselves retained and released every field at each filter call (callgrind: R4 spent more on
    // that than on its tests).
    var storage = cache.registerStorage
    cache.registerStorage = []
    if storage.count < registerCount { storage = Array(repeating: 0, count: registerCount) }
    defer { cache.registerStorage = storage }
    return storage.withUnsafeMutableBufferPointer { registers in
      cache.registerFile = registers.baseAddress
      defer { cache.registerFile = nil }
      return program.code.withUnsafeBufferPointer { code in
        if top.fromEvent {
          return ConceptScope.with(e.pointee.concepts, e.pointee.conceptNameKeys, e.pointee.conceptIDKeys) { scope in
            run(block, code, e, scope, e.pointee.regions, .none, &cache)
          }
        }
        return ConceptScope.with(top.concepts, top.nameKey, top.idKey) { scope in
          run(block, code, e, scope, e.pointee.regions, .none, &cache)
        }
      }
    }
  }

  /// The sampling key a source gives: strings as they are, numbers without a trailing `.0`, bools as
  /// words; nil when missing or a list or object (then the input id is used).
  public func samplingKey(_ s: StringSource, _ event: Event) -> String? {
    let found = withUnsafePointer(to: event) { e in ConceptScope.with([], [], []) { scalar(s, e, .none, $0) } }
    switch found {
    case .string(let v)?: return v
    case .bool(let b)?: return b ? "true" : "false"
    case .number(let n)?: return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    case nil: return nil
    }
  }

  // MARK: The loop

  func run(
    _ blockIndex: Int, _ code: UnsafeBufferPointer<Instruction>, _ event: UnsafePointer<Event>, _ concepts: UnsafePointer<ConceptScope>,
    _ regions: [RegionValue], _ element: ScopeElement, _ cache: inout EventCache
  ) -> Bool {
    let block = program.blocks[blockIndex]
    let f = cache.registerFile! + registerBase[blockIndex]
    do {
      var pc = block.start
      while true {
        switch code[pc] {
        case .ret(let result):
          return result
        case .jump(let t):
          pc = block.start + Int(t)
          continue
        case .loadConst(let r, let k):
          f[Int(r)] = program.numbers[Int(k)]
        case .loadConcept(let r, let key):
          f[Int(r)] = conceptValue(key, concepts)
        case .loadAggregate(let r, let kind, let c, let rank, let slot):
          if slot >= 0 && cache.stamps[Int(slot)] == cache.generation {
            f[Int(r)] = cache.values[Int(slot)]
          } else {
            let v = aggregate(kind, c, Int(rank), code, event, concepts, regions, &cache)
            f[Int(r)] = v
            if slot >= 0 {
              cache.values[Int(slot)] = v
              cache.stamps[Int(slot)] = cache.generation
            }
          }
        case .loadCount(let r, let c, let slot):
          if slot >= 0 && cache.stamps[Int(slot)] == cache.generation {
            f[Int(r)] = cache.values[Int(slot)]
          } else {
            let v = Double(select(c, code, event, concepts, regions, &cache).passing)
            f[Int(r)] = v
            if slot >= 0 {
              cache.values[Int(slot)] = v
              cache.stamps[Int(slot)] = cache.generation
            }
          }
        case .loadField(let r, let field):
          f[Int(r)] = fieldValue(field, element, concepts)
        case .loadMetadataNumber(let r, let slot):
          if case .number(let n)? = event.pointee.metadata[Int(slot)] { f[Int(r)] = n } else { f[Int(r)] = .nan }
        case .loadLength(let r, let source):
          f[Int(r)] = length(source, event, element, concepts)
        case .arithmetic(let op, let d, let a, let b):
          let x = f[Int(a)]
          let y = f[Int(b)]
          let v: Double
          switch op {
          case .add: v = x + y
          case .sub: v = x - y
          case .mul: v = x * y
          case .div: v = x / y
          }
          f[Int(d)] = v.isFinite ? v : .nan
        case .negate(let d, let a):
          f[Int(d)] = -f[Int(a)]
        case .compare(let op, let a, let b, let t, let e):
          pc = block.start + Int(op.holds(f[Int(a)], f[Int(b)]) ? t : e)
          continue
        case .compareConst(let op, let a, let k, let t, let e):
          pc = block.start + Int(op.holds(f[Int(a)], program.numbers[Int(k)]) ? t : e)
          continue
        case .string(let test, let source, let k, let t, let e):
          pc = block.start + Int(stringTest(test, source, k, event, element, concepts) ? t : e)
          continue
        case .kindIn(let bits, let t, let e):
          var ok = false
          if let kind = event.pointee.inputKind { ok = bits & kind.bit != 0 }
          pc = block.start + Int(ok ? t : e)
          continue
        case .metadataBool(let slot, let value, let t, let e):
          var ok = false
          if case .bool(let b)? = event.pointee.metadata[Int(slot)] { ok = b == value }
          pc = block.start + Int(ok ? t : e)
          continue
        case .metadataContains(let slot, let k, let t, let e):
          var ok = false
          if case .list(let items)? = event.pointee.metadata[Int(slot)] {
            let set = program.sets[Int(k)]
            ok = items.contains { item in
              switch item {
              case .number(let n): set.numbers.contains(n)
              case .bool(let b): set.bools.contains(b)
              default: false
              }
            }
          }
          pc = block.start + Int(ok ? t : e)
          continue
        case .valuesEqual(let negated, let a, let b, let t, let e):
          var ok = false
          if let x = scalar(a, event, element, concepts), let y = scalar(b, event, element, concepts), let equal = x.equal(y) {
            ok = negated ? !equal : equal
          }
          pc = block.start + Int(ok ? t : e)
          continue
        case .exists(let slot, let t, let e):
          var ok = false
          if let v = event.pointee.metadata[Int(slot)], v != .null { ok = true }
          pc = block.start + Int(ok ? t : e)
          continue
        case .typeIn(let source, let bits, let t, let e):
          var type: JSONType?
          if case .metadata(let slot) = source {
            switch event.pointee.metadata[Int(slot)] {
            case .string?: type = .string
            case .number?: type = .number
            case .bool?: type = .bool
            case .list?: type = .list
            case .object?: type = .object
            case .null?, nil: type = nil
            }
          } else if text(source, event, element, concepts) != nil {
            type = .string
          }
          pc = block.start + Int((type.map { bits & $0.bit != 0 } ?? false) ? t : e)
          continue
        case .anyConceptWith(let id, let list, let op, let k, let t, let e):
          let keys = program.keyLists[Int(list)]
          let bound = program.numbers[Int(k)]
          let table = id ? concepts.pointee.idKey : concepts.pointee.nameKey
          var ok = false
          for i in 0..<concepts.pointee.concepts.count where table[i] >= 0 && keys.contains(table[i]) {
            if op.holds(concepts.pointee.concepts[i].value, bound) {
              ok = true
              break
            }
          }
          pc = block.start + Int(ok ? t : e)
          continue
        case .conceptKeyIn(let id, let list, let t, let e):
          var ok = false
          if case .concept(let i) = element {
            let key = id ? concepts.pointee.idKey[i] : concepts.pointee.nameKey[i]
            ok = key >= 0 && program.keyLists[Int(list)].contains(key)
          }
          pc = block.start + Int(ok ? t : e)
          continue
        case .quantifier(let all, let c, let t, let e):
          let ok = quantifier(all, c, code, event, concepts, regions, &cache)
          pc = block.start + Int(ok ? t : e)
          continue
        }
        pc += 1
      }
    }
  }

  // MARK: Concepts and collections

  /// The value of the concept with this key: matches by name first, then by id; the largest on ties.
  func conceptValue(_ key: Int32, _ c: UnsafePointer<ConceptScope>) -> Double {
    var byName = -Double.infinity
    var byID = -Double.infinity
    var foundName = false
    var foundID = false
    for i in 0..<c.pointee.concepts.count {
      if c.pointee.nameKey[i] == key {
        foundName = true
        byName = max(byName, c.pointee.concepts[i].value)
      } else if c.pointee.idKey[i] == key {
        foundID = true
        byID = max(byID, c.pointee.concepts[i].value)
      }
    }
    if foundName { return byName }
    return foundID ? byID : .nan
  }

  func inKeyList(_ list: Int32, _ c: UnsafePointer<ConceptScope>, _ i: Int) -> Bool {
    guard list >= 0 else { return true }
    let keys = program.keyLists[Int(list)]
    return keys.contains(c.pointee.nameKey[i]) || keys.contains(c.pointee.idKey[i])
  }

  /// How many elements a collection has after its key list, and how many pass its filter.
  func select(
    _ c: Int32, _ code: UnsafeBufferPointer<Instruction>, _ event: UnsafePointer<Event>, _ concepts: UnsafePointer<ConceptScope>,
    _ regions: [RegionValue], _ cache: inout EventCache
  ) -> (count: Int, passing: Int) {
    let spec = program.collections[Int(c)]
    var count = 0
    var passing = 0
    switch spec.kind {
    case .concepts:
      for i in 0..<concepts.pointee.concepts.count where inKeyList(spec.keyList, concepts, i) {
        count += 1
        if spec.filter < 0 || run(Int(spec.filter), code, event, concepts, regions, .concept(i), &cache) { passing += 1 }
      }
    case .regions:
      for region in regions {
        count += 1
        if spec.filter < 0 || enter(spec.filter, code, event, region.concepts, regions, .region(region), &cache) { passing += 1 }
      }
    case .frames:
      for frame in event.pointee.frames {
        count += 1
        if spec.filter < 0 || enter(spec.filter, code, event, frame.concepts, frame.regions, .frame(frame), &cache) {
          passing += 1
        }
      }
    }
    return (count, passing)
  }

  /// Runs a filter block with a region or frame in scope, whose concepts become the concept scope.
  func enter(
    _ block: Int32, _ code: UnsafeBufferPointer<Instruction>, _ event: UnsafePointer<Event>, _ list: [ConceptValue],
    _ regions: [RegionValue], _ element: ScopeElement, _ cache: inout EventCache
  ) -> Bool {
    var prepared = PreparedConcepts()
    prepared.prepare(list, keys: keyIndex, few: program.conceptKeys)
    return ConceptScope.with(prepared.concepts, prepared.nameKey, prepared.idKey) { run(Int(block), code, event, $0, regions, element, &cache) }
  }

  func quantifier(
    _ all: Bool, _ c: Int32, _ code: UnsafeBufferPointer<Instruction>, _ event: UnsafePointer<Event>, _ concepts: UnsafePointer<ConceptScope>,
    _ regions: [RegionValue], _ cache: inout EventCache
  ) -> Bool {
    let spec = program.collections[Int(c)]
    if all && spec.kind == .concepts && spec.keyList >= 0 {
      // `all concepts in [a, b] ...`: every listed key must be matched by a concept that passes.
      let keys = program.keyLists[Int(spec.keyList)]
      guard !keys.isEmpty else { return false }
      for key in keys {
        var matched = false
        for i in 0..<concepts.pointee.concepts.count where concepts.pointee.nameKey[i] == key || concepts.pointee.idKey[i] == key {
          if spec.filter < 0 || run(Int(spec.filter), code, event, concepts, regions, .concept(i), &cache) {
            matched = true
            break
          }
        }
        if !matched { return false }
      }
      return true
    }
    // `any` stops at the first element that passes, `all` at the first that fails (filters are pure,
    // so the outcome is the same as counting them all).
    switch spec.kind {
    case .concepts:
      var count = 0
      for i in 0..<concepts.pointee.concepts.count where inKeyList(spec.keyList, concepts, i) {
        count += 1
        let ok = spec.filter < 0 || run(Int(spec.filter), code, event, concepts, regions, .concept(i), &cache)
        if ok != all { return ok }
      }
      return all && count > 0
    case .regions, .frames:
      let (count, passing) = select(c, code, event, concepts, regions, &cache)
      return all ? count > 0 && passing == count : passing > 0
    }
  }

  func aggregate(
    _ kind: AggregateKind, _ c: Int32, _ rank: Int, _ code: UnsafeBufferPointer<Instruction>, _ event: UnsafePointer<Event>,
    _ concepts: UnsafePointer<ConceptScope>, _ regions: [RegionValue], _ cache: inout EventCache
  ) -> Double {
    let spec = program.collections[Int(c)]
    let n = concepts.pointee.concepts.count
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, n)) { values in
      var count = 0
      for i in 0..<n where inKeyList(spec.keyList, concepts, i) {
        if spec.filter < 0 || run(Int(spec.filter), code, event, concepts, regions, .concept(i), &cache) {
          values[count] = concepts.pointee.concepts[i].value
          count += 1
        }
      }
      return ConceptAggregate.compute(kind, UnsafeMutableBufferPointer(rebasing: values[0..<count]), rank: rank)
    }
  }

  // MARK: Fields and strings

  func fieldValue(_ field: ElementField, _ element: ScopeElement, _ concepts: UnsafePointer<ConceptScope>) -> Double {
    switch element {
    case .concept(let i):
      return field == .value ? concepts.pointee.concepts[i].value : .nan
    case .region(let r):
      guard field != .value else { return r.value ?? .nan }
      guard let b = r.box else { return .nan }
      let v: Double
      switch field {
      case .top: v = b.top
      case .left: v = b.left
      case .bottom: v = b.bottom
      case .right: v = b.right
      case .width: v = b.right - b.left
      case .height: v = b.bottom - b.top
      case .area: v = (b.right - b.left) * (b.bottom - b.top)
      default: return .nan
      }
      return v.isFinite ? v : .nan
    case .frame(let f):
      switch field {
      case .time: return f.time ?? .nan
      case .index: return f.index ?? .nan
      default: return .nan
      }
    case .none:
      return .nan
    }
  }

  /// A scalar read from a source, typed as JSON gives it.
  enum Scalar {
    case string(String), number(Double), bool(Bool)

    func equal(_ o: Scalar) -> Bool? {
      switch (self, o) {
      case (.string(let a), .string(let b)): a == b
      case (.number(let a), .number(let b)): a == b
      case (.bool(let a), .bool(let b)): a == b
      default: nil
      }
    }
  }

  func scalar(_ s: StringSource, _ event: UnsafePointer<Event>, _ element: ScopeElement, _ concepts: UnsafePointer<ConceptScope>) -> Scalar? {
    if case .metadata(let slot) = s {
      switch event.pointee.metadata[Int(slot)] {
      case .string(let v)?: return .string(v)
      case .number(let n)?: return .number(n)
      case .bool(let b)?: return .bool(b)
      default: return nil
      }
    }
    return text(s, event, element, concepts).map(Scalar.string)
  }

  /// The text of a source; nil when missing or not a string.
  func text(_ s: StringSource, _ event: UnsafePointer<Event>, _ element: ScopeElement, _ concepts: UnsafePointer<ConceptScope>) -> String? {
    switch s {
    case .inputID: return event.pointee.inputID
    case .inputText: return event.pointee.inputText
    case .inputURL: return event.pointee.inputURL
    case .modelID: return event.pointee.modelID
    case .modelVersion: return event.pointee.modelVersion
    case .modelUser: return event.pointee.modelUser
    case .modelApp: return event.pointee.modelApp
    case .metadata(let slot):
      if case .string(let v)? = event.pointee.metadata[Int(slot)] { return v }
      return nil
    case .elementName, .elementID:
      switch element {
      case .concept(let i): return s == .elementName ? concepts.pointee.concepts[i].name : concepts.pointee.concepts[i].id
      case .region(let r): return s == .elementID ? r.id : nil
      case .frame(let f): return s == .elementID ? f.id : nil
      case .none: return nil
      }
    }
  }

  func length(_ s: StringSource, _ event: UnsafePointer<Event>, _ element: ScopeElement, _ concepts: UnsafePointer<ConceptScope>) -> Double {
    if case .metadata(let slot) = s, case .list(let items)? = event.pointee.metadata[Int(slot)] { return Double(items.count) }
    guard let t = text(s, event, element, concepts) else { return .nan }
    return Double(t.unicodeScalars.count)
  }

  func stringTest(
    _ test: StringTest, _ source: StringSource, _ k: Int32, _ event: UnsafePointer<Event>, _ element: ScopeElement,
    _ concepts: UnsafePointer<ConceptScope>
  ) -> Bool {
    switch test {
    case .inSet, .notInSet:
      let set = program.sets[Int(k)]
      let found: Bool
      switch scalar(source, event, element, concepts) {
      case .string(let s)?: found = set.strings.contains(s)
      case .number(let n)?: found = set.numbers.contains(n)
      case .bool(let b)?: found = set.bools.contains(b)
      case nil: return false
      }
      return test == .inSet ? found : !found
    case .contains:
      let needle = program.strings[Int(k)]
      if case .metadata(let slot) = source, case .list(let items)? = event.pointee.metadata[Int(slot)] {
        return items.contains { $0 == .string(needle) }
      }
      guard let s = text(source, event, element, concepts) else { return false }
      return needle.isEmpty || s.contains(needle)
    case .matches:
      guard let s = text(source, event, element, concepts) else { return false }
      return (try? program.regexes[Int(k)].firstMatch(in: s)) != nil
    case .equal, .notEqual, .startsWith, .endsWith:
      guard let s = text(source, event, element, concepts) else { return false }
      let constant = program.strings[Int(k)]
      switch test {
      case .equal: return s == constant
      case .notEqual: return s != constant
      case .startsWith: return s.hasPrefix(constant)
      default: return s.hasSuffix(constant)
      }
    }
  }
}
