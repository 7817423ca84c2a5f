import RulesDiagnostics

/// The lexer's and parser's messages (`RC1xxx`), one static member per message.
public enum SyntaxMessage {
  public static func invalidUTF8(_ byte: UInt8) -> DiagnosticMessage {
    DiagnosticMessage(
      .invalidUTF8, "invalid UTF-8 byte 0x\(String(byte, radix: 16, uppercase: true))",
      help: "save the file as UTF-8")
  }
  public static func unexpectedCharacter(_ text: String, help: String?) -> DiagnosticMessage {
    DiagnosticMessage(.unexpectedCharacter, "unexpected character '\(text)'", help: help)
  }
  public static let unterminatedString = DiagnosticMessage(
    .unterminatedString, "unterminated string", help: "close the string with '\"' on the same line")
  public static func invalidEscape(_ text: String) -> DiagnosticMessage {
    DiagnosticMessage(
      .invalidEscape, "invalid escape '\(text)' in string",
      help: "use '\\\\' for a backslash; the escapes are \\\\ \\\" \\n \\t and \\u{...}")
  }
  public static func invalidNumber(_ text: String, help: String? = nil) -> DiagnosticMessage {
    DiagnosticMessage(.invalidNumber, "invalid number '\(text)'", help: help)
  }
  public static func expected(_ what: String, found: String, help: String? = nil) -> DiagnosticMessage {
    DiagnosticMessage(.expected, "expected \(what), found \(found)", help: help)
  }
  public static func unknownClause(_ name: String, suggestion: String?) -> DiagnosticMessage {
    DiagnosticMessage(
      .unknownClause, "unknown clause '\(name)' in collector",
      help: suggestion.map { "did you mean '\($0)'?" }
        ?? "a collector holds description, source, destination, datasets, key, map, pre_queue and post_queue")
  }
  public static func unknownStatement(_ name: String, suggestion: String?) -> DiagnosticMessage {
    DiagnosticMessage(
      .unknownStatement, "unknown statement '\(name)'",
      help: suggestion.map { "did you mean '\($0)'?" } ?? "a stage holds require, drop if, sample and limit statements")
  }
  public static func unclosed(_ delimiter: String) -> DiagnosticMessage {
    DiagnosticMessage(.unclosedDelimiter, "unclosed '\(delimiter)'", help: "add the matching closing delimiter")
  }
  public static let nestingTooDeep = DiagnosticMessage(
    .nestingTooDeep, "expression nests deeper than \(Parser.nestingLimit) levels",
    help: "split the condition into several statements")
  public static func chainTooLong(_ op: String) -> DiagnosticMessage {
    DiagnosticMessage(
      .nestingTooDeep, "more than \(Parser.chainLimit) operands joined by '\(op)'",
      help: op == "or" || op == "and"
        ? "split the condition into several statements, or test many concepts at once with 'any concept in [...]'"
        : "split the arithmetic into several statements")
  }
  public static let pathTooLong = DiagnosticMessage(
    .nestingTooDeep, "a metadata path of more than \(Parser.pathLimit) segments", help: "metadata paths are at most \(Parser.pathLimit) keys deep")
  public static func expectedExpression(found: String) -> DiagnosticMessage {
    DiagnosticMessage(.expectedExpression, "expected an expression, found \(found)")
  }
  public static func chainedComparison(_ text: String, fix: String) -> DiagnosticMessage {
    DiagnosticMessage(.chainedComparison, "comparisons do not chain: '\(text)'", help: "write '\(fix)'")
  }
  public static func unknownTimeUnit(_ name: String, suggestion: String?) -> DiagnosticMessage {
    DiagnosticMessage(
      .unknownTimeUnit, "unknown time unit '\(name)'",
      help: suggestion.map { "did you mean '\($0)'?" } ?? "use second, minute, hour, day or week")
  }
}
