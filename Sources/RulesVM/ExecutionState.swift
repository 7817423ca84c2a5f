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
