import Foundation
import RulesDiagnostics
import RulesSource
import RulesYAML
import Yams

/// The YAML form of a rule test file (`*.ruletest.yaml`, Grammar.md §13): the same cases as the
/// DSL, read into the same `TestFile`. Shape errors use the YAML front end's codes (`RC2xxx`); the
/// test codes (`RC5xxx`) are the same as the DSL's.
///
///     rules: uncertain.rule
///     tests:
///       - name: a confident output is left alone
///         events:
///           - event: {"status": {"code": 10000}, ...}        # or "recording.jsonl:12"
///             expect:
///               uncertain-general: {dropped: {stage: pre_queue, line: 8}}   # or accepted, ignored, repeated
public enum TestYAML {
  /// Whether a path names a YAML test file.
  public static func isYAML(_ path: String) -> Bool { path.hasSuffix(".ruletest.yaml") || path.hasSuffix(".ruletest.yml") }

  public static func parse(_ file: SourceFile, sink: DiagnosticSink) -> TestFile {
    let document = YAMLDocument(file, sink: sink)
    var result = TestFile(source: file, rules: nil, cases: [])
    guard let root = document.root, let fields = document.fields(root, "the file", known: ["rules", "tests"]) else { return result }
    for (key, keyNode, value) in fields {
      switch key {
      case "rules": result.rules = string(value, "'rules'", document)
      default:
        guard let tests = document.sequence(value, "'tests'") else { continue }
        result.cases = tests.compactMap { testCase($0, document, file: file, sink: sink) }
        _ = keyNode
      }
    }
    if !fields.contains(where: { $0.key == "tests" }) {
      document.emit(YAMLMessage.missingKey("tests", in: "the file"), root)
    }
    return result
  }

  static func string(_ node: Node, _ what: String, _ document: YAMLDocument) -> Located<String>? {
    guard let s = node.scalar else {
      document.emit(YAMLMessage.wrongType(what, expected: "a string", found: document.describe(node)), node)
      return nil
    }
    return Located(s.string, document.range(node))
  }

  static func testCase(_ node: Node, _ document: YAMLDocument, file: SourceFile, sink: DiagnosticSink) -> TestCase? {
    guard let fields = document.fields(node, "a test", known: ["name", "rules", "events"]) else { return nil }
    guard let nameNode = fields.first(where: { $0.key == "name" })?.value, let name = string(nameNode, "a test's 'name'", document) else {
      if !fields.contains(where: { $0.key == "name" }) { document.emit(YAMLMessage.missingKey("name", in: "a test"), node) }
      return nil
    }
    var test = TestCase(name: name.value, range: name.range, rules: nil, steps: [])
    var expectations = 0
    for (key, _, value) in fields {
      switch key {
      case "rules": test.rules = string(value, "a test's 'rules'", document)
      case "events":
        for item in document.sequence(value, "a test's 'events'") ?? [] {
          guard let step = step(item, document) else { continue }
          expectations += step.expectations.count
          test.steps.append(step)
        }
      default: break
      }
    }
    if !fields.contains(where: { $0.key == "events" }) { document.emit(YAMLMessage.missingKey("events", in: "a test"), node) }
    if expectations == 0 {
      sink.emit(
        DiagnosticMessage(.testCannotFail, "test '\(test.name)' expects nothing, so it cannot fail", help: "give an event an 'expect' mapping: {COLLECTOR: accepted}"),
        file: file, range: name.range)
    }
    return test
  }

  static func step(_ node: Node, _ document: YAMLDocument) -> TestStep? {
    guard let fields = document.fields(node, "an event", known: ["event", "expect"]) else { return nil }
    guard let eventNode = fields.first(where: { $0.key == "event" })?.value else {
      document.emit(YAMLMessage.missingKey("event", in: "an event"), node)
      return nil
    }
    let range = document.range(eventNode)
    var step: TestStep
    if let scalar = eventNode.scalar {
      let text = scalar.string
      guard let colon = text.lastIndex(of: ":"), colon > text.startIndex, let line = Int(text[text.index(after: colon)...]), line >= 1 else {
        document.emit(
          DiagnosticMessage(.testBadEvent, "'\(text)' is not FILE:LINE", help: "name a line of a recording, as recording.jsonl:12, or write the output as a mapping"),
          eventNode)
        return nil
      }
      step = TestStep(event: .recording(path: String(text[..<colon]), line: line), range: range, expectations: [])
    } else {
      var json: [UInt8] = []
      writeJSON(eventNode, into: &json)
      step = TestStep(event: .inline(json), range: range, expectations: [])
    }
    if let expect = fields.first(where: { $0.key == "expect" })?.value {
      guard let mapping = expect.mapping else {
        document.emit(YAMLMessage.wrongType("'expect'", expected: "a mapping of collector ids to outcomes", found: document.describe(expect)), expect)
        return step
      }
      for (key, value) in mapping {
        guard let collector = key.scalar?.string else { continue }
        let keyRange = document.range(key)
        guard let outcome = outcome(value, document) else { continue }
        step.expectations.append(
          Expectation(
            collector: Located(collector, keyRange), outcome: outcome, range: keyRange.union(document.range(value)),
            lineRange: lineRange(value, document)))
      }
    }
    return step
  }

  static let outcomes = ["accepted", "dropped", "ignored", "repeated"]

  /// `accepted`, `dropped`, `ignored`, `repeated`, or `{accepted: {id, inclusion_probability,
  /// dataset_ids}}`, `{dropped: {stage, line}}`.
  static func outcome(_ node: Node, _ document: YAMLDocument) -> Expectation.Outcome? {
    let word: String
    var details: Node?
    if let s = node.scalar {
      word = s.string
    } else if let mapping = node.mapping, mapping.count == 1, let key = mapping.first?.key.scalar?.string {
      word = key
      details = mapping.first?.value
    } else {
      document.emit(YAMLMessage.wrongType("an outcome", expected: "accepted, dropped, ignored or repeated", found: document.describe(node)), node)
      return nil
    }
    switch word {
    case "accepted":
      var fields = Expectation.ItemFields()
      if let details, let entries = document.fields(details, "'accepted'", known: ["id", "inclusion_probability", "dataset_ids"]) {
        for (key, _, value) in entries {
          switch key {
          case "id": fields.id = value.scalar?.string
          case "inclusion_probability":
            guard let n = value.scalar.flatMap({ Double($0.string) }) else {
              document.emit(YAMLMessage.wrongType("'inclusion_probability'", expected: "a number", found: document.describe(value)), value)
              continue
            }
            fields.inclusionProbability = n
          default:
            fields.datasetIDs = document.sequence(value, "'dataset_ids'")?.compactMap { $0.scalar?.string }
          }
        }
      }
      return .accepted(fields)
    case "dropped":
      var stage: Expectation.Stage?
      var line: Int?
      var by: String?
      if let details, let entries = document.fields(details, "'dropped'", known: ["stage", "line", "by"]) {
        for (key, _, value) in entries {
          if key == "by" {
            by = value.scalar?.string
          } else if key == "stage" {
            stage = value.scalar.flatMap { Expectation.Stage(rawValue: $0.string) }
            if stage == nil {
              document.emit(YAMLMessage.wrongType("'stage'", expected: "pre_queue or post_queue", found: document.describe(value)), value)
            }
          } else {
            line = value.scalar.flatMap { Int($0.string) }
            if line == nil { document.emit(YAMLMessage.wrongType("'line'", expected: "a line number", found: document.describe(value)), value) }
          }
        }
      }
      return .dropped(stage: stage, line: line, by: by)
    case "ignored": return .ignored
    case "repeated": return .repeated
    default:
      document.emit(
        YAMLMessage.wrongType(
          "an outcome", expected: "accepted, dropped, ignored or repeated",
          found: "'\(word)'" + (Spelling.suggestion(for: word, among: outcomes).map { " (did you mean '\($0)'?)" } ?? "")),
        node)
      return nil
    }
  }

  /// Where `dropped: {line: N}` writes N, for RC5003's caret.
  static func lineRange(_ node: Node, _ document: YAMLDocument) -> SourceRange? {
    guard let details = node.mapping?.first?.value.mapping else { return nil }
    for (key, value) in details where key.scalar?.string == "line" || key.scalar?.string == "by" { return document.range(value) }
    return nil
  }

  /// A YAML node as JSON: plain scalars that YAML reads as null, booleans or numbers are written
  /// as such, every other scalar as a string.
  static func writeJSON(_ node: Node, into out: inout [UInt8]) {
    switch node {
    case .mapping(let m):
      out.append(UInt8(ascii: "{"))
      for (k, (key, value)) in m.enumerated() {
        if k > 0 { out.append(UInt8(ascii: ",")) }
        appendString(key.scalar?.string ?? "", to: &out)
        out.append(UInt8(ascii: ":"))
        writeJSON(value, into: &out)
      }
      out.append(UInt8(ascii: "}"))
    case .sequence(let s):
      out.append(UInt8(ascii: "["))
      for (k, item) in s.enumerated() {
        if k > 0 { out.append(UInt8(ascii: ",")) }
        writeJSON(item, into: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .scalar(let s):
      let text = s.string
      if s.style == .plain {
        if ["null", "~", "", "Null", "NULL"].contains(text) { out += Array("null".utf8); return }
        if ["true", "false"].contains(text) { out += Array(text.utf8); return }
        if isJSONNumber(text) { out += Array(text.utf8); return }
      }
      appendString(text, to: &out)
    case .alias:
      out += Array("null".utf8)
    }
  }

  /// Whether text is a number as JSON writes one (`-0.5`, `10000`, `1e-3`; not `.5`, `007`, `0x1F`).
  static func isJSONNumber(_ text: String) -> Bool {
    let b = Array(text.utf8)
    var i = 0
    func digits() -> Int {
      let start = i
      while i < b.count && b[i] >= 48 && b[i] <= 57 { i += 1 }
      return i - start
    }
    if i < b.count && b[i] == UInt8(ascii: "-") { i += 1 }
    let first = i
    guard digits() > 0, !(b[first] == 48 && i - first > 1) else { return false }
    if i < b.count && b[i] == UInt8(ascii: ".") {
      i += 1
      guard digits() > 0 else { return false }
    }
    if i < b.count && (b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")) {
      i += 1
      if i < b.count && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) { i += 1 }
      guard digits() > 0 else { return false }
    }
    return i == b.count
  }

  static func appendString(_ text: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += [92, 34]
      case "\\": out += [92, 92]
      case "\n": out += [92, 110]
      case "\t": out += [92, 116]
      case "\r": out += [92, 114]
      default:
        if scalar.value < 0x20 {
          out += Array(String(format: "\\u%04x", scalar.value).utf8)
        } else {
          out += Array(String(scalar).utf8)
        }
      }
    }
    out.append(UInt8(ascii: "\""))
  }
}
