import RulesEvents
import RulesSema

extension Event {
  /// What identifies the input for dedupe and destination ids: its id, else the output's id, else its place.
  public var forwardingKey: String { withUnsafePointer(to: self) { $0.forwardingKey } }
}

extension SourcePattern {
  /// Whether an output of this model reaches the collector.
  public func matches(_ e: Event) -> Bool { withUnsafePointer(to: e) { matches($0) } }

  /// Whether the pattern names nothing, so that every output matches.
  var matchesEveryOutput: Bool { user == nil && app == nil && model == nil && version == nil && caller == nil }

  /// `matches` for an event lent by pointer: reads only the fields the pattern names (handing
  /// `pointee` to a function that takes an `Event` copied the whole event).
  @inline(__always) func matches(_ e: UnsafePointer<Event>) -> Bool {
    if let user, user != (e.pointee.modelUser ?? "") { return false }
    if let app, app != (e.pointee.modelApp ?? "") { return false }
    if let model, model != (e.pointee.modelID ?? "") { return false }
    if let version, version != e.pointee.modelVersion { return false }
    // A collector of one caller takes only outputs known to come from that caller.
    if let caller, caller != e.pointee.caller { return false }
    return true
  }
}

extension UnsafePointer where Pointee == Event {
  /// `Event.isSuccess` and `Event.forwardingKey`, read field by field from the lent event (handing
  /// `pointee` to something that takes an `Event` copied the whole event).
  @inline(__always) var isSuccess: Bool { Event.isSuccess(code: pointee.statusCode, name: pointee.statusName) }

  /// The one definition of the forwarding key (`Event.forwardingKey` reads it through here).
  @inline(__always) var forwardingKey: String {
    pointee.inputID ?? pointee.outputID ?? "line\(pointee.line)-\(pointee.indexInLine)"
  }
}


/// Which collectors an event reaches, by its model id: those of that model and those of any model,
/// in definition order. An event pays nothing for collectors that watch other models (and nothing
/// is allocated when only one of the lists applies).
struct ModelRoutes {
  let byModel: [String: [Int]]
  let anyModel: [Int]
  /// Each collector's source, and whether it names no user, app, model or version, so that it takes
  /// every output the routes bring it without comparing (see `admits`).
  let sources: [SourcePattern]
  let takesEveryOutput: [Bool]
  /// The last model ids looked up (each route set has its own, used by one thread at a time).
  let recent = RecentRoutes()

  /// Routes to the collectors `keep` accepts.
  init(_ collectors: [CheckedCollector], keeping keep: (Int) -> Bool = { _ in true }) {
    var byModel: [String: [Int]] = [:]
    var anyModel: [Int] = []
    for (i, c) in collectors.enumerated() where keep(i) {
      if let model = c.source.model { byModel[model, default: []].append(i) } else { anyModel.append(i) }
    }
    self.byModel = byModel
    self.anyModel = anyModel
    sources = collectors.map(\.source)
    takesEveryOutput = sources.map(\.matchesEveryOutput)
  }

  /// Whether an output that `forEach` brought to collector `index` reaches it: its user, app and
  /// version must match too. An open source is not compared (the comparison copied the pattern,
  /// five strings, per event); a pattern is read in place through a buffer pointer.
  @inline(__always) func admits(_ index: Int, _ event: UnsafePointer<Event>) -> Bool {
    takesEveryOutput[index] || sources.withUnsafeBufferPointer { $0[index].matches(event) }
  }

  /// The collectors an output of `model` is brought to, in definition order, into `out` (emptied
  /// first; no allocation once it has grown). A list rather than a closure: an offer that walked
  /// the routes with a closure mutating the engine had to copy the routes first (five retains and
  /// releases an event).
  @inline(__always) func collect(model: String?, into out: inout [Int]) {
    out.removeAll(keepingCapacity: true)
    // Without collectors of a named model the model id is not hashed at all.
    if byModel.isEmpty {
      out.append(contentsOf: anyModel)
      return
    }
    let specific = model.map { model in recent.routes(of: model) { byModel[$0] ?? [] } } ?? []
    if specific.isEmpty {
      out.append(contentsOf: anyModel)
    } else if anyModel.isEmpty {
      out.append(contentsOf: specific)
    } else {
      // Both lists are in definition order: merge them.
      var a = 0
      var b = 0
      while a < specific.count || b < anyModel.count {
        if b == anyModel.count || (a < specific.count && specific[a] < anyModel[b]) {
          out.append(specific[a])
          a += 1
        } else {
          out.append(anyModel[b])
          b += 1
        }
      }
    }
  }


}

/// The collectors of the last few model ids an event named, so that the id is compared with a
/// remembered one (one pointer compare when the scanner kept the same `String`) instead of hashed
/// into `byModel`: with 1,000 collectors of other models the hash cost R4 43 ns an event in a loop
/// over `Runner.process` (401 → 444 ns). Raw storage: as class properties, every use was checked for
/// exclusive access at run time.
final class RecentRoutes: @unchecked Sendable {
  static let size = 4
  private let models: UnsafeMutablePointer<String?>
  private let found: UnsafeMutablePointer<[Int]>
  private let next: UnsafeMutablePointer<Int>

  init() {
    models = .allocate(capacity: Self.size)
    models.initialize(repeating: nil, count: Self.size)
    found = .allocate(capacity: Self.size)
    found.initialize(repeating: [], count: Self.size)
    next = .allocate(capacity: 1)
    next.initialize(to: 0)
  }

  deinit {
    models.deinitialize(count: Self.size)
    models.deallocate()
    found.deinitialize(count: Self.size)
    found.deallocate()
    next.deallocate()
  }

  /// The collectors of `model`, remembered or worked out by `lookUp`.
  @inline(__always) func routes(of model: String, _ lookUp: (String) -> [Int]) -> [Int] {
    for k in 0..<Self.size where models[k] == model { return found[k] }
    let k = next.pointee
    next.pointee = (k + 1) % Self.size
    models[k] = model
    found[k] = lookUp(model)
    return found[k]
  }
}

