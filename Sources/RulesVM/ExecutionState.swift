import RulesMath
import Foundation
import RulesEvents

/// A concept list's columns with each concept's name and id resolved to the program's concept keys
/// once per event, so tests compare integers instead of strings; or, when the scanner already
/// resolved them against this program's key table (`fromEvent`), nothing but that fact.
public struct PreparedConcepts: Sendable {
  public var nameKey: [Int32] = []
  public var idKey: [Int32] = []
  public var values: [Double] = []
  /// The event's own key and value columns are used instead (the scanner resolved them).
  public var fromEvent = false
  /// How many concepts were prepared (a run checks it against the event's).
  public var count = 0

  public init() {}

  /// Fills the columns in place (keeping their capacity: no allocation once they are large enough).
  ///
  /// With no keys there is nothing to resolve; with a few, comparing strings beats hashing them
  /// (hashing 2 × 20 concept strings per event was 90% of the VM's time on R2: 2.0 µs per event).
  public mutating func prepare(_ list: [ConceptValue], keys: [String: Int32], few: [String]) {
    fromEvent = false
    count = list.count
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
  }

  /// Calls `body` with the scope of `list` (the concepts these columns were prepared from): views
  /// taken for the call and not kept past it.
  func withScope<R>(over list: [ConceptValue], _ body: (UnsafePointer<ConceptScope>) -> R) -> R {
    ConceptScope.with(list, nameKey, idKey, values, body)
  }

  /// Calls `body` with the scope of an event's top-level concepts: its own columns when the scanner
  /// resolved them (`fromEvent`), else these.
  func withScope<R>(of event: UnsafePointer<Event>, _ body: (UnsafePointer<ConceptScope>) -> R) -> R {
    // The event's arrays are lent in place (handed as arguments, each was retained and released).
    event.pointee.concepts.withUnsafeBufferPointer { concepts in
      if fromEvent {
        return event.pointee.conceptNameKeys.withUnsafeBufferPointer { nameKey in
          event.pointee.conceptIDKeys.withUnsafeBufferPointer { idKey in
            event.pointee.conceptValues.withUnsafeBufferPointer { values in
              withUnsafePointer(to: ConceptScope(concepts, nameKey, idKey, values), body)
            }
          }
        }
      }
      return nameKey.withUnsafeBufferPointer { nameKey in
        idKey.withUnsafeBufferPointer { idKey in
          values.withUnsafeBufferPointer { values in withUnsafePointer(to: ConceptScope(concepts, nameKey, idKey, values), body) }
        }
      }
    }
  }
}

/// The concept list a block runs over, as raw views of four columns: concepts, the keys of their
/// names and ids, and their values. Made only by `with`, for the length of one call, so a view never
/// outlives the array it views; its count is the shortest column's, so no read is out of bounds
/// even if the columns disagree.
struct ConceptScope {
  let concepts: UnsafeBufferPointer<ConceptValue>
  let nameKey: UnsafeBufferPointer<Int32>
  let idKey: UnsafeBufferPointer<Int32>
  let values: UnsafeBufferPointer<Double>

  /// How many concepts the scope holds.
  var count: Int { concepts.count }

  fileprivate init(
    _ concepts: UnsafeBufferPointer<ConceptValue>, _ nameKey: UnsafeBufferPointer<Int32>, _ idKey: UnsafeBufferPointer<Int32>,
    _ values: UnsafeBufferPointer<Double>
  ) {
    let count = min(concepts.count, nameKey.count, idKey.count, values.count)
    self.concepts = UnsafeBufferPointer(start: concepts.baseAddress, count: count)
    self.nameKey = UnsafeBufferPointer(start: nameKey.baseAddress, count: count)
    self.idKey = UnsafeBufferPointer(start: idKey.baseAddress, count: count)
    self.values = UnsafeBufferPointer(start: values.baseAddress, count: count)
  }

  /// An empty scope, for `body`.
  static func withEmpty<R>(_ body: (UnsafePointer<ConceptScope>) -> R) -> R {
    let empty = ConceptScope(
      UnsafeBufferPointer(start: nil, count: 0), UnsafeBufferPointer(start: nil, count: 0), UnsafeBufferPointer(start: nil, count: 0),
      UnsafeBufferPointer(start: nil, count: 0))
    return withUnsafePointer(to: empty, body)
  }

  /// Calls `body` with views of the four columns, valid for the call.
  @inline(__always) static func with<R>(
    _ concepts: [ConceptValue], _ nameKey: [Int32], _ idKey: [Int32], _ values: [Double], _ body: (UnsafePointer<ConceptScope>) -> R
  ) -> R {
    concepts.withUnsafeBufferPointer { concepts in
      nameKey.withUnsafeBufferPointer { nameKey in
        idKey.withUnsafeBufferPointer { idKey in
          values.withUnsafeBufferPointer { values in
            withUnsafePointer(to: ConceptScope(concepts, nameKey, idKey, values), body)
          }
        }
      }
    }
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
