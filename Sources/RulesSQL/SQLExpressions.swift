import RulesDiagnostics
import RulesMath
import RulesSema
import RulesSource
import RulesSyntax

/// What a compiled expression is in SQL. `NULL` stands for the language's **missing** everywhere,
/// except that a `bool` is never `NULL`: every comparison is wrapped so that a missing operand
/// makes it false (Grammar.md §3.1), and `and`, `or`, `not` then work as SQL's.
enum SQLType: Equatable {
  case bool
  case number
  case string
  /// An input kind (`image`, ...), a string in SQL but not equal to a string in the language.
  case kind
  /// A metadata value: a JSON value typed at run time (`NULL`, or JSON `null`, when absent).
  case json
  /// A list literal: its items, each with its own type.
  case list([SQLValue])
}

struct SQLValue: Equatable {
  var sql: String
  var type: SQLType
}

/// Why a construct has no SQL translation; the compiler reports it at the construct.
struct Unsupported: Error {
  var message: String
  var range: SourceRange
  var code: DiagnosticCode = .sqlUnsupported
}

/// Compiles the language's expressions to SQL with the reference evaluator's meaning
/// (`ReferenceEvaluator`): the same missing values, the same comparisons between types, the same
/// aggregates in the same order of floating-point operations.
struct SQLExpressions {
  let dialect: SQLDialect
  /// The column holding the input's metadata object (JSON).
  var metadata = "metadata"
  /// Elements in scope inside `where` (the innermost last): their SQL names and kinds.
  var scopes: [(name: String, kind: CollectionKind)] = []
  var fresh = 0
  /// Whether the rules read regions or frames (the query then reads them from each output).
  var readsRegions = false
  var readsFrames = false

  /// The concept list in scope: the innermost region's or frame's, else the output's (after the
  /// collector's map).
  var concepts: String {
    scopes.last { $0.kind != .concepts }.map { "\($0.name).concepts" } ?? "concepts"
  }

  /// The region list in scope: the innermost frame's, else the output's.
  var regions: String {
    scopes.last { $0.kind == .frames }.map { "\($0.name).regions" } ?? "regions"
  }

  init(dialect: SQLDialect) { self.dialect = dialect }

  /// The input kinds (`InputKind`), which a bare word outside `where` names.
  static let inputKinds: Set<String> = ["image", "video", "text", "audio"]

  mutating func name(_ prefix: String) -> String {
    fresh += 1
    return "\(prefix)\(fresh)"
  }

  // MARK: Typed views

  func number(_ v: SQLValue) -> String? {
    switch v.type {
    case .number: v.sql
    case .json: "(CASE WHEN \(dialect.json(v.sql, is: .number)) THEN \(dialect.jsonDouble(v.sql)) END)"
    default: nil
    }
  }

  func string(_ v: SQLValue) -> String? {
    switch v.type {
    case .string: v.sql
    case .json: "(CASE WHEN \(dialect.json(v.sql, is: .string)) THEN \(dialect.jsonString(v.sql)) END)"
    default: nil
    }
  }

  func boolean(_ v: SQLValue) -> String? {
    switch v.type {
    case .bool: v.sql
    case .json: "(CASE WHEN \(dialect.json(v.sql, is: .bool)) THEN \(dialect.jsonBool(v.sql)) END)"
    default: nil
    }
  }

  /// `x` when it is a finite number, else NULL (the language's NaN and infinities are missing),
  /// with `x` written once.
  func finite(_ x: String) -> String {
    dialect.element(dialect.transform(dialect.array([x]), "t", "CASE WHEN \(dialect.isFinite("t")) THEN t END"), "1")
  }

  static func falseIfNull(_ x: String) -> String { "COALESCE(\(x), false)" }

  // MARK: Expressions

  mutating func compile(_ e: Expr) throws(Unsupported) -> SQLValue {
    switch e.kind {
    case .missing: return SQLValue(sql: "NULL", type: .number)
    case .number(let v, _, _): return SQLValue(sql: dialect.double(v), type: .number)
    case .string(let s): return SQLValue(sql: dialect.string(s), type: .string)
    case .bool(let b): return SQLValue(sql: b ? "true" : "false", type: .bool)
    case .list(let items):
      var values: [SQLValue] = []
      for item in items {
        switch item.kind {
        // A bare word in a list is a string (a kind only when compared with one: `listItem`).
        case .name(let n): values.append(SQLValue(sql: dialect.string(n), type: .string))
        default: values.append(try compile(item))
        }
      }
      return SQLValue(sql: "", type: .list(values))
    case .paren(let inner): return try compile(inner)
    case .name(let n): return try field(n, e.range)
    case .path(let words): return try path(words, e.range)
    case .call(let name, let args): return try call(name, args, e.range)
    case .collection:
      throw Unsupported(message: "a collection stands only inside an aggregate or after any/all", range: e.range)
    case .quantifier(let q, let c): return try quantifier(q, c, e.range)
    case .not(let inner):
      let operand = try bool(inner)
      return SQLValue(sql: "(NOT \(operand))", type: .bool)
    case .negate(let inner):
      guard let n = number(try compile(inner)) else { return SQLValue(sql: "NULL", type: .number) }
      return SQLValue(sql: "(-\(n))", type: .number)
    case .binary(let op, let lhs, let rhs): return try binary(op, lhs, rhs, e)
    }
  }

  /// A condition: a bool, or false.
  mutating func bool(_ e: Expr) throws(Unsupported) -> String {
    let v = try compile(e)
    if v.type == .bool { return v.sql }
    if let b = boolean(v) { return Self.falseIfNull("\(b) = true") }
    return "false"
  }

  /// A bare name: a field of the innermost element in scope (`ReferenceEvaluator.field`), else an
  /// input kind, else a word.
  mutating func field(_ name: String, _ range: SourceRange) throws(Unsupported) -> SQLValue {
    if let (element, kind) = scopes.last {
      switch (kind, name) {
      case (.concepts, "value"): return SQLValue(sql: "\(element).value", type: .number)
      case (.concepts, "name"): return SQLValue(sql: "\(element).name", type: .string)
      case (.concepts, "id"), (.regions, "id"), (.frames, "id"): return SQLValue(sql: "\(element).id", type: .string)
      case (.regions, "value"): return SQLValue(sql: "\(element).value", type: .number)
      case (.regions, "top"), (.regions, "left"), (.regions, "bottom"), (.regions, "right"):
        return SQLValue(sql: "(CASE WHEN \(element).has_box THEN \(element).\(name)_edge END)", type: .number)
      case (.regions, "width"):
        return SQLValue(sql: "(CASE WHEN \(element).has_box THEN \(finite("\(element).right_edge - \(element).left_edge")) END)", type: .number)
      case (.regions, "height"):
        return SQLValue(sql: "(CASE WHEN \(element).has_box THEN \(finite("\(element).bottom_edge - \(element).top_edge")) END)", type: .number)
      case (.regions, "area"):
        return SQLValue(
          sql: "(CASE WHEN \(element).has_box THEN \(finite("(\(element).right_edge - \(element).left_edge) * (\(element).bottom_edge - \(element).top_edge)")) END)",
          type: .number)
      case (.frames, "time"): return SQLValue(sql: "\(element).time", type: .number)
      case (.frames, "index"): return SQLValue(sql: "\(element).index", type: .number)
      default: break
      }
    }
    if Self.inputKinds.contains(name) { return SQLValue(sql: dialect.string(name), type: .kind) }
    return SQLValue(sql: dialect.string(name), type: .string)
  }

  mutating func path(_ words: [Word], _ range: SourceRange) throws(Unsupported) -> SQLValue {
    if let p = StatementWalker.metadataPath(words) {
      guard let value = dialect.jsonPath(metadata, p) else {
        throw Unsupported(message: "a metadata key holding a quote or a backslash has no path in \(dialect.displayName)", range: range)
      }
      return SQLValue(sql: value, type: .json)
    }
    guard words.count == 2 else { return SQLValue(sql: "NULL", type: .string) }
    switch (words[0].text, words[1].text) {
    case ("input", "id"): return SQLValue(sql: "input_id", type: .string)
    case ("input", "kind"): return SQLValue(sql: "input_kind", type: .kind)
    case ("input", "text"): return SQLValue(sql: "input_text", type: .string)
    case ("input", "url"): return SQLValue(sql: "input_url", type: .string)
    case ("model", "id"): return SQLValue(sql: "model_id", type: .string)
    case ("model", "version"): return SQLValue(sql: "model_version", type: .string)
    case ("model", "user"): return SQLValue(sql: "model_user", type: .string)
    case ("model", "app"): return SQLValue(sql: "model_app", type: .string)
    default: return SQLValue(sql: "NULL", type: .string)
    }
  }

  // MARK: Concepts

  /// The elements a collection selects (for concepts, its `in` list), then those that pass its
  /// filter when `filtered`, as a list.
  mutating func selected(_ c: CollectionExpr, filtered: Bool, _ range: SourceRange) throws(Unsupported) -> String {
    let element = name(c.kind == .concepts ? "c" : c.kind == .regions ? "r" : "f")
    let list: String
    switch c.kind {
    case .concepts: list = concepts
    case .regions:
      readsRegions = true
      list = regions
    case .frames:
      readsFrames = true
      readsRegions = true
      list = "frames"
    }
    var conditions: [String] = []
    if c.kind == .concepts, let names = c.listedNames {
      let quoted = names.map { dialect.string($0) }.joined(separator: ", ")
      conditions.append(names.isEmpty ? "false" : "(\(element).name IN (\(quoted)) OR \(element).id IN (\(quoted)))")
    }
    if filtered, let filter = c.filter { conditions.append(try passes(filter, element, c.kind)) }
    guard !conditions.isEmpty else { return list }
    return dialect.filter(list, element, conditions.joined(separator: " AND "))
  }


  /// Whether the element named `element` passes a collection's filter.
  mutating func passes(_ filter: CollectionFilter, _ element: String, _ kind: CollectionKind) throws(Unsupported) -> String {
    scopes.append((element, kind))
    defer { scopes.removeLast() }
    switch filter {
    case .where(let predicate): return try bool(predicate)
    case .compare(let op, let rhs):
      // The shorthand `> 0.3` is `where value > 0.3`, both sides read with the element in scope.
      return try comparison(op, try field("value", rhs.range), try compile(rhs), rhs.range)
    }
  }

  func values(_ list: String) -> String { dialect.transform(list, "v", "v.value") }

  mutating func quantifier(_ q: Quantifier, _ c: CollectionExpr, _ range: SourceRange) throws(Unsupported) -> SQLValue {
    if q == .all, c.kind == .concepts, let names = c.listedNames {
      // `all concepts in [a, b] ...`: every listed concept present and passing.
      guard !names.isEmpty else { return SQLValue(sql: "false", type: .bool) }
      let passing = try selected(c, filtered: true, range)
      let terms = names.map { n in
        "\(dialect.length(dialect.filter(passing, "p", "p.name = \(dialect.string(n)) OR p.id = \(dialect.string(n))"))) > 0"
      }
      return SQLValue(sql: "(" + terms.joined(separator: " AND ") + ")", type: .bool)
    }
    let passing = dialect.length(try selected(c, filtered: true, range))
    switch q {
    case .any: return SQLValue(sql: "(\(passing) > 0)", type: .bool)
    case .all:
      let all = dialect.length(try selected(c, filtered: false, range))
      return SQLValue(sql: "(\(all) > 0 AND \(passing) = \(all))", type: .bool)
    }
  }

  mutating func call(_ name: Word, _ args: [Expr], _ range: SourceRange) throws(Unsupported) -> SQLValue {
    switch name.text {
    case "concept":
      guard let arg = args.first else { return SQLValue(sql: "NULL", type: .number) }
      let key: String
      switch arg.kind {
      case .name(let n), .string(let n): key = n
      default: return SQLValue(sql: "NULL", type: .number)
      }
      let byName = dialect.listMax(values(dialect.filter(concepts, "k", "k.name = \(dialect.string(key))")))
      let byID = dialect.listMax(values(dialect.filter(concepts, "k", "k.id = \(dialect.string(key))")))
      return SQLValue(sql: "COALESCE(\(byName), \(byID))", type: .number)
    case "count":
      guard case .collection(let c) = args.first?.kind else { return SQLValue(sql: "NULL", type: .number) }
      return SQLValue(sql: "CAST(\(dialect.length(try selected(c, filtered: true, range))) AS DOUBLE)", type: .number)
    case "exists":
      let v = try compile(args[0])
      switch v.type {
      case .json: return SQLValue(sql: "COALESCE(\(dialect.json(v.sql, is: .present)), false)", type: .bool)
      case .bool: return SQLValue(sql: "true", type: .bool)
      default: return SQLValue(sql: "(\(v.sql) IS NOT NULL)", type: .bool)
      }
    case "type":
      let v = try compile(args[0])
      switch v.type {
      case .json:
        return SQLValue(
          sql: "(CASE WHEN \(dialect.json(v.sql, is: .string)) THEN 'string' WHEN \(dialect.json(v.sql, is: .number)) THEN 'number' "
            + "WHEN \(dialect.json(v.sql, is: .bool)) THEN 'bool' WHEN \(dialect.json(v.sql, is: .array)) THEN 'list' "
            + "WHEN \(dialect.json(v.sql, is: .object)) THEN 'object' END)", type: .string)
      case .string, .kind: return SQLValue(sql: "(CASE WHEN \(v.sql) IS NOT NULL THEN 'string' END)", type: .string)
      case .number: return SQLValue(sql: "(CASE WHEN \(v.sql) IS NOT NULL THEN 'number' END)", type: .string)
      case .bool: return SQLValue(sql: "'bool'", type: .string)
      case .list: return SQLValue(sql: "'list'", type: .string)
      }
    case "length":
      let v = try compile(args[0])
      switch v.type {
      case .json:
        return SQLValue(
          sql: "(CASE WHEN \(dialect.json(v.sql, is: .string)) THEN CAST(length(\(dialect.jsonString(v.sql))) AS DOUBLE) "
            + "WHEN \(dialect.json(v.sql, is: .array)) THEN CAST(\(dialect.jsonArrayLength(v.sql)) AS DOUBLE) END)", type: .number)
      case .string: return SQLValue(sql: "CAST(length(\(v.sql)) AS DOUBLE)", type: .number)
      default: return SQLValue(sql: "NULL", type: .number)
      }
    default:
      guard let kind = AggregateKind(name: name.text), case .collection(let c) = args.first?.kind, c.kind == .concepts else {
        throw Unsupported(message: "'\(name.text)' of this argument has no SQL translation", range: range)
      }
      let list = values(try selected(c, filtered: true, range))
      return SQLValue(sql: aggregate(kind, list, rank: args.count > 1 ? Constant.number(args[1]) : nil), type: .number)
    }
  }

  /// `ConceptAggregate.compute` in SQL: the same order of operations, so the same binary64 result.
  func aggregate(_ kind: AggregateKind, _ list: String, rank: Double?) -> String {
    let d = dialect
    switch kind {
    case .max: return d.listMax(list)
    case .min: return d.listMin(list)
    case .leastConfidence: return "(1 - \(d.listMax(list)))"
    case .top:
      let k = max(Int(rank ?? 1), 1)
      return "(CASE WHEN \(d.length(list)) > 0 THEN \(d.element(d.sortedDescending(list), "least(\(k), \(d.length(list)))")) END)"
    case .margin:
      let sorted = d.sortedDescending(list)
      return "(CASE WHEN \(d.length(list)) >= 2 THEN \(finite("\(d.element(sorted, "1")) - \(d.element(sorted, "2"))")) END)"
    case .entropy:
      let sum = d.fold(list, "CAST(0 AS DOUBLE)", "s", "x", "s + x")
      let p = d.divide("x", "(\(sum))")
      let h = d.fold(list, "CAST(0 AS DOUBLE)", "h", "x", "CASE WHEN \(p) <> 0 THEN h - (\(p)) * ln(\(p)) ELSE h END")
      return "(CASE WHEN \(d.length(list)) > 0 AND (\(sum)) <> 0 THEN \(finite(h)) END)"
    }
  }

  // MARK: Operators

  mutating func binary(_ op: BinaryOperator, _ lhs: Expr, _ rhs: Expr, _ e: Expr) throws(Unsupported) -> SQLValue {
    switch op {
    case .and, .or:
      // Chains are walked in a loop (a chain may hold 1,000 operands).
      let (head, steps) = Expr.leftChain(op, lhs, rhs)
      var parts = [try bool(head)]
      for (_, operand) in steps { parts.append(try bool(operand)) }
      return SQLValue(sql: "(" + parts.joined(separator: op == .and ? " AND " : " OR ") + ")", type: .bool)
    case .add, .subtract, .multiply, .divide:
      let (head, steps) = Expr.leftChain(op, lhs, rhs)
      guard var value = number(try compile(head)) else { return SQLValue(sql: "NULL", type: .number) }
      for (o, operand) in steps {
        guard let b = number(try compile(operand)) else { return SQLValue(sql: "NULL", type: .number) }
        let symbol = o == .add ? "+" : o == .subtract ? "-" : "*"
        value = finite(o == .divide ? "(\(dialect.divide(value, b)))" : "(\(value) \(symbol) \(b))")
      }
      return SQLValue(sql: value, type: .number)
    default:
      return SQLValue(sql: try comparison(op, try compile(lhs), try compile(rhs), e.range), type: .bool)
    }
  }

  /// `ReferenceEvaluator.compare`: false whenever an operand is missing or the types differ.
  mutating func comparison(_ op: BinaryOperator, _ a: SQLValue, _ b: SQLValue, _ range: SourceRange) throws(Unsupported) -> String {
    switch op {
    case .equal, .notEqual:
      let symbol = op == .equal ? "=" : "<>"
      return Self.falseIfNull(try sameType(a, b, range).map { "\($0.0) \(symbol) \($0.1)" }.joined(separator: " OR "), or: "false")
    case .less, .lessEqual, .greater, .greaterEqual:
      guard let x = number(a), let y = number(b) else { return "false" }
      return Self.falseIfNull("\(x) \(op.rawValue) \(y)")
    case .in, .notIn:
      guard case .list(let items) = b.type else {
        throw Unsupported(message: "'\(op.rawValue)' with a list that is not written in the rule has no SQL translation", range: range)
      }
      var found: [String] = []
      for item in items { found += try sameType(a, listItem(item, like: a), range).map { "\($0.0) = \($0.1)" } }
      let foundSQL = Self.falseIfNull(found.joined(separator: " OR "), or: "false")
      if op == .in { return foundSQL }
      return "(\(present(a)) AND NOT \(foundSQL))"
    case .contains:
      switch a.type {
      case .string:
        guard let t = string(b) else { return "false" }
        return Self.falseIfNull("contains(\(a.sql), \(t))")
      case .json:
        // A string holds a substring; a list holds an element equal to the right side (`Value.equal`).
        let element = SQLValue(sql: "m", type: .json)
        let equal = try sameType(element, b, range).map { "\($0.0) = \($0.1)" }.joined(separator: " OR ")
        let inList = equal.isEmpty ? "false" : "\(dialect.length(dialect.filter(dialect.jsonElements(a.sql), "m", Self.falseIfNull(equal)))) > 0"
        let inString = string(b).map { "COALESCE(contains(\(string(a)!), \($0)), false)" } ?? "false"
        return "(CASE WHEN \(dialect.json(a.sql, is: .string)) THEN \(inString) WHEN \(dialect.json(a.sql, is: .array)) THEN \(inList) ELSE false END)"
      default: return "false"
      }
    case .startsWith, .endsWith:
      guard let s = string(a), let t = string(b) else { return "false" }
      return Self.falseIfNull(op == .startsWith ? dialect.startsWith(s, t) : dialect.endsWith(s, t))
    case .matches:
      guard let s = string(a), let t = string(b) else { return "false" }
      if case .string = b.type, let pattern = Self.literal(b.sql, dialect), let why = Self.regexDiffers(pattern, in: dialect) {
        throw Unsupported(message: "the regular expression \(why); \(dialect.regexFlavour) would read it differently from rulec", range: range, code: .sqlRegex)
      }
      return Self.falseIfNull(dialect.matches(s, t))
    default:
      return "false"
    }
  }

  static func falseIfNull(_ x: String, or empty: String) -> String { x.isEmpty ? empty : falseIfNull(x) }

  /// The text of a string literal this compiler wrote.
  static func literal(_ sql: String, _ dialect: SQLDialect) -> String? {
    guard sql.hasPrefix("'"), sql.hasSuffix("'"), sql.count >= 2 else { return nil }
    let body = String(sql.dropFirst().dropLast())
    switch dialect {
    case .duckdb: return body.replacingOccurrences(of: "''", with: "'")
    case .spark:
      // `SQLDialect.string` escaped exactly the backslash and the quote.
      var text = ""
      var escaped = false
      for c in body {
        if escaped || c != "\\" {
          text.append(c)
          escaped = false
        } else {
          escaped = true
        }
      }
      return text
    }
  }

  /// Why a pattern could match differently in RE2 (DuckDB) or java.util.regex (Spark) than in
  /// Swift's Regex, or nil. Java's syntax is a superset of RE2's, so what RE2 and Swift agree on
  /// Java reads alike too, except `(?i)`, which is ASCII-only in Java: refused for Spark when the
  /// pattern holds a letter beyond ASCII, and `&&` (an intersection inside a class in Java). Both
  /// agree on literals, `.`, bracket classes with explicit members and ranges, quantifiers (greedy
  /// and lazy), alternation, groups, `^`, `$` and `(?i)`. They differ on the shorthand classes and
  /// `\b` (Unicode in Swift, ASCII in RE2), and RE2 lacks lookaround, backreferences, atomic groups
  /// and possessive quantifiers. (On text with characters of several scalars, such as a letter with
  /// a combining accent, Swift's `.` takes the whole character and RE2's one scalar: Grammar §15.)
  static func regexDiffers(_ pattern: String, in dialect: SQLDialect = .duckdb) -> String? {
    let p = Array(pattern.unicodeScalars)
    if dialect == .spark {
      if pattern.contains("(?i"), p.contains(where: { !$0.isASCII }) { return "uses (?i) with characters beyond ASCII" }
      if pattern.contains("&&") { return "uses &&" }
    }
    var i = 0
    while i < p.count {
      let c = p[i]
      if c == "\\", i + 1 < p.count {
        let e = p[i + 1]
        if "dDwWsSbBpPXRkKhHvVNgGAzZ".unicodeScalars.contains(e) { return "uses \\\(e)" }
        if ("1"..."9").contains(e) { return "uses a backreference" }
        i += 2
        continue
      }
      if c == "(", i + 1 < p.count, p[i + 1] == "?" {
        let rest = String(String.UnicodeScalarView(p[(i + 2)...].prefix(3)))
        if rest.hasPrefix("i)") || rest.hasPrefix(":") {
          i += 2
          continue
        }
        return "uses a group of its own kind ((?\(rest.prefix(2))...)"
      }
      if (c == "+" || c == "*" || c == "?" || c == "}"), i + 1 < p.count, p[i + 1] == "+" { return "uses a possessive quantifier" }
      i += 1
    }
    return nil
  }

  /// A list item as compared with `a`: a bare word is a kind when `a` is one.
  func listItem(_ item: SQLValue, like a: SQLValue) -> SQLValue {
    if a.type == .kind, item.type == .string { return SQLValue(sql: item.sql, type: .kind) }
    if a.type == .string, item.type == .kind { return SQLValue(sql: item.sql, type: .string) }
    if a.type == .json, item.type == .kind { return SQLValue(sql: item.sql, type: .string) }
    return item
  }

  /// Whether a value is present and a scalar `in` can test (a string, number, bool or kind).
  func present(_ a: SQLValue) -> String {
    switch a.type {
    case .json: "COALESCE(\(dialect.json(a.sql, is: .scalar)), false)"
    case .bool: "true"
    case .list: "false"
    default: "(\(a.sql) IS NOT NULL)"
    }
  }

  /// The pairs of SQL operands that compare `a` with `b` in a type they share (`Value.equal`):
  /// none when the types cannot be equal, several when a metadata value may be any of them.
  func sameType(_ a: SQLValue, _ b: SQLValue, _ range: SourceRange) throws(Unsupported) -> [(String, String)] {
    switch (a.type, b.type) {
    case (.json, .json):
      return [(number(a)!, number(b)!), (string(a)!, string(b)!), (boolean(a)!, boolean(b)!)]
    case (.json, .number), (.number, .json): return [(number(a)!, number(b)!)]
    case (.json, .string), (.string, .json): return [(string(a)!, string(b)!)]
    case (.json, .bool), (.bool, .json): return [(boolean(a)!, boolean(b)!)]
    case (.number, .number), (.string, .string), (.bool, .bool), (.kind, .kind): return [(a.sql, b.sql)]
    case (.list, _), (_, .list):
      throw Unsupported(message: "comparing a list with '==' has no SQL translation", range: range)
    default: return []
    }
  }
}
