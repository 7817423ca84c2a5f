import RulesDiagnostics
import RulesSource

extension Parser {
  /// Words that continue an expression; anything else after a complete expression ends it.
  static let reservedWordList = [
    "and", "or", "not", "in", "contains", "starts_with", "ends_with", "matches", "any", "all", "where",
    "true", "false",
  ]
  static let reservedWords = Set(reservedWordList)

  static let wordOperators: [BinaryOperator] = [.in, .contains, .startsWith, .endsWith, .matches]

  /// The comparison operator a token stands for (a lone `=` was reported by the lexer and reads as `==`).
  static func comparison(_ kind: TokenKind) -> BinaryOperator? {
    switch kind {
    case .equal: .equal
    case .notEqual: .notEqual
    case .less: .less
    case .lessEqual: .lessEqual
    case .greater: .greater
    case .greaterEqual: .greaterEqual
    default: nil
    }
  }

  /// Enters one nesting level; false (after one diagnostic) once the limit is passed.
  mutating func descend() -> Bool {
    if tooDeep { return false }
    depth += 1
    if depth > Parser.nestingLimit {
      error(SyntaxMessage.nestingTooDeep, current.range)
      tooDeep = true
      return false
    }
    return true
  }

  func missing() -> Expr { Expr(.missing, .at(current.range.start)) }

  /// `expr := or`
  public mutating func parseExpression() -> Expr {
    guard descend() else { return missing() }
    defer { depth -= 1 }
    return parseOr()
  }

  /// Counts one more operand of a chain; false (after one diagnostic) past `chainLimit`, which
  /// stops the whole expression as the nesting limit does.
  mutating func extendChain(_ operands: inout Int, _ op: String, at range: SourceRange) -> Bool {
    operands += 1
    guard operands > Parser.chainLimit else { return true }
    error(SyntaxMessage.chainTooLong(op), range)
    tooDeep = true
    return false
  }

  mutating func parseOr() -> Expr {
    var lhs = parseAnd()
    var operands = 1
    while !tooDeep, let op = eatKeyword("or") {
      guard extendChain(&operands, "or", at: op.range) else { break }
      let rhs = parseAnd()
      lhs = Expr(.binary(.or, lhs, rhs), lhs.range.union(rhs.range))
    }
    return lhs
  }

  mutating func parseAnd() -> Expr {
    var lhs = parseNot()
    var operands = 1
    while !tooDeep, let op = eatKeyword("and") {
      guard extendChain(&operands, "and", at: op.range) else { break }
      let rhs = parseNot()
      lhs = Expr(.binary(.and, lhs, rhs), lhs.range.union(rhs.range))
    }
    return lhs
  }

  /// `not := 'not' not | comparison`
  mutating func parseNot() -> Expr {
    if atKeyword("not") && !`is`(peek(), "in") {
      let t = advance()
      guard descend() else { return missing() }
      defer { depth -= 1 }
      let operand = parseNot()
      return Expr(.not(operand), t.range.union(operand.range))
    }
    return parseComparison()
  }

  mutating func parseComparison() -> Expr {
    let lhs = parseAdditive()
    if tooDeep { return lhs }
    let op: BinaryOperator
    if let comparison = Parser.comparison(current.kind) {
      op = comparison
      advance()
    } else if atKeyword("not") && `is`(peek(), "in") {
      advance()
      advance()
      op = .notIn
    } else if at(.name), let word = Parser.wordOperators.first(where: { `is`(current, $0.rawValue) }) {
      advance()
      op = word
    } else {
      return lhs
    }
    let rhs = parseAdditive()
    let comparison = Expr(.binary(op, lhs, rhs), lhs.range.union(rhs.range))
    guard op.isComparison, let second = Parser.comparison(current.kind) else { return comparison }
    // `0.2 < x < 0.6` as mathematics writes it: one error with the `and` form, read as meant.
    advance()
    let last = parseAdditive()
    let (a, b, c) = (Printer.expression(lhs), Printer.expression(rhs), Printer.expression(last))
    error(SyntaxMessage.chainedComparison("\(a) \(op.rawValue) \(b) \(second.rawValue) \(c)", fix: "\(a) \(op.rawValue) \(b) and \(b) \(second.rawValue) \(c)"), lhs.range.union(last.range))
    return Expr(.binary(.and, comparison, Expr(.binary(second, rhs, last), rhs.range.union(last.range))), lhs.range.union(last.range))
  }

  mutating func parseAdditive() -> Expr {
    var lhs = parseMultiplicative()
    var operands = 1
    while !tooDeep, at(.plus) || at(.minus) {
      guard extendChain(&operands, at(.plus) ? "+" : "-", at: current.range) else { break }
      let op: BinaryOperator = advance().kind == .plus ? .add : .subtract
      let rhs = parseMultiplicative()
      lhs = Expr(.binary(op, lhs, rhs), lhs.range.union(rhs.range))
    }
    return lhs
  }

  mutating func parseMultiplicative() -> Expr {
    var lhs = parseUnary()
    var operands = 1
    while !tooDeep, at(.star) || at(.slash) {
      guard extendChain(&operands, at(.star) ? "*" : "/", at: current.range) else { break }
      let op: BinaryOperator = advance().kind == .star ? .multiply : .divide
      let rhs = parseUnary()
      lhs = Expr(.binary(op, lhs, rhs), lhs.range.union(rhs.range))
    }
    return lhs
  }

  mutating func parseUnary() -> Expr {
    if at(.minus) {
      let t = advance()
      guard descend() else { return missing() }
      defer { depth -= 1 }
      let operand = parseUnary()
      return Expr(.negate(operand), t.range.union(operand.range))
    }
    return parsePrimary()
  }

  mutating func parsePrimary() -> Expr {
    if tooDeep { return missing() }
    let t = current
    switch t.kind {
    case .number:
      advance()
      var spelling = text(t)
      let percent = spelling.hasSuffix("%")
      if percent { spelling.removeLast() }
      guard let value = Double(spelling), value.isFinite else {
        error(SyntaxMessage.invalidNumber(text(t), help: "the largest number is about 1.8e308"), t.range)
        return Expr(.missing, t.range)
      }
      return Expr(.number(percent ? value / 100 : value, percent: percent, text: text(t)), t.range)
    case .string:
      advance()
      return Expr(.string(decodeString(t)), t.range)
    case .lBracket:
      return parseList()
    case .lParen:
      advance()
      let inner = parseExpression()
      let close = expect(.rParen, "')'", opener: t)
      return Expr(.paren(inner), SourceRange(t.range.start, close?.range.end ?? inner.range.end))
    case .name:
      return parseNamePrimary()
    default:
      error(SyntaxMessage.expectedExpression(found: describe(t)), t.range)
      return Expr(.missing, .at(t.range.start))
    }
  }

  mutating func parseList() -> Expr {
    let open = advance()
    guard descend() else { return missing() }
    defer { depth -= 1 }
    var items: [Expr] = []
    while !at(.rBracket) && !at(.endOfFile) {
      let before = position
      let wordLike =
        (at(.name) && !isKeyword(current, in: Parser.reservedWordList) && peek().kind != .dot && peek().kind != .lParen)
        || (at(.number) && (peek().kind == .name || peek().kind == .minus) && isAdjacent(current, peek()))
      if wordLike {
        // A bare word in a list is a symbol: `[dog, golden-retriever]` means `["dog", "golden-retriever"]`.
        let w = parseWord("a list item")!
        items.append(Expr(.name(w.text), w.range))
      } else {
        items.append(parseAdditive())
      }
      if eat(.comma) == nil { break }
      if position == before { break }
    }
    let close = expect(.rBracket, "']'", opener: open)
    return Expr(.list(items), SourceRange(open.range.start, close?.range.end ?? previous.range.end))
  }

  mutating func parseNamePrimary() -> Expr {
    let t = current
    let name = text(t)
    if let first = name.utf8.first, Lexer.isDigit(first) {
      advance()
      error(SyntaxMessage.invalidNumber(name), t.range)
      return Expr(.missing, t.range)
    }
    switch name {
    case "true", "false":
      advance()
      return Expr(.bool(name == "true"), t.range)
    case "any", "all":
      advance()
      guard descend() else { return missing() }
      defer { depth -= 1 }
      guard let collection = parseCollection(required: true) else {
        return Expr(.missing, t.range)
      }
      return Expr(.quantifier(Quantifier(rawValue: name)!, collection), SourceRange(t.range.start, previous.range.end))
    case "concepts", "regions", "frames", "concept", "region", "frame":
      if name == "concept" && peek().kind == .lParen { break }
      guard let collection = parseCollection(required: true) else { return Expr(.missing, t.range) }
      return Expr(.collection(collection), SourceRange(t.range.start, previous.range.end))
    default:
      if Parser.reservedWords.contains(name) || Parser.statementKeywords.contains(name)
        || Parser.clauseKeywords.contains(name) || name == "collector"
      {
        // A keyword that starts the next statement or clause: the expression is missing, not this word.
        error(SyntaxMessage.expectedExpression(found: "'\(name)'"), t.range)
        return Expr(.missing, .at(t.range.start))
      }
    }
    advance()
    if at(.lParen) {
      return parseCall(Word(name, t.range))
    }
    if at(.dot) {
      var words = [Word(name, t.range)]
      var progress = 0
      while let dot = eat(.dot) {
        progress += 1
        precondition(progress <= tokens.count)
        if words.count >= Parser.pathLimit {
          error(SyntaxMessage.pathTooLong, dot.range)
          tooDeep = true
          return missing()
        }
        if at(.string) {
          let s = advance()
          words.append(Word(decodeString(s), s.range, quoted: true))
        } else if at(.name) || at(.number) {
          let s = advance()
          words.append(Word(text(s), s.range))
        } else {
          error(SyntaxMessage.expected("a field name after '.'", found: describe(current)), current.range)
          break
        }
      }
      return Expr(.path(words), SourceRange(t.range.start, previous.range.end))
    }
    return Expr(.name(name), t.range)
  }

  mutating func parseCall(_ name: Word) -> Expr {
    let open = advance()
    guard descend() else { return missing() }
    defer { depth -= 1 }
    var args: [Expr] = []
    while !at(.rParen) && !at(.endOfFile) && !tooDeep {
      let before = position
      if name.text == "concept" && (at(.name) || at(.number)) && !isKeyword(current, in: Parser.reservedWordList) {
        // `concept(golden-retriever)`: the argument is a concept name or id, glued like any word.
        let w = parseWord("a concept name or id")!
        args.append(Expr(.name(w.text), w.range))
      } else {
        args.append(parseExpression())
      }
      if eat(.comma) == nil { break }
      if position == before { break }
    }
    let close = expect(.rParen, "')'", opener: open)
    return Expr(.call(name, args), SourceRange(name.range.start, close?.range.end ?? previous.range.end))
  }

  /// `collection := ('concept'|'concepts'|...) ['in' list] ['where' not | OP additive]`
  mutating func parseCollection(required: Bool) -> CollectionExpr? {
    guard at(.name) else {
      error(SyntaxMessage.expected("'concepts', 'regions' or 'frames'", found: describe(current)), current.range)
      return nil
    }
    let t = current
    let name = text(t)
    let kind: CollectionKind
    switch name {
    case "concept", "concepts": kind = .concepts
    case "region", "regions": kind = .regions
    case "frame", "frames": kind = .frames
    default:
      error(SyntaxMessage.expected("'concepts', 'regions' or 'frames'", found: describe(t)), t.range)
      return nil
    }
    advance()
    var collection = CollectionExpr(kind: kind, keyword: Word(name, t.range))
    if atKeyword("in") {
      advance()
      if at(.lBracket) {
        collection.list = parseList()
      } else {
        error(SyntaxMessage.expected("a list such as [dog, cat] after 'in'", found: describe(current)), current.range)
        return nil
      }
    }
    if atKeyword("where") {
      advance()
      collection.filter = .where(parseNot())
    } else if let op = Parser.comparison(current.kind) {
      advance()
      collection.filter = .compare(op, parseAdditive())
    }
    return collection
  }
}
