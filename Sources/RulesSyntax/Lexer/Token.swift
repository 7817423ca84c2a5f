import RulesSource

/// What a token is. Keywords are contextual, so they lex as `.name` and the parser reads their text.
public enum TokenKind: UInt8, Sendable {
  case name  // letters, digits and `_`; may start with a digit (`8d1f6c0b`), see `Lexer`
  case number  // `0.6`, `1e-3`, `25%`
  case string  // `"..."`
  case lBrace, rBrace, lParen, rParen, lBracket, rBracket
  case comma, dot, slash, star, plus, minus
  case arrow  // ->
  case equal, notEqual, less, lessEqual, greater, greaterEqual
  case endOfFile

  /// How the kind is shown in "expected X, found Y".
  public var display: String {
    switch self {
    case .name: "a name"
    case .number: "a number"
    case .string: "a string"
    case .lBrace: "'{'"
    case .rBrace: "'}'"
    case .lParen: "'('"
    case .rParen: "')'"
    case .lBracket: "'['"
    case .rBracket: "']'"
    case .comma: "','"
    case .dot: "'.'"
    case .slash: "'/'"
    case .star: "'*'"
    case .plus: "'+'"
    case .minus: "'-'"
    case .arrow: "'->'"
    case .equal: "'=='"
    case .notEqual: "'!='"
    case .less: "'<'"
    case .lessEqual: "'<='"
    case .greater: "'>'"
    case .greaterEqual: "'>='"
    case .endOfFile: "end of file"
    }
  }

  public var isComparison: Bool {
    switch self {
    case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: true
    default: false
    }
  }
}

/// A token is a kind and a byte range; its text is sliced from the file only when needed.
public struct Token: Sendable {
  public var kind: TokenKind
  public var range: SourceRange

  public init(_ kind: TokenKind, _ range: SourceRange) {
    self.kind = kind
    self.range = range
  }
}
