import RulesMath
import Foundation
import RulesEvents

/// The loop's helpers over concept lists, collections and quantifiers.
extension Interpreter {

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

  @inline(__always) func inKeyList(_ list: Int32, _ c: UnsafePointer<ConceptScope>, _ i: Int) -> Bool {
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
    return prepared.withScope(over: list) { run(Int(block), event, $0, regions, element, registers, &cache) }
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
}
