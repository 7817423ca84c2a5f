import RulesDiagnostics

/// The YAML front end's messages (`RC2xxx`), one static member per message.
public enum YAMLMessage {
  public static func syntax(_ problem: String) -> DiagnosticMessage {
    DiagnosticMessage(.yamlSyntax, "YAML syntax: \(problem)", help: "check indentation, quotes and brackets near here")
  }
  public static func duplicateKey(_ keys: [String]) -> DiagnosticMessage {
    DiagnosticMessage(
      .yamlDuplicateKey, "duplicate key \(keys.map { "'\($0)'" }.joined(separator: ", ")) in a mapping",
      help: "keep one of them")
  }
  public static func unknownKey(_ key: String, in context: String, suggestion: String?, known: [String]) -> DiagnosticMessage {
    DiagnosticMessage(
      .yamlUnknownKey, "unknown key '\(key)' in \(context)",
      help: suggestion.map { "did you mean '\($0)'?" } ?? "known keys: \(known.joined(separator: ", "))")
  }
  public static func wrongType(_ what: String, expected: String, found: String) -> DiagnosticMessage {
    DiagnosticMessage(.yamlWrongType, "\(what) must be \(expected), found \(found)")
  }
  public static func missingKey(_ key: String, in context: String) -> DiagnosticMessage {
    DiagnosticMessage(.yamlMissingKey, "\(context) has no '\(key)'", help: "add '\(key): ...'")
  }
  public static func invalidComparator(_ text: String, suggestion: String?) -> DiagnosticMessage {
    DiagnosticMessage(
      .yamlInvalidComparator, "unknown concept_threshold_type '\(text)'",
      help: suggestion.map { "did you mean '\($0)'?" }
        ?? "use GREATER_THAN, GREATER_THAN_OR_EQUAL, LESS_THAN, LESS_THAN_OR_EQUAL or EQUAL (1 to 5)")
  }
}
