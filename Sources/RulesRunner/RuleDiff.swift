import Foundation
import RulesEngine
import RulesSema
import RulesSource
import RulesSyntax

/// `rulec diff OLD NEW --events FILE`: what changing the rules from OLD to NEW changes, statically
/// (collectors added and removed, statements added, removed and changed, thresholds moved) and on a
/// recording (per collector: inputs gained and lost, accepted counts and rates, the funnel side by
/// side). Both versions run in one pass, as one program whose collectors are OLD's then NEW's (as
/// `--sweep` runs its variants), so each line is read and decoded once.
public struct RuleDiff {
  /// A collector in either version, matched by id.
  public struct Pair: Sendable {
    public var id: String
    /// Indices into the merged program.
    public var old: Int?
    public var new: Int?
  }

  /// One statement-level difference in a collector present in both versions.
  public struct Change: Sendable {
    public enum Kind: String, Sendable {
      case added, removed, changed
    }

    public var kind: Kind
    public var stage: String
    public var oldLine: Int?
    public var newLine: Int?
    public var oldText: String?
    public var newText: String?
    /// For a changed statement of the same shape: the numbers that moved, old → new.
    public var moved: [(Double, Double)] = []
  }

  public var pairs: [Pair] = []
  /// The merged program: OLD's collectors (ids prefixed `old/`), then NEW's (`new/`). Sampling keeps
  /// each collector's own id as its seed, so both sides sample as they would alone.
  public var program: CheckedProgram
  let oldProgram: CheckedProgram
  let newProgram: CheckedProgram

  public init(old: CheckedProgram, new: CheckedProgram) {
    oldProgram = old
    newProgram = new
    func tagged(_ c: CheckedCollector, _ side: String) -> CheckedCollector {
      var variant = c
      variant.id = "\(side)/\(c.id)"
      func pin(_ s: Statement) -> Statement {
        guard case .sample(let rate, let by, nil) = s.kind else { return s }
        var pinned = s
        pinned.kind = .sample(rate: rate, by: by, seed: Word(c.id, s.range))
        return pinned
      }
      variant.preQueue = c.preQueue?.map(pin)
      variant.postQueue = c.postQueue?.map(pin)
      return variant
    }
    program = CheckedProgram(collectors: old.collectors.map { tagged($0, "old") } + new.collectors.map { tagged($0, "new") })
    var byID: [String: Int] = [:]
    for (k, c) in old.collectors.enumerated() {
      byID[c.id] = pairs.count
      pairs.append(Pair(id: c.id, old: k, new: nil))
    }
    for (k, c) in new.collectors.enumerated() {
      if let p = byID[c.id] {
        pairs[p].new = old.collectors.count + k
      } else {
        pairs.append(Pair(id: c.id, old: nil, new: old.collectors.count + k))
      }
    }
  }

  func collector(_ index: Int) -> CheckedCollector {
    index < oldProgram.collectors.count ? oldProgram.collectors[index] : newProgram.collectors[index - oldProgram.collectors.count]
  }

  // MARK: Static

  /// The clauses that differ (source, destination, datasets, collect_outputs), as `name: old → new`.
  public func clauseChanges(_ pair: Pair) -> [String] {
    guard let o = pair.old.map(collector), let n = pair.new.map(collector) else { return [] }
    var out: [String] = []
    if o.source != n.source { out.append("source: \(o.source.text) → \(n.source.text)") }
    if (o.destinationUser, o.destinationApp) != (n.destinationUser, n.destinationApp) {
      out.append("destination: \(o.destinationUser)/\(o.destinationApp) → \(n.destinationUser)/\(n.destinationApp)")
    }
    if o.datasetIDs != n.datasetIDs { out.append("datasets: [\(o.datasetIDs.joined(separator: ", "))] → [\(n.datasetIDs.joined(separator: ", "))]") }
    if o.collectOutputs != n.collectOutputs { out.append("collect_outputs changed") }
    if (o.conceptMap == nil) != (n.conceptMap == nil) { out.append(o.conceptMap == nil ? "map added" : "map removed") }
    return out
  }

  /// The statements of both versions side by side, stage by stage: the longest common subsequence
  /// of their canonical texts stays in place; what is left pairs up in order when two statements
  /// differ only in their numbers (a threshold moved), else stands alone (removed, or added). Indices
  /// count across both stages, as the run report's statements do.
  public func alignment(_ pair: Pair) -> [(stage: String, old: Int?, new: Int?)] {
    let o = pair.old.map(collector)
    let n = pair.new.map(collector)
    var rows: [(String, Int?, Int?)] = []
    let stages = [
      ("pre_queue", o?.preQueue ?? [], n?.preQueue ?? [], 0, 0),
      ("post_queue", o?.postQueue ?? [], n?.postQueue ?? [], o?.preQueue?.count ?? 0, n?.preQueue?.count ?? 0),
    ]
    for (stage, old, new, oldBase, newBase) in stages {
      let a = old.map { Printer.statement($0, canonicalNumbers: true) }
      let b = new.map { Printer.statement($0, canonicalNumbers: true) }
      var (i, j) = (0, 0)
      for (ci, cj) in Self.lcs(a, b) + [(a.count, b.count)] {
        var unpaired = Array(j..<cj)
        for r in i..<ci {
          if let k = unpaired.firstIndex(where: { Self.shape(b[$0]) == Self.shape(a[r]) }) {
            rows.append((stage, oldBase + r, newBase + unpaired.remove(at: k)))
          } else {
            rows.append((stage, oldBase + r, nil))
          }
        }
        for m in unpaired { rows.append((stage, nil, newBase + m)) }
        if ci < a.count { rows.append((stage, oldBase + ci, newBase + cj)) }
        (i, j) = (ci + 1, cj + 1)
      }
    }
    return rows.map { (stage: $0.0, old: $0.1, new: $0.2) }
  }

  /// A statement of a collector by its index across both stages.
  func statement(_ c: CheckedCollector, _ index: Int) -> Statement {
    let pre = c.preQueue ?? []
    return index < pre.count ? pre[index] : (c.postQueue ?? [])[index - pre.count]
  }

  /// A statement's text as the formatter writes it, by its collector's index in the merged program.
  public func statementText(_ collectorIndex: Int, _ index: Int) -> String {
    Printer.statement(statement(collector(collectorIndex), index))
  }

  /// Statements added, removed and changed (`alignment` without the statements that stayed).
  public func statementChanges(_ pair: Pair) -> [Change] {
    guard let o = pair.old.map(collector), let n = pair.new.map(collector) else { return [] }
    return alignment(pair).compactMap { row in
      let a = row.old.map { statement(o, $0) }
      let b = row.new.map { statement(n, $0) }
      // Compared by meaning (`5%` is `0.05`), shown as written.
      guard a.map({ Printer.statement($0, canonicalNumbers: true) }) != b.map({ Printer.statement($0, canonicalNumbers: true) }) else { return nil }
      let oldText = a.map { Printer.statement($0) }
      let newText = b.map { Printer.statement($0) }
      let kind: Change.Kind = a == nil ? .added : b == nil ? .removed : .changed
      return Change(
        kind: kind, stage: row.stage, oldLine: a.map { o.file.location(of: $0.range.start).line },
        newLine: b.map { n.file.location(of: $0.range.start).line }, oldText: oldText, newText: newText,
        moved: kind == .changed ? zip(Self.numbers(oldText!), Self.numbers(newText!)).filter { $0 != $1 } : [])
    }
  }

  /// Index pairs of a longest common subsequence (quadratic in the statements of one stage, which
  /// are few).
  static func lcs(_ a: [String], _ b: [String]) -> [(Int, Int)] {
    guard !a.isEmpty, !b.isEmpty else { return [] }
    var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in stride(from: a.count - 1, through: 0, by: -1) {
      for j in stride(from: b.count - 1, through: 0, by: -1) {
        table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
      }
    }
    var out: [(Int, Int)] = []
    var (i, j) = (0, 0)
    while i < a.count && j < b.count {
      if a[i] == b[j] {
        out.append((i, j))
        i += 1
        j += 1
      } else if table[i + 1][j] >= table[i][j + 1] {
        i += 1
      } else {
        j += 1
      }
    }
    return out
  }

  /// The numbers of a canonical statement text (not those inside names, such as `c2`), as byte
  /// ranges.
  static func numberRanges(_ text: String) -> [Range<Int>] {
    let bytes = Array(text.utf8)
    func digit(_ k: Int) -> Bool { k < bytes.count && bytes[k] >= 48 && bytes[k] <= 57 }
    func word(_ k: Int) -> Bool { k >= 0 && (digit(k) || bytes[k] == UInt8(ascii: "_") || (bytes[k] | 0x20 >= 97 && bytes[k] | 0x20 <= 122)) }
    var out: [Range<Int>] = []
    var k = 0
    while k < bytes.count {
      let start = k
      if (digit(k) || (bytes[k] == UInt8(ascii: "-") && digit(k + 1))) && !word(k - 1) {
        k += 1
        while digit(k) || (k < bytes.count && bytes[k] == UInt8(ascii: ".") && digit(k + 1)) { k += 1 }
        out.append(start..<k)
      } else {
        k += 1
      }
    }
    return out
  }

  /// A statement's text with its numbers blanked: two statements of one shape differ in numbers only.
  static func shape(_ text: String) -> String {
    var bytes = Array(text.utf8)
    for r in numberRanges(text).reversed() { bytes.replaceSubrange(r, with: [UInt8(ascii: "#")]) }
    return String(decoding: bytes, as: UTF8.self)
  }

  static func numbers(_ text: String) -> [Double] {
    let bytes = Array(text.utf8)
    return numberRanges(text).compactMap { Double(String(decoding: bytes[$0], as: UTF8.self)) }
  }

  // MARK: On a recording

  /// What one collector did on the recording, in each version present.
  public struct Outcome: Sendable {
    public var id: String
    public var events: (old: Int?, new: Int?)
    public var accepted: (old: Int?, new: Int?)
    /// Source input ids accepted by NEW and not OLD, and the reverse (sorted).
    public var gained: [String]
    public var lost: [String]
    public var funnel: (old: [RunReport.StatementCount], new: [RunReport.StatementCount])
  }

  /// Per pair, from a run of `program`: the report and the source input ids each collector accepted.
  public func outcomes(report: RunReport, accepted: [Set<String>]) -> [Outcome] {
    pairs.map { p in
      let o = p.old.map { accepted[$0] } ?? []
      let n = p.new.map { accepted[$0] } ?? []
      return Outcome(
        id: p.id, events: (p.old.map { report.collectors[$0].events }, p.new.map { report.collectors[$0].events }),
        accepted: (p.old.map { _ in o.count }, p.new.map { _ in n.count }), gained: n.subtracting(o).sorted(),
        lost: o.subtracting(n).sorted(),
        funnel: (p.old.map { report.collectors[$0].statements } ?? [], p.new.map { report.collectors[$0].statements } ?? []))
    }
  }
}
