import Foundation
import RulesDiagnostics
import RulesSource
import RulesSyntax
import Yams

/// Reads collectors written in YAML into the same syntax tree as the DSL, so one checker serves both.
///
/// The file is read with Yams' `compose`, which keeps a position on every node. Expressions and
/// statements inside YAML strings go through the DSL's own lexer and parser, lexing the YAML file's
/// bytes in place when the scalar is written plainly, so every diagnostic points at the right line
/// and column of the YAML file. The original Collectors feature's shapes are accepted too:
/// `pre_queue_random_sample`, `random_sample: {keep_fraction}` and `concept_thresholder`.
public struct YAMLFrontEnd {
  let file: SourceFile
  let sink: DiagnosticSink
  /// Where each line starts as YAML counts lines: after `\n`, `\r\n`, a lone `\r`, NEL, LS or PS
  /// (the rule file's own table breaks at `\n` only, so a lone `\r` put marks past the file's end).
  let yamlLineStarts: [Int]

  init(file: SourceFile, sink: DiagnosticSink) {
    self.file = file
    self.sink = sink
    yamlLineStarts = Self.lineStarts(file.bytes)
  }

  public static func parse(_ file: SourceFile, sink: DiagnosticSink) -> RuleFile {
    let front = YAMLFrontEnd(file: file, sink: sink)
    return RuleFile(file: file, collectors: front.run(), comments: [])
  }

  // MARK: Positions

  static func lineStarts(_ b: [UInt8]) -> [Int] {
    var starts = [0]
    var i = 0
    while i < b.count {
      let length = breakLength(b, i)
      if length > 0 {
        i += length
        starts.append(i)
      } else {
        i += 1
      }
    }
    return starts
  }

  /// Where the first byte that does not start a valid UTF-8 sequence lies, or nil.
  static func firstInvalidUTF8(_ b: [UInt8]) -> Range<Int>? {
    b.withUnsafeBufferPointer { p -> Range<Int>? in
      var i = 0
      while i < p.count {
        if p[i] < 0x80 {
          i += 1
          continue
        }
        let length = Bytes.utf8Length(p.baseAddress!, at: i, end: p.count)
        if length == 0 { return i..<(i + 1) }
        i += length
      }
      return nil
    }
  }

  /// The length of the line break at `i` (0 when there is none).
  static func breakLength(_ b: [UInt8], _ i: Int) -> Int {
    switch b[i] {
    case 0x0A: return 1
    case 0x0D: return i + 1 < b.count && b[i + 1] == 0x0A ? 2 : 1
    case 0xC2 where i + 1 < b.count && b[i + 1] == 0x85: return 2
    case 0xE2 where i + 2 < b.count && b[i + 1] == 0x80 && (b[i + 2] == 0xA8 || b[i + 2] == 0xA9): return 3
    default: return 0
    }
  }

  /// The byte offset of a Yams mark (1-based line and column in characters), always inside the file.
  func offset(line: Int, column: Int) -> Int {
    guard line >= 1 else { return 0 }
    guard line <= yamlLineStarts.count else { return file.bytes.count }
    let b = file.bytes
    var i = yamlLineStarts[line - 1]
    var remaining = column - 1
    while remaining > 0 && i < b.count && Self.breakLength(b, i) == 0 {
      i += 1
      while i < b.count && b[i] & 0xC0 == 0x80 { i += 1 }
      remaining -= 1
    }
    return min(i, b.count)
  }

  func offset(_ mark: Mark?) -> Int {
    guard let mark else { return 0 }
    return offset(line: mark.line, column: mark.column)
  }

  /// The source range of a node; for a scalar it covers the scalar as written (with its quotes).
  func range(_ node: Node) -> SourceRange {
    let start = offset(node.mark)
    var end = start + 1
    if let scalar = node.scalar, let content = contentStart(node, scalar) {
      if content.exact {
        end = content.start + trimmed(scalar).count
      } else if !scalar.string.isEmpty {
        end = sourceMap(scalar, from: content.start).limit
      }
      if scalar.style == .singleQuoted || scalar.style == .doubleQuoted { end += 1 }  // the closing quote
    }
    return SourceRange(start, max(start, min(end, file.bytes.count)))
  }

  /// A scalar's text as the DSL reads it: a block scalar without its final line breaks.
  func trimmed(_ scalar: Node.Scalar) -> [UInt8] {
    var text = Array(scalar.string.utf8)
    if scalar.style == .literal || scalar.style == .folded {
      while text.last == 10 { text.removeLast() }
    }
    return text
  }

  func sourceMap(_ scalar: Node.Scalar, from start: Int) -> ScalarSourceMap {
    ScalarSourceMap(decoded: trimmed(scalar), file: file.bytes, from: start, style: scalar.style)
  }

  /// Where a scalar's text starts in the file, and whether the file holds it byte for byte there.
  func contentStart(_ node: Node, _ scalar: Node.Scalar) -> (start: Int, exact: Bool)? {
    var start = offset(node.mark)
    switch scalar.style {
    case .singleQuoted, .doubleQuoted: start += 1
    case .literal, .folded:
      // The text starts on the line after the indicator, after its indentation.
      let line = file.lineIndex(of: start)
      guard line + 1 < file.lineStarts.count else { return nil }
      start = file.lineStarts[line + 1]
      while start < file.bytes.count && (file.bytes[start] == 32 || file.bytes[start] == 9) { start += 1 }
    default: break
    }
    let text = trimmed(scalar)
    let end = start + text.count
    let exact = end <= file.bytes.count && file.bytes[start..<end].elementsEqual(text)
    return (start, exact)
  }

  func describe(_ node: Node) -> String {
    switch node {
    case .scalar(let s): s.string.isEmpty ? "an empty value" : "'\(s.string.count > 30 ? String(s.string.prefix(30)) + "…" : s.string)'"
    case .mapping: "a mapping"
    case .sequence: "a list"
    case .alias: "an alias"
    }
  }

  func emit(_ m: DiagnosticMessage, _ node: Node) {
    sink.emit(m, file: file, range: range(node))
  }

  // MARK: Expressions inside scalars

  /// Lexes a scalar's text as DSL tokens, and the file whose bytes those tokens index.
  ///
  /// A scalar the file holds byte for byte is lexed in place. Otherwise (escapes, folding) the
  /// decoded text is spliced after the file's bytes up to the scalar and lexed there; `mover` then
  /// takes ranges in that text back to where their characters are written (`ScalarSourceMap`).
  func lex(_ node: Node, _ scalar: Node.Scalar, local: DiagnosticSink) -> (tokens: [Token], file: SourceFile, mover: RangeMover?) {
    let content = contentStart(node, scalar) ?? (offset(node.mark), false)
    let text = trimmed(scalar)
    if content.exact {
      let lexer = Lexer.lex(file, range: content.start..<(content.start + text.count), sink: local)
      return (lexer.tokens, file, nil)
    }
    let start = min(content.start, file.bytes.count)
    let spliced = SourceFile(path: file.path, bytes: Array(file.bytes[0..<start]) + text)
    let lexer = Lexer.lex(spliced, range: start..<spliced.bytes.count, sink: local)
    let map = sourceMap(scalar, from: start)
    let mover = RangeMover { r in map.map(r.start - start, r.end - start) }
    return (lexer.tokens, spliced, mover)
  }

  /// Re-emits diagnostics made while parsing a scalar against the YAML file itself.
  func forward(_ local: DiagnosticSink, within node: Node, mover: RangeMover?) {
    let outer = range(node)
    for d in local.diagnostics {
      guard d.file !== file else {
        sink.emit(d.message, file: file, range: d.range, notes: d.notes)
        continue
      }
      let r = mover.map { $0(d.range) } ?? outer
      let notes = d.notes.map { note in
        guard note.file === d.file, let range = note.range else { return note }
        return DiagnosticNote(note.message, file: file, range: mover.map { $0(range) } ?? outer)
      }
      sink.emit(d.message, file: file, range: SourceRange(min(r.start, file.bytes.count), min(r.end, file.bytes.count)), notes: notes)
    }
  }

  /// Parses a scalar's text with one of the DSL parser's entry points, reporting into the YAML file;
  /// `move` takes the result's ranges to the file when the scalar was not lexed in place.
  func parseScalar<T>(
    _ node: Node, _ what: String, move: (RangeMover, T) -> T, _ parse: ([Token], SourceFile, DiagnosticSink) -> T?
  ) -> T? {
    guard let scalar = scalarValue(node, what) else { return nil }
    let local = DiagnosticSink()
    let (tokens, source, mover) = lex(node, scalar, local: local)
    let result = parse(tokens, source, local)
    forward(local, within: node, mover: mover)
    guard let result, let mover else { return result }
    return move(mover, result)
  }

  func expression(_ node: Node) -> Expr? {
    parseScalar(node, "an expression", move: { $0.expr($1) }) { Parser.parseExpression(tokens: $0, file: $1, sink: $2) }
  }

  func statement(_ node: Node) -> Statement? {
    parseScalar(node, "a statement", move: { $0.statement($1) }) { Parser.parseStatement(tokens: $0, file: $1, sink: $2) }
  }

  func mapEntry(_ node: Node) -> MapEntry? {
    parseScalar(node, "a map entry such as 'dog, puppy -> canine'", move: { $0.mapEntry($1) }) {
      Parser.parseMapEntry(tokens: $0, file: $1, sink: $2)
    }
  }

  // MARK: Node helpers

  func scalarValue(_ node: Node, _ what: String) -> Node.Scalar? {
    if let s = node.scalar { return s }
    emit(YAMLMessage.wrongType(what, expected: "a string", found: describe(node)), node)
    return nil
  }

  func word(_ node: Node, _ what: String) -> Word? {
    guard let s = scalarValue(node, what) else { return nil }
    return Word(s.string, range(node), quoted: !Printer.isBareWord(s.string))
  }

  /// The pairs of a mapping, reporting unknown keys; nil (after a diagnostic) if it is not a mapping.
  func fields(_ node: Node, _ context: String, known: [String]) -> [(key: String, keyNode: Node, value: Node)]? {
    guard let mapping = node.mapping else {
      emit(YAMLMessage.wrongType(context, expected: "a mapping", found: describe(node)), node)
      return nil
    }
    var out: [(String, Node, Node)] = []
    for (k, v) in mapping {
      guard let key = k.scalar?.string else {
        emit(YAMLMessage.wrongType("a key in \(context)", expected: "a string", found: describe(k)), k)
        continue
      }
      guard known.contains(key) else {
        emit(YAMLMessage.unknownKey(key, in: context, suggestion: Spelling.suggestion(for: key, among: known), known: known), k)
        continue
      }
      out.append((key, k, v))
    }
    return out
  }

  func sequence(_ node: Node, _ what: String) -> [Node]? {
    if let s = node.sequence { return Array(s) }
    emit(YAMLMessage.wrongType(what, expected: "a list", found: describe(node)), node)
    return nil
  }

  func keyWord(_ keyNode: Node, _ text: String) -> Word {
    let r = range(keyNode)
    return Word(text, SourceRange(r.start, r.start + text.utf8.count))
  }

  /// A number literal built from a YAML scalar (`0.25`, `25%`).
  func numberLiteral(_ node: Node, _ what: String) -> Expr? {
    guard let s = node.scalar else {
      emit(YAMLMessage.wrongType(what, expected: "a number", found: describe(node)), node)
      return nil
    }
    var text = s.string.trimmingCharacters(in: .whitespaces)
    let percent = text.hasSuffix("%")
    if percent { text.removeLast() }
    guard let value = Double(text), value.isFinite else {
      emit(YAMLMessage.wrongType(what, expected: "a number", found: describe(node)), node)
      return nil
    }
    return Expr(.number(percent ? value / 100 : value, percent: percent, text: s.string.trimmingCharacters(in: .whitespaces)), range(node))
  }

  // MARK: Document

  /// The file's YAML document, or nil (with its error reported, or for an empty file).
  func compose() -> Node? {
    // Yams would read invalid UTF-8 as U+FFFD, silently, and positions after it would no longer
    // match the file's bytes: the file is refused at the first invalid byte, as a rule file is.
    if let bad = Self.firstInvalidUTF8(file.bytes) {
      sink.emit(SyntaxMessage.invalidUTF8(file.bytes[bad.lowerBound]), file: file, range: SourceRange(bad.lowerBound, bad.upperBound))
      return nil
    }
    let text = String(decoding: file.bytes, as: UTF8.self)
    do {
      return try Yams.compose(yaml: text)
    } catch let error as YamlError {
      report(error)
      return nil
    } catch {
      sink.emit(YAMLMessage.syntax("\(error)"), file: file, range: .at(0))
      return nil
    }
  }

  func run() -> [Collector] {
    guard let root = compose() else { return [] }
    let items: [Node]
    if let list = root.sequence {
      items = Array(list)
    } else if let fields = fields(root, "the file", known: ["collectors"]) {
      guard let value = fields.first(where: { $0.key == "collectors" })?.value else {
        if root.mapping?.isEmpty == false {
          emit(YAMLMessage.missingKey("collectors", in: "the file"), root)
        }
        return []
      }
      if case .scalar(let s) = value, s.string.isEmpty { return [] }
      guard let list = sequence(value, "'collectors'") else { return [] }
      items = list
    } else {
      return []
    }
    return items.compactMap(collector)
  }

  func report(_ error: YamlError) {
    switch error {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      var message = problem
      if let context { message += " " + context.text }
      // At the end of the file (an unclosed `[`), the mark is past the last byte: the caret goes
      // on the end, inside the file.
      let at = offset(line: mark.line, column: mark.column)
      sink.emit(YAMLMessage.syntax(message), file: file, range: SourceRange(at, min(at + 1, file.bytes.count)))
    case .duplicatedKeysInMapping(let duplicates, let context):
      let at = offset(line: context.mark.line, column: context.mark.column)
      // Yams names the first of the repeated keys; point at the repeat when it can be found.
      var target = at
      if let key = duplicates.first {
        let needle = Array((key + ":").utf8)
        let startLine = file.lineIndex(of: at)
        let column = at - file.lineStarts[startLine]
        for line in (startLine + 1)..<file.lineStarts.count {
          let r = file.lineRange(line)
          let candidate = r.lowerBound + column
          if candidate + needle.count <= r.upperBound && Array(file.bytes[candidate..<candidate + needle.count]) == needle {
            target = candidate
            break
          }
        }
      }
      let length = duplicates.first?.utf8.count ?? 1
      sink.emit(YAMLMessage.duplicateKey(duplicates), file: file, range: SourceRange(target, min(target + length, file.bytes.count)))
    case .reader(let problem, let offset, _, _):
      sink.emit(YAMLMessage.syntax(problem), file: file, range: .at(offset.map { min($0, file.bytes.count) } ?? 0))
    default:
      sink.emit(YAMLMessage.syntax("\(error)"), file: file, range: .at(0))
    }
  }
}

