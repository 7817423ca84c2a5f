import Foundation
import RulesSource

/// Renders diagnostics for people (`file:line:col: error[CODE]: message`, the source line, a caret
/// underline and `help:`/`note:` lines), as a JSON array, or as SARIF 2.1.0.
///
/// Colour goes through `colored` only, so golden files stay plain text.
public struct DiagnosticRenderer {
  public var colored: Bool

  public init(colored: Bool = false) { self.colored = colored }

  private func paint(_ text: String, _ code: String) -> String {
    colored ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
  }

  private func severityColor(_ s: Severity) -> String {
    switch s {
    case .error: "1;31"
    case .warning: "1;33"
    case .note: "1;36"
    }
  }

  /// One diagnostic in the human format, ending with a newline.
  public func render(_ d: Diagnostic) -> String {
    let loc = d.location
    var out = paint("\(d.file.path):\(loc.line):\(loc.column):", "1")
    out += " " + paint("\(d.severity.rawValue)[\(d.code.id)]", severityColor(d.severity))
    out += ": " + paint(d.message.text, "1") + "\n"
    out += snippet(file: d.file, range: d.range, severity: d.severity, masked: d.code == .inlineSecret)
    let gutter = String(repeating: " ", count: String(loc.line).count + 1)
    if let help = d.message.help {
      out += gutter + paint("= help", "1;36") + ": " + help + "\n"
    }
    for note in d.notes {
      var text = note.message
      if let f = note.file ?? Optional(d.file), let r = note.range {
        text += " (\(f.path):\(f.location(of: r.start)))"
      }
      out += gutter + paint("= note", "1;36") + ": " + text + "\n"
    }
    return out
  }

  /// The gutter, the source line and the underline of a range (first line only). `masked` shows the
  /// range as `*`s, one per character: the text of an inline secret is never echoed.
  func snippet(file: SourceFile, range: SourceRange, severity: Severity, masked: Bool = false) -> String {
    let lineIndex = file.lineIndex(of: min(range.start, file.bytes.count))
    let number = String(lineIndex + 1)
    let gutter = String(repeating: " ", count: number.count + 1)
    let lineBytes = file.lineRange(lineIndex)
    let start = max(lineBytes.lowerBound, min(range.start, lineBytes.upperBound))
    let end = max(start, min(range.end, lineBytes.upperBound))
    // Keep tabs in the padding so the caret lines up under a tab-indented source line.
    var pad = ""
    for b in file.bytes[lineBytes.lowerBound..<start] where b & 0xC0 != 0x80 {
      pad += b == UInt8(ascii: "\t") ? "\t" : " "
    }
    let width = max(1, file.scalarCount(start..<end))
    var text = file.lineText(lineIndex)
    if masked {
      let before = String(decoding: file.bytes[lineBytes.lowerBound..<start], as: UTF8.self)
      let after = String(decoding: file.bytes[end..<lineBytes.upperBound], as: UTF8.self)
      text = before + String(repeating: "*", count: file.scalarCount(start..<end)) + after
      while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
    }
    if text.utf8.count > 400 { text = String(text.prefix(400)) + " …" }
    var out = gutter + paint("|", "1;34") + "\n"
    out += paint(number + " |", "1;34") + " " + text + "\n"
    out += gutter + paint("|", "1;34") + " " + pad + paint(String(repeating: "^", count: min(width, 400)), severityColor(severity)) + "\n"
    return out
  }

  /// A summary line such as `2 errors, 1 warning in 3 files`.
  public static func summary(errors: Int, warnings: Int, files: Int) -> String {
    func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
    return "\(plural(errors, "error")), \(plural(warnings, "warning")) in \(plural(files, "file"))"
  }

  // MARK: JSON

  /// One diagnostic as a JSON object.
  public static func json(_ d: Diagnostic) -> JSONValue {
    let start = d.location
    let end = d.file.location(of: d.range.end)
    var fields: [(String, JSONValue)] = [
      ("code", .string(d.code.id)),
      ("name", .string(d.code.name)),
      ("severity", .string(d.severity.rawValue)),
      ("file", .string(d.file.path)),
      ("line", .int(start.line)),
      ("column", .int(start.column)),
      ("end_line", .int(end.line)),
      ("end_column", .int(end.column)),
      ("message", .string(d.message.text)),
    ]
    fields.append(("help", d.message.help.map { .string($0) } ?? .null))
    fields.append(
      (
        "notes",
        .array(
          d.notes.map { note in
            var n: [(String, JSONValue)] = [("message", .string(note.message))]
            if let r = note.range {
              let f = note.file ?? d.file
              let l = f.location(of: r.start)
              n += [("file", .string(f.path)), ("line", .int(l.line)), ("column", .int(l.column))]
            }
            return .object(n)
          })
      ))
    return .object(fields)
  }

  /// All diagnostics as a JSON array.
  public static func json(_ ds: [Diagnostic]) -> String {
    JSONValue.array(ds.map(json)).rendered() + "\n"
  }

  // MARK: SARIF

  /// SARIF 2.1.0 log with one run; columns count Unicode code points. Files under `baseDirectory`
  /// (the current directory) are URIs relative to `%SRCROOT%`, which the run defines; others are
  /// `file://` URIs; both percent-encoded. A rule's `help` is its explanation with a good example; a
  /// result's own suggestion (`help:` in the human form) is in its property bag, not its message.
  public static func sarif(_ ds: [Diagnostic], toolVersion: String, baseDirectory: String = currentDirectory()) -> String {
    let usedCodes = Set(ds.map(\.code.id))
    let rules: [JSONValue] = DiagnosticCode.all.filter { usedCodes.contains($0.id) }.map { code in
      var help = code.explanation
      if !code.good.isEmpty { help += "\n\nFor example:\n" + code.good }
      return .object([
        ("id", .string(code.id)),
        ("name", .string(code.name)),
        ("shortDescription", .object([("text", .string(code.summary))])),
        ("fullDescription", .object([("text", .string(code.explanation))])),
        ("help", .object([("text", .string(help))])),
        ("defaultConfiguration", .object([("level", .string(level(code.severity)))])),
      ])
    }
    let base = baseDirectory.hasSuffix("/") ? String(baseDirectory.dropLast()) : baseDirectory
    func artifact(_ path: String) -> JSONValue {
      if !path.hasPrefix("/") { return .object([("uri", .string(uriEncoded(path))), ("uriBaseId", .string("%SRCROOT%"))]) }
      if !base.isEmpty, path.hasPrefix(base + "/") {
        return .object([("uri", .string(uriEncoded(String(path.dropFirst(base.count + 1))))), ("uriBaseId", .string("%SRCROOT%"))])
      }
      return .object([("uri", .string("file://" + uriEncoded(path)))])
    }
    let results: [JSONValue] = ds.map { d in
      let start = d.location
      let end = d.file.location(of: d.range.end)
      var members: [(String, JSONValue)] = [
        ("ruleId", .string(d.code.id)),
        ("level", .string(level(d.severity))),
        ("message", .object([("text", .string(d.message.text))])),
        (
          "locations",
          .array([
            .object([
              (
                "physicalLocation",
                .object([
                  ("artifactLocation", artifact(d.file.path)),
                  (
                    "region",
                    .object([
                      ("startLine", .int(start.line)), ("startColumn", .int(start.column)),
                      ("endLine", .int(end.line)), ("endColumn", .int(end.column)),
                    ])
                  ),
                ])
              )
            ])
          ])
        ),
      ]
      if let help = d.message.help { members.append(("properties", .object([("help", .string(help))]))) }
      return .object(members)
    }
    let log: JSONValue = .object([
      ("$schema", .string("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")),
      ("version", .string("2.1.0")),
      (
        "runs",
        .array([
          .object([
            (
              "tool",
              .object([
                (
                  "driver",
                  .object([
                    ("name", .string("rulec")),
                    ("version", .string(toolVersion)),
                    ("rules", .array(rules)),
                  ])
                )
              ])
            ),
            ("originalUriBaseIds", .object([("%SRCROOT%", .object([("uri", .string("file://" + uriEncoded(base + "/")))]))])),
            ("columnKind", .string("unicodeCodePoints")),
            ("results", .array(results)),
          ])
        ])
      ),
    ])
    return log.rendered() + "\n"
  }

  /// The current directory, the base of relative URIs in SARIF.
  public static func currentDirectory() -> String { FileManager.default.currentDirectoryPath }

  /// A path as a URI path: every byte but unreserved characters and `/` percent-encoded (RFC 3986).
  public static func uriEncoded(_ path: String) -> String {
    var out = ""
    for b in path.utf8 {
      switch b {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
        out.unicodeScalars.append(Unicode.Scalar(b))
      default:
        out += "%" + String(b >> 4, radix: 16, uppercase: true) + String(b & 15, radix: 16, uppercase: true)
      }
    }
    return out
  }

  private static func level(_ s: Severity) -> String {
    switch s {
    case .error: "error"
    case .warning: "warning"
    case .note: "note"
    }
  }
}
