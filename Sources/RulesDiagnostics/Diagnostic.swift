import RulesSource

/// How bad a diagnostic is. `--strict` turns warnings into failures.
public enum Severity: String, Sendable, Codable, Comparable {
  case error
  case warning
  case note

  private var rank: Int {
    switch self {
    case .error: 0
    case .warning: 1
    case .note: 2
    }
  }
  public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// A secondary location that explains the primary one ("first defined here").
public struct DiagnosticNote: Sendable {
  public var message: String
  public var file: SourceFile?
  public var range: SourceRange?

  public init(_ message: String, file: SourceFile? = nil, range: SourceRange? = nil) {
    self.message = message
    self.file = file
    self.range = range
  }
}

/// The text of one diagnostic, made by a catalogue member (`SyntaxMessage.expected(...)`, ...).
///
/// Messages are lower-case without a final period and quote source text with `'…'`;
/// `help` proposes the fix.
public struct DiagnosticMessage: Sendable {
  public var code: DiagnosticCode
  public var text: String
  public var help: String?
  public var severity: Severity

  public init(_ code: DiagnosticCode, _ text: String, help: String? = nil, severity: Severity? = nil) {
    self.code = code
    self.text = text
    self.help = help
    self.severity = severity ?? code.severity
  }
}

/// One located problem in one file.
public struct Diagnostic: Sendable {
  public var message: DiagnosticMessage
  public var file: SourceFile
  public var range: SourceRange
  public var notes: [DiagnosticNote]

  public init(_ message: DiagnosticMessage, file: SourceFile, range: SourceRange, notes: [DiagnosticNote] = []) {
    self.message = message
    self.file = file
    self.range = range
    self.notes = notes
  }

  public var code: DiagnosticCode { message.code }
  public var severity: Severity { message.severity }
  public var location: LineColumn { file.location(of: range.start) }
}

/// Collects diagnostics from every stage; only the CLI decides what they mean for the exit status.
public final class DiagnosticSink: @unchecked Sendable {
  public private(set) var diagnostics: [Diagnostic] = []
  public private(set) var errorCount = 0
  public private(set) var warningCount = 0

  public init() {}

  public func emit(_ message: DiagnosticMessage, file: SourceFile, range: SourceRange, notes: [DiagnosticNote] = []) {
    append(Diagnostic(message, file: file, range: range, notes: notes))
  }

  public func append(_ diagnostic: Diagnostic) {
    diagnostics.append(diagnostic)
    switch diagnostic.severity {
    case .error: errorCount += 1
    case .warning: warningCount += 1
    case .note: break
    }
  }

  public var hasErrors: Bool { errorCount > 0 }

  /// Diagnostics in a stable order: by file, then position, then code.
  public var sorted: [Diagnostic] {
    diagnostics.enumerated().sorted { a, b in
      let x = a.element
      let y = b.element
      if x.file.path != y.file.path { return x.file.path < y.file.path }
      if x.range.start != y.range.start { return x.range.start < y.range.start }
      if x.code.id != y.code.id { return x.code.id < y.code.id }
      return a.offset < b.offset
    }.map(\.element)
  }
}
