import Foundation
import RulesDiagnostics
import RulesSema
import RulesSource
import RulesSyntax

/// The editor's analysis of a rule file (the DSL), kept from one change to the next: the file is cut
/// into pieces, one per line that starts with `collector` (a line start is always between tokens: no
/// string or comment spans lines), and each piece is parsed and checked on its own. A change
/// re-analyses only the pieces whose bytes changed; the rest keep their syntax tree and diagnostics
/// and only move. Then the checks that span pieces run (unique ids, a file without collectors).
///
/// For a file without syntax errors this gives exactly what `rulec check` gives (a test compares
/// them over random edits). With syntax errors it can differ, on purpose: a half-typed collector
/// never swallows the next one, because each starts a piece of its own.
///
/// Measured on 10,000 collectors (5.9 MB): a one-character change costs one piece's parse and check
/// plus a walk over the line starts; see Documentation/Performance.md.
struct PiecewiseAnalysis {
  struct Piece {
    /// Where the piece starts in the document, as of the last update.
    var start: Int
    let bytes: [UInt8]
    /// The piece parsed on its own: ranges are relative to `start`.
    let file: RuleFile
    let diagnostics: [Diagnostic]
    let hadErrors: Bool
  }

  private(set) var pieces: [Piece] = []
  private(set) var path = ""
  /// How many pieces the last update parsed again (for tests and benchmarks).
  private(set) var reparsed = 0

  /// The offsets at which pieces start: 0, then every line whose first word is `collector`.
  static func cuts(_ bytes: [UInt8]) -> [Int] {
    var cuts = [0]
    let word = Array("collector".utf8)
    bytes.withUnsafeBufferPointer { b in
      var lineStart = 0
      let n = b.count
      while lineStart < n {
        var i = lineStart
        while i < n && (b[i] == 32 || b[i] == 9) { i += 1 }
        if lineStart > 0 && i + word.count <= n {
          var matches = true
          for k in 0..<word.count where b[i + k] != word[k] {
            matches = false
            break
          }
          if matches && (i + word.count == n || !Lexer.isNameContinue(b[i + word.count])) {
            cuts.append(lineStart)
          }
        }
        // The next line.
        while i < n && b[i] != 10 { i += 1 }
        lineStart = i + 1
      }
    }
    return cuts
  }

  /// Brings the analysis up to date with `bytes`, parsing and checking only the pieces that
  /// changed, and returns the document's diagnostics with offsets into `bytes` (sorted as a sink
  /// sorts them). `document` is the whole file, for the diagnostics that span pieces.
  mutating func update(_ document: SourceFile, options: CheckOptions) -> [Diagnostic] {
    let bytes = document.bytes
    let cuts = Self.cuts(bytes)
    var ranges: [Range<Int>] = []
    ranges.reserveCapacity(cuts.count)
    for (k, cut) in cuts.enumerated() { ranges.append(cut..<(k + 1 < cuts.count ? cuts[k + 1] : bytes.count)) }
    func same(_ old: Piece, _ range: Range<Int>) -> Bool {
      old.bytes.count == range.count && old.bytes.withUnsafeBufferPointer { o in
        bytes.withUnsafeBufferPointer { n in memcmp(o.baseAddress!, n.baseAddress! + range.lowerBound, range.count) == 0 }
      }
    }
    let reusable = path == document.path
    // Pieces equal from the front, then from the back; what lies between is parsed again.
    var front = 0
    while reusable && front < pieces.count && front < ranges.count && same(pieces[front], ranges[front]) { front += 1 }
    var back = 0
    while reusable && back < pieces.count - front && back < ranges.count - front
      && same(pieces[pieces.count - 1 - back], ranges[ranges.count - 1 - back])
    {
      back += 1
    }
    var updated: [Piece] = []
    updated.reserveCapacity(ranges.count)
    for k in 0..<front { updated.append(pieces[k]) }
    for k in front..<(ranges.count - back) { updated.append(Self.analyse(Array(bytes[ranges[k]]), path: document.path, options: options)) }
    for k in (pieces.count - back)..<pieces.count where back > 0 { updated.append(pieces[k]) }
    for k in updated.indices { updated[k].start = ranges[k].lowerBound }
    reparsed = ranges.count - back - front
    pieces = updated
    path = document.path

    // Each piece's diagnostics, moved to the document; then the checks that span pieces.
    let sink = DiagnosticSink()
    let checker = Checker(options: options, sink: sink)
    var seen: [String: SourceRange] = [:]
    var collectorCount = 0
    var unreadable = false
    for piece in pieces {
      for d in piece.diagnostics {
        sink.append(
          Diagnostic(
            d.message, file: document, range: d.range.shifted(by: piece.start),
            notes: d.notes.map { note in
              guard note.file === piece.file.file, let range = note.range else { return note }
              return DiagnosticNote(note.message, file: document, range: range.shifted(by: piece.start))
            }))
      }
      unreadable = unreadable || piece.hadErrors
      for collector in piece.file.collectors {
        collectorCount += 1
        let range = collector.id.range.shifted(by: piece.start)
        if let first = seen[collector.id.text] {
          checker.reportDuplicate(collector.id.text, file: document, range: range, first: (document, first))
        } else {
          seen[collector.id.text] = range
        }
      }
    }
    if collectorCount == 0 && !unreadable { checker.reportEmptyFile(document) }
    return sink.sorted
  }

  /// The collectors of the document, each with the offset to add to its ranges.
  var collectors: [(collector: Collector, offset: Int)] {
    pieces.flatMap { piece in piece.file.collectors.map { ($0, piece.start) } }
  }

  static func analyse(_ bytes: [UInt8], path: String, options: CheckOptions) -> Piece {
    let sink = DiagnosticSink()
    let file = Parser.parse(SourceFile(path: path, bytes: bytes), sink: sink)
    _ = Checker(options: options, sink: sink).checkEachCollector(of: file)
    return Piece(start: 0, bytes: bytes, file: file, diagnostics: sink.diagnostics, hadErrors: sink.hasErrors)
  }
}

extension SourceRange {
  func shifted(by offset: Int) -> SourceRange { SourceRange(start + offset, end + offset) }
}
