import RulesMath
import Foundation
import RulesEvents
import RulesSema
import RulesSyntax

/// What a stateful statement remembers between events, per collector.
public struct CollectorState: Sendable {
  /// For each `limit` statement (by stage and index): inputs counted per window.
  public var windows: [Int: [Int64: Int]] = [:]
  public init() {}
}

/// The result of running one stage on one event.
public struct StageOutcome: Sendable, Equatable {
  /// The index of the statement that dropped the input, or nil if it passed the stage.
  public var droppedAt: Int?
  /// The product of the sampling rates the input passed in this stage.
  public var inclusionProbability: Double

  public var passed: Bool { droppedAt == nil }

  public init(droppedAt: Int?, inclusionProbability: Double) {
    self.droppedAt = droppedAt
    self.inclusionProbability = inclusionProbability
  }
}

/// The reference semantics of the language: a plain evaluator over the checked syntax tree.
///
/// It is written for clarity, not speed, and defines what the bytecode VM must compute; the
/// differential tests compare the two on random programs and events.
public final class ReferenceEvaluator: @unchecked Sendable {
  public let collector: CheckedCollector
  /// Metadata path → slot in `Event.metadata`.
  let slots: [[String]: Int]
  var regexes: [String: Regex<AnyRegexOutput>] = [:]

  /// Prepares a collector, registering the metadata paths its rules read in `projection`.
  public init(collector: CheckedCollector, projection: inout MetadataProjection) {
    self.collector = collector
    var slots: [[String]: Int] = [:]
    var patterns: [String] = []
    for stage in [collector.preQueue, collector.postQueue] {
      for statement in stage ?? [] {
        StatementWalker.visit(statement) { e in
          if let path = StatementWalker.metadataPath(e) { slots[path] = projection.slot(for: path) }
          if case .binary(.matches, _, let rhs) = e.kind, case .string(let p) = rhs.kind { patterns.append(p) }
        }
      }
    }
    self.slots = slots
    for p in patterns { regexes[p] = try? Regex(p) }
  }

  // MARK: Stages

  /// Runs the statements of a stage in order until one drops the input.
  ///
  /// `eventTime` is the output's `created_at` (or the latest seen before it), for `limit`.
  /// `observe` is told each statement's index and whether the input passed it.
  public func run(
    _ kind: StageKind, event: Event, eventTime: Double, state: inout CollectorState,
    observe: (Int, Bool) -> Void = { _, _ in }
  ) -> StageOutcome {
    let statements = (kind == .preQueue ? collector.preQueue : collector.postQueue) ?? []
    var probability = 1.0
    for (index, statement) in statements.enumerated() {
      let passed: Bool
      switch statement.kind {
      case .require(let e):
        passed = evaluate(e, Context(event: event)).isTrue
      case .dropIf(let e):
        passed = !evaluate(e, Context(event: event)).isTrue
      case .sample(let rate, let by, let seed):
        let r = Constant.number(rate) ?? 0
        var key = event.inputID ?? ""
        if let by, let k = evaluate(by, Context(event: event)).samplingKey { key = k }
        passed = Sampling.keeps(seed: seed?.text ?? collector.id, key: key, rate: r)
        if passed { probability *= r }
      case .limit(let count, let window, let unit):
        let seconds = (window.flatMap { Constant.number($0) } ?? 1) * (TimeUnit(word: unit.text)?.seconds ?? 1)
        let windowID = Int64((eventTime / seconds).rounded(.down))
        let slot = (kind == .preQueue ? 0 : 1 << 20) + index
        let used = state.windows[slot, default: [:]][windowID, default: 0]
        passed = Double(used) < (Constant.number(count) ?? 0)
        state.windows[slot, default: [:]][windowID] = used + 1
      }
      observe(index, passed)
      if !passed { return StageOutcome(droppedAt: index, inclusionProbability: probability) }
    }
    return StageOutcome(droppedAt: nil, inclusionProbability: probability)
  }

  // MARK: Expressions

  /// One element a `where` clause ranges over.
  enum Element {
    case concept(ConceptValue)
    case region(RegionValue)
    case frame(FrameValue)
  }

  struct Context {
    var event: Event
    var scopes: [Element] = []

    /// The concept list in scope: the innermost region's or frame's, else the output's.
    var concepts: [ConceptValue] {
      for element in scopes.reversed() {
        switch element {
        case .region(let r): return r.concepts
        case .frame(let f): return f.concepts
        case .concept: continue
        }
      }
      return event.concepts
    }

    var regions: [RegionValue] {
      for element in scopes.reversed() {
        if case .frame(let f) = element { return f.regions }
      }
      return event.regions
    }
  }

  /// Evaluates an expression; never fails.
  public func evaluate(_ e: Expr, event: Event) -> Value { evaluate(e, Context(event: event)) }

  func evaluate(_ e: Expr, _ ctx: Context) -> Value {
    switch e.kind {
    case .missing: return .missing
    case .number(let v, _, _): return .number(v)
    case .string(let s): return .string(s)
    case .bool(let b): return .bool(b)
    case .list(let items):
      // List items are literals: a bare word is a string, never an element field.
      return .list(items.map { if case .name(let n) = $0.kind { .string(n) } else { evaluate($0, ctx) } })
    case .paren(let inner): return evaluate(inner, ctx)
    case .name(let name): return field(name, ctx)
    case .path(let words): return path(words, ctx)
    case .call(let name, let args): return call(name.text, args, ctx)
    case .collection: return .missing
    case .quantifier(let q, let c):
      if q == .all, c.kind == .concepts, let names = c.listedNames {
        // `all concepts in [a, b] ...`: every listed concept must be present and pass.
        let passing = selectConcepts(c, ctx)
        return .bool(!names.isEmpty && names.allSatisfy { n in passing.contains { $0.name == n || $0.id == n } })
      }
      let (count, passing) = select(c, ctx)
      switch q {
      case .any: return .bool(passing > 0)
      case .all: return .bool(count > 0 && passing == count)
      }
    case .not(let operand): return .bool(!evaluate(operand, ctx).isTrue)
    case .negate(let operand):
      guard let n = evaluate(operand, ctx).number else { return .missing }
      return .number(-n)
    case .binary(let op, let lhs, let rhs): return binary(op, lhs, rhs, ctx)
    }
  }

  func field(_ name: String, _ ctx: Context) -> Value {
    if let element = ctx.scopes.last {
      switch element {
      case .concept(let c):
        switch name {
        case "value": return .number(c.value)
        case "name": return .string(c.name)
        case "id": return .string(c.id)
        default: break
        }
      case .region(let r):
        let box = r.box
        switch name {
        case "value": return r.value.map(Value.number) ?? .missing
        case "id": return .string(r.id)
        case "top": return box.map { .number($0.top) } ?? .missing
        case "left": return box.map { .number($0.left) } ?? .missing
        case "bottom": return box.map { .number($0.bottom) } ?? .missing
        case "right": return box.map { .number($0.right) } ?? .missing
        case "width": return box.map { .number(checked: $0.right - $0.left) } ?? .missing
        case "height": return box.map { .number(checked: $0.bottom - $0.top) } ?? .missing
        case "area": return box.map { .number(checked: ($0.right - $0.left) * ($0.bottom - $0.top)) } ?? .missing
        default: break
        }
      case .frame(let f):
        switch name {
        case "time": return f.time.map(Value.number) ?? .missing
        case "index": return f.index.map(Value.number) ?? .missing
        case "id": return .string(f.id)
        default: break
        }
      }
    }
    // Outside an element, a bare name is an input kind (`input.kind == image`) or a list symbol.
    if let kind = InputKind(rawValue: name) { return .kind(kind) }
    return .string(name)
  }

  func path(_ words: [Word], _ ctx: Context) -> Value {
    let e = ctx.event
    if let p = StatementWalker.metadataPath(words) {
      return slots[p].map { Value(e.metadata[$0]) } ?? .missing
    }
    guard words.count == 2 else { return .missing }
    switch (words[0].text, words[1].text) {
    case ("input", "id"): return e.inputID.map(Value.string) ?? .missing
    case ("input", "kind"): return e.inputKind.map(Value.kind) ?? .missing
    case ("input", "text"): return e.inputText.map(Value.string) ?? .missing
    case ("input", "url"): return e.inputURL.map(Value.string) ?? .missing
    case ("model", "id"): return e.modelID.map(Value.string) ?? .missing
    case ("model", "version"): return e.modelVersion.map(Value.string) ?? .missing
    case ("model", "user"): return e.modelUser.map(Value.string) ?? .missing
    case ("model", "app"): return e.modelApp.map(Value.string) ?? .missing
    default: return .missing
    }
  }

  /// The values of the concepts a concept collection selects (after its list and filter).
  func conceptValues(_ c: CollectionExpr, _ ctx: Context) -> [Double] {
    var out: [Double] = []
    for concept in selectConcepts(c, ctx) { out.append(concept.value) }
    return out
  }


  func selectConcepts(_ c: CollectionExpr, _ ctx: Context) -> [ConceptValue] {
    let names = c.listedNames.map(Set.init)
    return ctx.concepts.filter { concept in
      if let names, !names.contains(concept.name) && !names.contains(concept.id) { return false }
      return passes(c.filter, .concept(concept), ctx)
    }
  }

  /// Whether an element passes a collection's filter.
  func passes(_ filter: CollectionFilter?, _ element: Element, _ ctx: Context) -> Bool {
    guard let filter else { return true }
    var inner = ctx
    inner.scopes.append(element)
    switch filter {
    case .where(let predicate):
      return evaluate(predicate, inner).isTrue
    case .compare(let op, let rhs):
      // The shorthand `> 0.3` is `where value > 0.3`: both sides read with the element in scope.
      return compare(op, field("value", inner), evaluate(rhs, inner))
    }
  }

  /// How many elements a collection has (after its `in` list) and how many pass its filter.
  func select(_ c: CollectionExpr, _ ctx: Context) -> (count: Int, passing: Int) {
    switch c.kind {
    case .concepts:
      var unfiltered = c
      unfiltered.filter = nil
      let all = selectConcepts(unfiltered, ctx)
      return (all.count, all.count { passes(c.filter, .concept($0), ctx) })
    case .regions:
      let all = ctx.regions
      return (all.count, all.count { passes(c.filter, .region($0), ctx) })
    case .frames:
      let all = ctx.event.frames
      return (all.count, all.count { passes(c.filter, .frame($0), ctx) })
    }
  }

  func call(_ name: String, _ args: [Expr], _ ctx: Context) -> Value {
    switch name {
    case "concept":
      guard let arg = args.first else { return .missing }
      let key: String
      switch arg.kind {
      case .name(let n), .string(let n): key = n
      default: return .missing
      }
      let concepts = ctx.concepts
      let byName = concepts.filter { $0.name == key }
      let matches = byName.isEmpty ? concepts.filter { $0.id == key } : byName
      return matches.map(\.value).max().map(Value.number) ?? .missing
    case "count":
      guard case .collection(let c) = args.first?.kind else { return .missing }
      return .number(Double(select(c, ctx).passing))
    case "exists":
      switch evaluate(args[0], ctx) {
      case .missing: return .bool(false)
      default: return .bool(true)
      }
    case "type":
      switch evaluate(args[0], ctx) {
      case .string: return .string("string")
      case .number: return .string("number")
      case .bool: return .string("bool")
      case .list: return .string("list")
      case .object: return .string("object")
      case .kind: return .string("string")
      case .missing: return .missing
      }
    case "length":
      switch evaluate(args[0], ctx) {
      case .string(let s): return .number(Double(s.unicodeScalars.count))
      case .list(let items): return .number(Double(items.count))
      default: return .missing
      }
    default:
      guard case .collection(let c) = args.first?.kind else { return .missing }
      let values = conceptValues(c, ctx)
      return Aggregate.value(name, values, rank: args.count > 1 ? Constant.number(args[1]) : nil)
    }
  }

  func binary(_ op: BinaryOperator, _ lhs: Expr, _ rhs: Expr, _ ctx: Context) -> Value {
    switch op {
    // Chains are walked in a loop, not recursed into once per operand (Expr.chainOperands).
    case .and:
      let (head, steps) = Expr.leftChain(op, lhs, rhs)
      return .bool(evaluate(head, ctx).isTrue && steps.allSatisfy { evaluate($0.1, ctx).isTrue })
    case .or:
      let (head, steps) = Expr.leftChain(op, lhs, rhs)
      return .bool(evaluate(head, ctx).isTrue || steps.contains { evaluate($0.1, ctx).isTrue })
    case .add, .subtract, .multiply, .divide:
      // Left-associative: `a - b + c` is `(a - b) + c`; the chain folded in a loop.
      let (head, steps) = Expr.leftChain(op, lhs, rhs)
      var value = evaluate(head, ctx)
      for (o, operand) in steps {
        guard let a = value.number, let b = evaluate(operand, ctx).number else { return .missing }
        switch o {
        case .add: value = .number(checked: a + b)
        case .subtract: value = .number(checked: a - b)
        case .multiply: value = .number(checked: a * b)
        default: value = .number(checked: a / b)
        }
      }
      return value
    default:
      return .bool(compare(op, evaluate(lhs, ctx), evaluate(rhs, ctx)))
    }
  }

  /// Comparisons: false whenever an operand is missing or the types differ.
  func compare(_ op: BinaryOperator, _ a: Value, _ b: Value) -> Bool {
    switch op {
    case .equal: return Value.equal(a, b) == true
    case .notEqual: return Value.equal(a, b) == false
    case .less, .lessEqual, .greater, .greaterEqual:
      guard let x = a.number, let y = b.number else { return false }
      switch op {
      case .less: return x < y
      case .lessEqual: return x <= y
      case .greater: return x > y
      default: return x >= y
      }
    case .in, .notIn:
      guard case .list(let items) = b else { return false }
      switch a {
      case .string, .number, .bool, .kind: break
      default: return false
      }
      let found = items.contains { Value.equal(a, Self.listItem($0, like: a)) == true }
      return op == .in ? found : !found
    case .contains:
      switch (a, b) {
      case (.string(let s), .string(let t)): return t.isEmpty || s.contains(t)
      case (.list(let items), _): return items.contains { Value.equal($0, b) == true }
      default: return false
      }
    case .startsWith:
      guard case .string(let s) = a, case .string(let t) = b else { return false }
      return s.hasPrefix(t)
    case .endsWith:
      guard case .string(let s) = a, case .string(let t) = b else { return false }
      return s.hasSuffix(t)
    case .matches:
      guard case .string(let s) = a, case .string(let pattern) = b, let regex = regexes[pattern] else { return false }
      return (try? regex.firstMatch(in: s)) != nil
    default:
      return false
    }
  }

  /// List literal items are strings (bare words) or numbers; a bare word compares with a kind as a kind.
  static func listItem(_ item: Value, like a: Value) -> Value {
    if case .kind = a, case .string(let s) = item, let k = InputKind(rawValue: s) { return .kind(k) }
    if case .kind = item, case .string = a, case .kind(let k) = item { return .string(k.rawValue) }
    return item
  }
}

/// The aggregates over a list of concept values, through the implementation the VM shares.
public enum Aggregate {
  public static func value(_ name: String, _ values: [Double], rank: Double?) -> Value {
    guard let kind = AggregateKind(name: name) else { return .missing }
    var copy = values
    let result = copy.withUnsafeMutableBufferPointer { ConceptAggregate.compute(kind, $0, rank: Int(rank ?? 1)) }
    return result.isNaN ? .missing : .number(result)
  }
}

/// Event time for `limit`: an output's `created_at`, or for an output without one, the latest
/// timestamp seen before it (0 before any), as Grammar.md section 4.3 says.
public struct EventClock: Sendable {
  var latest: Double?

  public init() {}

  /// The time to count this event at; remembers its own timestamp.
  public mutating func time(of event: Event) -> Double { time(of: event.createdAt) }

  /// The time of an event created at `createdAt` (nil when it has none).
  public mutating func time(of createdAt: Double?) -> Double {
    if let t = createdAt { latest = max(latest ?? t, t) }
    return createdAt ?? latest ?? 0
  }
}
