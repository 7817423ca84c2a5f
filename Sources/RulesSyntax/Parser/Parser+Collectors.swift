import RulesDiagnostics
import RulesSource

extension Parser {
  // MARK: File and collectors

  mutating func parseFile() -> [Collector] {
    var collectors: [Collector] = []
    while !at(.endOfFile) {
      let before = position
      if atKeyword("collector") {
        if let c = parseCollector() { collectors.append(c) }
      } else {
        error(SyntaxMessage.expected("'collector'", found: describe(current)), current.range)
        advance()
        synchronize(to: ["collector"], stopAtBrace: false)
      }
      if position == before { advance() }
    }
    return collectors
  }

  mutating func parseCollector() -> Collector? {
    let keyword = advance()
    recovering = false
    let errorsBefore = sink.errorCount
    guard let id = parseWord("a collector id") else {
      synchronize(to: ["collector"], stopAtBrace: false)
      return nil
    }
    guard let open = expect(.lBrace, "'{' after the collector id") else {
      synchronize(to: ["collector"] + Parser.clauseKeywords, stopAtBrace: false)
      if !atKeyword(in: Parser.clauseKeywords) { return nil }
      return finishCollector(keyword: keyword, id: id, open: nil, errorsBefore: errorsBefore)
    }
    return finishCollector(keyword: keyword, id: id, open: open, errorsBefore: errorsBefore)
  }

  private mutating func finishCollector(keyword: Token, id: Word, open: Token?, errorsBefore: Int) -> Collector {
    var clauses: [Clause] = []
    while !at(.rBrace) && !at(.endOfFile) && !atKeyword("collector") {
      let before = position
      recovering = false
      if let clause = parseClause() { clauses.append(clause) }
      if position == before { advance() }
    }
    var end = previous.range.end
    if let close = eat(.rBrace) {
      end = close.range.end
    } else {
      recovering = false
      if let open { error(SyntaxMessage.unclosed("{"), open.range) }
    }
    return Collector(
      id: id, clauses: clauses, range: SourceRange(keyword.range.start, end),
      hadSyntaxErrors: sink.errorCount > errorsBefore)
  }

  mutating func parseClause() -> Clause? {
    guard at(.name) else {
      error(SyntaxMessage.expected("a clause", found: describe(current)), current.range)
      synchronizeClause()
      return nil
    }
    let keywordToken = current
    let name = text(keywordToken)
    let keyword = Word(name, keywordToken.range)
    let start = keywordToken.range.start
    func finish(_ kind: ClauseKind) -> Clause {
      Clause(kind, keyword: keyword, range: SourceRange(start, previous.range.end))
    }
    switch name {
    case "description":
      advance()
      guard at(.string) else {
        error(SyntaxMessage.expected("a string after 'description'", found: describe(current)), current.range)
        synchronizeClause()
        return nil
      }
      let t = advance()
      return finish(.description(Word(decodeString(t), t.range, quoted: true)))
    case "source":
      advance()
      guard let source = parseModelSource() else {
        synchronizeClause()
        return nil
      }
      return finish(.source(source))
    case "destination":
      advance()
      guard let user = parseWord("a user id"), expect(.slash, "'/' between user and app") != nil,
        let app = parseWord("an app id")
      else {
        synchronizeClause()
        return nil
      }
      return finish(.destination(user: user, app: app))
    case "datasets":
      advance()
      guard let list = parseWordList("a dataset id") else {
        synchronizeClause()
        return nil
      }
      return finish(.datasets(list))
    case "key":
      advance()
      guard let key = parseKey() else {
        synchronizeClause()
        return nil
      }
      return finish(.key(key))
    case "map":
      advance()
      guard let map = parseMap() else {
        synchronizeClause()
        return nil
      }
      return finish(.map(map))
    case "collect_outputs":
      advance()
      // The clause alone collects every kind; a list names the kinds.
      guard at(.lBracket) else { return finish(.collectOutputs([])) }
      guard let kinds = parseWordList("'concepts' or 'regions'") else {
        synchronizeClause()
        return nil
      }
      return finish(.collectOutputs(kinds))
    case "pre_queue", "post_queue":
      advance()
      let stage = parseStage(StageKind(rawValue: name)!)
      return finish(.stage(stage))
    case "pre" where peek().kind == .minus && `is`(peek(2), "queue"), "post" where peek().kind == .minus && `is`(peek(2), "queue"):
      // `pre-queue` as prose writes it: one error with the fix, and the stage read as meant.
      let hyphenated = SourceRange(keywordToken.range.start, peek(2).range.end)
      error(SyntaxMessage.unknownClause("\(name)-queue", suggestion: "\(name)_queue"), hyphenated)
      advance()
      advance()
      advance()
      let stage = parseStage(name == "pre" ? .preQueue : .postQueue)
      return finish(.stage(stage))
    default:
      let suggestion = Spelling.suggestion(for: name, among: Parser.clauseKeywords)
      error(SyntaxMessage.unknownClause(name, suggestion: suggestion), keywordToken.range)
      advance()
      synchronizeClause()
      return nil
    }
  }

  mutating func synchronizeClause() {
    synchronize(to: Parser.clauseKeywords + ["collector"])
  }

  mutating func parseModelSource() -> ModelSource? {
    guard let user = parseWord("a user id", allowStar: true),
      expect(.slash, "'/' after the user id") != nil,
      let app = parseWord("an app id", allowStar: true),
      expect(.slash, "'/' after the app id") != nil,
      let model = parseWord("a model id", allowStar: true)
    else { return nil }
    var source = ModelSource(user: user, app: app, model: model)
    var progress = 0
    while atKeyword("version") || atKeyword("caller") {
      progress += 1
      precondition(progress < 100)
      let which = text(advance())
      guard let value = parseWord(which == "version" ? "a model version id" : "a caller user id", allowStar: which == "version")
      else { return nil }
      if which == "version" { source.version = value } else { source.caller = value }
    }
    return source
  }

  mutating func parseWordList(_ what: String) -> [Word]? {
    guard let open = expect(.lBracket, "'['") else { return nil }
    var words: [Word] = []
    while !at(.rBracket) && !at(.endOfFile) {
      let before = position
      guard let w = parseWord(what) else { return nil }
      words.append(w)
      if eat(.comma) == nil { break }
      if position == before { return nil }
    }
    guard expect(.rBracket, "']'", opener: open) != nil else { return nil }
    return words
  }

  mutating func parseKey() -> KeyReference? {
    if atKeyword("env") && (peek().kind == .name || peek().kind == .string) {
      advance()
      guard let name = parseWord("an environment variable name") else { return nil }
      return .environment(name)
    }
    if atKeyword("file") && (peek().kind == .string || peek().kind == .name) {
      advance()
      guard let path = parseWord("a file path") else { return nil }
      return .file(path)
    }
    if at(.string) || at(.name) || at(.number) {
      guard let secret = parseWord("a key reference") else { return nil }
      return .inline(secret)
    }
    error(
      SyntaxMessage.expected("'env NAME' or 'file \"PATH\"' after 'key'", found: describe(current)),
      current.range)
    return nil
  }

  mutating func parseMap() -> ConceptMapSyntax? {
    if atKeyword("file") {
      advance()
      guard let path = parseWord("a file path") else { return nil }
      return ConceptMapSyntax(entries: [], file: path)
    }
    guard let open = expect(.lBrace, "'{' or 'file' after 'map'") else { return nil }
    var map = ConceptMapSyntax(entries: [])
    while !at(.rBrace) && !at(.endOfFile) {
      let before = position
      if atKeyword("unmapped") && (peek().kind == .name) && (`is`(peek(), "keep") || `is`(peek(), "drop")) {
        advance()
        let t = advance()
        map.unmapped = Word(text(t), t.range)
        continue
      }
      if atKeyword(in: Parser.clauseKeywords) && peek().kind != .comma && peek().kind != .arrow {
        break  // a missing '}': let the collector carry on with its next clause
      }
      guard let entry = parseMapEntry() else {
        // Skip to the next line's entry or the closing brace.
        while !at(.rBrace) && !at(.endOfFile) && !atKeyword(in: Parser.clauseKeywords) {
          let line = file.lineIndex(of: current.range.start)
          advance()
          if file.lineIndex(of: current.range.start) != line { break }
        }
        recovering = false
        if position == before { advance() }
        continue
      }
      map.entries.append(entry)
    }
    guard expect(.rBrace, "'}'", opener: open) != nil else { return nil }
    return map
  }

  mutating func parseMapEntry() -> MapEntry? {
    let start = current.range.start
    var sources: [Word] = []
    repeat {
      guard let w = parseWord("a concept name or id") else { return nil }
      sources.append(w)
    } while eat(.comma) != nil
    guard expect(.arrow, "'->' after the source concepts") != nil,
      let target = parseWord("a target concept")
    else { return nil }
    return MapEntry(sources: sources, target: target, range: SourceRange(start, target.range.end))
  }

  // MARK: Stages and statements

  mutating func parseStage(_ kind: StageKind) -> Stage {
    var stage = Stage(kind: kind, statements: [])
    guard let open = expect(.lBrace, "'{' after '\(kind.rawValue)'") else { return stage }
    while !at(.rBrace) && !at(.endOfFile) {
      let before = position
      recovering = false
      if atKeyword(in: Parser.statementKeywords) {
        if let s = parseStatement() { stage.statements.append(s) }
        if recovering { synchronize(to: Parser.statementKeywords + Parser.clauseKeywords + ["collector"]) }
      } else if atKeyword(in: Parser.clauseKeywords) || atKeyword("collector") {
        break  // the stage's '}' is missing; report it below and let the collector continue
      } else {
        let found = current
        let suggestion =
          found.kind == .name ? Spelling.suggestion(for: text(found), among: Parser.statementKeywords) : nil
        if found.kind == .name {
          error(SyntaxMessage.unknownStatement(text(found), suggestion: suggestion), found.range)
        } else {
          error(SyntaxMessage.expected("a statement or '}'", found: describe(found)), found.range)
        }
        advance()
        synchronize(to: Parser.statementKeywords + Parser.clauseKeywords + ["collector"])
      }
      if position == before { advance() }
    }
    recovering = false
    if eat(.rBrace) == nil {
      error(SyntaxMessage.unclosed("{"), open.range)
    }
    return stage
  }

  mutating func parseStatement() -> Statement? {
    let keywordToken = advance()
    let name = text(keywordToken)
    let keyword = Word(name, keywordToken.range)
    let start = keywordToken.range.start
    func finish(_ kind: StatementKind) -> Statement {
      Statement(kind, keyword: keyword, range: SourceRange(start, previous.range.end))
    }
    switch name {
    case "require":
      let e = parseExpression()
      return finish(.require(e))
    case "drop":
      guard let ifToken = eatKeyword("if") else {
        error(SyntaxMessage.expected("'if' after 'drop'", found: describe(current)), current.range)
        return nil
      }
      let e = parseExpression()
      return Statement(
        .dropIf(e), keyword: Word("drop if", SourceRange(start, ifToken.range.end)),
        range: SourceRange(start, previous.range.end))
    case "sample":
      guard let rate = parseNumberLiteral("a sampling rate such as 10% or 0.1") else { return nil }
      var by: Expr?
      var seed: Word?
      var progress = 0
      while atKeyword("by") || atKeyword("seed") {
        progress += 1
        precondition(progress < 100)
        if `is`(advance(), "by") {
          by = parsePrimary()
        } else {
          guard let s = parseWord("a seed") else { return nil }
          seed = s
        }
      }
      return finish(.sample(rate: rate, by: by, seed: seed))
    case "limit":
      guard let count = parseNumberLiteral("a count") else { return nil }
      guard eatKeyword("per") != nil else {
        error(SyntaxMessage.expected("'per' after the count", found: describe(current)), current.range)
        return nil
      }
      var window: Expr?
      if at(.number) { window = parseNumberLiteral("a window length") }
      guard at(.name) else {
        error(SyntaxMessage.expected("a time unit", found: describe(current)), current.range)
        return nil
      }
      let unitToken = advance()
      let unitText = text(unitToken)
      if TimeUnit(word: unitText) == nil {
        let all = TimeUnit.allCases.flatMap { [$0.rawValue, $0.rawValue + "s"] }
        error(
          SyntaxMessage.unknownTimeUnit(unitText, suggestion: Spelling.suggestion(for: unitText, among: all)),
          unitToken.range)
      }
      return finish(.limit(count: count, window: window, unit: Word(unitText, unitToken.range)))
    default:
      return nil
    }
  }

  mutating func parseNumberLiteral(_ what: String) -> Expr? {
    guard at(.number) else {
      error(SyntaxMessage.expected(what, found: describe(current)), current.range)
      return nil
    }
    return parsePrimary()
  }
}
