import RulesDiagnostics
import RulesMath
import RulesSource
import RulesSyntax

/// The lints of one stage: conditions that can never or always hold (interval reasoning over
/// comparisons of one quantity with constants), statements after which nothing can be collected,
/// unreachable statements, statements with no effect, and a `limit` that is not last.
struct StageLinter {
  let file: SourceFile
  let sink: DiagnosticSink

  /// One comparison of a quantity with a constant: `max(concepts) < 0.3`.
  struct Atom {
    var key: String
    var interval: Interval
    var domain: Interval
  }

  /// A comparison of a string quantity with literals: `metadata.source == "a"`, `x in [...]`.
  struct StringAtom {
    var key: String
    var allowed: Set<String>?
    var excluded: Set<String>
  }

  enum Always {
    case no
    case exact
    case whenPresent(String)
  }

  func emit(_ m: DiagnosticMessage, _ r: SourceRange, notes: [DiagnosticNote] = []) {
    sink.emit(m, file: file, range: r, notes: notes)
  }

  // MARK: Stage flow

  func lint(_ stage: Stage) {
    // What the statements so far allow of each quantity (when it has a value), and which statement said so.
    var known: [String: (Interval, SourceRange)] = [:]
    // What the `require` statements so far allow of each string quantity, and the last one that said so.
    var knownStrings: [String: (allowed: Set<String>?, excluded: Set<String>, range: SourceRange)] = [:]
    // Quantities that a `require` made sure have a value.
    var present: Set<String> = []
    var dead = false
    var limitRange: SourceRange?
    var limitReported = false
    for statement in stage.statements {
      if dead {
        emit(SemaMessage.unreachable, statement.range)
        continue
      }
      if let limit = limitRange, !limitReported {
        if case .limit = statement.kind {} else {
          emit(SemaMessage.limitNotLast, limit)
          limitReported = true
        }
      }
      switch statement.kind {
      case .require(let condition), .dropIf(let condition): lintEquality(condition)
      default: break
      }
      func earlier(_ key: String) -> [DiagnosticNote] {
        known[key].map { [DiagnosticNote("earlier statement that limits '\(key)'", file: file, range: $0.1)] } ?? []
      }
      switch statement.kind {
      case .require(let condition):
        if let why = neverTrue(condition) {
          emit(SemaMessage.collectsNothing(why), statement.range)
          dead = true
          continue
        }
        if isLiteral(condition, true) {
          emit(SemaMessage.noEffect("'require true' keeps every input"), statement.range)
          continue
        }
        lintCondition(condition)
        let atoms = conjunction(condition)
        // A require every input that reaches it already satisfies: implied by earlier statements.
        let numeric = atoms.compactMap(numericAtom)
        if !numeric.isEmpty, numeric.count == atoms.count,
          let implied = numeric.first(where: { known[$0.key] != nil }),
          numeric.allSatisfy({ a in present.contains(a.key) && (known[a.key].map { $0.0.intersection(a.interval) == $0.0 } ?? false) })
        {
          emit(SemaMessage.noEffect("every input that reaches it already has such a '\(implied.key)'"), statement.range, notes: earlier(implied.key))
          continue
        }
        // Strings: what the statements so far allow of each one (`==`, `in`, `!=`, `not in`).
        let strings = atoms.compactMap(stringAtom)
        if !strings.isEmpty, strings.count == atoms.count,
          strings.allSatisfy({ atom in
            guard let before = knownStrings[atom.key], let possible = before.allowed?.subtracting(before.excluded) else { return false }
            return possible.isSubset(of: atom.allowed ?? possible) && possible.isDisjoint(with: atom.excluded)
          })
        {
          let key = strings[0].key
          emit(
            SemaMessage.noEffect("every input that reaches it already has such a '\(key)'"), statement.range,
            notes: [DiagnosticNote("earlier statement that limits '\(key)'", file: file, range: knownStrings[key]!.range)])
          continue
        }
        var contradicted = false
        for atom in atoms.compactMap(stringAtom) {
          let before = knownStrings[atom.key]
          var allowed = before?.allowed
          if let a = atom.allowed { allowed = allowed.map { $0.intersection(a) } ?? a }
          let excluded = (before?.excluded ?? []).union(atom.excluded)
          if let allowed, allowed.subtracting(excluded).isEmpty, before != nil {
            emit(
              SemaMessage.collectsNothing("no input that passed the statements before it has such a '\(atom.key)'"),
              statement.range,
              notes: [DiagnosticNote("earlier statement that limits '\(atom.key)'", file: file, range: before!.range)])
            dead = true
            contradicted = true
            break
          }
          knownStrings[atom.key] = (allowed, excluded, statement.range)
        }
        if contradicted { continue }
        for atom in numeric where !isOutOfProbabilityRange(atom) {
          let before = known[atom.key]?.0 ?? atom.domain
          let after = before.intersection(atom.interval)
          if after.isEmpty {
            emit(
              SemaMessage.collectsNothing("no input that passed the statements before it has such a '\(atom.key)'"),
              statement.range, notes: earlier(atom.key))
            dead = true
            break
          }
          known[atom.key] = (after, statement.range)
          present.insert(atom.key)
        }
      case .dropIf(let condition):
        if isLiteral(condition, true) {
          emit(SemaMessage.collectsNothing("'drop if true' drops every input"), statement.range)
          dead = true
          continue
        }
        if let why = neverTrue(condition) {
          emit(SemaMessage.neverTrue(why), condition.range)
          continue
        }
        lintCondition(condition)
        if let atom = numericAtom(strip(condition)), let earlierLimit = known[atom.key], earlierLimit.0.intersection(atom.interval).isEmpty {
          // No input that reaches it has a value it would drop: the earlier statements took them.
          emit(
            SemaMessage.noEffect("no input that reaches it has such a '\(atom.key)'"), statement.range, notes: earlier(atom.key))
          continue
        }
        if let atom = numericAtom(strip(condition)), let complement = complement(of: atom) {
          let before = known[atom.key]?.0 ?? atom.domain
          let after = before.intersection(complement)
          if after.isEmpty && present.contains(atom.key) {
            emit(
              SemaMessage.collectsNothing("every input that passed the statements before it has such a '\(atom.key)'"),
              statement.range, notes: earlier(atom.key))
            dead = true
            continue
          }
          known[atom.key] = (after, statement.range)
        }
      case .sample(let rate, _, _):
        if case .number(let v, _, let text) = rate.kind, v == 1 {
          emit(SemaMessage.noEffect("'sample \(text)' keeps every input"), statement.range)
        }
      case .limit:
        if limitRange == nil { limitRange = statement.range }
      }
    }
  }

  func complement(of atom: Atom) -> Interval? {
    let i = atom.interval
    if i.lo == -.infinity && i.hi != .infinity {
      return Interval(lo: i.hi, loClosed: !i.hiClosed, hi: .infinity, hiClosed: false)
    }
    if i.hi == .infinity && i.lo != -.infinity {
      return Interval(lo: -.infinity, loClosed: false, hi: i.lo, hiClosed: !i.loClosed)
    }
    return nil
  }

  // MARK: Conditions

  func strip(_ e: Expr) -> Expr {
    if case .paren(let inner) = e.kind { return strip(inner) }
    return e
  }

  func isLiteral(_ e: Expr, _ value: Bool) -> Bool {
    if case .bool(let b) = strip(e).kind { return b == value }
    return false
  }

  /// The operands of a chain of `and` (of `or`), through parentheses, in order, with a stack of
  /// its own (`Expr.chainOperands`): linear in the chain's length (concatenating the halves' arrays
  /// was quadratic, and a 1,000-term `or` took seconds to lint) and at a constant depth.
  func conjunction(_ e: Expr) -> [Expr] { e.chainOperands(.and, throughParentheses: true) }

  func disjunction(_ e: Expr) -> [Expr] { e.chainOperands(.or, throughParentheses: true) }

  /// The range of values a quantity can take at all.
  func domain(of q: Expr) -> Interval {
    switch strip(q).kind {
    case .call(let name, _):
      if let aggregate = AggregateKind(name: name.text) { return aggregate.isProbability ? .unit : .nonNegative }
      switch name.text {
      case "concept": return .unit
      case "count", "length": return .nonNegative
      default: return .everything
      }
    case .name(let n):
      if ["value", "area", "width", "height", "top", "left", "bottom", "right"].contains(n) { return .unit }
      if ["time", "index"].contains(n) { return .nonNegative }
      return .everything
    default: return .everything
    }
  }

  func numericAtom(_ e: Expr) -> Atom? {
    guard case .binary(let op, let l, let r) = strip(e).kind, op.isComparison else { return nil }
    let q: Expr
    let c: Double
    let effective: BinaryOperator
    if let v = Constant.number(r), Constant.number(l) == nil {
      q = l
      c = v
      effective = op
    } else if let v = Constant.number(l), Constant.number(r) == nil {
      q = r
      c = v
      effective = op.flipped
    } else {
      return nil
    }
    guard isQuantity(q), let interval = Interval(effective, c) else { return nil }
    return Atom(key: Printer.expression(strip(q)), interval: interval, domain: domain(of: q))
  }

  /// Only side-effect-free value expressions are compared as quantities.
  func isQuantity(_ e: Expr) -> Bool {
    switch strip(e).kind {
    case .call, .path, .name: true
    case .binary(let op, _, _): op.isArithmetic
    default: false
    }
  }

  func stringAtom(_ e: Expr) -> StringAtom? {
    guard case .binary(let op, let l, let r) = strip(e).kind, isQuantity(l) else { return nil }
    let key = Printer.expression(strip(l))
    switch (op, r.kind) {
    case (.equal, .string(let s)): return StringAtom(key: key, allowed: [s], excluded: [])
    case (.notEqual, .string(let s)): return StringAtom(key: key, allowed: nil, excluded: [s])
    case (.in, .list(let items)), (.notIn, .list(let items)):
      var values = Set<String>()
      for item in items {
        switch item.kind {
        case .string(let s), .name(let s): values.insert(s)
        default: return nil
        }
      }
      return op == .in
        ? StringAtom(key: key, allowed: values, excluded: []) : StringAtom(key: key, allowed: nil, excluded: values)
    default: return nil
    }
  }

  /// Why a condition can never hold, if it cannot. Exact: a missing value only makes it falser.
  func neverTrue(_ e: Expr) -> String? {
    let e = strip(e)
    switch e.kind {
    case .bool(false): return "it is 'false'"
    case .not(let inner): return isLiteral(inner, true) ? "it is 'not true'" : nil
    case .binary(.or, _, _):
      let reasons = disjunction(e).map(neverTrue)
      return reasons.allSatisfy { $0 != nil } ? reasons[0] : nil
    case .binary(.and, _, _):
      let items = conjunction(e)
      for item in items { if let why = neverTrue(item) { return why } }
      var intervals: [String: Interval] = [:]
      for atom in items.compactMap(numericAtom) {
        let next = (intervals[atom.key] ?? atom.domain).intersection(atom.interval)
        if next.isEmpty { return "no value of '\(atom.key)' satisfies every comparison" }
        intervals[atom.key] = next
      }
      var allowed: [String: Set<String>] = [:]
      var excluded: [String: Set<String>] = [:]
      for atom in items.compactMap(stringAtom) {
        if let a = atom.allowed { allowed[atom.key] = allowed[atom.key].map { $0.intersection(a) } ?? a }
        excluded[atom.key, default: []].formUnion(atom.excluded)
        if let a = allowed[atom.key], a.subtracting(excluded[atom.key] ?? []).isEmpty {
          return "no value of '\(atom.key)' satisfies every comparison"
        }
      }
      return nil
    default:
      if let atom = numericAtom(e), atom.domain.intersection(atom.interval).isEmpty, !isOutOfProbabilityRange(atom) {
        return "'\(atom.key)' is never in \(atom.interval)"
      }
      if case .binary(.in, _, let list) = e.kind, case .list(let items) = strip(list).kind, items.isEmpty {
        return "nothing is in an empty list"
      }
      if case .quantifier(.any, let collection) = e.kind, let list = collection.list,
        case .list(let items) = strip(list).kind, items.isEmpty
      {
        return "'any \(collection.keyword.text) in []' ranges over nothing"
      }
      return nil
    }
  }

  /// Out-of-range thresholds on probabilities are reported as RC3005 already.
  func isOutOfProbabilityRange(_ atom: Atom) -> Bool {
    guard atom.domain == .unit else { return false }
    let c = atom.interval.lo == -.infinity ? atom.interval.hi : atom.interval.lo
    return c < 0 || c > 1
  }

  /// `==` or `!=` between a probability (a concept's value, an aggregate of probabilities, a
  /// region's value) and a number: model outputs are floating point and almost never exactly a given
  /// value, so the comparison almost never (or almost always) holds.
  func lintEquality(_ condition: Expr) {
    StatementWalker.walk(condition) { e in
      guard case .binary(let op, let l, let r) = e.kind, op == .equal || op == .notEqual else { return }
      guard let value = Constant.number(r) ?? Constant.number(l) else { return }
      let quantity = Constant.number(r) != nil ? l : r
      guard Constant.number(quantity) == nil, isQuantity(quantity), domain(of: quantity) == .unit else { return }
      emit(SemaMessage.probabilityEquality(Printer.expression(strip(quantity)), op.rawValue, value), e.range)
    }
  }

  /// Whether a condition always holds (exactly, or whenever its quantity has a value).
  func alwaysTrue(_ e: Expr) -> Always {
    let e = strip(e)
    switch e.kind {
    case .bool(true): return .exact
    case .binary(.or, _, _):
      let items = disjunction(e)
      for item in items {
        if case .exact = alwaysTrue(item) { return .exact }
      }
      for item in items {
        if case .whenPresent(let key) = alwaysTrue(item) { return .whenPresent(key) }
      }
      var groups: [String: [Interval]] = [:]
      var domains: [String: Interval] = [:]
      for atom in items.compactMap(numericAtom) {
        groups[atom.key, default: []].append(atom.interval)
        domains[atom.key] = atom.domain
      }
      for (key, parts) in groups.sorted(by: { $0.key < $1.key }) where Interval.unionCovers(parts, domains[key]!) {
        return .whenPresent(key)
      }
      return .no
    case .binary(.and, _, _):
      var key: String?
      for item in conjunction(e) {
        switch alwaysTrue(item) {
        case .no: return .no
        case .exact: break
        case .whenPresent(let k): key = key ?? k
        }
      }
      return key.map { .whenPresent($0) } ?? .exact
    default:
      if let atom = numericAtom(e), atom.interval.covers(atom.domain), !isOutOfProbabilityRange(atom) {
        return .whenPresent(atom.key)
      }
      return .no
    }
  }

  /// Warns when a whole condition always holds, else looks inside it.
  func lintCondition(_ condition: Expr) {
    if case .whenPresent(let key) = alwaysTrue(condition) {
      emit(SemaMessage.alwaysTrue(key), condition.range)
    } else {
      lintInside(condition)
    }
  }

  /// Looks inside a condition for sub-conditions that never or always hold.
  func lintInside(_ e: Expr) {
    func visit(_ side: Expr) {
      if let why = neverTrue(side) {
        emit(SemaMessage.neverTrue(why), side.range)
      } else if case .whenPresent(let key) = alwaysTrue(side) {
        emit(SemaMessage.alwaysTrue(key), side.range)
      } else {
        lintInside(side)
      }
    }
    switch e.kind {
    case .paren(let inner): lintInside(inner)
    case .binary(.and, _, _):
      // Each operand of the whole chain once (a chain's prefixes, linted one inside the other,
      // made a long chain quadratic; what a prefix shows, the whole condition shows too).
      for operand in conjunction(e) { visit(operand) }
    case .binary(.or, _, _):
      for operand in disjunction(e) { visit(operand) }
    case .not(let inner): visit(inner)
    case .quantifier(_, let c), .collection(let c):
      if case .where(let predicate) = c.filter { visit(predicate) }
    case .call(_, let args):
      for arg in args { lintInside(arg) }
    default: break
    }
  }
}
