import RulesMath
import Foundation
import RulesEvents

/// A concept list with each concept's name and id resolved to the program's concept keys once,
/// so tests compare integers instead of strings.
public struct PreparedConcepts: Sendable {
  public var concepts: [ConceptValue] = []
  public var nameKey: [Int32] = []
  public var idKey: [Int32] = []
  public var values: [Double] = []
  /// The event's own concepts and keys are used instead (the scanner resolved them).
  public var fromEvent = false
  /// What blocks run over: raw views of the event's arrays (`fromEvent`) or of the ones above, taken
  /// once per event. Taking them per statement cost three retains and three releases each time.
  public var scope = ConceptScope()

  public init() {}

  /// Fills the buffers in place (keeping their capacity: no allocation once they are large enough).
  ///
  /// With no keys there is nothing to resolve; with a few, comparing strings beats hashing them
  /// (hashing 2 × 20 concept strings per event was 90% of the VM's time on R2: 2.0 µs per event).
  public mutating func prepare(_ list: [ConceptValue], keys: [String: Int32], few: [String]) {
    concepts = list
    nameKey.removeAll(keepingCapacity: true)
    idKey.removeAll(keepingCapacity: true)
    values.removeAll(keepingCapacity: true)
    for c in list { values.append(c.value) }
    if keys.isEmpty {
      // No instruction reads keys (the verifier checks key operands against an empty table): the
      // key columns are filled with "no key" only so the scope's views all have one length.
      // R2 went from 316 to 213 ns a collector-event when keys were not resolved here (VMBenchmarks).
      nameKey.append(contentsOf: repeatElement(-1, count: list.count))
      idKey.append(contentsOf: repeatElement(-1, count: list.count))
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
    scope = ConceptScope(concepts, nameKey, idKey, values)
  }
}

/// The concept list a block runs over, as raw views of four arrays of equal length: concepts, the
/// keys of their names and ids, and their values.
///
/// The views are taken once per event and outlive the closures that lent them, which is sound for
/// what they view: native arrays whose storage stays where it is while they are neither changed nor
/// freed. The contract is `VMEngine`'s: between `begin(event)` and the last `run` for that event the
/// event is not changed (`PreparedConcepts`' own arrays only change in `prepare`, which retakes the views).
public struct ConceptScope: @unchecked Sendable {
  let concepts: UnsafeBufferPointer<ConceptValue>
  let nameKey: UnsafeBufferPointer<Int32>
  let idKey: UnsafeBufferPointer<Int32>
  let values: UnsafeBufferPointer<Double>

  /// How many concepts the scope holds.
  public var count: Int { concepts.count }

  /// An empty scope.
  public init() {
    concepts = UnsafeBufferPointer(start: nil, count: 0)
    nameKey = UnsafeBufferPointer(start: nil, count: 0)
    idKey = UnsafeBufferPointer(start: nil, count: 0)
    values = UnsafeBufferPointer(start: nil, count: 0)
  }

  /// Views of an event's concepts and the columns the scanner resolved, which have their length by
  /// `Event`'s invariant (the name keys' length was checked by the caller).
  init(resolved concepts: [ConceptValue], _ nameKey: [Int32], _ idKey: [Int32], _ values: [Double]) {
    let count = nameKey.count
    self.concepts = concepts.withUnsafeBufferPointer { $0 }
    self.nameKey = nameKey.withUnsafeBufferPointer { $0 }
    self.idKey = UnsafeBufferPointer(start: idKey.withUnsafeBufferPointer { $0.baseAddress }, count: count)
    self.values = UnsafeBufferPointer(start: values.withUnsafeBufferPointer { $0.baseAddress }, count: count)
  }

  /// Views of four arrays of equal length (see the type's note on how long they stay valid).
  init(_ concepts: [ConceptValue], _ nameKey: [Int32], _ idKey: [Int32], _ values: [Double]) {
    precondition(nameKey.count == concepts.count && idKey.count == concepts.count && values.count == concepts.count)
    self.values = values.withUnsafeBufferPointer { $0 }
    self.concepts = concepts.withUnsafeBufferPointer { $0 }
    self.nameKey = nameKey.withUnsafeBufferPointer { $0 }
    self.idKey = idKey.withUnsafeBufferPointer { $0 }
  }
}

/// The statements of a collector's stages reduced to what an engine's loop needs, in raw storage
/// this object owns: engines keep its views, whose reading costs no reference counting. Made only
/// by `Interpreter.stageSteps`, which checks every block number against its program.
public final class StageSteps: @unchecked Sendable {
  /// One statement.
  public enum Step: Sendable, Equatable {
    /// `require` (passes when the block is true) or `drop if` (passes when it is false).
    case condition(block: Int32, passWhen: Bool)
    /// Sampling or a limit, which the engine reads from the compiled statement.
    case other
  }

  /// One stage's steps, as a raw view valid while its `StageSteps` lives, for the interpreter that
  /// verified them (`runConditions` checks that it is that interpreter).
  public struct View: @unchecked Sendable {
    let steps: UnsafeBufferPointer<Step>
    let verifiedFor: ObjectIdentifier
    public var count: Int { steps.count }
  }

  let storage: [UnsafeMutableBufferPointer<Step>]
  let verifiedFor: ObjectIdentifier

  init(_ stages: [[Step]], verifiedFor interpreter: Interpreter) {
    verifiedFor = ObjectIdentifier(interpreter)
    storage = stages.map { steps in
      let buffer = UnsafeMutableBufferPointer<Step>.allocate(capacity: max(1, steps.count))
      _ = buffer.initialize(from: steps)
      return UnsafeMutableBufferPointer(rebasing: buffer[0..<steps.count])
    }
  }

  deinit { for buffer in storage { buffer.deallocate() } }

  /// A view of one stage's steps, valid while this object lives.
  public subscript(stage: Int) -> View { View(steps: UnsafeBufferPointer(storage[stage]), verifiedFor: verifiedFor) }
}

/// Per-event results of common sub-expressions (`max(concepts)` computed once per event).
public struct EventCache: @unchecked Sendable {
  var values: [Double]
  var stamps: [UInt32]
  var generation: UInt32 = 1

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
  /// against this program's key table the event's own arrays are used as they are, else keys are
  /// resolved from the strings into `prepared`. The event must outlive its runs (`ConceptScope`).
  public func prepare(_ event: UnsafePointer<Event>, into prepared: inout PreparedConcepts) {
    let count = event.pointee.concepts.count
    // The id keys and values are as long as the name keys whenever the table is set (`Event`'s
    // invariant), so their lengths are not read: each read missed the cache on a new event (R4:
    // 29.7 → 28.3 ns a collector-event).
    if event.pointee.conceptKeyTable == keyTableID && event.pointee.conceptNameKeys.count == count {
      assert(event.pointee.conceptIDKeys.count == count && event.pointee.conceptValues.count == count)
      prepared.fromEvent = true
      prepared.scope = ConceptScope(
        resolved: event.pointee.concepts, event.pointee.conceptNameKeys, event.pointee.conceptIDKeys, event.pointee.conceptValues)
    } else {
      prepared.fromEvent = false
      prepare(event.pointee.concepts, into: &prepared)
    }
  }

  /// Runs a stage's condition steps from `first` on: stops at the first that fails (`passed` false)
  /// or at a step that is not a condition (`passed` true), or after the last. Every condition met is
  /// reported to `observe` with its index. The loop sits here, beside `run`, so each condition costs
  /// no call into another module, and one register file serves them all (R4: 32 → 31 ns a
  /// collector-event, within the noise; the profile lost one call frame per statement).
  public func runConditions(
    _ view: StageSteps.View, from first: Int, event: UnsafePointer<Event>, scope: UnsafePointer<ConceptScope>,
    cache: inout EventCache, observe: (Int, Bool) -> Void
  ) -> (stoppedAt: Int, passed: Bool) {
    // The event and the concept list are handed down the recursion by pointer: passing the structs
    // themselves retained and released every field at each filter call (callgrind: R4 spent more on
    // that than on its tests). The register file lives on the stack for the stage, every block in
    // a window of its own (a block never runs inside itself).
    precondition(view.verifiedFor == ObjectIdentifier(self), "stage steps verified for another interpreter")
    let steps = view.steps
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: registerCount) { registers in
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

  /// The sampling key a source gives: strings as they are, numbers without a trailing `.0`, bools as
  /// words; nil when missing or a list or object (then the input id is used).
  public func samplingKey(_ s: StringSource, _ event: Event) -> String? {
    let found = withUnsafePointer(to: event) { e in withUnsafePointer(to: ConceptScope()) { scalar(s, e, .none, $0) } }
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
        byName = max(byName, c.pointee.values[i])
      } else if c.pointee.idKey[i] == key {
        foundID = true
        byID = max(byID, c.pointee.values[i])
      }
    }
    if foundName { return byName }
    return foundID ? byID : .nan
  }

  func inKeyList(_ list: Int32, _ c: UnsafePointer<ConceptScope>, _ i: Int) -> Bool {
    guard list >= 0 else { return true }
    return inList(list, c.pointee.nameKey[i]) || inList(list, c.pointee.idKey[i])
  }

  /// The first position from `start` on whose key is not −1 (a concept the rules name), or the
  /// count. Most concepts are named by no rule, so this skips eight keys at a time: R4's loop over
  /// 20 keys one by one was a third of its time with one event repeated (R4: 32.2 → 31.5 ns, R6:
  /// 101 → 99 ns a collector-event: most events leave R4 at its first test, before this loop).
  @inline(__always) static func nextKeyed(_ keys: UnsafeBufferPointer<Int32>, from start: Int) -> Int {
    var i = start
    guard let base = keys.baseAddress else { return keys.count }
    let raw = UnsafeRawPointer(base)
    while i + 8 <= keys.count {
      let lanes = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Int32>.self)
      if lanes.max() >= 0 { break }
      i &+= 8
    }
    while i < keys.count && keys[i] < 0 { i &+= 1 }
    return i
  }

  /// Whether a key list holds a key (lists are short: a scan beats hashing).
  @inline(__always) func inList(_ list: Int32, _ key: Int32) -> Bool {
    var k = keyListStart[Int(list)]
    let end = keyListEnd[Int(list)]
    while k < end {
      if keys[k] == key { return true }
      k += 1
    }
    return false
  }

  /// How many elements a collection has after its key list, and how many pass its filter.
  func select(
    _ c: Int32, _ event: UnsafePointer<Event>, _ concepts: UnsafePointer<ConceptScope>,
    _ regions: [RegionValue]?, _ registers: UnsafeMutablePointer<Double>, _ cache: inout EventCache
  ) -> (count: Int, passing: Int) {
    let spec = collections[Int(c)]
    var count = 0
    var passing = 0
    switch spec.kind {
    case .concepts:
      for i in 0..<concepts.pointee.concepts.count where inKeyList(spec.keyList, concepts, i) {
        count += 1
        if spec.filter < 0 || run(Int(spec.filter), event, concepts, regions, .concept(i), registers, &cache) { passing += 1 }
      }
    case .regions:
      for region in regions ?? event.pointee.regions {
        count += 1
        if spec.filter < 0 || enter(spec.filter, event, region.concepts, regions, .region(region), registers, &cache) { passing += 1 }
      }
    case .frames:
      for frame in event.pointee.frames {
        count += 1
        if spec.filter < 0 || enter(spec.filter, event, frame.concepts, frame.regions, .frame(frame), registers, &cache) {
          passing += 1
        }
      }
    }
    return (count, passing)
  }

  /// Runs a filter block with a region or frame in scope, whose concepts become the concept scope.
  func enter(
    _ block: Int32, _ event: UnsafePointer<Event>, _ list: [ConceptValue],
    _ regions: [RegionValue]?, _ element: ScopeElement, _ registers: UnsafeMutablePointer<Double>,
    _ cache: inout EventCache
  ) -> Bool {
    var prepared = PreparedConcepts()
    prepared.prepare(list, keys: keyIndex, few: program.conceptKeys)
    return withExtendedLifetime(prepared) {
      withUnsafePointer(to: prepared.scope) { run(Int(block), event, $0, regions, element, registers, &cache) }
    }
  }

  func quantifier(
    _ all: Bool, _ c: Int32, _ event: UnsafePointer<Event>, _ concepts: UnsafePointer<ConceptScope>,
    _ regions: [RegionValue]?, _ registers: UnsafeMutablePointer<Double>, _ cache: inout EventCache
  ) -> Bool {
    let spec = collections[Int(c)]
    if all && spec.kind == .concepts && spec.keyList >= 0 {
      // `all concepts in [a, b] ...`: every listed key must be matched by a concept that passes.
      let listed = keyListStart[Int(spec.keyList)]..<keyListEnd[Int(spec.keyList)]
      guard !listed.isEmpty else { return false }
      for key in listed.map({ self.keys[$0] }) {
        var matched = false
        for i in 0..<concepts.pointee.concepts.count where concepts.pointee.nameKey[i] == key || concepts.pointee.idKey[i] == key {
          if spec.filter < 0 || run(Int(spec.filter), event, concepts, regions, .concept(i), registers, &cache) {
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
        let ok = spec.filter < 0 || run(Int(spec.filter), event, concepts, regions, .concept(i), registers, &cache)
        if ok != all { return ok }
      }
      return all && count > 0
    case .regions, .frames:
      let (count, passing) = select(c, event, concepts, regions, registers, &cache)
      return all ? count > 0 && passing == count : passing > 0
    }
  }

  /// The largest rank `top` finds by keeping a run of the largest values (larger ranks sort).
  static let topRunLimit = 16

  @inline(never) func aggregate(
    _ kind: AggregateKind, _ c: Int32, _ rank: Int, _ event: UnsafePointer<Event>,
    _ concepts: UnsafePointer<ConceptScope>, _ regions: [RegionValue]?, _ registers: UnsafeMutablePointer<Double>, _ cache: inout EventCache
  ) -> Double {
    let spec = collections[Int(c)]
    let n = concepts.pointee.concepts.count
    if spec.keyList < 0 && spec.filter < 0 {
      // Every concept counts: read the value column where it lies instead of copying it.
      let all = concepts.pointee.values
      switch kind {
      case .max, .min, .leastConfidence, .entropy:
        // These kinds only read their buffer (`top` and `margin` sort it).
        return ConceptAggregate.compute(kind, UnsafeMutableBufferPointer(mutating: all), rank: rank)
      case .margin:
        // The largest value less the second largest, found in one pass instead of a sort; equal
        // values count separately, so a tie gives 0 (checked against the reference's sort).
        guard n >= 2 else { return .nan }
        var first = -Double.infinity
        var second = -Double.infinity
        for v in all {
          if v > first {
            second = first
            first = v
          } else if v > second {
            second = v
          }
        }
        let margin = first - second
        return margin.isFinite ? margin : .nan
      case .top:
        // The k-th largest kept in a short descending run instead of sorting every value (R3,
        // top 5 of 20: the sort was most of its evaluation). Equal values count separately, as in
        // the reference's sort; a NaN (never read from JSON) leaves it to the sort.
        let k = Swift.min(Swift.max(rank, 1), n)
        guard k <= Self.topRunLimit, n > 0 else { break }
        let found: Double? = withUnsafeTemporaryAllocation(of: Double.self, capacity: Self.topRunLimit) { run in
          var filled = 0
          for v in all {
            if v.isNaN { return nil }
            if filled == k {
              guard v > run[k - 1] else { continue }
              filled -= 1
            }
            var j = filled
            while j > 0 && run[j - 1] < v {
              run[j] = run[j - 1]
              j -= 1
            }
            run[j] = v
            filled += 1
          }
          return run[k - 1]
        }
        if let found { return found.isFinite ? found : .nan }
      }
    }
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, n)) { values in
      var count = 0
      for i in 0..<n where inKeyList(spec.keyList, concepts, i) {
        if spec.filter < 0 || run(Int(spec.filter), event, concepts, regions, .concept(i), registers, &cache) {
          values[count] = concepts.pointee.values[i]
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
