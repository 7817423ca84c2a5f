import Foundation
import PropertyBased
import RulesDiagnostics
import RulesSource
import Testing

/// The YAML form: positions inside expression strings, the original feature's shapes, and errors.
@Suite struct YAMLFrontEndTests {
  static let header = """
    collectors:
      - id: demo
        source: {user: clarifai, app: main, model: general-image-recognition}
        destination: {user: me, app: dataset}
        key: {env: DEMO_KEY}

    """

  /// A key written into the YAML, bare or as `env:`, is an inline secret (RC3010), and no rendering of
  /// the diagnostic shows it.
  @Test func anInlineKeyIsASecretNeverEchoed() {
    let secret = "0123456789abcdef0123456789abcdef"
    for key in [secret, "{env: \(secret)}", "\"\(secret)\""] {
      let text = """
        collectors:
          - id: demo
            source: {user: clarifai, app: main, model: general-image-recognition}
            destination: {user: me, app: d}
            key: \(key)
            pre_queue:
              - sample 10%

        """
      let ds = check(text, path: "t.yaml")
      #expect(codes(ds) == ["RC3010"], "\(key)")
      let human = ds.map { DiagnosticRenderer(colored: false).render($0) }.joined()
      #expect(human.contains("key: ") && human.contains("****"), "\(key)")
      for rendered in [human, DiagnosticRenderer.json(ds), DiagnosticRenderer.sarif(ds, toolVersion: "test")] {
        #expect(!rendered.contains("0123456789abcdef"), "\(key): \(rendered)")
      }
    }
  }

  /// Found by the YAML fuzz target: a flow sequence left open at the end of the file was reported
  /// one byte past the end of the file.
  @Test func aSyntaxErrorAtTheEndStaysInsideTheFile() {
    for text in [Self.header + "    pre_queue: [sample 10%\n", Self.header + "    pre_queue: [sample 10%", "a: [", "a: {b: 1"] {
      let ds = check(text, path: "t.yaml")
      #expect(codes(ds) == ["RC2001"], "\(text)")
      #expect(ds.allSatisfy { $0.range.start <= text.utf8.count && $0.range.end <= text.utf8.count }, "\(text)")
    }
  }

  /// Found by the YAML fuzz target: YAML breaks lines at a lone `\r` too, and positions counted
  /// with `\n` alone fell past the end of the file. Diagnostics point at the right bytes.
  @Test func lineBreaksAsYAMLCountsThem() {
    for newline in ["\r", "\r\n", "\n", "\u{2028}"] {
      let text = (Self.header + "    pre_queue:\n      - require max(concepts) < 2\n").replacingOccurrences(of: "\n", with: newline)
      let ds = check(text, path: "t.yaml")
      #expect(codes(ds) == ["RC3005"], "\(newline.unicodeScalars.map(\.value))")
      let bytes = Array(text.utf8)
      #expect(ds.first.map { bytes[$0.range.start] } == UInt8(ascii: "2"), "\(newline.unicodeScalars.map(\.value))")
    }
    let cut = "collectors:\n  - id: x\n    source: {user: a, app: b, model: c}\r    recople: 0.05\n"
    #expect(check(cut, path: "t.yaml").allSatisfy { $0.range.end <= cut.utf8.count })
  }

  /// Found by the YAML fuzz target: invalid UTF-8 was read as U+FFFD, which moved every later
  /// position off the file's bytes. The file is refused at the first invalid byte (RC1001).
  @Test func invalidUTF8IsLocatedNotReplaced() {
    var bytes = Array((Self.header + "    pre_queue:\n      - drop_if: input.text matches \"(?iXunsubscribe)\"\n").utf8)
    let at = bytes.firstIndex(of: UInt8(ascii: "X"))!
    bytes[at] = 0xCC
    let ds = check(bytes: bytes, path: "t.yaml")
    #expect(codes(ds) == ["RC1001"])
    #expect(ds.first?.range.start == at)
  }

  @Test func errorInsideAPlainExpressionPointsIntoTheYAML() throws {
    let ds = check(Self.header + "    pre_queue:\n      - require: max(concepts) < 1.5 and maxx(concepts) > 0\n", path: "t.yaml")
    #expect(codes(ds) == ["RC3005", "RC3002"])
    // `      - require: max(concepts) < 1.5 and maxx(concepts) > 0`: '1.5' at column 34, 'maxx' at 42.
    #expect(ds[0].location == LineColumn(line: 7, column: 34))
    #expect(ds[1].location == LineColumn(line: 7, column: 42))
  }

  @Test func errorInsideAQuotedStatementPointsIntoTheYAML() {
    let ds = check(Self.header + "    pre_queue:\n      - \"require metadata.a == 'x' and max(concepts) < 2\"\n", path: "t.yaml")
    #expect(codes(ds) == ["RC1002", "RC1002"] || codes(ds).contains("RC1002"))
    #expect(ds[0].location.line == 7)
    #expect(ds[0].location.column == 32)  // the first `'` after `"require metadata.a == `
  }

  @Test func syntaxErrorInAnExpressionString() {
    let ds = check(Self.header + "    post_queue:\n      - require: input.kind == \n", path: "t.yaml")
    #expect(codes(ds) == ["RC1011"])
    #expect(ds[0].location.line == 7)
  }

  /// The text a diagnostic's range covers in the file, as written.
  static func written(_ d: Diagnostic) -> String { String(decoding: d.file.bytes[d.range.start..<d.range.end], as: UTF8.self) }

  @Test func escapedScalarsStayWithinTheScalar() {
    let ds = check(Self.header + "    pre_queue:\n      - drop_if: \"metadata.a == \\\"\\u00e9\\\" and maxx(concepts) < 1\"\n", path: "t.yaml")
    #expect(codes(ds) == ["RC3002"])
    #expect(ds[0].location == LineColumn(line: 7, column: 48))
    #expect(Self.written(ds[0]) == "maxx")
  }

  /// Carets inside scalars the file does not hold byte for byte: escapes, `''`, folding and block
  /// scalars. Syntax errors (the parser's) and type errors (the checker's, on the moved tree) alike.
  @Test func exactColumnsInsideEscapedFoldedAndBlockScalars() {
    let cases: [(String, [String])] = [
      // Double-quoted: escapes before the error, an escaped line break, folding.
      ("      - require: \"metadata.a == \\\"caf\\u00e9\\\" \\\n        and maxx(concepts) < 0.5\"\n", ["maxx"]),
      ("      - require: \"metadata.a == \\\"\\x41\\\" or\n\n        maxx(concepts) < 0.5\"\n", ["maxx"]),
      // A syntax error (the parser's) after escapes and a folded line.
      ("      - require: \"metadata.a == \\\"\\x41\\\" and\n        (max(concepts) < 0.5))\"\n", [")"]),
      // Single-quoted with a doubled quote.
      ("      - require: 'metadata.a == \"it''s\" and maxx(concepts) < 0.5'\n", ["maxx"]),
      // Plain, over two lines.
      ("      - require: max(concepts) < 0.5 and\n          maxx(concepts) < 0.3\n", ["maxx"]),
      // Folded and literal blocks; the checker's error on the second line of each.
      ("      - require: >\n          max(concepts) < 0.5\n          and maxx(concepts) > 0.1\n", ["maxx"]),
      ("      - drop_if: |\n          metadata.a == \"x\" or\n            maxx(concepts) < 0.5\n", ["maxx"]),
      // A string statement with escapes (the statement parser).
      ("      - \"require metadata.a == \\\"\\t\\\" and maxx(concepts) < 0.5\"\n", ["maxx"]),
    ]
    for (body, expected) in cases {
      let ds = check(Self.header + "    pre_queue:\n" + body, path: "t.yaml")
      #expect(ds.map(Self.written) == expected, "\(body): \(ds.map { "\($0.code.id) \($0.location)" })")
    }
  }

  /// Any encoding of one expression (characters escaped at random, lines folded at random spaces,
  /// any scalar style) puts the caret on the misspelled function as written.
  @Test func anyEncodingKeepsTheCaretOnTheWord() async {
    let expression = Array("metadata.a == \"b c\" and max(concepts) < 0.5 or maxx(concepts) < 0.25")
    let word = expression.count - "maxx(concepts) < 0.25".count
    await propertyCheck(count: 300, input: Gen.int(in: 0...3), Gen.int(in: 0...1_000_000).array(of: expression.count)) { style, choices in
      var scalar = ""
      let indent = "          "
      for (k, c) in expression.enumerated() {
        let inWord = k >= word && k < word + 4
        let inString = k >= 14 && k <= 18  // `"b c"`: a literal block keeps a line break, which ends a DSL string
        let choice = choices[k] % 7
        switch style {
        case 0:  // double-quoted
          if c == "\"" {
            scalar += "\\\""
          } else if !inWord && choice == 0 {
            scalar += String(format: "\\x%02X", Int(c.asciiValue!))
          } else if !inWord && choice == 1 {
            scalar += String(format: "\\u%04x", Int(c.asciiValue!))
          } else if c == " " && choice == 2 && !inString {
            scalar += "\n" + indent
          } else if c == " " && choice == 3 && !inString {
            scalar += " \\\n" + indent
          } else {
            scalar.append(c)
          }
        case 1:  // single-quoted, folded at spaces
          scalar += c == " " && choice < 2 && !inString ? "\n" + indent : String(c)
        case 2:  // folded block
          scalar += c == " " && choice < 2 && !inString ? "\n" + indent : String(c)
        default:  // literal block, broken at spaces (a line break is whitespace to the expression)
          scalar += c == " " && choice < 2 && !inString ? "\n" + indent : String(c)
        }
      }
      let value: String
      switch style {
      case 0: value = "\"" + scalar + "\""
      case 1: value = "'" + scalar + "'"
      case 2: value = ">\n" + indent + scalar
      default: value = "|\n" + indent + scalar
      }
      let ds = check(Self.header + "    pre_queue:\n      - require: " + value + "\n", path: "t.yaml")
      #expect(ds.map(Self.written) == ["maxx"], "\(value): \(ds.map { "\($0.code.id) \($0.range)" })")
    }
  }

  @Test func originalOperatorShapes() {
    let yaml = Self.header + """
        pre_queue_random_sample: 0.5
        pre_queue:
          - random_sample: {keep_fraction: 0.2}
          - concept_thresholder:
              concepts: [{id: dog, value: 0.8}, {name: cat, value: 0.7}]
              concept_threshold_type: 4
              filter_other_concepts: false

    """
    #expect(codes(check(yaml, path: "t.yaml")) == [])
    let bad = Self.header + """
        pre_queue:
          - concept_thresholder:
              concepts: [{id: dog, value: 0.8}]
              concept_threshold_type: GREATER_THEN

    """
    let ds = check(bad, path: "t.yaml")
    #expect(codes(ds) == ["RC2006"])
    #expect(ds[0].message.help == "did you mean 'GREATER_THAN'?")
  }

  @Test func clarifaiCollectorSourceShape() {
    let yaml = """
      collectors:
        - id: from-clarifai
          collector_source:
            api_post_model_outputs_collector_source:
              model_user_id: clarifai
              model_app_id: main
              model_id: general-image-recognition
              post_inputs_key_id: 3f9a1c0e77d24b1c9e0a6d2f4b8c7e51
          destination: {user: me, app: dataset}
          pre_queue: [sample 10%]

      """
    #expect(codes(check(yaml, path: "t.yaml")) == ["RC3010"])
  }

  @Test func shapeErrors() {
    #expect(codes(check("collectors: {}\n", path: "t.yaml")) == ["RC2004"])
    #expect(codes(check(Self.header + "    pre_queue: [{require: a, drop_if: b}]\n", path: "t.yaml")) == ["RC2004"])
    #expect(codes(check(Self.header + "    pre_queue: [{requires: 'max(concepts) < 0.5'}]\n", path: "t.yaml")) == ["RC2003"])
    #expect(codes(check(Self.header + "    pre_queue: [{limit: {count: 5}}]\n", path: "t.yaml")) == ["RC2005"])
    #expect(codes(check(Self.header + "    pre_queue: [{limit: {count: 5, per: fortnight}}]\n", path: "t.yaml")) == ["RC1012"])
    #expect(codes(check("", path: "t.yaml")) == ["RC4009"])
    #expect(codes(check("collectors: [\n", path: "t.yaml")) == ["RC2001"])
  }
}
