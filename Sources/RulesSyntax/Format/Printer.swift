import RulesSource

/// Prints a syntax tree in the canonical form of the language (`rulec fmt`).
///
/// Two-space indentation, one clause or statement per line, stages and maps always as blocks, one
/// space around binary operators, parentheses only where written (or where a built tree needs them).
/// Comments are kept: a comment on its own line stays before the item that follows it, a comment
/// after code stays at the end of that line. At most one blank line is kept between items.
/// Printing is idempotent: formatting the output again changes nothing.
public struct Printer {
  private let source: SourceFile?
  private var comments: [SourceRange]
  private var nextComment = 0
  private var out = ""
  private var lastEnd: Int?

  /// Formats a parsed file, keeping its comments.
  public static func format(_ file: RuleFile) -> String {
    var p = Printer(source: file.file, comments: file.comments.sorted { $0.start < $1.start })
    p.printFile(file.collectors)
    return p.out
  }

  /// Formats collectors built elsewhere (the YAML front end), without comments.
  public static func format(collectors: [Collector]) -> String {
    var p = Printer(source: nil, comments: [])
    p.printFile(collectors)
    return p.out
  }

  private init(source: SourceFile?, comments: [SourceRange]) {
    self.source = source
    self.comments = comments
  }

  // MARK: Layout and comments

  private mutating func line(_ indent: Int, _ text: String) {
    out += String(repeating: "  ", count: indent) + text + "\n"
  }

  private func commentText(_ r: SourceRange) -> String {
    var t = source!.text(r)
    while t.last == " " || t.last == "\t" || t.last == "\r" { t.removeLast() }
    return t
  }

  /// Emits the comments before `offset` on their own lines, and a blank line where the source had one.
  private mutating func leading(_ offset: Int, indent: Int) {
    guard source != nil else { return }
    while nextComment < comments.count && comments[nextComment].start < offset {
      let c = comments[nextComment]
      blankLineIfNeeded(before: c.start)
      line(indent, commentText(c))
      lastEnd = c.end
      nextComment += 1
    }
    blankLineIfNeeded(before: offset)
  }

  private mutating func blankLineIfNeeded(before offset: Int) {
    guard let source, let last = lastEnd, !out.isEmpty, !out.hasSuffix("{\n"), !out.hasSuffix("\n\n") else { return }
    let lo = min(last, source.bytes.count)
    let hi = max(lo, min(offset, source.bytes.count))
    if source.bytes[lo..<hi].count(where: { $0 == 10 }) >= 2 { out += "\n" }
  }

  /// Appends a comment that starts on the same source line as `end`, after the code just printed.
  private mutating func trailing(_ end: Int) {
    guard let source else { return }
    lastEnd = end
    guard nextComment < comments.count else { return }
    let c = comments[nextComment]
    if c.start >= end && source.lineIndex(of: c.start) == source.lineIndex(of: max(0, end - 1)) {
      out.removeLast()  // the newline
      out += " " + commentText(c) + "\n"
      lastEnd = c.end
      nextComment += 1
    }
  }

  /// Comments inside an item's range that are not at its end (for example between the lines of a
  /// long expression) are moved to the end of the item's line, so none is ever lost.
  private mutating func inner(_ range: SourceRange) {
    guard source != nil else { return }
    var moved: [String] = []
    while nextComment < comments.count && comments[nextComment].start < range.end {
      moved.append(commentText(comments[nextComment]))
      nextComment += 1
    }
    if !moved.isEmpty {
      out.removeLast()
      out += " " + moved.joined(separator: " ") + "\n"
    }
  }

  // MARK: Items

  private mutating func printFile(_ collectors: [Collector]) {
    for (i, c) in collectors.enumerated() {
      if i > 0 { out += "\n" }
      leading(c.range.start, indent: 0)
      if i > 0 && out.hasSuffix("\n\n\n") { out.removeLast() }
      printCollector(c)
    }
    leading(Int.max, indent: 0)
    if out.hasSuffix("\n\n") { out.removeLast() }
  }

  private mutating func printCollector(_ c: Collector) {
    line(0, "collector \(word(c.id)) {")
    trailing(c.id.range.end + 1)
    for clause in c.clauses {
      leading(clause.range.start, indent: 1)
      printClause(clause)
    }
    leading(c.range.end - 1, indent: 1)
    line(0, "}")
    trailing(c.range.end)
  }

  private mutating func printClause(_ clause: Clause) {
    switch clause.kind {
    case .description(let text):
      simple(clause, "description \(Printer.quote(text.text))")
    case .source(let s):
      var text = "source \(word(s.user))/\(word(s.app))/\(word(s.model))"
      if let v = s.version { text += " version \(word(v))" }
      if let c = s.caller { text += " caller \(word(c))" }
      simple(clause, text)
    case .destination(let user, let app):
      simple(clause, "destination \(word(user))/\(word(app))")
    case .datasets(let ids):
      simple(clause, "datasets [\(ids.map(word).joined(separator: ", "))]")
    case .collectOutputs(let kinds):
      simple(clause, kinds.isEmpty ? "collect_outputs" : "collect_outputs [\(kinds.map(word).joined(separator: ", "))]")
    case .key(let key):
      switch key {
      case .environment(let name): simple(clause, "key env \(word(name))")
      case .file(let path): simple(clause, "key file \(Printer.quote(path.text))")
      case .inline(let secret): simple(clause, "key \(word(secret))")
      }
    case .map(let map):
      if let file = map.file {
        simple(clause, "map file \(Printer.quote(file.text))")
        return
      }
      line(1, "map {")
      trailing(clause.keyword.range.end + 1)
      for entry in map.entries {
        leading(entry.range.start, indent: 2)
        line(2, "\(entry.sources.map(word).joined(separator: ", ")) -> \(word(entry.target))")
        inner(entry.range)
        trailing(entry.range.end)
      }
      if let unmapped = map.unmapped {
        leading(unmapped.range.start, indent: 2)
        line(2, "unmapped \(unmapped.text)")
        trailing(unmapped.range.end)
      }
      leading(clause.range.end - 1, indent: 2)
      line(1, "}")
      trailing(clause.range.end)
    case .stage(let stage):
      line(1, "\(stage.kind.rawValue) {")
      trailing(clause.keyword.range.end + 1)
      for s in stage.statements {
        leading(s.range.start, indent: 2)
        line(2, Printer.statement(s))
        inner(s.range)
        trailing(s.range.end)
      }
      leading(clause.range.end - 1, indent: 2)
      line(1, "}")
      trailing(clause.range.end)
    }
  }

  private mutating func simple(_ clause: Clause, _ text: String) {
    line(1, text)
    inner(clause.range)
    trailing(clause.range.end)
  }

  private func word(_ w: Word) -> String { w.quoted ? Printer.quote(w.text) : w.text }

  // MARK: Statements and expressions

  /// The canonical text of one statement. With `canonicalNumbers`, numbers print by value
  /// (`5%` and `0.05` both as `0.05`), to compare meanings rather than spellings.
  public static func statement(_ s: Statement, canonicalNumbers: Bool = false) -> String {
    let expression = { (e: Expr) in Printer.expression(e, canonicalNumbers: canonicalNumbers) }
    switch s.kind {
    case .require(let e): return "require \(expression(e))"
    case .dropIf(let e): return "drop if \(expression(e))"
    case .sample(let rate, let by, let seed):
      var text = "sample \(expression(rate))"
      if let by { text += " by \(expression(by))" }
      if let seed { text += " seed \(seed.quoted ? quote(seed.text) : seed.text)" }
      return text
    case .limit(let count, let window, let unit):
      var text = "limit \(expression(count)) per "
      if let window { text += expression(window) + " " }
      return text + unit.text
    }
  }

  /// The canonical text of an expression.
  public static func expression(_ e: Expr, canonicalNumbers: Bool = false) -> String {
    var out = ""
    write(e, into: &out, canonicalNumbers)
    return out
  }

  // Appending into one `inout String` instead of returning and joining strings per node made the
  // checker's interval lints 2× faster on 10,000 collectors (they key quantities by their text).
  private static func write(_ e: Expr, into out: inout String, _ c: Bool) {
    switch e.kind {
    case .number(let value, _, let text): out += c ? "\(value)" : text
    case .string(let s): out += quote(s)
    case .bool(let b): out += b ? "true" : "false"
    case .list(let items):
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += ", " }
        write(item, into: &out, c)
      }
      out += "]"
    case .name(let n): out += isBareWord(n) ? n : quote(n)
    case .path(let words):
      for (i, w) in words.enumerated() {
        if i > 0 { out += "." }
        out += w.quoted || (i > 0 && !isBareWord(w.text)) ? quote(w.text) : w.text
      }
    case .call(let name, let args):
      out += name.text
      out += "("
      for (i, arg) in args.enumerated() {
        if i > 0 { out += ", " }
        write(arg, into: &out, c)
      }
      out += ")"
    case .collection(let collection): write(collection, into: &out, c)
    case .quantifier(let q, let collection):
      out += q.rawValue
      out += " "
      write(collection, into: &out, c)
    case .not(let operand):
      out += "not "
      child(operand, minimum: 3, into: &out, c)
    case .negate(let operand):
      out += "-"
      child(operand, minimum: 7, into: &out, c)
    case .binary(let op, _, _):
      let p = op.precedence
      // Comparisons do not chain and arithmetic is left-associative: parenthesise the right side.
      let comparison = p == 4
      // A chain of one precedence is left-deep: printed in a loop (`leftChain`), so the depth
      // does not grow with its length.
      let (head, steps) = e.leftChain()!
      child(head, minimum: comparison ? p + 1 : p, into: &out, c)
      for (o, operand) in steps {
        out += " "
        out += o.rawValue
        out += " "
        child(operand, minimum: comparison || o.isArithmetic ? p + 1 : p, into: &out, c)
      }
    case .paren(let inner):
      out += "("
      write(inner, into: &out, c)
      out += ")"
    case .missing: out += "<missing>"
    }
  }

  private static func precedence(_ e: Expr) -> Int {
    switch e.kind {
    case .binary(let op, _, _): return op.precedence
    case .not: return 3
    case .negate: return 7
    default: return 8
    }
  }

  private static func child(_ e: Expr, minimum: Int, into out: inout String, _ c: Bool) {
    if precedence(e) < minimum {
      out += "("
      write(e, into: &out, c)
      out += ")"
    } else {
      write(e, into: &out, c)
    }
  }

  private static func write(_ collection: CollectionExpr, into out: inout String, _ c: Bool) {
    out += collection.keyword.text
    if let list = collection.list {
      out += " in "
      write(list, into: &out, c)
    }
    switch collection.filter {
    case .where(let pred):
      out += " where "
      child(pred, minimum: 3, into: &out, c)
    case .compare(let op, let rhs):
      out += " "
      out += op.rawValue
      out += " "
      child(rhs, minimum: 5, into: &out, c)
    case nil: break
    }
  }

  /// Whether `text` re-lexes as one bare word (so it needs no quotes).
  public static func isBareWord(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard let first = bytes.first, first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else { return false }
    guard !Parser.reservedWords.contains(text) else { return false }
    var previousDash = false
    for b in bytes {
      if b == UInt8(ascii: "-") {
        if previousDash { return false }
        previousDash = true
        continue
      }
      previousDash = false
      guard Lexer.isNameContinue(b) else { return false }
    }
    return true
  }

  /// A string literal with the canonical escapes.
  public static func quote(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\\": out += "\\\\"
      case "\"": out += "\\\""
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7F {
          out += "\\u{\(String(scalar.value, radix: 16))}"
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}
