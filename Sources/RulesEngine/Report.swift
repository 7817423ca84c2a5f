import RulesMath
import RulesDiagnostics
import RulesEvents
import RulesSema
import RulesSource
import RulesSyntax

/// The funnel of a run: what reached each collector, what each statement passed and dropped, what
/// was accepted, and every line that could not be read.
public struct RunReport: Sendable {
  public struct StatementCount: Sendable {
    public var stage: StageKind
    public var line: Int
    public var text: String
    public var passed = 0
    public var dropped = 0
  }

  public struct CollectorCount: Sendable {
    public var id: String
    /// The collector's source, as a rule file writes it.
    public var source: String
    /// Events whose model the collector watches.
    public var events = 0
    public var accepted = 0
    /// Events of an input this collector had already accepted in this run.
    public var duplicates = 0
    public var statements: [StatementCount]
    /// What `collect_outputs` copied (nil when the collector does not collect outputs): accepted
    /// inputs whose item carries concepts, and regions to be posted as annotations.
    public var collected: CollectedCount?
    /// Top concept of each accepted input → how many.
    public var classMix: [String: Int] { mix.counts }
    var mix = ClassMix()
  }

  /// What `collect_outputs` copied onto a collector's accepted inputs.
  public struct CollectedCount: Sendable, Equatable {
    /// Items that carry the output's concepts (`data.concepts`, at least one concept).
    public var itemsWithConcepts = 0
    /// Regions copied, to become annotations of their inputs.
    public var regions = 0
    /// Items that carry regions.
    public var itemsWithRegions = 0

    public init() {}
  }

  public struct BadLine: Sendable {
    public var line: Int
    public var reason: String
  }

  public var lines = 0
  public var events = 0
  public var skippedStatus = 0
  public var skippedModel = 0
  /// The models of the outputs that reached no collector (up to `skippedModelListLimit` of them).
  public var skippedModels: [SkippedModel] = []
  public var collectors: [CollectorCount]
  public var badLines: [BadLine] = []
  /// Bad lines are listed up to this many; the count is always exact.
  public static let badLineListLimit = 1000
  public var badLineCount = 0

  public var accepted: Int { collectors.reduce(0) { $0 + $1.accepted } }

  public init(collectors: [CheckedCollector]) {
    self.collectors = collectors.map { c in
      var statements: [StatementCount] = []
      for (stage, list) in [(StageKind.preQueue, c.preQueue), (.postQueue, c.postQueue)] {
        for s in list ?? [] {
          statements.append(
            StatementCount(stage: stage, line: c.file.location(of: s.range.start).line, text: Printer.statement(s)))
        }
      }
      var count = CollectorCount(id: c.id, source: c.source.text, statements: statements)
      if !c.collectOutputs.isEmpty { count.collected = CollectedCount() }
      return count
    }
  }

  mutating func recordBadLine(_ line: Int, _ reason: String) {
    badLineCount += 1
    if badLines.count < Self.badLineListLimit { badLines.append(BadLine(line: line, reason: reason)) }
  }

  /// Counts one statement an input met.
  @inline(__always) mutating func count(_ collector: Int, _ statement: Int, _ passed: Bool) {
    if passed {
      collectors[collector].statements[statement].passed += 1
    } else {
      collectors[collector].statements[statement].dropped += 1
    }
  }

  // MARK: Rendering

  public var json: JSONValue {
    .object([
      ("lines", .int(lines)),
      ("events", .int(events)),
      ("skipped_status", .int(skippedStatus)),
      ("skipped_model", .int(skippedModel)),
      ("accepted", .int(accepted)),
      (
        "collectors",
        .array(
          collectors.map { c in
            .object([
              ("id", .string(c.id)),
              ("events", .int(c.events)),
              ("accepted", .int(c.accepted)),
              ("acceptance_rate", .double(c.events == 0 ? 0 : Double(c.accepted) / Double(c.events))),
              ("duplicates", .int(c.duplicates)),
              (
                "statements",
                .array(
                  c.statements.map { s in
                    .object([
                      ("stage", .string(s.stage.rawValue)), ("line", .int(s.line)), ("text", .string(s.text)),
                      ("passed", .int(s.passed)), ("dropped", .int(s.dropped)),
                    ])
                  })
              ),
              ("class_mix", .array(Self.topClasses(c.classMix).map { .object([("concept", .string($0.0)), ("count", .int($0.1))]) })),
            ] + (c.collected.map { k in
              [("collected_outputs", .object([
                ("items_with_concepts", .int(k.itemsWithConcepts)), ("items_with_regions", .int(k.itemsWithRegions)),
                ("regions", .int(k.regions)),
              ]))]
            } ?? []))
          })
      ),
      ("bad_line_count", .int(badLineCount)),
      ("bad_lines", .array(badLines.map { .object([("line", .int($0.line)), ("reason", .string($0.reason))]) })),
      // The list stops at `badLineListLimit`; the count is exact, and this says how many are not listed.
      ("bad_lines_omitted", .int(badLineCount - badLines.count)),
      ("skipped_models", .array(skippedModels.map { .object([("model", .string($0.path)), ("count", .int($0.count))]) })),
      ("warnings", .array(warnings.map { .string($0) })),
    ])
  }

  static func topClasses(_ mix: [String: Int], limit: Int = 5) -> [(String, Int)] {
    mix.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(limit).map { ($0.key, $0.value) }
  }

  /// The human summary printed on standard error.
  public var human: String {
    var out = "\(lines) lines, \(events) events, \(accepted) accepted"
    out += "; skipped \(skippedStatus) by status, \(skippedModel) by model; \(badLineCount) bad line\(badLineCount == 1 ? "" : "s")\n"
    for c in collectors {
      let rate = c.events == 0 ? 0 : 100 * Double(c.accepted) / Double(c.events)
      out += "\ncollector \(c.id): \(c.events) events → \(c.accepted) accepted (\(String(format: "%.2f", rate))%)"
      if c.duplicates > 0 { out += ", \(c.duplicates) duplicates" }
      out += "\n"
      for s in c.statements {
        let stage = s.stage == .preQueue ? "pre " : "post"
        out += "  \(stage) line \(s.line): \(s.text)\n"
        out += "       passed \(s.passed), dropped \(s.dropped)\n"
      }
      if let k = c.collected {
        out += "  collected outputs: \(k.itemsWithConcepts) items with concepts, \(k.regions) regions on \(k.itemsWithRegions) items (annotations)\n"
      }
      let mix = Self.topClasses(c.classMix)
      if !mix.isEmpty { out += "  top concepts: " + mix.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + "\n" }
    }
    for b in badLines.prefix(20) { out += "bad line \(b.line): \(b.reason)\n" }
    if badLineCount > 20 {
      let listed = min(badLineCount, Self.badLineListLimit)
      out += "… and \(badLineCount - 20) more bad lines (--report lists \(listed == badLineCount ? "all \(listed)" : "the first \(listed) of \(badLineCount)"))\n"
    }
    for w in warnings { out += "warning: \(w)\n" }
    return out
  }
}

extension RunReport.CollectorCount {
  /// Counts what `collect_outputs` copied from one accepted event (after the concept map).
  mutating func countCollected(_ parts: CollectedOutputs, _ event: UnsafePointer<Event>) {
    if parts.contains(.concepts), event.pointee.concepts.contains(where: { $0.value.isFinite }) {
      collected?.itemsWithConcepts += 1
    }
    if parts.contains(.regions) {
      let n = event.pointee.regions.reduce(0) { $0 + (ForwardItem.isCollectable($1) ? 1 : 0) }
      collected?.regions += n
      if n > 0 { collected?.itemsWithRegions += 1 }
    }
  }
}

/// The class mix of one collector: how many accepted inputs had each top concept. Labels are
/// counted from their bytes in the line, and a `String` is made only for a label seen for the first
/// time (making one per accepted input, and hashing it with SipHash into a dictionary, was 3% of a
/// run that accepts most inputs).
struct ClassMix: Sendable {
  private var labels: [String] = []
  private var tallies: [Int] = []
  /// Open addressing by FNV-1a of the label's bytes; each slot holds an index into `labels`, or −1.
  private var slots = [Int32](repeating: -1, count: 16)

  /// The counts by label. Labels are told apart by their bytes here; as `String`s, canonically
  /// equivalent ones (an "é" of one scalar or two) are one label, and their counts add up.
  var counts: [String: Int] { Dictionary(zip(labels, tallies), uniquingKeysWith: +) }

  private static func slot(_ label: some Sequence<UInt8>, _ mask: Int) -> Int {
    let hash = Sampling.fnv1a64(label)
    return Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
  }

  mutating func add(_ label: UnsafeBufferPointer<UInt8>) {
    let mask = slots.count - 1
    var slot = Self.slot(label, mask)
    while true {
      let k = Int(slots[slot])
      if k < 0 { break }
      // Compared as bytes: labels are the decoded text of JSON strings, so equal text is equal bytes.
      if labels[k].utf8.elementsEqual(label) {
        tallies[k] += 1
        return
      }
      slot = (slot + 1) & mask
    }
    slots[slot] = Int32(labels.count)
    labels.append(String(decoding: label, as: UTF8.self))
    tallies.append(1)
    if labels.count * 2 > slots.count { rehash() }
  }

  mutating func add(_ label: String) {
    var label = label
    label.withUTF8 { add($0) }
  }

  private mutating func rehash() {
    slots = [Int32](repeating: -1, count: slots.count * 2)
    let mask = slots.count - 1
    for (k, label) in labels.enumerated() {
      var slot = Self.slot(label.utf8, mask)
      while slots[slot] >= 0 { slot = (slot + 1) & mask }
      slots[slot] = Int32(k)
    }
  }
}
