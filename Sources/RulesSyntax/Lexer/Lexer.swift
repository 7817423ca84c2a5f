import RulesDiagnostics
import RulesSource

/// Turns the bytes of a rule file (or of one expression inside a YAML file) into tokens.
///
/// The lexer works on bytes, never on `String`: a token is a kind plus a byte range. It never stops
/// at an error: a bad byte is reported and skipped, so one pass finds every lexical problem.
/// Comments (`#` to the end of the line) are kept aside for the formatter.
public struct Lexer {
  public private(set) var tokens: [Token] = []
  public private(set) var comments: [SourceRange] = []

  private let bytes: [UInt8]
  private let range: Range<Int>
  private let file: SourceFile
  private let sink: DiagnosticSink
  private var reported = 0
  /// Past this many lexical errors in one file the rest are dropped: a binary file would
  /// otherwise print one error per byte.
  static let errorLimit = 50

  /// Lexes `range` of `file` (the whole file by default).
  public static func lex(_ file: SourceFile, range: Range<Int>? = nil, sink: DiagnosticSink) -> Lexer {
    var lexer = Lexer(file: file, range: range ?? 0..<file.bytes.count, sink: sink)
    lexer.run()
    return lexer
  }

  private init(file: SourceFile, range: Range<Int>, sink: DiagnosticSink) {
    self.file = file
    self.bytes = file.bytes
    self.range = range
    self.sink = sink
  }

  private mutating func report(_ message: DiagnosticMessage, _ r: SourceRange) {
    reported += 1
    if reported <= Lexer.errorLimit { sink.emit(message, file: file, range: r) }
  }

  @inline(__always) public static func isNameStart(_ b: UInt8) -> Bool {
    (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || b == 95
  }
  @inline(__always) public static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
  @inline(__always) public static func isNameContinue(_ b: UInt8) -> Bool { isNameStart(b) || isDigit(b) }

  private mutating func run() {
    tokens.reserveCapacity(range.count / 4)
    var i = range.lowerBound
    let end = range.upperBound
    while i < end {
      let b = bytes[i]
      let start = i
      switch b {
      case 32, 9, 10, 13:  // space, tab, newline, carriage return
        i += 1
      case UInt8(ascii: "#"):
        while i < end && bytes[i] != 10 { i += 1 }
        checkUTF8(start..<i)
        comments.append(SourceRange(start, i))
      case UInt8(ascii: "\""):
        i = lexString(from: i)
      case _ where Lexer.isNameStart(b):
        while i < end && Lexer.isNameContinue(bytes[i]) { i += 1 }
        tokens.append(Token(.name, SourceRange(start, i)))
      case _ where Lexer.isDigit(b):
        i = lexNumber(from: i)
      default:
        i = lexPunctuation(from: i)
      }
    }
    tokens.append(Token(.endOfFile, .at(end)))
  }

  private mutating func lexNumber(from start: Int) -> Int {
    let end = range.upperBound
    var i = start
    while i < end && Lexer.isDigit(bytes[i]) { i += 1 }
    if i + 1 < end && bytes[i] == UInt8(ascii: ".") && Lexer.isDigit(bytes[i + 1]) {
      i += 1
      while i < end && Lexer.isDigit(bytes[i]) { i += 1 }
    }
    if i < end && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
      var j = i + 1
      if j < end && (bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-")) { j += 1 }
      if j < end && Lexer.isDigit(bytes[j]) {
        i = j
        while i < end && Lexer.isDigit(bytes[i]) { i += 1 }
      }
    }
    // A digit-led run that continues with letters is a word such as a version id (`8d1f6c0b`);
    // the parser decides whether a word is allowed where it stands.
    if i < end && Lexer.isNameStart(bytes[i]) {
      while i < end && Lexer.isNameContinue(bytes[i]) { i += 1 }
      tokens.append(Token(.name, SourceRange(start, i)))
      return i
    }
    if i < end && bytes[i] == UInt8(ascii: "%") { i += 1 }
    tokens.append(Token(.number, SourceRange(start, i)))
    return i
  }

  private mutating func lexString(from start: Int) -> Int {
    let end = range.upperBound
    var i = start + 1
    while i < end {
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        checkUTF8(start..<i)
        tokens.append(Token(.string, SourceRange(start, i + 1)))
        return i + 1
      }
      if b == 10 { break }
      if b == UInt8(ascii: "\\") && i + 1 < end && bytes[i + 1] != 10 { i += 2 } else { i += 1 }
    }
    checkUTF8(start..<i)
    report(SyntaxMessage.unterminatedString, SourceRange(start, i))
    tokens.append(Token(.string, SourceRange(start, i)))
    return i
  }

  private mutating func lexPunctuation(from start: Int) -> Int {
    let end = range.upperBound
    let b = bytes[start]
    let next: UInt8 = start + 1 < end ? bytes[start + 1] : 0
    func emit(_ kind: TokenKind, _ length: Int) -> Int {
      tokens.append(Token(kind, SourceRange(start, start + length)))
      return start + length
    }
    switch b {
    case UInt8(ascii: "{"): return emit(.lBrace, 1)
    case UInt8(ascii: "}"): return emit(.rBrace, 1)
    case UInt8(ascii: "("): return emit(.lParen, 1)
    case UInt8(ascii: ")"): return emit(.rParen, 1)
    case UInt8(ascii: "["): return emit(.lBracket, 1)
    case UInt8(ascii: "]"): return emit(.rBracket, 1)
    case UInt8(ascii: ","): return emit(.comma, 1)
    case UInt8(ascii: "."): return emit(.dot, 1)
    case UInt8(ascii: "/"): return emit(.slash, 1)
    case UInt8(ascii: "*"): return emit(.star, 1)
    case UInt8(ascii: "+"): return emit(.plus, 1)
    case UInt8(ascii: "-"): return next == UInt8(ascii: ">") ? emit(.arrow, 2) : emit(.minus, 1)
    case UInt8(ascii: "<"): return next == UInt8(ascii: "=") ? emit(.lessEqual, 2) : emit(.less, 1)
    case UInt8(ascii: ">"): return next == UInt8(ascii: "=") ? emit(.greaterEqual, 2) : emit(.greater, 1)
    case UInt8(ascii: "="):
      if next == UInt8(ascii: "=") { return emit(.equal, 2) }
      report(SyntaxMessage.unexpectedCharacter("=", help: "write '==' to compare"), SourceRange(start, start + 1))
      return emit(.equal, 1)
    case UInt8(ascii: "!"):
      if next == UInt8(ascii: "=") { return emit(.notEqual, 2) }
      report(SyntaxMessage.unexpectedCharacter("!", help: "write 'not' to negate a condition"), SourceRange(start, start + 1))
      return start + 1
    case UInt8(ascii: "&"), UInt8(ascii: "|"):
      let word = b == UInt8(ascii: "&") ? "and" : "or"
      let length = next == b ? 2 : 1
      let text = String(repeating: Character(UnicodeScalar(b)), count: length)
      report(SyntaxMessage.unexpectedCharacter(text, help: "write '\(word)'"), SourceRange(start, start + length))
      return start + length
    default:
      if let close = typographicString(from: start) { return close }
      let length = utf8Length(at: start)
      if length == 0 {
        var j = start + 1
        while j < end && bytes[j] >= 0x80 && utf8Length(at: j) == 0 { j += 1 }
        report(SyntaxMessage.invalidUTF8(bytes[start]), SourceRange(start, j))
        return j
      }
      let text = String(decoding: bytes[start..<start + length], as: UTF8.self)
      let shown = b < 32 || b == 127 ? "\\u{\(String(b, radix: 16))}" : text
      report(SyntaxMessage.unexpectedCharacter(shown, help: nil), SourceRange(start, start + length))
      return start + length
    }
  }

  /// Typographic quotes, as a document pasted into a rule file has them: `“`, `”` or `„`, then text,
  /// then `”` or `“`, on one line. One error proposes straight quotes, and the text is a string token
  /// (the parser strips the quotes), so the statement still parses and nothing else is reported.
  /// Returns the offset after the closing quote, or nil when there is no such string here.
  private mutating func typographicString(from start: Int) -> Int? {
    func quote(at i: Int) -> Bool {
      i + 2 < range.upperBound && bytes[i] == 0xE2 && bytes[i + 1] == 0x80 && (0x9C...0x9E).contains(bytes[i + 2])
    }
    guard quote(at: start) else { return nil }
    var i = start + 3
    while i < range.upperBound && bytes[i] != 10 {
      if quote(at: i) && bytes[i + 2] != 0x9E {
        let text = String(decoding: bytes[(start + 3)..<i], as: UTF8.self)
        report(
          DiagnosticMessage(.unexpectedCharacter, "typographic quotes around '\(text)'", help: "use straight quotes: \"\(text)\""),
          SourceRange(start, i + 3))
        tokens.append(Token(.string, SourceRange(start, i + 3)))
        return i + 3
      }
      i += 1
    }
    return nil
  }

  /// The length of the valid UTF-8 sequence starting at `i`, or 0 if the bytes there are invalid.
  private func utf8Length(at i: Int) -> Int {
    bytes.withUnsafeBufferPointer { Bytes.utf8Length($0.baseAddress!, at: i, end: range.upperBound) }
  }

  /// Reports invalid UTF-8 inside a string or comment, one diagnostic per bad run.
  private mutating func checkUTF8(_ r: Range<Int>) {
    var i = r.lowerBound
    while i < r.upperBound {
      if bytes[i] < 0x80 { i += 1; continue }
      let length = utf8Length(at: i)
      if length > 0 { i += length; continue }
      let start = i
      i += 1
      while i < r.upperBound && bytes[i] >= 0x80 && utf8Length(at: i) == 0 { i += 1 }
      report(SyntaxMessage.invalidUTF8(bytes[start]), SourceRange(start, i))
    }
  }
}
