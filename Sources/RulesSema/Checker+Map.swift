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
    // Cycles and chains. Each concept maps to at most one target, so following targets from every
    // source once, marking what was walked, finds every cycle in time linear in the map (walking
    // the whole chain again from each source was cubic: a chain of 5,000 steps did not finish).
    var order: [String: Int] = [:]
    var sources: [LocatedEntry] = []
    for e in entries where firstRange[e.source] == e.range {
      order[e.source] = sources.count
      sources.append(e)
    }
    var walked: [String: Bool] = [:]  // false while on the current walk, true once finished
    var onCycle = Set<String>()
    var cycles: [[String]] = []
    for e in sources where walked[e.source] == nil {
      var stack: [String] = []
      var node = e.source
      while walked[node] == nil, let next = targetOf[node] {
        walked[node] = false
        stack.append(node)
        node = next
      }
      if walked[node] == false, let start = stack.firstIndex(of: node) {
        let members = Array(stack[start...])
        onCycle.formUnion(members)
        cycles.append(members)
      }
      for n in stack { walked[n] = true }
    }
    for members in cycles {
      // Reported once, at the cycle's first source in the order written, starting from it.
      let first = members.min { order[$0]! < order[$1]! }!
      var cycle = [first]
      var current = targetOf[first]!
      while current != first {
        cycle.append(current)
        current = targetOf[current]!
      }
      cycle.append(first)
      emit(SemaMessage.mapCycle(cycle), file, firstRange[first]!)
      ok = false
    }
    var reportedChains = Set<String>()
    for e in sources where !onCycle.contains(e.source) {
      if let next = targetOf[e.target], reportedChains.insert(e.target).inserted {
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
