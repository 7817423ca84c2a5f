import Foundation
import RulesDiagnostics
import RulesMath
import RulesSema
import RulesSource
import RulesSyntax

/// What the outputs must carry for the rules: regions, frames, event time.
struct Reads {
  var regions = false
  var frames = false
  var time = false
}

/// Where the compiled query reads Clarifai outputs from (`--from`).
public enum SQLSource: Sendable {
  /// A JSON Lines file (one output or response per line; not gzip, not one indented document),
  /// read by the dialect's own reader, with its line numbers.
  case file(String)
  /// A table, view or subquery with the columns `line_number` (from 1, in file order) and `line`
  /// (the text of one output or PostModelOutputs response).
  case relation(String)
}

/// `rulec compile --target sql`: one SQL query that computes, over a relation of Clarifai outputs,
/// exactly the items `rulec run` accepts — the same item ids, source input ids, collectors and
/// inclusion probabilities, in the same order. The query is written to be read: one common table
/// expression per stage, each statement commented with its rule line.
///
/// What the engine does a line at a time, the query does in sets: lines that are not JSON objects
/// contribute nothing (as bad lines), routing and status are filters, each statement is a column,
/// and "already accepted" (an input accepted once per collector) is a window over event order.
/// What has no translation yet (a second `limit` in one collector) is an error (RC6001) at the
/// statement, never a query that means something else; and a limit whose candidates do not settle
/// in `limitRounds` rounds stops the query with an error.
public struct SQLCompiler {
  let dialect: SQLDialect
  let sink: DiagnosticSink
  /// How many rounds the query gives a limit's candidates to settle: each is three window passes
  /// over the collector's outputs (16 rounds made `rules/combined.rule` twice as slow as 1), and an
  /// input needs one more round for each time it misses the budget and comes again.
  let limitRounds: Int

  public init(dialect: SQLDialect, sink: DiagnosticSink, limitRounds: Int = SQLCompiler.defaultLimitRounds) {
    self.dialect = dialect
    self.sink = sink
    self.limitRounds = max(1, limitRounds)
  }

  /// The query, or nil after diagnostics. With `report`, the query gives the funnel instead of the
  /// items: per collector and statement, the counts `rulec run --report` gives.
  public func compile(_ program: CheckedProgram, from source: SQLSource, report: Bool = false) -> String? {
    var collectors: [String] = []
    var names: [String] = []
    var failed = false
    var reads = Reads()
    for (index, c) in program.collectors.enumerated() {
      do {
        collectors.append(try collector(c, index: index, reads: &reads, report: report))
        names.append("collector_\(index)")
      } catch {
        sink.emit(
          DiagnosticMessage(
            error.code, "\(error.message) (collector '\(c.id)', \(dialect.rawValue))",
            help: error.code == .sqlRegex
              ? "write the class out ([0-9] for \\d, [A-Za-z0-9_] for \\w, [ \\t\\n] for \\s), or run these rules with rulec run"
              : "run these rules with rulec run, or give the collector one limit"),
          file: c.file, range: error.range)
        failed = true
      }
    }
    guard !failed else { return nil }
    var text = """
      -- rulec compile --target sql --dialect \(dialect.rawValue)\(report ? " --report" : "")
      \(report
        ? "-- The funnel `rulec run --report` counts from the same outputs: per collector (in definition order)\n-- its events, duplicates and accepted inputs, and per statement the outputs it passed and dropped."
        : "-- The items `rulec run` accepts from the same outputs: item_id, collector, source_input_id and\n-- inclusion_probability, in the order rulec writes them (line, output in the line, collector).")
      -- It reads Clarifai outputs or PostModelOutputs responses, one JSON object per line, in
      -- either spelling of Clarifai's JSON (proto names such as model_version, or lowerCamelCase).

      WITH
      \(lines(source)),
      \(outputs(reads))
      """
    for c in collectors { text += ",\n" + c }
    text += "\n"
    text += names.map { "SELECT * FROM \($0)" }.joined(separator: "\nUNION ALL\n")
    if names.isEmpty {
      text += "SELECT CAST(NULL AS VARCHAR) AS item_id, CAST(NULL AS VARCHAR) AS collector, CAST(NULL AS VARCHAR) AS source_input_id, "
        + "CAST(NULL AS DOUBLE) AS inclusion_probability, 0 AS line_number, 0 AS output_index, 0 AS collector_index WHERE false"
    }
    text += report ? "\nORDER BY collector_index, statement;\n" : "\nORDER BY line_number, output_index, collector_index;\n"
    return text
  }

  // MARK: Reading

  func lines(_ source: SQLSource) -> String {
    switch source {
    case .file(let path):
      return """
        -- Each line of the file, numbered from 1.
        raw_lines AS (
          SELECT string_split(content, chr(10)) AS all_lines FROM read_text(\(dialect.string(path)))
        ),
        lines AS (
          SELECT CAST(n AS BIGINT) AS line_number, all_lines[n] AS line
          FROM raw_lines, range(1, len(all_lines) + 1) AS numbers(n)
        )
        """
    case .relation(let relation):
      return """
        lines AS (
          SELECT CAST(line_number AS BIGINT) AS line_number, CAST(line AS VARCHAR) AS line FROM \(relation)
        )
        """
    }
  }

  static func camel(_ s: String) -> String {
    let parts = s.split(separator: "_", omittingEmptySubsequences: false)
    guard parts.count > 1 else { return s }
    return String(parts[0]) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
  }

  /// A region of an output (parsed, `r`) as a record: the fields `where` reads, its box edges
  /// with whether it has a box at all, and its concepts.
  func region(_ r: String) -> String {
    let box = ["region_info", "bounding_box"]
    func edge(_ name: String) -> String { "COALESCE(\(field(box + [name], of: r)), 0)" }
    return dialect.record([
      ("id", "COALESCE(\(field(["id"], of: r)), '')"), ("value", field(["value"], of: r)),
      ("has_box", "(\(field(box, of: r)) IS NOT NULL)"),
      ("top_edge", edge("top_row")), ("left_edge", edge("left_col")), ("bottom_edge", edge("bottom_row")), ("right_edge", edge("right_col")),
      ("concepts", parsedConcepts(field(["data", "concepts"], of: r))),
    ])
  }

  /// A parsed concept list as records with the decoder's defaults: no name or id is `""`, no value 0.
  func parsedConcepts(_ list: String) -> String {
    dialect.transform(
      "COALESCE(\(list), [])", "c",
      dialect.record([("id", "COALESCE(c.id, '')"), ("name", "COALESCE(c.name, '')"), ("value", "COALESCE(c.value, 0)")]))
  }

  func outputs(_ reads: Reads) -> String {
    let schema = Self.structure(Self.fields(reads))
    let media = ["image", "video", "text", "audio"]
    let mediaList = media.map { dialect.string($0) }.joined(separator: ", ")
    return """
      -- A line is one output, or a response whose `outputs` holds several; a line that is not a JSON
      -- object contributes nothing (rulec run reports it as a bad line), nor does an object that
      -- is neither (it names no model, below).
      documents AS MATERIALIZED (
        SELECT line_number, line,
          -- `"outputs"` in the text first: most lines are outputs, and the check parses the line again.
          contains(line, '"outputs"') AND json_exists(line, '$.outputs') AS is_response
        FROM lines
        WHERE json_valid(line) AND starts_with(ltrim(line), '{')
      ),
      -- Each output parsed once into the fields rules read, both spellings side by side (a JSON
      -- path per field parsed the output again for each).
      raw_outputs AS (
        SELECT line_number, 0 AS output_index, json_transform(line, \(dialect.string(schema))) AS p
        FROM documents
        WHERE NOT is_response
        UNION ALL
        SELECT line_number, CAST(n - 1 AS INTEGER) AS output_index, json_transform(outputs[n], \(dialect.string(schema))) AS p
        FROM (SELECT line_number, json_transform(line, '{"outputs": "JSON[]"}').outputs AS outputs FROM documents WHERE is_response),
             range(1, len(outputs) + 1) AS numbers(n)
      ),
      fields AS (
        SELECT line_number, output_index,
          -- No status is success; a status whose code is null or left out is code 0 (Grammar.md §9).
          -- The code is a number, a string of an integer (spaces around it allowed) or a name.
          p."status" IS NULL OR COALESCE(\(field(["status", "code"])) = 'SUCCESS' OR TRY_CAST(trim(\(field(["status", "code"]))) AS DOUBLE) = 10000, false) AS success,
          \(field(["model", "id"])) AS model_id,
          \(field(["model", "user_id"])) AS model_user,
          \(field(["model", "app_id"])) AS model_app,
          \(field(["model", "model_version", "id"])) AS model_version,
          \(field(["caller_user_id"])) AS caller,
          \(field(["id"])) AS output_id,
          \(field(["input", "id"])) AS input_id,
          NULLIF(\(field(["input", "data"])), 'null') AS input_data,
          NULLIF(json_extract(\(field(["input", "data"])), '$.metadata'), 'null') AS metadata,
          \(parsedConcepts(field(["data", "concepts"]))) AS concepts\(regionColumns(reads.regions, reads.frames))\(reads.time ? ",\n    epoch(TRY_CAST(\(field(["created_at"])) AS TIMESTAMPTZ)) AS created_at" : "")
        FROM raw_outputs
      ),
      keyed AS (
        SELECT *, COALESCE(input_id, output_id, 'line' || line_number || '-' || output_index) AS input_key
        FROM fields
      ),
      readable_outputs AS (
        SELECT *,
          -- The key's UTF-8 bytes, for destination ids.
          \(dialect.transform("range(octet_length(encode(input_key)))", "i", "CAST('0x' || substr(hex(encode(input_key)), 2 * i + 1, 2) AS INTEGER)")) AS input_key_bytes,
          \(dialect.filter("COALESCE(json_keys(input_data), [])", "k", "k IN (\(mediaList)) AND json_type(input_data, '$.\"' || k || '\"') = 'OBJECT'"))[1] AS input_kind,
          json_extract_string(input_data, '$.text.raw') AS input_text,
          json_extract_string(input_data, '$."' || \(dialect.filter("COALESCE(json_keys(input_data), [])", "k", "k IN (\(mediaList)) AND json_type(input_data, '$.\"' || k || '\"') = 'OBJECT'"))[-1] || '".url') AS input_url
        FROM keyed
        -- A successful output that names no model cannot be routed: its whole line is bad.
        QUALIFY NOT bool_or(success AND COALESCE(model_id, '') = '') OVER (PARTITION BY line_number)
      ),
      outputs AS (
        SELECT *\(reads.time ? ",\n    -- Event time: created_at, else the latest one of a successful output before it, else 0.\n    COALESCE(created_at, max(CASE WHEN success THEN created_at END) OVER (ORDER BY line_number, output_index ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS event_time" : "")
        FROM readable_outputs
      )
      """
  }

  static let conceptList = #"[{"id": "VARCHAR", "name": "VARCHAR", "value": "DOUBLE"}]"#

  /// A region's fields, as `json_transform` reads them.
  static let regionFields: [([String], String)] = [
    (["id"], "VARCHAR"), (["value"], "DOUBLE"), (["data", "concepts"], conceptList),
    (["region_info", "bounding_box", "top_row"], "DOUBLE"), (["region_info", "bounding_box", "left_col"], "DOUBLE"),
    (["region_info", "bounding_box", "bottom_row"], "DOUBLE"), (["region_info", "bounding_box", "right_col"], "DOUBLE"),
  ]

  /// The fields of an output the query reads, with their SQL types (regions and frames only when
  /// the rules read them): both spellings of each name are in the structure `json_transform` fills.
  static func fields(_ reads: Reads) -> [([String], String)] {
    var fields: [([String], String)] = [
      (["id"], "VARCHAR"), (["status", "code"], "VARCHAR"), (["created_at"], "VARCHAR"), (["caller_user_id"], "VARCHAR"),
      (["model", "id"], "VARCHAR"), (["model", "user_id"], "VARCHAR"), (["model", "app_id"], "VARCHAR"), (["model", "model_version", "id"], "VARCHAR"),
      (["input", "id"], "VARCHAR"), (["input", "data"], "JSON"), (["data", "concepts"], conceptList),
    ]
    let regions = "[" + structure(regionFields) + "]"
    if reads.regions { fields.append((["data", "regions"], regions)) }
    if reads.frames {
      let frame: [([String], String)] = [
        (["id"], "VARCHAR"), (["frame_info", "index"], "DOUBLE"), (["frame_info", "time"], "DOUBLE"), (["data", "concepts"], conceptList),
        (["data", "regions"], regions),
      ]
      fields.append((["data", "frames"], "[" + structure(frame) + "]"))
    }
    return fields
  }

  /// A structure for `json_transform`, as JSON, with both spellings of every name.
  static func structure(_ fields: [([String], String)]) -> String {
    final class Node {
      var children: [(String, Node)] = []
      var leaf: String?
      func child(_ name: String) -> Node {
        if let found = children.first(where: { $0.0 == name }) { return found.1 }
        let node = Node()
        children.append((name, node))
        return node
      }
      func render() -> String {
        if let leaf { return leaf.hasPrefix("[") || leaf.hasPrefix("{") ? leaf : "\"\(leaf)\"" }
        return "{" + children.map { "\"\($0.0)\": \($0.1.render())" }.joined(separator: ", ") + "}"
      }
    }
    let root = Node()
    for (path, type) in fields {
      var level = [root]
      for segment in path {
        let names = camel(segment) == segment ? [segment] : [segment, camel(segment)]
        level = level.flatMap { node in names.map { node.child($0) } }
      }
      for node in level { node.leaf = type }
    }
    return root.render()
  }

  /// A parsed field in either spelling, of the output (`p`) or of a parsed element.
  func field(_ path: [String], of base: String = "p") -> String {
    var options = [""]
    for segment in path {
      let names = Self.camel(segment) == segment ? [segment] : [segment, Self.camel(segment)]
      options = options.flatMap { prefix in names.map { prefix + ".\"\($0)\"" } }
    }
    let all = options.map { base + $0 }
    return all.count == 1 ? all[0] : "COALESCE(" + all.joined(separator: ", ") + ")"
  }

  /// The regions and frames columns, read only when the rules look at them.
  func regionColumns(_ readsRegions: Bool, _ readsFrames: Bool) -> String {
    var text = ""
    if readsRegions { text += ",\n    " + dialect.transform("COALESCE(\(field(["data", "regions"])), [])", "r", region("r")) + " AS regions" }
    if readsFrames {
      let frame = dialect.record([
        ("id", "COALESCE(\(field(["id"], of: "f")), '')"), ("index", field(["frame_info", "index"], of: "f")),
        ("time", field(["frame_info", "time"], of: "f")), ("concepts", parsedConcepts(field(["data", "concepts"], of: "f"))),
        ("regions", dialect.transform("COALESCE(\(field(["data", "regions"], of: "f")), [])", "fr", region("fr"))),
      ])
      text += ",\n    " + dialect.transform("COALESCE(\(field(["data", "frames"])), [])", "f", frame) + " AS frames"
    }
    return text
  }

  // MARK: Collectors

  func location(_ c: CheckedCollector, _ range: SourceRange) -> String {
    let l = c.file.location(of: range.start)
    return "\((c.file.path as NSString).lastPathComponent):\(l.line)"
  }

  func collector(_ c: CheckedCollector, index: Int, reads: inout Reads, report: Bool) throws(Unsupported) -> String {
    var expressions = SQLExpressions(dialect: dialect)
    var routing = ["success"]
    if let u = c.source.user { routing.append("COALESCE(model_user, '') = \(dialect.string(u))") }
    if let a = c.source.app { routing.append("COALESCE(model_app, '') = \(dialect.string(a))") }
    if let m = c.source.model { routing.append("COALESCE(model_id, '') = \(dialect.string(m))") }
    if let v = c.source.version { routing.append("model_version = \(dialect.string(v))") }
    if let caller = c.source.caller { routing.append("caller = \(dialect.string(caller))") }

    var columns: [String] = []
    var conditions: [String] = []
    var probability = 1.0
    /// The `limit` statement, if any: where it stands among the conditions, its count and window.
    var limit: (position: Int, count: Double, seconds: Double, text: String)?
    for (stage, statements) in [("pre_queue", c.preQueue ?? []), ("post_queue", c.postQueue ?? [])] {
      for (k, s) in statements.enumerated() {
        let name = "\(stage == "pre_queue" ? "pre" : "post")_\(k + 1)"
        let text = Printer.statement(s)
        let condition: String
        switch s.kind {
        case .require(let e): condition = try expressions.bool(e)
        case .dropIf(let e): condition = "NOT \(try expressions.bool(e))"
        case .sample(let rate, let by, let seed):
          let r = Constant.number(rate) ?? 0
          probability *= r
          condition = try sample(rate: r, by: by, seed: seed?.text ?? c.id, &expressions)
        case .limit(let count, let window, let unit):
          guard limit == nil else {
            throw Unsupported(message: "a second 'limit' in one collector is not compiled to SQL yet", range: s.range)
          }
          let seconds = (window.flatMap { Constant.number($0) } ?? 1) * (TimeUnit(word: unit.text)?.seconds ?? 1)
          limit = (conditions.count, Constant.number(count) ?? 0, seconds, "\(location(c, s.range)) \(stage): \(text)")
          reads.time = true
          columns.append("    -- \(location(c, s.range)) \(stage): \(text) (its window)\n    CAST(floor(event_time / \(dialect.double(seconds))) AS BIGINT) AS \(name)_window")
          continue
        }
        columns.append("    -- \(location(c, s.range)) \(stage): \(text)\n    \(condition) AS \(name)")
        conditions.append(name)
      }
    }
    reads.regions = reads.regions || expressions.readsRegions
    reads.frames = reads.frames || expressions.readsFrames
    var mapped = "\(conceptMap(c.conceptMap, "concepts")) AS concepts"
    if expressions.readsRegions { mapped += ",\n    \(mappedRegions(c.conceptMap, "regions")) AS regions" }
    if expressions.readsFrames {
      let d = dialect
      let frame = d.record([
        ("id", "f.id"), ("index", "f.index"), ("time", "f.time"), ("concepts", conceptMap(c.conceptMap, "f.concepts")),
        ("regions", mappedRegions(c.conceptMap, "f.regions", variable: "fr")),
      ])
      mapped += ",\n    \(c.conceptMap == nil ? "frames" : d.transform("frames", "f", frame)) AS frames"
    }
    let prefix = Self.idPrefix(c.id)
    let n = "collector_\(index)"
    var text = """
      -- collector \(c.id) (\(location(c, c.range))): \(c.source.user ?? "*")/\(c.source.app ?? "*")/\(c.source.model ?? "*")\(c.source.version.map { " version \($0)" } ?? "")
      \(n)_seen AS (
        SELECT line_number, output_index, input_id, input_key, input_key_bytes, input_kind, input_text, input_url, metadata,
          model_id, model_user, model_app, model_version\(limit == nil ? "" : ", event_time"),
          \(mapped)
        FROM outputs
        WHERE \(routing.joined(separator: " AND "))
      ),
      \(n)_decided AS (
        SELECT line_number, output_index, input_id, input_key, input_key_bytes\(columns.isEmpty ? "" : ",\n" + columns.joined(separator: ",\n"))
        FROM \(n)_seen
      ),

      """
    func all(_ names: ArraySlice<String>) -> String { names.isEmpty ? "true" : names.joined(separator: " AND ") }
    let sequence = "(line_number * 100000 + output_index)"
    /// Each statement's column, in order: the limit's is whether its budget held.
    var statements = conditions
    var decided = "\(n)_decided"
    var check = ""
    if let limit {
      // With a limit: an output reaches it when it passes the statements before it and its input
      // was not accepted already, and the first `count` that reach it in a window pass. Which
      // outputs reach it depends on which were accepted, so the query finds it in rounds, as a
      // fixpoint: an input's candidate is its first output after its last failed candidate that
      // passes every other statement; the outputs that reach the limit are those passing the
      // statements before it up to the candidate (all of them, for an input without one), counted
      // per window in event order; a candidate over its window's budget has failed. Counts only
      // grow from round to round, so a failed candidate stays failed and candidates only move on.
      // When every input's candidate holds still, the candidates within budget are what the run
      // accepts. Inputs whose candidates still move after the last round stop the query with an
      // error rather than a guess.
      let before = all(conditions[..<limit.position])
      let after = all(conditions[limit.position...])
      let windowColumn = limitWindowName(c, limit.position)
      let budget = dialect.double(limit.count)
      statements.insert(String(windowColumn.dropLast("_window".count)), at: limit.position)
      text += """
        \(n)_round0 AS (
          SELECT *, \(before) AS reaches_before, \(before) AND \(after) AS passes_others, CAST(-1 AS BIGINT) AS failed_at
          FROM \(n)_decided
        ),

        """
      for r in 0..<limitRounds {
        text += """
          \(n)_candidates\(r) AS (
            SELECT *, min(CASE WHEN passes_others AND \(sequence) > failed_at THEN \(sequence) END) OVER (PARTITION BY input_key) AS candidate
            FROM \(n)_round\(r)
          ),
          \(n)_used\(r) AS (
            SELECT *,
              sum(CASE WHEN reaches_before AND (candidate IS NULL OR \(sequence) <= candidate) THEN 1 ELSE 0 END)
                OVER (PARTITION BY \(windowColumn) ORDER BY line_number, output_index ROWS UNBOUNDED PRECEDING) AS used
            FROM \(n)_candidates\(r)
          ),
          \(n)_round\(r + 1) AS (
            SELECT * EXCLUDE (candidate, used, failed_at\(r > 0 ? ", failed_before" : "")), failed_at AS failed_before,
              greatest(failed_at, COALESCE(max(CASE WHEN \(sequence) = candidate AND used - 1 >= \(budget) THEN \(sequence) END) OVER (PARTITION BY input_key), -1)) AS failed_at
            FROM \(n)_used\(r)
          ),

          """
      }
      let last = limitRounds - 1
      text += """
        \(n)_counted AS (
          SELECT *, used - 1 < \(budget) AS \(statements[limit.position]) FROM \(n)_used\(last)
        ),
        \(n)_unresolved AS (
          SELECT count(*) AS outputs FROM \(n)_round\(limitRounds) WHERE failed_at <> failed_before
        ),

        """
      decided = "\(n)_counted"
      check = """

            AND CASE WHEN (SELECT outputs FROM \(n)_unresolved) > 0
              THEN error(\(dialect.string("rulec: collector '\(c.id)': the inputs over its limit's budget that come again are not settled after \(limitRounds) rounds (\(limit.text)); compile with a larger --limit-rounds, or use rulec run")))
              ELSE true END
        """
    }
    text += """
      -- An input is accepted once per collector: its first output that passes every statement; its
      -- later outputs are duplicates.
      \(n)_outcomes AS (
        SELECT *, COALESCE(\(sequence) = accepted_at, false) AS accepted, COALESCE(\(sequence) > accepted_at, false) AS duplicate FROM (
          SELECT *, min(CASE WHEN \(all(statements[...])) THEN \(sequence) END) OVER (PARTITION BY input_key) AS accepted_at
          FROM \(decided))
      ),

      """
    if !report {
      text += """
        \(n) AS (
          SELECT \(itemID(prefix: prefix)) AS item_id, \(dialect.string(c.id)) AS collector, input_id AS source_input_id,
            \(dialect.double(probability)) AS inclusion_probability, line_number, output_index, \(index) AS collector_index
          FROM \(n)_outcomes
          WHERE accepted\(check)
        )
        """
      return text
    }
    // The funnel, as `rulec run --report` counts it: an output that is not a duplicate meets the
    // statements in order until one drops it.
    var counts: [String] = []
    for (k, name) in statements.enumerated() {
      let earlier = all(statements[..<k])
      counts.append("count(*) FILTER (WHERE NOT duplicate AND \(earlier) AND \(name)) AS passed_\(k + 1)")
      counts.append("count(*) FILTER (WHERE NOT duplicate AND \(earlier) AND NOT \(name)) AS dropped_\(k + 1)")
    }
    text += """
      \(n)_counts AS (
        SELECT count(*) AS events, count(*) FILTER (WHERE duplicate) AS duplicates, count(*) FILTER (WHERE accepted) AS accepted\(counts.isEmpty ? "" : ",\n    " + counts.joined(separator: ",\n    "))
        FROM \(n)_outcomes
        WHERE true\(check)
      ),

      """
    var rows: [String] = []
    var k = 0
    for (stage, list) in [("pre_queue", c.preQueue ?? []), ("post_queue", c.postQueue ?? [])] {
      for statement in list {
        k += 1
        let line = c.file.location(of: statement.range.start).line
        let text = Printer.statement(statement)
        rows.append(
          "SELECT \(dialect.string(c.id)) AS collector, \(index) AS collector_index, events, duplicates, accepted, \(k) AS statement, "
            + "\(dialect.string(stage)) AS stage, \(line) AS line, \(dialect.string(text)) AS text, passed_\(k) AS passed, dropped_\(k) AS dropped FROM \(n)_counts")
      }
    }
    if rows.isEmpty {
      rows.append(
        "SELECT \(dialect.string(c.id)) AS collector, \(index) AS collector_index, events, duplicates, accepted, 0 AS statement, "
          + "CAST(NULL AS VARCHAR) AS stage, CAST(NULL AS INTEGER) AS line, CAST(NULL AS VARCHAR) AS text, 0 AS passed, 0 AS dropped FROM \(n)_counts")
    }
    text += """
      \(n) AS (
        \(rows.joined(separator: "\n  UNION ALL\n  "))
      )
      """
    return text
  }

  /// How many rounds the query gives a limit's candidates to settle by default.
  public static let defaultLimitRounds = 4

  /// The column of a limit's window, by the position of the statement among the conditions.
  func limitWindowName(_ c: CheckedCollector, _ position: Int) -> String {
    let pre = c.preQueue?.count ?? 0
    // Positions count the conditions before the limit; the limit's own statement index follows.
    let statementIndex = position  // conditions before it = statements before it
    return statementIndex < pre ? "pre_\(statementIndex + 1)_window" : "post_\(statementIndex - pre + 1)_window"
  }

  /// The concepts after the collector's map (Grammar.md §5): renamed by name, failing that by id;
  /// unmapped ones dropped if asked; then merged by name, the largest value kept, in the order of
  /// their first occurrence.
  func conceptMap(_ map: ConceptMap?, _ list: String) -> String {
    guard let map else { return list }
    let d = dialect
    // The map as a map value: one lookup a concept (a CASE over every source was most of a query).
    let lookup = "MAP {" + map.targetOf.keys.sorted().map { "\(d.string($0)): \(d.string(map.targetOf[$0]!))" }.joined(separator: ", ") + "}"
    // Each concept with its target, the target looked up once.
    let target = map.targetOf.isEmpty
      ? "CAST(NULL AS VARCHAR)" : "COALESCE(map_extract_value(\(lookup), c.name), map_extract_value(\(lookup), c.id))"
    let targeted = d.transform(list, "c", d.record([("c", "c"), ("t", target)]))
    // An unmapped concept becomes NULL under `unmapped drop`, and NULLs are filtered out.
    let renamed = d.filter(
      d.transform(
        targeted, "x",
        "CASE WHEN x.t IS NOT NULL THEN \(d.record([("id", "x.t"), ("name", "x.t"), ("value", "x.c.value")])) ELSE \(map.dropUnmapped ? "NULL" : "x.c") END"),
      "c", "c IS NOT NULL")
    // Merged by name: each name's first occurrence, with the largest value of its name. The renamed
    // list is bound once (`rn`), not rebuilt for every element that reads it.
    let rn = "rn"
    let names = d.transform(rn, "c", "c.name")
    let merged = d.transform(
      d.filter("range(1, \(d.length(rn)) + 1)", "i", "list_position(\(names), \(d.element(rn, "i")).name) = i"), "i",
      d.record([
        ("id", "\(d.element(rn, "i")).id"), ("name", "\(d.element(rn, "i")).name"),
        ("value", d.listMax(d.transform(d.filter(rn, "m", "m.name = \(d.element(rn, "i")).name"), "m", "m.value"))),
      ]))
    return d.element(d.transform("[\(renamed)]", rn, merged), "1")
  }


  /// Regions with the collector's map applied to each one's concepts.
  func mappedRegions(_ map: ConceptMap?, _ list: String, variable: String = "r") -> String {
    guard map != nil else { return list }
    let r = variable
    return dialect.transform(
      list, r,
      dialect.record([
        ("id", "\(r).id"), ("value", "\(r).value"), ("has_box", "\(r).has_box"), ("top_edge", "\(r).top_edge"), ("left_edge", "\(r).left_edge"),
        ("bottom_edge", "\(r).bottom_edge"), ("right_edge", "\(r).right_edge"), ("concepts", conceptMap(map, "\(r).concepts")),
      ]))
  }

  // MARK: Sampling and ids

  /// FNV-1a 64 over a string's UTF-8 bytes from `start`, in 128-bit arithmetic (no function of
  /// the engine's own, no user-defined function).
  func fnv(_ string: String, from start: UInt64) -> String {
    let bytes = dialect.transform(
      "range(octet_length(encode(\(string))))", "i", "CAST('0x' || substr(hex(encode(\(string))), 2 * i + 1, 2) AS HUGEINT)")
    return fnv(bytes: bytes, from: start)
  }

  func fnv(bytes: String, from start: UInt64) -> String {
    dialect.fold(bytes, "CAST(\(start) AS HUGEINT)", "h", "b", "(xor(h, b) * 1099511628211) % 18446744073709551616")
  }

  /// `sample`: the bucket of `"<seed>:<key>"` below the rate's threshold. The hash of `"<seed>:"` is
  /// worked out here; the query hashes only the key.
  func sample(rate: Double, by: Expr?, seed: String, _ expressions: inout SQLExpressions) throws(Unsupported) -> String {
    let start = Sampling.fnv1a64(Array(seed.utf8) + [UInt8(ascii: ":")])
    let threshold = Sampling.threshold(rate: rate)
    var key = "COALESCE(input_id, '')"
    if let by {
      let v = try expressions.compile(by)
      let asKey: String
      switch v.type {
      case .string, .kind: asKey = v.sql
      case .number: asKey = numberKey(v.sql)
      case .bool: asKey = "(CASE WHEN \(v.sql) THEN 'true' ELSE 'false' END)"
      case .json:
        let n = expressions.number(v)!
        asKey = "(CASE WHEN json_type(\(v.sql)) = 'VARCHAR' THEN json_extract_string(\(v.sql), '$') "
          + "WHEN json_type(\(v.sql)) = 'BOOLEAN' THEN CAST(CAST(\(v.sql) AS BOOLEAN) AS VARCHAR) "
          + "WHEN json_type(\(v.sql)) IN \(SQLExpressions.numberTypes) THEN \(numberKey(n)) END)"
      case .list: asKey = "NULL"
      }
      key = "COALESCE(\(asKey), input_id, '')"
    }
    return "(\(fnv(key, from: start)) % 1000000 < \(threshold))"
  }

  /// A number as a sampling key (`Value.samplingKey`): a whole number below 10^15 without a
  /// fraction, else its shortest round-trip form.
  func numberKey(_ n: String) -> String {
    "(CASE WHEN \(n) = round(\(n)) AND abs(\(n)) < 1e15 THEN CAST(CAST(\(n) AS BIGINT) AS VARCHAR) ELSE CAST(\(n) AS VARCHAR) END)"
  }

  /// What a destination id takes from the collector: its cleaned first 15 bytes and `-`, and the
  /// FNV-1a 64 state after its bytes and a 0 byte (Grammar.md §9).
  static func idPrefix(_ collector: String) -> (text: String, hash: UInt64) {
    let bytes = Array(collector.utf8)
    return (String(decoding: bytes.prefix(15).map(clean), as: UTF8.self) + "-", Sampling.fnv1a64(bytes + [0]))
  }

  static func clean(_ b: UInt8) -> UInt8 {
    switch b {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"): b
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): b + 32
    default: UInt8(ascii: "-")
    }
  }

  /// The destination id: the collector's part, the input key's first 15 bytes cleaned, `-`, and 16
  /// hex digits of FNV-1a 64 over the collector id, a 0 byte and the input key.
  func itemID(prefix: (text: String, hash: UInt64)) -> String {
    let d = dialect
    let cleaned = d.transform(
      d.slice("input_key_bytes", 15), "b",
      "CASE WHEN b BETWEEN 97 AND 122 OR b BETWEEN 48 AND 57 OR b IN (95, 45) THEN chr(b) WHEN b BETWEEN 65 AND 90 THEN chr(b + 32) ELSE '-' END")
    let hash = "lpad(lower(hex(CAST(\(fnv(bytes: "input_key_bytes", from: prefix.hash)) AS UBIGINT))), 16, '0')"
    return "\(d.string(prefix.text)) || array_to_string(\(cleaned), '') || '-' || \(hash)"
  }
}
