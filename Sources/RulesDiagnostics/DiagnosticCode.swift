/// A stable diagnostic code such as `RC3001`, with its default severity and its long explanation.
///
/// Codes are grouped by stage: `RC1xxx` lexing and parsing, `RC2xxx` the YAML front end, `RC3xxx` the
/// checker, `RC4xxx` lints, `RC5xxx` rule tests (`rulec test`). A code never changes meaning once released; `rulec explain CODE` prints the
/// explanation with a bad and a good example.
public struct DiagnosticCode: Hashable, Sendable, Comparable {
  public let id: String
  /// Kebab-case name, used as the SARIF rule name.
  public let name: String
  public let severity: Severity
  /// One line, shown in tables.
  public let summary: String
  public let explanation: String
  /// A rule file that triggers the code (empty where no printable example exists).
  public let bad: String
  /// The same intent written correctly.
  public let good: String

  public static func == (a: Self, b: Self) -> Bool { a.id == b.id }
  public func hash(into h: inout Hasher) { h.combine(id) }
  public static func < (a: Self, b: Self) -> Bool { a.id < b.id }

  /// Looks a code up by its id (`RC3001`) or name (`unknown-name`), case-insensitively.
  public static func find(_ text: String) -> DiagnosticCode? {
    let t = text.lowercased()
    return all.first { $0.id.lowercased() == t || $0.name == t }
  }
}
