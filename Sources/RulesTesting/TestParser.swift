import RulesDiagnostics
import RulesSource
import RulesSyntax

/// Reads a `*.ruletest` file (Grammar.md §13) from its bytes. It never throws: a problem is a
/// located diagnostic, and the parser goes on at the next statement so every problem is found.
public struct TestParser {
  let file: SourceFile
  let sink: DiagnosticSink
  let bytes: [UInt8]
  var offset = 0

  /// The file's rules and cases; problems go to `sink`.
  public static func parse(_ file: SourceFile, sink: DiagnosticSink) -> TestFile {
    var parser = TestParser(file: file, sink: sink, bytes: file.bytes)
    return parser.parseFile()
  }

  init(file: SourceFile, sink: DiagnosticSink, bytes: [UInt8]) {
    self.file = file
    self.sink = sink
    self.bytes = bytes
  }

  // MARK: Tokens

  enum Kind: Equatable {
    case name(String)
    case string(String)
    case number(Double)
    case punct(UInt8)
    case end
  }

  struct Token {
    var kind: Kind
    var range: SourceRange

    var display: String {
      switch kind {
      case .name(let n): "'\(n)'"
      case .string: "a string"
      case .number: "a number"
      case .punct(let p): "'\(Character(Unicode.Scalar(p)))'"
      case .end: "the end of the file"
      }
    }
  }

  /// The next token, skipping white space and `#` comments.
  mutating func next() -> Token {
    offset = nextTokenStart()
    let start = offset
    guard offset < bytes.count else { return Token(kind: .end, range: .at(start)) }
    let b = bytes[offset]
    if Lexer.isNameStart(b) {
      while offset < bytes.count && (Lexer.isNameContinue(bytes[offset]) || bytes[offset] == UInt8(ascii: "-") || bytes[offset] == UInt8(ascii: ".")) {
        offset += 1
      }
      return Token(kind: .name(String(decoding: bytes[start..<offset], as: UTF8.self)), range: SourceRange(start, offset))
    }
    if Lexer.isDigit(b) || b == UInt8(ascii: "-") {
      offset += 1
      while offset < bytes.count && (Lexer.isDigit(bytes[offset]) || bytes[offset] == UInt8(ascii: ".")) { offset += 1 }
      let text = String(decoding: bytes[start..<offset], as: UTF8.self)
      guard let value = Double(text) else {
        sink.emit(SyntaxMessage.invalidNumber(text), file: file, range: SourceRange(start, offset))
        return next()
      }
      return Token(kind: .number(value), range: SourceRange(start, offset))
    }
    if b == UInt8(ascii: "\"") { return string() }
    if let quoted = typographicString() { return quoted }
    if "{}[],".utf8.contains(b) {
      offset += 1
      return Token(kind: .punct(b), range: SourceRange(start, offset))
    }
    // A character no token starts with: skip the whole scalar.
    offset += 1
    while offset < bytes.count && bytes[offset] & 0xC0 == 0x80 { offset += 1 }
    let text = String(decoding: bytes[start..<offset], as: UTF8.self)
    let help: String? = text == "“" || text == "”" ? "use straight quotes '\"'" : nil
    sink.emit(SyntaxMessage.unexpectedCharacter(text, help: help), file: file, range: SourceRange(start, offset))
    return next()
  }

  /// Text between typographic quotes (pasted from a document): read as the string it was meant to
  /// be, with one error that proposes straight quotes, so the statement still parses.
  mutating func typographicString() -> Token? {
    let opening: [[UInt8]] = [Array("“".utf8), Array("”".utf8), Array("„".utf8)]
    guard let open = opening.first(where: { bytes[offset...].starts(with: $0) }) else { return nil }
    let start = offset
    var k = offset + open.count
    let closing: [[UInt8]] = [Array("”".utf8), Array("“".utf8)]
    while k < bytes.count && bytes[k] != 10 {
      if let close = closing.first(where: { bytes[k...].starts(with: $0) }) {
        let value = String(decoding: bytes[(start + open.count)..<k], as: UTF8.self)
        offset = k + close.count
        sink.emit(
          DiagnosticMessage(.unexpectedCharacter, "typographic quotes around '\(value)'", help: "use straight quotes: \"\(value)\""),
          file: file, range: SourceRange(start, offset))
        return Token(kind: .string(value), range: SourceRange(start, offset))
      }
      k += 1
    }
    return nil
  }

  /// A string with the rule files' escapes, on one line.
  mutating func string() -> Token {
    let start = offset
    offset += 1
    var value: [UInt8] = []
    while offset < bytes.count {
      let b = bytes[offset]
      if b == UInt8(ascii: "\"") {
        offset += 1
        return Token(kind: .string(String(decoding: value, as: UTF8.self)), range: SourceRange(start, offset))
      }
      if b == 10 { break }
      if b == UInt8(ascii: "\\"), offset + 1 < bytes.count {
        let e = bytes[offset + 1]
        switch e {
        case UInt8(ascii: "\\"), UInt8(ascii: "\""): value.append(e)
        case UInt8(ascii: "n"): value.append(10)
        case UInt8(ascii: "t"): value.append(9)
        default:
          sink.emit(
            SyntaxMessage.invalidEscape(String(decoding: bytes[offset..<(offset + 2)], as: UTF8.self)), file: file,
            range: SourceRange(offset, offset + 2))
        }
        offset += 2
        continue
      }
      value.append(b)
      offset += 1
    }
    sink.emit(SyntaxMessage.unterminatedString, file: file, range: SourceRange(start, offset))
    return Token(kind: .string(String(decoding: value, as: UTF8.self)), range: SourceRange(start, offset))
  }

  /// The JSON value starting at `offset` (an object or an array), by its brackets, strings
  /// skipped; nil with RC1009 when it is never closed. Its content is read later, as an event.
  mutating func rawJSON() -> Located<[UInt8]>? {
    let start = offset
    var depth = 0
    while offset < bytes.count {
      let b = bytes[offset]
      offset += 1
      switch b {
      case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        depth -= 1
        if depth == 0 { return Located(Array(bytes[start..<offset]), SourceRange(start, offset)) }
      case UInt8(ascii: "\""):
        while offset < bytes.count && bytes[offset] != UInt8(ascii: "\"") {
          offset += bytes[offset] == UInt8(ascii: "\\") ? 2 : 1
        }
        offset += 1
      default: break
      }
    }
    sink.emit(SyntaxMessage.unclosed(bytes[start] == UInt8(ascii: "{") ? "{" : "["), file: file, range: SourceRange(start, start + 1))
    return nil
  }

  /// Where the next token starts: past white space and comments.
  func nextTokenStart() -> Int {
    var k = offset
    while k < bytes.count {
      let b = bytes[k]
      if b == 32 || b == 9 || b == 10 || b == 13 {
        k += 1
      } else if b == UInt8(ascii: "#") {
        while k < bytes.count && bytes[k] != 10 { k += 1 }
      } else {
        break
      }
    }
    return k
  }

  /// The next non-blank byte, not taken.
  func peekByte() -> UInt8? {
    let k = nextTokenStart()
    return k < bytes.count ? bytes[k] : nil
  }

  mutating func skipBlanks() { offset = nextTokenStart() }

  // MARK: Grammar

  static let statementWords: Set<String> = ["rules", "test", "event", "expect"]

  mutating func parseFile() -> TestFile {
    var rules: Located<String>?
    var cases: [TestCase] = []
    var token = next()
    while token.kind != .end {
      switch token.kind {
      case .name("rules"):
        if let path = expectString("a rule file or folder after 'rules'", after: token) {
          if let rules {
            sink.emit(
              DiagnosticMessage(.expected, "the file names its rules twice", help: "name other rules inside a test: test \"...\" { rules \"...\" }"),
              file: file, range: path.range, notes: [DiagnosticNote("first named here", file: file, range: rules.range)])
          } else {
            rules = path
          }
        }
        token = next()
      case .name("test"):
        let (test, after) = parseTest(token)
        if let test { cases.append(test) }
        token = after
      default:
        sink.emit(
          SyntaxMessage.expected("'rules' or 'test'", found: token.display, help: "a test file holds 'rules \"FILE\"' and 'test \"NAME\" { ... }'"),
          file: file, range: token.range)
        token = recover(topLevel: true)
      }
    }
    return TestFile(source: file, rules: rules, cases: cases)
  }

  /// Skips to the next token that starts a statement: inside a test, one of its statements or its
  /// `}`; at the top of the file, `rules` or `test` (the rest of a broken test is skipped quietly).
  /// An event's JSON is skipped whole, not read as tokens.
  mutating func recover(topLevel: Bool = false) -> Token {
    while true {
      let t = next()
      switch t.kind {
      case .end: return t
      case .name("event") where peekByte() == UInt8(ascii: "{") || peekByte() == UInt8(ascii: "["):
        if !topLevel { return t }
        skipBlanks()
        _ = rawJSON()
      case .name("rules"), .name("test"): return t
      case .punct(UInt8(ascii: "}")) where !topLevel: return t
      case .name(let n) where !topLevel && Self.statementWords.contains(n): return t
      default: continue
      }
    }
  }

  /// After an unexpected token: gives it back when it starts a statement (or ends the test or the
  /// file), so that statement is read; any other token is dropped, so it is reported once.
  mutating func giveBack(_ t: Token) {
    switch t.kind {
    case .end, .punct(UInt8(ascii: "}")): offset = t.range.start
    case .name(let n) where Self.statementWords.contains(n): offset = t.range.start
    default: break
    }
  }

  mutating func expectString(_ what: String, after: Token) -> Located<String>? {
    let t = next()
    if case .string(let s) = t.kind { return Located(s, t.range) }
    sink.emit(SyntaxMessage.expected(what, found: t.display), file: file, range: t.kind == .end ? after.range : t.range)
    giveBack(t)
    return nil
  }

  /// `test "NAME" { ... }`; returns the token after it.
  mutating func parseTest(_ keyword: Token) -> (TestCase?, Token) {
    // Without its name, a test's body is still read, so its other problems are found.
    let name = expectString("the test's name, a string", after: keyword) ?? Located("(unnamed)", keyword.range)
    if name.value == "(unnamed)", peekByte() != UInt8(ascii: "{") { return (nil, recover(topLevel: true)) }
    let open = next()
    guard open.kind == .punct(UInt8(ascii: "{")) else {
      sink.emit(SyntaxMessage.expected("'{'", found: open.display), file: file, range: open.range)
      return (nil, recover(topLevel: true))
    }
    var test = TestCase(name: name.value, range: name.range, rules: nil, steps: [])
    var expectations = 0
    let errorsBefore = sink.errorCount
    var token = next()
    while true {
      switch token.kind {
      case .punct(UInt8(ascii: "}")):
        if expectations == 0 && sink.errorCount == errorsBefore {
          sink.emit(
            DiagnosticMessage(.testCannotFail, "test '\(test.name)' expects nothing, so it cannot fail", help: "add 'expect COLLECTOR accepted' (or dropped, ignored, repeated) after an event"),
            file: file, range: name.range)
        }
        return (test, next())
      case .end:
        sink.emit(SyntaxMessage.unclosed("{"), file: file, range: open.range)
        return (test, token)
      case .name("rules"):
        if let path = expectString("a rule file or folder after 'rules'", after: token) { test.rules = path }
        token = next()
      case .name("event"):
        if let step = parseEvent(token) { test.steps.append(step) }
        token = next()
      case .name("expect"):
        let expectation = parseExpect(token)
        token = next()
        guard let expectation else { continue }
        expectations += 1
        if test.steps.isEmpty {
          sink.emit(
            DiagnosticMessage(.testExpectWithoutEvent, "'expect' before any event", help: "write the event first: event {...} then expect ..."),
            file: file, range: expectation.range)
        } else {
          test.steps[test.steps.count - 1].expectations.append(expectation)
        }
      case .name("test"):
        sink.emit(SyntaxMessage.unclosed("{"), file: file, range: open.range)
        return (test, token)
      default:
        sink.emit(
          SyntaxMessage.expected("'event', 'expect', 'rules' or '}'", found: token.display), file: file, range: token.range)
        token = recover()
      }
    }
  }

  /// `event {JSON}` or `event "FILE:LINE"`.
  mutating func parseEvent(_ keyword: Token) -> TestStep? {
    if let b = peekByte(), b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
      skipBlanks()
      guard let json = rawJSON() else { return nil }
      return TestStep(event: .inline(json.value), range: keyword.range.union(json.range), expectations: [])
    }
    guard let reference = expectString("an event: a JSON output, or \"FILE:LINE\" of a recording", after: keyword) else { return nil }
    let text = reference.value
    guard let colon = text.lastIndex(of: ":"), let line = Int(text[text.index(after: colon)...]), line >= 1,
      colon > text.startIndex
    else {
      sink.emit(
        DiagnosticMessage(.testBadEvent, "'\(text)' is not FILE:LINE", help: "name a line of a recording, as \"samples/recording.jsonl:12\" (lines count from 1)"),
        file: file, range: reference.range)
      return nil
    }
    return TestStep(
      event: .recording(path: String(text[..<colon]), line: line), range: keyword.range.union(reference.range), expectations: [])
  }

  /// `expect COLLECTOR OUTCOME`.
  mutating func parseExpect(_ keyword: Token) -> Expectation? {
    let name = next()
    guard case .name(let collector) = name.kind else {
      sink.emit(SyntaxMessage.expected("a collector's id after 'expect'", found: name.display), file: file, range: name.range)
      giveBack(name)
      return nil
    }
    var word = next()
    if case .string(let text) = word.kind, ["accepted", "dropped", "ignored", "repeated"].contains(text) {
      word.kind = .name(text)  // written in quotes (typographic ones were already reported)
    }
    var end = word.range.end
    let outcome: Expectation.Outcome
    var lineRange: SourceRange?
    switch word.kind {
    case .name("accepted"):
      var fields = Expectation.ItemFields()
      while case .name(let field) = peekName(), ["id", "inclusion_probability", "dataset_ids"].contains(field) {
        let key = next()
        switch field {
        case "id":
          if let s = expectString("the item's id, a string", after: key) {
            fields.id = s.value
            end = s.range.end
          }
        case "inclusion_probability":
          let t = next()
          if case .number(let n) = t.kind {
            fields.inclusionProbability = n
            end = t.range.end
          } else {
            sink.emit(SyntaxMessage.expected("a number", found: t.display), file: file, range: t.range)
            giveBack(t)
          }
        default:
          if let list = stringList(after: key) {
            fields.datasetIDs = list.value
            end = list.range.end
          }
        }
      }
      outcome = .accepted(fields)
    case .name("dropped"):
      var stage: Expectation.Stage?
      var line: Int?
      if case .name("in") = peekName() {
        _ = next()
        let s = next()
        if case .name(let n) = s.kind, let st = Expectation.Stage(rawValue: n) {
          stage = st
          end = s.range.end
        } else {
          sink.emit(SyntaxMessage.expected("pre_queue or post_queue", found: s.display), file: file, range: s.range)
          giveBack(s)
        }
      }
      if case .name("at") = peekName() {
        _ = next()
        let l = next()
        let n = next()
        if l.kind == .name("line"), case .number(let v) = n.kind, v >= 1, v == v.rounded() {
          line = Int(v)
          end = n.range.end
          lineRange = n.range
        } else {
          sink.emit(SyntaxMessage.expected("'line N' after 'at'", found: l.kind == .name("line") ? n.display : l.display), file: file, range: l.range.union(n.range))
          offset = n.range.end
        }
      }
      var by: String?
      if line == nil, case .name("by") = peekName() {
        let keyword = next()
        if let text = expectString("text of the statement after 'by', as \"margin(concepts)\"", after: keyword) {
          by = text.value
          end = text.range.end
          lineRange = text.range
        }
      }
      outcome = .dropped(stage: stage, line: line, by: by)
    case .name("ignored"): outcome = .ignored
    case .name("repeated"): outcome = .repeated
    default:
      var help: String?
      if case .name(let n) = word.kind, let close = Spelling.suggestion(for: n, among: ["accepted", "dropped", "ignored", "repeated"]) {
        help = "did you mean '\(close)'?"
      }
      sink.emit(
        SyntaxMessage.expected("accepted, dropped, ignored or repeated", found: word.display, help: help), file: file, range: word.range)
      giveBack(word)
      return nil
    }
    return Expectation(
      collector: Located(collector, name.range), outcome: outcome, range: SourceRange(keyword.range.start, end), lineRange: lineRange)
  }

  /// The next token if it is a name, without taking it.
  func peekName() -> Kind? {
    guard let b = peekByte(), Lexer.isNameStart(b) else { return nil }
    var copy = self  // a name is read without a diagnostic
    return copy.next().kind
  }

  /// `[ "a", "b" ]`.
  mutating func stringList(after key: Token) -> Located<[String]>? {
    let open = next()
    guard open.kind == .punct(UInt8(ascii: "[")) else {
      sink.emit(SyntaxMessage.expected("'['", found: open.display), file: file, range: open.range)
      giveBack(open)
      return nil
    }
    var items: [String] = []
    while true {
      let t = next()
      switch t.kind {
      case .punct(UInt8(ascii: "]")): return Located(items, open.range.union(t.range))
      case .punct(UInt8(ascii: ",")): continue
      case .string(let s): items.append(s)
      case .name(let s): items.append(s)
      default:
        sink.emit(SyntaxMessage.expected("a string or ']'", found: t.display), file: file, range: t.range)
        giveBack(t)
        return nil
      }
    }
  }
}
