import Foundation
import RulesDiagnostics
import RulesMath
import RulesSource
import RulesSyntax

/// The static type of an expression.
public enum ValueType: Equatable, Sendable {
  case number, string, bool, list, kind
  /// A metadata value: its JSON type is known only at run time; a mismatch there is simply false.
  case dynamic
  case collection(CollectionKind)
  /// Already reported; suppresses follow-on errors.
  case invalid

  var display: String {
    switch self {
    case .number: "a number"
    case .string: "a string"
    case .bool: "a condition"
    case .list: "a list"
    case .kind: "an input kind"
    case .dynamic: "a metadata value"
    case .collection(let k): "the collection '\(k.rawValue)'"
    case .invalid: "an invalid expression"
    }
  }
}

/// What is known about an expression's value.
struct Typed {
  var type: ValueType
  /// The value is a probability in [0, 1] (concept values, `max`, box areas, ...).
  var probability = false
  /// The value is `type(...)`, which compares only with `==`, `!=`, `in` and `not in` and type names.
  var isType = false

  static let invalid = Typed(type: .invalid)
}

/// The element a `where` clause ranges over.
enum ElementScope {
  case concept, region, frame

  var fields: [(String, Typed)] {
    let p = Typed(type: .number, probability: true)
    switch self {
    case .concept: return [("value", p), ("name", Typed(type: .string)), ("id", Typed(type: .string))]
    case .region:
      return [
        ("value", p), ("area", p), ("width", p), ("height", p), ("top", p), ("left", p), ("bottom", p), ("right", p),
        ("id", Typed(type: .string)),
      ]
    case .frame: return [("time", Typed(type: .number)), ("index", Typed(type: .number)), ("id", Typed(type: .string))]
    }
  }
}

/// Type-checks the expressions of one stage and records which concepts they read.
struct ExpressionChecker {
  let file: SourceFile
  let sink: DiagnosticSink
  let stage: StageKind
  let catalog: ConceptCatalog?
  let mapTargets: Set<String>
  var usage = ConceptUsage()
  var hadErrors = false
  /// The collector's concept map, source → target (a source read by a rule is renamed away).
  var renamed: [String: String] = [:]
  /// The concepts the rules see with `--concepts`: the model's, after the map.
  var vocabulary: Set<String>?
  var scopes: [ElementScope] = []

  static let functions = ["concept"] + AggregateKind.allCases.map(\.name) + ["count", "exists", "length", "type"]
  static let inputFields = ["id", "kind", "text", "url", "metadata"]
  static let modelFields = ["id", "version", "user", "app"]
  static let kinds = ["image", "video", "text", "audio"]
  static let typeNames = ["string", "number", "bool", "list", "object"]

  init(file: SourceFile, sink: DiagnosticSink, stage: StageKind, catalog: ConceptCatalog?, mapTargets: Set<String>) {
    self.file = file
    self.sink = sink
    self.stage = stage
    self.catalog = catalog
    self.mapTargets = mapTargets
  }

  mutating func error(_ m: DiagnosticMessage, _ r: SourceRange) {
    if m.severity == .error { hadErrors = true }
    sink.emit(m, file: file, range: r)
  }

  // MARK: Statements

  mutating func check(_ s: Statement) {
    switch s.kind {
    case .require(let e), .dropIf(let e):
      let t = infer(e)
      if t.type != .bool && t.type != .invalid {
        let verb = s.keyword.text
        error(
          SemaMessage.typeMismatch(
            "'\(verb)' needs a condition, found \(t.type.display)",
            help: t.type == .number
              ? "compare it with a threshold, e.g. '\(Printer.expression(e)) > 0.5'"
              : t.type == .string
                ? "compare it with a value, e.g. '\(Printer.expression(e)) == \"mobile\"'"
                : "a condition is a comparison or a test, e.g. 'max(concepts) < 0.5' or 'exists(metadata.camera)'"),
          e.range)
      }
    case .sample(let rate, let by, _):
      if case .number(let value, let percent, let text) = rate.kind, !(value > 0 && value <= 1) {
        let help =
          percent ? "use a percentage above 0% and at most 100%"
          : (value > 1 && value <= 100 ? "write '\(text)%' for a percentage" : "use a fraction in (0, 1] or a percentage such as 10%")
        error(SemaMessage.rateOutOfRange(text, help: help), rate.range)
      }
      if let by {
        if case .path = by.kind {
          _ = infer(by)
        } else {
          error(SemaMessage.typeMismatch("'sample by' needs a field such as metadata.user_id", help: "write 'sample 10% by metadata.user_id' so all inputs of one user share a decision"), by.range)
        }
      }
    case .limit(let count, let window, _):
      for (what, e) in [("count", count)] + (window.map { [("window", $0)] } ?? []) {
        if case .number(let v, let percent, let text) = e.kind, percent || v < 1 || v != v.rounded() || v > 1e15 {
          error(SemaMessage.invalidLimit("limit \(what) \(text) is not a whole number of at least 1"), e.range)
        }
      }
    }
  }

  // MARK: Expressions

  mutating func infer(_ e: Expr) -> Typed {
    switch e.kind {
    case .missing: return .invalid
    case .number: return Typed(type: .number)
    case .string: return Typed(type: .string)
    case .bool: return Typed(type: .bool)
    case .list(let items):
      for item in items where !isLiteral(item) {
        error(SemaMessage.typeMismatch("list items must be literal strings, names or numbers", help: "write the values themselves, as [US, CA] or [\"a b\", 3]"), item.range)
        return .invalid
      }
      return Typed(type: .list)
    case .paren(let inner): return infer(inner)
    case .name(let name): return inferName(name, e.range)
    case .path(let words): return inferPath(words, e.range)
    case .call(let name, let args): return inferCall(name, args, e.range)
    case .collection(let c): return inferCollection(c)
    case .quantifier(_, let c):
      let t = inferCollection(c)
      return t.type == .invalid ? .invalid : Typed(type: .bool)
    case .not(let operand):
      let t = infer(operand)
      if t.type != .bool && t.type != .invalid {
        error(SemaMessage.typeMismatch("'not' needs a condition, found \(t.type.display)", help: "compare the value first, as 'not (metadata.source == \"test\")'"), operand.range)
        return .invalid
      }
      return Typed(type: .bool)
    case .negate(let operand):
      let t = infer(operand)
      if t.type != .number && t.type != .dynamic && t.type != .invalid {
        error(SemaMessage.typeMismatch("'-' needs a number, found \(t.type.display)", help: "negate a number or a numeric field, as -metadata.offset"), operand.range)
        return .invalid
      }
      return Typed(type: .number)
    case .binary(let op, let lhs, let rhs): return inferBinary(op, lhs, rhs, e.range)
    }
  }

  func isLiteral(_ e: Expr) -> Bool {
    switch e.kind {
    case .number, .string, .name, .bool: true
    case .negate(let inner): if case .number = inner.kind { true } else { false }
    default: false
    }
  }

  mutating func inferName(_ name: String, _ range: SourceRange) -> Typed {
    for scope in scopes.reversed() {
      if let field = scope.fields.first(where: { $0.0 == name }) { return field.1 }
    }
    var candidates = ExpressionChecker.functions + ["metadata", "input", "model", "concepts", "regions", "frames"]
    for scope in scopes { candidates += scope.fields.map(\.0) }
    let suggestion = Spelling.suggestion(for: name, among: candidates)
    let help: String? =
      ExpressionChecker.kinds.contains(name) ? "compare it with the input's kind: 'input.kind == \(name)'"
      : (scopes.isEmpty ? "to read a concept's value write 'concept(\(name))'" : nil)
    if name == "metadata" { return Typed(type: .dynamic) }
    error(SemaMessage.unknownName(name, suggestion: suggestion, help: help), range)
    return .invalid
  }

  mutating func inferPath(_ words: [Word], _ range: SourceRange) -> Typed {
    let root = words[0].text
    let fields = Array(words.dropFirst())
    switch root {
    case "metadata":
      return Typed(type: .dynamic)
    case "input":
      guard let first = fields.first else {
        error(SemaMessage.typeMismatch("'input' is not a value", help: "use one of its fields, such as 'input.kind'"), range)
        return .invalid
      }
      if first.text == "metadata" { return Typed(type: .dynamic) }
      guard fields.count == 1, ExpressionChecker.inputFields.contains(first.text) else {
        let bad = fields.count == 1 || !ExpressionChecker.inputFields.contains(first.text) ? first : fields[1]
        error(
          SemaMessage.unknownField(
            "input", bad.text, suggestion: Spelling.suggestion(for: bad.text, among: ExpressionChecker.inputFields),
            fields: ExpressionChecker.inputFields), bad.range)
        return .invalid
      }
      switch first.text {
      case "kind": return Typed(type: .kind)
      default: return Typed(type: .string)
      }
    case "model":
      if stage == .postQueue {
        error(
          SemaMessage.notVisible("'model'", stage: "post_queue", help: "test the model in pre_queue"), range)
        return .invalid
      }
      guard fields.count == 1, ExpressionChecker.modelFields.contains(fields[0].text) else {
        let bad = fields.first ?? words[0]
        error(
          SemaMessage.unknownField(
            "model", bad.text, suggestion: Spelling.suggestion(for: bad.text, among: ExpressionChecker.modelFields),
            fields: ExpressionChecker.modelFields), bad.range)
        return .invalid
      }
      return Typed(type: .string)
    default:
      let suggestion = Spelling.suggestion(for: root, among: ["metadata", "input", "model"])
      error(SemaMessage.unknownName(root, suggestion: suggestion, help: "paths start with metadata, input or model"), words[0].range)
      return .invalid
    }
  }

  /// `entropy(concepts) > c` with c at or above ln n, the largest entropy of n concepts (with
  /// `--concepts`): it never holds.
  mutating func checkEntropyBound(_ op: BinaryOperator, _ lhs: Expr, _ rhs: Expr, _ range: SourceRange) {
    guard let vocabulary, vocabulary.count >= 1 else { return }
    func isEntropy(_ e: Expr) -> Bool {
      if case .call(let name, let args) = e.kind, name.text == "entropy", args.count == 1 { return true }
      return false
    }
    let bound = log(Double(vocabulary.count))
    let (c, effective): (Double?, BinaryOperator) = isEntropy(lhs) ? (Constant.number(rhs), op) : isEntropy(rhs) ? (Constant.number(lhs), op.flipped) : (nil, op)
    guard let c else { return }
    let never = (effective == .greater && c >= bound) || (effective == .greaterEqual && c > bound)
    guard never else { return }
    error(
      SemaMessage.beyondVocabulary(
        "the entropy of \(vocabulary.count) concepts is at most ln \(vocabulary.count) = \(String(format: "%.4g", bound)), never above \(String(format: "%g", c))",
        help: "entropy(concepts) is largest, ln n, when the model spreads its belief evenly over all n concepts: use a threshold below \(String(format: "%.4g", bound))"),
      range)
  }

  mutating func requirePreQueue(_ what: String, _ range: SourceRange) -> Bool {
    guard stage == .postQueue && scopes.isEmpty else { return true }
    error(
      SemaMessage.notVisible(
        what, stage: "post_queue", help: "post_queue sees only the original input; move this test to pre_queue"),
      range)
    return false
  }

  mutating func noteConcept(_ name: String, _ range: SourceRange) {
    usage.names.insert(name)
    if let target = renamed[name], target != name, !mapTargets.contains(name) {
      error(SemaMessage.conceptMappedAway(name, target), range)
      return
    }
    if let catalog, !catalog.names.contains(name), !mapTargets.contains(name) {
      error(
        SemaMessage.unknownConcept(name, suggestion: Spelling.suggestion(for: name, among: catalog.names.union(mapTargets))),
        range)
    }
  }

  mutating func inferCollection(_ c: CollectionExpr) -> Typed {
    guard requirePreQueue("'\(c.keyword.text)'", c.keyword.range) else { return .invalid }
    if c.kind == .concepts {
      if let list = c.list, case .list(let items) = list.kind {
        for item in items {
          switch item.kind {
          case .name(let n), .string(let n): noteConcept(n, item.range)
          default:
            error(SemaMessage.typeMismatch("concept lists hold concept names or ids", help: "write names, as any concept in [dog, cat] > 0.5"), item.range)
          }
        }
      } else {
        usage.wholeList = true
      }
    } else if let list = c.list {
      error(SemaMessage.wrongArguments("'in [...]' selects concepts, not \(c.kind.rawValue)"), list.range)
      return .invalid
    }
    switch c.filter {
    case nil: break
    case .compare(let op, let rhs):
      guard c.kind != .frames else {
        error(
          SemaMessage.typeMismatch(
            "frames have no value to compare", help: "write 'frames where ...', e.g. 'any frame where max(concepts) < 0.5'"),
          rhs.range)
        return .invalid
      }
      let t = infer(rhs)
      if t.type != .number && t.type != .invalid && t.type != .dynamic {
        error(SemaMessage.typeMismatch("'\(op.rawValue)' compares a value with a number, found \(t.type.display)", help: "compare with a number, as 'concepts > 0.5'"), rhs.range)
        return .invalid
      }
      if !op.isComparison {
        error(SemaMessage.typeMismatch("'\(op.rawValue)' cannot filter a collection", help: "filter with a comparison (concepts > 0.5) or 'where' (regions where concept(person) > 0.5)"), rhs.range)
      }
      checkProbability(rhs, quantity: "value")
    case .where(let predicate):
      scopes.append(c.kind == .concepts ? .concept : (c.kind == .regions ? .region : .frame))
      let t = infer(predicate)
      scopes.removeLast()
      if t.type != .bool && t.type != .invalid {
        error(SemaMessage.typeMismatch("'where' needs a condition, found \(t.type.display)", help: "write a condition on each element, as 'regions where area > 0.1'"), predicate.range)
        return .invalid
      }
    }
    return Typed(type: .collection(c.kind))
  }

  /// Reports a constant outside [0, 1] compared with a probability.
  mutating func checkProbability(_ constant: Expr, quantity: String) {
    if let v = Constant.number(constant), v < 0 || v > 1 {
      error(SemaMessage.probabilityOutOfRange(Printer.expression(constant), quantity: quantity), constant.range)
    }
  }

  mutating func inferCall(_ name: Word, _ args: [Expr], _ range: SourceRange) -> Typed {
    func arity(_ n: Int, _ usage: String) -> Bool {
      guard args.count == n else {
        error(
          SemaMessage.wrongArguments(
            "'\(name.text)' takes \(n) argument\(n == 1 ? "" : "s"), found \(args.count)", help: "write \(usage)"), range)
        return false
      }
      return true
    }
    func conceptCollection(_ usage: String) -> Bool {
      let t = infer(args[0])
      if t.type == .invalid { return false }
      guard t.type == .collection(.concepts) else {
        error(
          SemaMessage.wrongArguments("'\(name.text)' needs a concept collection, found \(t.type.display)", help: "write \(usage)"),
          args[0].range)
        return false
      }
      return true
    }
    switch name.text {
    case "concept":
      guard arity(1, "concept(dog) or concept(\"golden retriever\")") else { return .invalid }
      guard requirePreQueue("'concept'", name.range) else { return .invalid }
      switch args[0].kind {
      case .name(let n), .string(let n):
        noteConcept(n, args[0].range)
        return Typed(type: .number, probability: true)
      default:
        error(SemaMessage.wrongArguments("'concept' takes a concept name or id", help: "write concept(dog)"), args[0].range)
        return .invalid
      }
    case let aggregate where AggregateKind(name: aggregate).map { !$0.takesRank } ?? false:
      let usage = "\(name.text)(concepts)"
      guard arity(1, usage), conceptCollection(usage) else { return .invalid }
      return Typed(type: .number, probability: AggregateKind(name: aggregate)!.isProbability)
    case "top":
      let usage = "top(concepts, 2) for the second largest value"
      guard arity(2, usage), conceptCollection(usage) else { return .invalid }
      guard case .number(let k, let percent, let text) = args[1].kind else {
        error(SemaMessage.wrongArguments("the rank of 'top' must be a whole number literal", help: "write \(usage)"), args[1].range)
        return .invalid
      }
      if percent || k < 1 || k != k.rounded() || k > 1_000_000 {
        error(SemaMessage.invalidRank(text), args[1].range)
        return .invalid
      }
      if let vocabulary, Int(k) > vocabulary.count {
        error(SemaMessage.beyondVocabulary("top(concepts, \(text)) ranks past the \(vocabulary.count) concepts the rules see", help: "the model's outputs hold at most \(vocabulary.count) concepts, so this is missing for every output: use a rank of at most \(vocabulary.count)"), args[1].range)
      }
      return Typed(type: .number, probability: true)
    case "count":
      guard arity(1, "count(concepts > 0.5)") else { return .invalid }
      let t = infer(args[0])
      if t.type == .invalid { return .invalid }
      guard case .collection = t.type else {
        error(SemaMessage.wrongArguments("'count' needs a collection, found \(t.type.display)", help: "write count(regions where value > 0.5)"), args[0].range)
        return .invalid
      }
      return Typed(type: .number)
    case "exists":
      guard arity(1, "exists(metadata.user_id)") else { return .invalid }
      guard case .path = args[0].kind else {
        error(SemaMessage.wrongArguments("'exists' needs a field path", help: "write exists(metadata.user_id)"), args[0].range)
        return .invalid
      }
      return infer(args[0]).type == .invalid ? .invalid : Typed(type: .bool)
    case "type":
      guard arity(1, "type(metadata.tags) == \"list\"") else { return .invalid }
      guard case .path = args[0].kind else {
        error(SemaMessage.wrongArguments("'type' needs a field path", help: "write type(metadata.tags)"), args[0].range)
        return .invalid
      }
      return infer(args[0]).type == .invalid ? .invalid : Typed(type: .string, isType: true)
    case "length":
      guard arity(1, "length(input.text)") else { return .invalid }
      let t = infer(args[0])
      if t.type == .invalid { return .invalid }
      guard t.type == .string || t.type == .dynamic else {
        error(SemaMessage.wrongArguments("'length' needs a string or a metadata list, found \(t.type.display)"), args[0].range)
        return .invalid
      }
      return Typed(type: .number)
    default:
      error(
        SemaMessage.unknownFunction(name.text, suggestion: Spelling.suggestion(for: name.text, among: ExpressionChecker.functions)),
        name.range)
      for arg in args { _ = infer(arg) }
      return .invalid
    }
  }

  /// `contains`, `starts_with` and `ends_with` take a literal on the right (compiled into the program).
  mutating func literalOperand(_ e: Expr, _ op: BinaryOperator) -> Bool {
    var inner = e
    while case .paren(let x) = inner.kind { inner = x }
    switch inner.kind {
    case .string, .number, .bool: return true
    default:
      if Constant.number(inner) != nil { return true }
      error(SemaMessage.typeMismatch("the right side of '\(op.rawValue)' must be a literal", help: "write a string such as \"outdoor\""), e.range)
      return false
    }
  }

  /// Checks the other side of a comparison with an input kind.
  mutating func checkKindLiteral(_ e: Expr) -> Bool {
    switch e.kind {
    case .name(let n), .string(let n):
      if !ExpressionChecker.kinds.contains(n) {
        error(SemaMessage.unknownKind(n, suggestion: Spelling.suggestion(for: n, among: ExpressionChecker.kinds)), e.range)
        return false
      }
      return true
    case .list(let items):
      return items.allSatisfy { checkKindLiteral($0) }
    case .missing:
      return false
    default:
      error(SemaMessage.typeMismatch("an input kind is compared with image, video, text or audio", help: "write input.kind == image, or input.kind in [image, video]"), e.range)
      return false
    }
  }

  /// The operands of a chain of one precedence (`or`; `and`; `+`/`-`; `*`/`/`), in order, walked
  /// in a loop (`Expr.leftChain`): the checker's depth does not grow with a chain's length (1,000
  /// operands overflowed a thread's stack under the address sanitizer).
  static func chain(_ op: BinaryOperator, _ lhs: Expr, _ rhs: Expr) -> [Expr] {
    let (head, steps) = Expr.leftChain(op, lhs, rhs)
    return [head] + steps.map(\.1)
  }

  mutating func inferBinary(_ op: BinaryOperator, _ lhs: Expr, _ rhs: Expr, _ range: SourceRange) -> Typed {
    switch op {
    case .and, .or:
      var result = Typed(type: .bool)
      for e in Self.chain(op, lhs, rhs) {
        let t = infer(e)
        if t.type != .bool && t.type != .invalid {
          error(SemaMessage.typeMismatch("'\(op.rawValue)' needs conditions on both sides, found \(t.type.display)", help: "compare the value, as '\(Printer.expression(e)) > 0.5'"), e.range)
          result = .invalid
        }
      }
      return result
    case .add, .subtract, .multiply, .divide:
      var result = Typed(type: .number)
      for e in Self.chain(op, lhs, rhs) {
        let t = infer(e)
        if t.type == .invalid {
          result = .invalid
        } else if t.type != .number && t.type != .dynamic {
          error(SemaMessage.typeMismatch("'\(op.rawValue)' needs numbers, found \(t.type.display)", help: "arithmetic works on numbers and numeric fields, as max(concepts) - min(concepts)"), e.range)
          result = .invalid
        }
      }
      return result
    default:
      break
    }
    let l = infer(lhs)
    if l.type == .invalid { return .invalid }
    if l.type == .kind && [.equal, .notEqual, .in, .notIn].contains(op) {
      return checkKindLiteral(rhs) ? Typed(type: .bool) : .invalid
    }
    let r = infer(rhs)
    if r.type == .invalid { return .invalid }
    checkEntropyBound(op, lhs, rhs, range)
    let bool = Typed(type: .bool)
    if l.isType || r.isType {
      guard [.equal, .notEqual, .in, .notIn].contains(op) else {
        error(SemaMessage.typeMismatch("'type(...)' compares only with ==, !=, in and not in", help: "write type(metadata.tags) == list"), range)
        return .invalid
      }
      let other = l.isType ? rhs : lhs
      var names: [Expr] = [other]
      if case .list(let items) = other.kind { names = items }
      for n in names {
        switch n.kind {
        case .string(let s), .name(let s):
          if !ExpressionChecker.typeNames.contains(s) {
            error(
              SemaMessage.typeMismatch(
                "unknown type name '\(s)'",
                help: Spelling.suggestion(for: s, among: ExpressionChecker.typeNames).map { "did you mean '\($0)'?" }
                  ?? "types are string, number, bool, list and object"), n.range)
            return .invalid
          }
        default:
          error(SemaMessage.typeMismatch("'type(...)' compares with a type name such as \"list\"", help: "the type names are string, number, bool, list and object"), n.range)
          return .invalid
        }
      }
      return bool
    }
    func mismatch(_ help: String? = nil) -> Typed {
      error(
        SemaMessage.typeMismatch("'\(op.rawValue)' cannot compare \(l.type.display) with \(r.type.display)", help: help),
        range)
      return .invalid
    }
    switch op {
    case .equal, .notEqual:
      if l.type == .dynamic || r.type == .dynamic {
        if l.type == .list || r.type == .list { return mismatch("use 'in' to test membership in a list") }
        return bool
      }
      guard l.type == r.type, l.type != .list else { return mismatch() }
      if l.probability { checkProbability(rhs, quantity: Printer.expression(lhs)) }
      if r.probability { checkProbability(lhs, quantity: Printer.expression(rhs)) }
      return bool
    case .less, .lessEqual, .greater, .greaterEqual:
      let numeric: (ValueType) -> Bool = { $0 == .number || $0 == .dynamic }
      guard numeric(l.type), numeric(r.type) else {
        return mismatch(l.type == .string || r.type == .string ? "compare strings with '==', 'starts_with' or 'matches'" : nil)
      }
      if l.probability { checkProbability(rhs, quantity: Printer.expression(lhs)) }
      if r.probability { checkProbability(lhs, quantity: Printer.expression(rhs)) }
      return bool
    case .in, .notIn:
      guard r.type == .list else { return mismatch("'\(op.rawValue)' needs a list such as [\"US\", \"CA\"]") }
      guard [.string, .number, .dynamic].contains(l.type) else { return mismatch() }
      return bool
    case .contains:
      guard [.string, .dynamic].contains(l.type), [.string, .number, .bool].contains(r.type) else { return mismatch() }
      return literalOperand(rhs, op) ? bool : .invalid
    case .startsWith, .endsWith:
      guard [.string, .dynamic].contains(l.type), r.type == .string else { return mismatch() }
      return literalOperand(rhs, op) ? bool : .invalid
    case .matches:
      guard [.string, .dynamic].contains(l.type) else { return mismatch() }
      guard case .string(let pattern) = rhs.kind else {
        error(SemaMessage.typeMismatch("'matches' needs a string literal pattern", help: "write the regular expression as a string, as input.text matches \"(?i)refund\""), rhs.range)
        return .invalid
      }
      do {
        _ = try Regex(pattern)
      } catch {
        let problem = String(describing: error).split(separator: "\n").first.map(String.init) ?? "invalid pattern"
        self.error(SemaMessage.invalidRegex(problem), rhs.range)
        return .invalid
      }
      return bool
    default:
      return mismatch()
    }
  }
}

/// Constant folding for the checker's range tests and the evaluators.
public enum Constant {
  /// The value of a constant numeric expression (literals, unary minus, arithmetic), if it is one.
  public static func number(_ e: Expr) -> Double? {
    switch e.kind {
    case .number(let v, _, _): return v
    case .paren(let inner): return number(inner)
    case .negate(let inner): return number(inner).map { -$0 }
    case .binary(let op, _, _) where op.isArithmetic:
      guard let (head, steps) = e.leftChain(), var v = number(head) else { return nil }
      for (o, operand) in steps {
        guard let b = number(operand) else { return nil }
        switch o {
        case .add: v += b
        case .subtract: v -= b
        case .multiply: v *= b
        default: v /= b
        }
        guard v.isFinite else { return nil }
      }
      return v
    default: return nil
    }
  }
}
