import Foundation
import RulesDiagnostics
import RulesSource
import RulesSyntax
import Yams

/// Which concepts the rules of one collector read, to find map entries nobody uses.
struct ConceptUsage {
  var names: Set<String> = []
  /// Some rule reads a whole concept list (`max(concepts)`, `any concept > 0.5`), so every target counts.
  var wholeList = false

  mutating func merge(_ other: ConceptUsage) {
    names.formUnion(other.names)
    wholeList = wholeList || other.wholeList
  }
}

extension Checker {
  /// A map entry with where it came from, for diagnostics.
  struct LocatedEntry {
    var source: String
    var target: String
    var range: SourceRange
  }

  func checkMap(_ syntax: ConceptMapSyntax, clause: Clause, file: SourceFile) -> ConceptMap? {
    var entries: [LocatedEntry] = []
    for entry in syntax.entries {
      for s in entry.sources {
        entries.append(LocatedEntry(source: s.text, target: entry.target.text, range: s.range))
      }
    }
    if let path = syntax.file {
      guard let loaded = loadMapFile(path, file: file) else { return nil }
      entries += loaded
    }
    var targetOf: [String: String] = [:]
    var firstRange: [String: SourceRange] = [:]
    var ok = true
    for e in entries {
      if let existing = targetOf[e.source] {
        if existing != e.target {
          emit(
            SemaMessage.mapConflict(e.source, existing, e.target), file, e.range,
            notes: [DiagnosticNote("first mapped here", file: file, range: firstRange[e.source])])
          ok = false
        }
        continue
      }
      targetOf[e.source] = e.target
      firstRange[e.source] = e.range
    }
    // Cycles and chains: walk from each source through targets that are themselves sources.
    var reportedCycles = Set<String>()
    var reportedChains = Set<String>()
    for e in entries where firstRange[e.source] == e.range {
      var path = [e.source]
      var current = e.target
      var cycle: [String]?
      while true {
        if current == e.source {
          cycle = path + [current]
          break
        }
        if path.contains(current) { break }  // a cycle that does not pass through this source
        guard let next = targetOf[current] else { break }
        path.append(current)
        current = next
      }
      if let cycle {
        let key = Set(cycle).sorted().joined(separator: "\u{0}")
        if reportedCycles.insert(key).inserted {
          emit(SemaMessage.mapCycle(cycle), file, e.range)
        }
        ok = false
      } else if let next = targetOf[e.target], reportedChains.insert(e.target).inserted {
        emit(SemaMessage.mapChain(e.target, next), file, e.range)
      }
    }
    if let catalog = options.concepts {
      for e in entries where !catalog.names.contains(e.source) {
        emit(
          SemaMessage.unknownConcept(e.source, suggestion: Spelling.suggestion(for: e.source, among: catalog.names)),
          file, e.range)
      }
    }
    let dropUnmapped = syntax.unmapped?.text == "drop"
    return ok ? ConceptMap(targetOf: targetOf, dropUnmapped: dropUnmapped) : nil
  }

  func lintMapUsage(_ syntax: ConceptMapSyntax, clause: Clause, map: ConceptMap, usage: ConceptUsage, file: SourceFile) {
    guard !usage.wholeList else { return }
    var reported = Set<String>()
    for entry in syntax.entries where !usage.names.contains(entry.target.text) && !reported.contains(entry.target.text) {
      reported.insert(entry.target.text)
      emit(SemaMessage.unusedMapEntry(entry.target.text), file, entry.range)
    }
  }

  /// Reads `map file "PATH"`: CSV rows `source, target`, or YAML `target: [sources]`.
  func loadMapFile(_ path: Word, file: SourceFile) -> [LocatedEntry]? {
    let base = URL(fileURLWithPath: file.path).deletingLastPathComponent()
    let url = path.text.hasPrefix("/") ? URL(fileURLWithPath: path.text) : base.appendingPathComponent(path.text)
    guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8)
    else {
      emit(SemaMessage.mapFile("cannot read map file '\(path.text)'"), file, path.range)
      return nil
    }
    let lower = path.text.lowercased()
    if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") {
      guard let node = try? Yams.compose(yaml: text), let mapping = node.mapping else {
        emit(SemaMessage.mapFile("map file '\(path.text)' is not a YAML mapping of target: [sources]"), file, path.range)
        return nil
      }
      var entries: [LocatedEntry] = []
      for (k, v) in mapping {
        guard let target = k.string else { continue }
        let sources = v.sequence.map { $0.compactMap(\.string) } ?? v.string.map { [$0] } ?? []
        if sources.isEmpty {
          emit(SemaMessage.mapFile("map file '\(path.text)': target '\(target)' has no sources"), file, path.range)
          return nil
        }
        entries += sources.map { LocatedEntry(source: $0, target: target, range: path.range) }
      }
      return entries
    }
    var entries: [LocatedEntry] = []
    for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
      if line.isEmpty || line.hasPrefix("#") { continue }
      let fields = Checker.csvFields(line)
      if index == 0 && fields.map({ $0.lowercased() }) == ["source", "target"] { continue }
      guard fields.count == 2, !fields[0].isEmpty, !fields[1].isEmpty else {
        emit(SemaMessage.mapFile("map file '\(path.text)' line \(index + 1): expected 'source, target'"), file, path.range)
        return nil
      }
      entries.append(LocatedEntry(source: fields[0], target: fields[1], range: path.range))
    }
    return entries
  }

  /// Splits one CSV line; fields may be double-quoted with `""` for a quote.
  static func csvFields(_ line: String) -> [String] {
    var fields: [String] = []
    var field = ""
    var quoted = false
    var chars = Array(line)[...]
    while let c = chars.popFirst() {
      if quoted {
        if c == "\"" {
          if chars.first == "\"" {
            field.append("\"")
            chars.removeFirst()
          } else {
            quoted = false
          }
        } else {
          field.append(c)
        }
      } else if c == "\"" {
        quoted = true
      } else if c == "," {
        fields.append(field.trimmingCharacters(in: .whitespaces))
        field = ""
      } else {
        field.append(c)
      }
    }
    fields.append(field.trimmingCharacters(in: .whitespaces))
    return fields
  }
}
