import RulesDiagnostics
import RulesSource
import RulesSyntax
import Testing

/// The lexer's token table and the parser's recovery.
@Suite struct LexerParserTests {
  static func kinds(_ text: String) -> [TokenKind] {
    Lexer.lex(SourceFile(path: "t", text: text), sink: DiagnosticSink()).tokens.map(\.kind)
  }

  @Test(arguments: [
    ("max(concepts) < 0.6", [TokenKind.name, .lParen, .name, .rParen, .less, .number, .endOfFile]),
    ("25% 1e-3 8d1f6c", [.number, .number, .name, .endOfFile]),
    ("a->b a - b", [.name, .arrow, .name, .name, .minus, .name, .endOfFile]),
    ("x<=1 y>=2 z!=3 w==4", [.name, .lessEqual, .number, .name, .greaterEqual, .number, .name, .notEqual, .number, .name, .equal, .number, .endOfFile]),
    ("\"s\\\"t\" # comment", [.string, .endOfFile]),
    ("{}[](),./*+", [.lBrace, .rBrace, .lBracket, .rBracket, .lParen, .rParen, .comma, .dot, .slash, .star, .plus, .endOfFile]),
  ])
  func tokens(text: String, expected: [TokenKind]) {
    #expect(Self.kinds(text) == expected)
  }

  @Test func commentsAreKeptAside() {
    let lexer = Lexer.lex(SourceFile(path: "t", text: "a # one\nb # two"), sink: DiagnosticSink())
    #expect(lexer.comments.count == 2)
    #expect(lexer.tokens.count == 3)
  }

  @Test func helpfulUnexpectedCharacters() {
    let ds = check(collector(pre: "    require concept(a) > 0.5 && concept(b) > 0.5"))
    #expect(ds.first?.code.id == "RC1002")
    #expect(ds.first?.message.help == "write 'and'")
  }

  @Test func recoversAndReportsEveryBrokenStatement() {
    let ds = check(collector(pre: """
          require max(concepts) <
          require (
          drop metadata.x == 1
          sample 10%
          requir x
      """))
    #expect(codes(ds) == ["RC1011", "RC1011", "RC1006", "RC1008"])
  }

  @Test func locationsCountUnicodeScalars() {
    let ds = check(collector(pre: "    require metadata.\"café\" == \"é\" and maxx(concepts) < 1"))
    let d = try! #require(ds.first)
    #expect(d.code.id == "RC3002")
    #expect(d.location == LineColumn(line: 6, column: 40))
  }

  @Test func wordsGlueAdjacentTokens() {
    let sink = DiagnosticSink()
    let file = Parser.parse(
      SourceFile(
        path: "t",
        text: "collector 2024-pets { source clarifai/main/general-image-recognition version 8d1f6c0b2e9a4c77 destination me/x key env K pre_queue { require concept(pallet-jack) > 0.5 } }"),
      sink: sink)
    #expect(sink.diagnostics.isEmpty)
    let c = file.collectors[0]
    #expect(c.id.text == "2024-pets")
    guard case .source(let s) = c.clauses[0].kind else {
      Issue.record("no source")
      return
    }
    #expect(s.model.text == "general-image-recognition")
    #expect(s.version?.text == "8d1f6c0b2e9a4c77")
  }

  @Test func missingClosingBracesAreReportedAtTheOpener() {
    let ds = check("collector a {\n  source u/a/m\n  pre_queue {\n    sample 10%\n")
    #expect(codes(ds) == ["RC1009", "RC1009"])
    #expect(ds.map(\.location.line) == [1, 3])
  }

  @Test func stringEscapes() {
    #expect(codes(check(collector(pre: #"    require metadata.a == "tab\tquote\"uni\u{e9}""#))).isEmpty)
    #expect(codes(check(collector(pre: #"    require metadata.a == "bad \q and \u{zz}""#))) == ["RC1004", "RC1004"])
  }
}
