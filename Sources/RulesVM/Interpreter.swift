import RulesMath
import Foundation
import RulesEvents

/// Runs verified bytecode (a class, so calls share one instance instead of copying the program's
/// pools). This is the one file with unsafe code: after `Verifier.verify`, register
/// and pool indices are known to be in range, so the loop reads raw buffers with state in locals.
public final class Interpreter: @unchecked Sendable {
  public let program: Program
  let keyIndex: [String: Int32]
  /// The identity of the program's key table: events whose keys the scanner resolved against the
  /// same table are used as they are.
  let keyTableID: UInt64

  // The program's pools as raw buffers this interpreter owns. Reading an array held by a class
  // retains and releases it; R4 spent a quarter of its time on such reference counting. With the
  // register file on the stack and the scope taken once per event: R4 70 → 45, R2 80 → 60, R6
  // 220 → 145 ns a collector-event (one binary against the other, one period).
  let code: UnsafeMutablePointer<Instruction>
  let blockStart: UnsafeMutablePointer<Int>
  /// Where each block's registers start in the register file, and the file's size.
  let registerBase: UnsafeMutablePointer<Int>
  let registerCount: Int
  let numbers: UnsafeMutablePointer<Double>
  let strings: UnsafeMutablePointer<String>
  let collections: UnsafeMutablePointer<CollectionSpec>
  /// Every key list end to end, and where each starts and ends.
  let keys: UnsafeMutablePointer<Int32>
  let keyListStart: UnsafeMutablePointer<Int>
  let keyListEnd: UnsafeMutablePointer<Int>
  /// The constant sets, read in place (`program.sets[k]` copied one, retaining its three sets, per
  /// test). The strings of a set of at most `smallSetLimit` are also kept end to end and compared
  /// one by one: cheaper than hashing the tested string (R5, `metadata.country in [US, CA]`).
  let sets: UnsafeMutablePointer<ConstantSet>
  let setStrings: UnsafeMutablePointer<String>
  /// Where a set's strings start in `setStrings` (−1: a larger set, looked up by hash) and end.
  let setStringStart: UnsafeMutablePointer<Int>
  let setStringEnd: UnsafeMutablePointer<Int>
  let setStringCount: Int
  static let smallSetLimit = 4

  deinit {
    code.deallocate()
    blockStart.deallocate()
    registerBase.deallocate()
    numbers.deallocate()
    strings.deinitialize(count: program.strings.count)
    strings.deallocate()
    collections.deallocate()
    keys.deallocate()
    keyListStart.deallocate()
    keyListEnd.deallocate()
    sets.deinitialize(count: program.sets.count)
    sets.deallocate()
    setStrings.deinitialize(count: setStringCount)
    setStrings.deallocate()
    setStringStart.deallocate()
    setStringEnd.deallocate()
  }

  /// Verifies the program; only a verified program can be run.
  public init(_ program: Program) throws(VerificationError) {
    try Verifier.verify(program)
    self.program = program
    func copy<T>(_ array: [T]) -> UnsafeMutablePointer<T> {
      let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, array.count))
      _ = UnsafeMutableBufferPointer(start: p, count: array.count).initialize(from: array)
      return p
    }
    code = copy(program.code)
    blockStart = copy(program.blocks.map(\.start))
    var bases: [Int] = []
    var total = 0
    for b in program.blocks {
      bases.append(total)
      total += max(1, b.registers)
    }
    registerBase = copy(bases)
    registerCount = max(1, total)
    numbers = copy(program.numbers)
    strings = copy(program.strings)
    collections = copy(program.collections)
    keys = copy(program.keyLists.flatMap { $0 })
    var ends: [Int] = []
    for list in program.keyLists { ends.append((ends.last ?? 0) + list.count) }
    keyListStart = copy([0] + ends.dropLast())
    keyListEnd = copy(ends)
    var index: [String: Int32] = [:]
    for (i, k) in program.conceptKeys.enumerated() where index[k] == nil { index[k] = Int32(i) }
    keyIndex = index
    keyTableID = ConceptKeyMatcher.tableID(of: program.conceptKeys)
    sets = copy(program.sets)
    var small: [String] = []
    var starts: [Int] = []
    var setEnds: [Int] = []
    for set in program.sets {
      if set.strings.count <= Self.smallSetLimit {
        starts.append(small.count)
        small += set.strings
      } else {
        starts.append(-1)
      }
      setEnds.append(small.count)
    }
    setStrings = copy(small)
    setStringCount = small.count
    setStringStart = copy(starts)
    setStringEnd = copy(setEnds)
  }

  /// The steps of a collector's stages, once every condition's block is checked to be one of this
  /// program's: the loop reads `blockStart[block]` unchecked.
  public func stageSteps(_ stages: [[StageSteps.Step]]) throws(VerificationError) -> StageSteps {
    for stage in stages {
      for (k, step) in stage.enumerated() {
        if case .condition(let block, _) = step, !(0..<Int32(program.blocks.count)).contains(block) {
          throw VerificationError(block: Int(block), pc: k, reason: "stage step \(k) names block \(block), not in the program")
        }
      }
    }
    return StageSteps(stages, verifiedFor: self)
  }

  /// Prepares the output's top-level concept list for this program.
  public func prepare(_ concepts: [ConceptValue], into prepared: inout PreparedConcepts) {
    prepared.prepare(concepts, keys: keyIndex, few: program.conceptKeys)
  }

  /// Prepares an event's top-level concepts, lent by pointer: when the scanner resolved their keys
  /// against this program's key table the event's own columns are used as they are, else keys are
  /// resolved from the strings into `prepared`.
  public func prepare(_ event: UnsafePointer<Event>, into prepared: inout PreparedConcepts) {
    let count = event.pointee.concepts.count
    // The id keys and values are as long as the name keys whenever the table is set (`Event`'s
    // invariant), so their lengths are not read: each read missed the cache on a new event (R4:
    // 29.7 → 28.3 ns a collector-event).
    if event.pointee.conceptKeyTable == keyTableID && event.pointee.conceptNameKeys.count == count {
      assert(event.pointee.conceptIDKeys.count == count && event.pointee.conceptValues.count == count)
      prepared.fromEvent = true
      prepared.count = count
    } else {
      prepare(event.pointee.concepts, into: &prepared)
    }
  }

  /// Runs a stage's condition steps from `first` on: stops at the first that fails (`passed` false)
  /// or at a step that is not a condition (`passed` true), or after the last. Every condition met is
  /// reported to `observe` with its index. The loop sits here, beside `run`, so each condition costs
  /// no call into another module, and one register file serves them all (R4: 32 → 31 ns a
  /// collector-event, within the noise; the profile lost one call frame per statement).
  public func runConditions(
    _ view: StageSteps.View, from first: Int, event: UnsafePointer<Event>, prepared: PreparedConcepts,
    cache: inout EventCache, observe: (Int, Bool) -> Void
  ) -> (stoppedAt: Int, passed: Bool) {
    // The event and the concept list are handed down the recursion by pointer: passing the structs
    // themselves retained and released every field at each filter call (callgrind: R4 spent more on
    // that than on its tests). The register file lives on the stack for the stage, every block in
    // a window of its own (a block never runs inside itself).
    precondition(view.verifiedFor == ObjectIdentifier(self), "stage steps verified for another interpreter")
    let steps = view.steps
    // The concept columns are viewed for this call only (no view outlives its array).
    return prepared.withScope(of: event) { scope in
      withUnsafeTemporaryAllocation(of: Double.self, capacity: registerCount) { registers in
        var index = first
        while index < steps.count {
          guard case .condition(let block, let passWhen) = steps[index] else { return (index, true) }
          let passed = run(Int(block), event, scope, nil, .none, registers.baseAddress!, &cache) == passWhen
          observe(index, passed)
          if !passed { return (index, false) }
          index += 1
        }
        return (index, true)
      }
    }
  }

  /// The sampling key a source gives: strings as they are, numbers without a trailing `.0`, bools as
  /// words; nil when missing or a list or object (then the input id is used).
  public func samplingKey(_ s: StringSource, _ event: Event) -> String? {
    let found = withUnsafePointer(to: event) { e in ConceptScope.withEmpty { scalar(s, e, .none, $0) } }
    switch found {
    case .string(let v)?: return v
    case .bool(let b)?: return b ? "true" : "false"
    case .number(let n)?: return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    case nil: return nil
    }
  }

  // MARK: The loop

  func run(
    _ blockIndex: Int, _ event: UnsafePointer<Event>, _ concepts: UnsafePointer<ConceptScope>,
    _ regions: [RegionValue]?, _ element: ScopeElement, _ registers: UnsafeMutablePointer<Double>,
    _ cache: inout EventCache
  ) -> Bool {
    let start = blockStart[blockIndex]
    let f = registers + registerBase[blockIndex]
    do {
      var pc = start
      while true {
        switch code[pc] {
        case .ret(let result):
          return result
        case .jump(let t):
          pc = start + Int(t)
          continue
        case .loadConst(let r, let k):
          f[Int(r)] = numbers[Int(k)]
        case .loadConcept(let r, let key):
          f[Int(r)] = conceptValue(key, concepts)
        case .loadAggregate(let r, let kind, let c, let rank, let slot):
          if slot >= 0 && cache.stamps[Int(slot)] == cache.generation {
            f[Int(r)] = cache.values[Int(slot)]
          } else {
            let v = aggregate(kind, c, Int(rank), event, concepts, regions, registers, &cache)
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
            let v = Double(select(c, event, concepts, regions, registers, &cache).passing)
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
          pc = start + Int(op.holds(f[Int(a)], f[Int(b)]) ? t : e)
          continue
        case .compareConst(let op, let a, let k, let t, let e):
          pc = start + Int(op.holds(f[Int(a)], numbers[Int(k)]) ? t : e)
          continue
        case .string(let test, let source, let k, let t, let e):
          let ok: Bool
          if case .metadata(let slot) = source, test == .equal || test == .notEqual {
            // `metadata.x == "..."`, the commonest test, without a copy of the text.
            if case .string(let v)? = event.pointee.metadata[Int(slot)] { ok = (v == strings[Int(k)]) == (test == .equal) } else { ok = false }
          } else {
            ok = stringTest(test, source, k, event, element, concepts)
          }
          pc = start + Int(ok ? t : e)
          continue
        case .kindIn(let bits, let t, let e):
          var ok = false
          if let kind = event.pointee.inputKind { ok = bits & kind.bit != 0 }
          pc = start + Int(ok ? t : e)
          continue
        case .metadataBool(let slot, let value, let t, let e):
          var ok = false
          if case .bool(let b)? = event.pointee.metadata[Int(slot)] { ok = b == value }
          pc = start + Int(ok ? t : e)
          continue
        case .metadataContains(let slot, let k, let t, let e):
          var ok = false
          if case .list(let items)? = event.pointee.metadata[Int(slot)] {
            let set = sets + Int(k)
            ok = items.contains { item in
              switch item {
              case .number(let n): set.pointee.numbers.contains(n)
              case .bool(let b): set.pointee.bools.contains(b)
              default: false
              }
            }
          }
          pc = start + Int(ok ? t : e)
          continue
        case .valuesEqual(let negated, let a, let b, let t, let e):
          var ok = false
          if let x = scalar(a, event, element, concepts), let y = scalar(b, event, element, concepts), let equal = x.equal(y) {
            ok = negated ? !equal : equal
          }
          pc = start + Int(ok ? t : e)
          continue
        case .exists(let slot, let t, let e):
          var ok = false
          if let v = event.pointee.metadata[Int(slot)], v != .null { ok = true }
          pc = start + Int(ok ? t : e)
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
          pc = start + Int((type.map { bits & $0.bit != 0 } ?? false) ? t : e)
          continue
        case .anyConceptWith(let id, let list, let op, let k, let t, let e):
          let bound = numbers[Int(k)]
          let table = id ? concepts.pointee.idKey : concepts.pointee.nameKey
          var ok = false
          var i = Self.nextKeyed(table, from: 0)
          while i < table.count {
            if inList(list, table[i]) && op.holds(concepts.pointee.values[i], bound) {
              ok = true
              break
            }
            i = Self.nextKeyed(table, from: i + 1)
          }
          pc = start + Int(ok ? t : e)
          continue
        case .conceptKeyIn(let id, let list, let t, let e):
          var ok = false
          if case .concept(let i) = element {
            let key = id ? concepts.pointee.idKey[i] : concepts.pointee.nameKey[i]
            ok = key >= 0 && inList(list, key)
          }
          pc = start + Int(ok ? t : e)
          continue
        case .quantifier(let all, let c, let t, let e):
          let ok = quantifier(all, c, event, concepts, regions, registers, &cache)
          pc = start + Int(ok ? t : e)
          continue
        }
        pc += 1
      }
    }
  }
  // MARK: Fields and strings

  func fieldValue(_ field: ElementField, _ element: ScopeElement, _ concepts: UnsafePointer<ConceptScope>) -> Double {
    switch element {
    case .concept(let i):
      return field == .value ? concepts.pointee.values[i] : .nan
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

  // Out of line, as are `text`, `length` and `aggregate`: inlined into `run`, the event fields
  // they may read had their addresses computed and spilled on every call of `run` (fourteen
  // of them before the first instruction; R4: 31.4 → 30.0 ns a collector-event).
  @inline(never) func scalar(_ s: StringSource, _ event: UnsafePointer<Event>, _ element: ScopeElement, _ concepts: UnsafePointer<ConceptScope>) -> Scalar? {
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
  @inline(never) func text(_ s: StringSource, _ event: UnsafePointer<Event>, _ element: ScopeElement, _ concepts: UnsafePointer<ConceptScope>) -> String? {
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

  @inline(never) func length(_ s: StringSource, _ event: UnsafePointer<Event>, _ element: ScopeElement, _ concepts: UnsafePointer<ConceptScope>) -> Double {
    if case .metadata(let slot) = s, case .list(let items)? = event.pointee.metadata[Int(slot)] { return Double(items.count) }
    guard let t = text(s, event, element, concepts) else { return .nan }
    return Double(t.unicodeScalars.count)
  }

  /// A regex test, in a function of its own: inline, the regex types' metadata was looked up and
  /// stack space for a match reserved on every string test (R4's `==` spent 19% of its time there;
  /// R4 36 → 32 ns a collector-event).
  @inline(never) func matches(
    _ k: Int32, _ source: StringSource, _ event: UnsafePointer<Event>, _ element: ScopeElement,
    _ concepts: UnsafePointer<ConceptScope>
  ) -> Bool {
    guard let s = text(source, event, element, concepts) else { return false }
    return (try? program.regexes[Int(k)].firstMatch(in: s)) != nil
  }

  func stringTest(
    _ test: StringTest, _ source: StringSource, _ k: Int32, _ event: UnsafePointer<Event>, _ element: ScopeElement,
    _ concepts: UnsafePointer<ConceptScope>
  ) -> Bool {
    switch test {
    case .inSet, .notInSet:
      let set = sets + Int(k)
      var found = false
      switch scalar(source, event, element, concepts) {
      case .string(let s)?:
        let start = setStringStart[Int(k)]
        if start >= 0 {
          for i in start..<setStringEnd[Int(k)] where setStrings[i] == s {
            found = true
            break
          }
        } else {
          found = set.pointee.strings.contains(s)
        }
      case .number(let n)?: found = set.pointee.numbers.contains(n)
      case .bool(let b)?: found = set.pointee.bools.contains(b)
      case nil: return false
      }
      return test == .inSet ? found : !found
    case .contains:
      let needle = strings[Int(k)]
      if case .metadata(let slot) = source, case .list(let items)? = event.pointee.metadata[Int(slot)] {
        return items.contains { $0 == .string(needle) }
      }
      guard let s = text(source, event, element, concepts) else { return false }
      return needle.isEmpty || s.contains(needle)
    case .matches:
      return matches(k, source, event, element, concepts)
    case .equal, .notEqual, .startsWith, .endsWith:
      guard let s = text(source, event, element, concepts) else { return false }
      let constant = strings[Int(k)]
      switch test {
      case .equal: return s == constant
      case .notEqual: return s != constant
      case .startsWith: return s.hasPrefix(constant)
      default: return s.hasSuffix(constant)
      }
    }
  }
}
