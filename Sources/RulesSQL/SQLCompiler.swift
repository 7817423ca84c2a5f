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
  /// A Parquet file (or a folder or glob of them, as the dialect's reader takes) with the columns
  /// `line_number` and `line`, as a table of lines is exported from a lake.
  case parquet(String)
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
      \(watched(program, report: report))
      \(dialect == .spark ? sparkSettings : "")
      WITH
      \(lines(source)),
      \(outputs(reads))
      """
    for c in collectors { text += ",\n" + c }
    text += "\n"
    text += names.map { "SELECT * FROM \($0)" }.joined(separator: "\nUNION ALL\n")
    if names.isEmpty {
      let t = dialect.text
      text += "SELECT CAST(NULL AS \(t)) AS item_id, CAST(NULL AS \(t)) AS collector, CAST(NULL AS \(t)) AS source_input_id, "
        + "CAST(NULL AS DOUBLE) AS inclusion_probability, 0 AS line_number, 0 AS output_index, 0 AS collector_index WHERE false"
    }
    text += report ? "\nORDER BY collector_index, statement;\n" : "\nORDER BY line_number, output_index, collector_index;\n"
    return text
  }

  /// The header lines naming the models the collectors watch: a query that returns nothing says
  /// nothing itself, and outputs of another model are the usual reason (`rulec run` warns then).
  func watched(_ program: CheckedProgram, report: Bool) -> String {
    var sources: [String] = []
    for c in program.collectors where !sources.contains(c.source.text) { sources.append(c.source.text) }
    guard !sources.isEmpty else { return "-- No collector: the query returns no rows." }
    var text =
      report
      ? "-- Only successful outputs of these models count (a collector whose events are 0 saw none of\n-- them: look at the model ids the data holds):"
      : "-- Only successful outputs of these models are read (no rows can mean the data holds none of\n-- them; the --report query counts each collector's events):"
    for source in sources.prefix(10) { text += "\n--   " + source }
    if sources.count > 10 { text += "\n--   and \(sources.count - 10) more" }
    return text
  }

  // MARK: Reading

  func lines(_ source: SQLSource) -> String {
    switch (source, dialect) {
    case (.file(let path), .duckdb):
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
    case (.file(let path), .spark):
      // The file's splits are read in order, and monotonically_increasing_id is the split's index
      // times 2^33 plus the row's place in it: a line's number is the rows of the splits before it
      // plus its place. (row_number() over the whole file numbered it too, but as one window over
      // every line: the rest of the query then ran on one thread, 2 threads no faster than 1.)
      return """
        -- Each line of the file, numbered from 1 in file order: Spark's text reader, each split's
        -- lines counted and the counts of the splits before added.
        raw_lines AS (
          SELECT monotonically_increasing_id() AS row_id, value AS line FROM text.\(dialect.quote(path))
        ),
        splits AS (
          SELECT split, COALESCE(sum(lines) OVER (ORDER BY split ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS lines_before
          FROM (SELECT shiftright(row_id, 33) AS split, count(*) AS lines FROM raw_lines GROUP BY 1)
        ),
        lines AS (
          SELECT CAST(splits.lines_before + (raw_lines.row_id & 8589934591) + 1 AS BIGINT) AS line_number, raw_lines.line
          FROM raw_lines JOIN splits ON shiftright(raw_lines.row_id, 33) = splits.split
        )
        """
    case (.relation(let relation), _):
      return """
        lines AS (
          SELECT CAST(line_number AS BIGINT) AS line_number, CAST(line AS \(dialect.text)) AS line FROM \(relation)
        )
        """
    case (.parquet(let path), _):
      let reader = dialect == .duckdb ? "read_parquet(\(dialect.string(path)))" : "parquet.\(dialect.quote(path))"
      return """
        -- A Parquet file of lines: line_number and line (the JSON text of an output or a response).
        lines AS (
          SELECT CAST(line_number AS BIGINT) AS line_number, CAST(line AS \(dialect.text)) AS line FROM \(reader)
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
    func edge(_ name: String) -> String { "COALESCE(\(number(field(box + [name], of: r))), 0)" }
    return dialect.record([
      ("id", "COALESCE(\(field(["id"], of: r)), '')"), ("value", number(field(["value"], of: r))),
      ("has_box", "(\(field(box, of: r)) IS NOT NULL)"),
      ("top_edge", edge("top_row")), ("left_edge", edge("left_col")), ("bottom_edge", edge("bottom_row")), ("right_edge", edge("right_col")),
      ("concepts", parsedConcepts(field(["data", "concepts"], of: r))),
    ])
  }

  /// A parsed concept list as records with the decoder's defaults: no name or id is `""`, no value 0.
  func parsedConcepts(_ list: String) -> String {
    dialect.transform(
      "COALESCE(\(list), \(dialect.array([])))", "c",
      dialect.record([("id", "COALESCE(c.id, '')"), ("name", "COALESCE(c.name, '')"), ("value", "COALESCE(\(number("c.value")), 0)")]))
  }

  /// A number field as read: DuckDB's reader turns a JSON string holding a number into a DOUBLE;
  /// Spark's reads only `"NaN"` and the infinities so, and so reads the field's text, cast here.
  func number(_ x: String) -> String {
    switch dialect {
    case .duckdb: x
    case .spark: "try_cast(\(x) AS DOUBLE)"
    }
  }

  /// The lines that are JSON objects, and whether each is a response (it has `outputs`).
  func documents() -> String {
    switch dialect {
    case .duckdb:
      return """
        documents AS MATERIALIZED (
          SELECT line_number, line,
            -- `"outputs"` in the text first: most lines are outputs, and the check parses the line again.
            contains(line, '"outputs"') AND json_exists(line, '$.outputs') AS is_response
          FROM lines
          WHERE json_valid(line) AND starts_with(ltrim(line), '{')
        )
        """
    case .spark:
      return """
        documents AS (
          SELECT line_number, line,
            -- `"outputs"` in the text first: most lines are outputs, and the check parses the line again.
            contains(line, '"outputs"') AND array_contains(json_object_keys(line), 'outputs') AS is_response
          FROM lines
          WHERE startswith(ltrim(line), '{') AND try_parse_json(line) IS NOT NULL
        )
        """
    }
  }

  /// Each output parsed once into the structure `schema` (its own line, or each of a response's).
  func rawOutputs(_ schema: String) -> String {
    switch dialect {
    case .duckdb:
      return """
        raw_outputs AS (
          SELECT line_number, 0 AS output_index, json_transform(line, \(dialect.string(schema))) AS p
          FROM documents
          WHERE NOT is_response
          UNION ALL
          SELECT line_number, CAST(n - 1 AS INTEGER) AS output_index, json_transform(outputs[n], \(dialect.string(schema))) AS p
          FROM (SELECT line_number, json_transform(line, '{"outputs": "JSON[]"}').outputs AS outputs FROM documents WHERE is_response),
               range(1, len(outputs) + 1) AS numbers(n)
        )
        """
    case .spark:
      return """
        raw_outputs AS (
          SELECT line_number, 0 AS output_index, from_json(line, \(dialect.string(schema))) AS p
          FROM documents
          WHERE NOT is_response
          UNION ALL
          SELECT line_number, output_index, from_json(output, \(dialect.string(schema))) AS p
          FROM (SELECT line_number, posexplode(from_json(line, 'STRUCT<outputs: ARRAY<STRING>>').outputs) AS (output_index, output)
                FROM documents WHERE is_response)
        )
        """
    }
  }

  /// The input's media kind (the first of image, video, text, audio among its data's keys whose
  /// value is an object), its text and its URL (of the last such kind), from the input's data.
  func inputColumns() -> [String] {
    let media = ["image", "video", "text", "audio"]
    switch dialect {
    case .duckdb:
      let mediaList = media.map { dialect.string($0) }.joined(separator: ", ")
      let kinds = dialect.filter("COALESCE(json_keys(input_data), [])", "k", "k IN (\(mediaList)) AND json_type(input_data, '$.\"' || k || '\"') = 'OBJECT'")
      return [
        "\(kinds)[1] AS input_kind",
        "json_extract_string(input_data, '$.text.raw') AS input_text",
        "json_extract_string(input_data, '$.\"' || \(kinds)[-1] || '\".url') AS input_url",
      ]
    case .spark:
      let isObject = media.map { "(k = '\($0)' AND \(dialect.json("variant_get(input_document, '$.\($0)')", is: .object)))" }.joined(separator: " OR ")
      let kinds = dialect.filter("COALESCE(json_object_keys(input_data), array())", "k", isObject)
      let urls = media.map { "WHEN '\($0)' THEN try_variant_get(input_document, '$.\($0).url', 'string')" }.joined(separator: " ")
      return [
        "try_element_at(\(kinds), 1) AS input_kind",
        "try_variant_get(input_document, '$.text.raw', 'string') AS input_text",
        "CASE try_element_at(\(kinds), -1) \(urls) END AS input_url",
      ]
    }
  }

  func outputs(_ reads: Reads) -> String {
    let schema = structure(Self.fields(reads))
    let d = dialect
    // The input's data, parsed: DuckDB reads JSON text in place; Spark parses it once to a VARIANT.
    let metadata = d == .duckdb
      ? "NULLIF(json_extract(\(field(["input", "data"])), '$.metadata'), 'null') AS metadata"
      : "try_parse_json(\(field(["input", "data"]))) AS input_document"
    let eventTime = d == .duckdb
      ? "epoch(TRY_CAST(\(field(["created_at"])) AS TIMESTAMPTZ))"
      : "CAST(unix_micros(try_cast(\(field(["created_at"])) AS TIMESTAMP)) AS DOUBLE) / 1000000"
    let keyBytes = d.transform("\(d.range("0", d.byteCount("input_key")))", "i", d.byte("input_key", "i", as: "INTEGER"))
    let badLine = "bool_or(success AND COALESCE(model_id, '') = '') OVER (PARTITION BY line_number)"
    let readable = ["-- The key's UTF-8 bytes, for destination ids.\n    \(keyBytes) AS input_key_bytes"] + inputColumns()
      + (d == .spark ? ["variant_get(input_document, '$.metadata') AS metadata"] : [])
    let readableOutputs: String
    switch d {
    case .duckdb:
      readableOutputs = """
        readable_outputs AS (
          SELECT *,
            \(readable.joined(separator: ",\n    "))
          FROM keyed
          -- A successful output that names no model cannot be routed: its whole line is bad.
          QUALIFY NOT \(badLine)
        )
        """
    case .spark:
      readableOutputs = """
        readable_outputs AS (
          SELECT \(d.allBut(["bad_line", "input_document"])),
            \(readable.joined(separator: ",\n    "))
          FROM (SELECT *, \(badLine) AS bad_line FROM keyed)
          -- A successful output that names no model cannot be routed: its whole line is bad.
          WHERE NOT bad_line
        )
        """
    }
    return """
      -- A line is one output, or a response whose `outputs` holds several; a line that is not a JSON
      -- object contributes nothing (rulec run reports it as a bad line), nor does an object that
      -- is neither (it names no model, below).
      \(documents()),
      -- Each output parsed once into the fields rules read, both spellings side by side (a JSON
      -- path per field parsed the output again for each).
      \(rawOutputs(schema)),
      fields AS (
        SELECT line_number, output_index,
          -- No status is success; a status whose code is null or left out is code 0 (Grammar.md §9).
          -- The code is a number, a string of an integer (spaces around it allowed) or a name.
          \(field(["status"])) IS NULL OR COALESCE(\(field(["status", "code"])) = 'SUCCESS' OR TRY_CAST(trim(\(field(["status", "code"]))) AS DOUBLE) = 10000, false) AS success,
          \(field(["model", "id"])) AS model_id,
          \(field(["model", "user_id"])) AS model_user,
          \(field(["model", "app_id"])) AS model_app,
          \(field(["model", "model_version", "id"])) AS model_version,
          \(field(["caller_user_id"])) AS caller,
          \(field(["id"])) AS output_id,
          \(field(["input", "id"])) AS input_id,
          NULLIF(\(field(["input", "data"])), 'null') AS input_data,
          \(metadata),
          \(parsedConcepts(field(["data", "concepts"]))) AS concepts\(regionColumns(reads.regions, reads.frames))\(reads.time ? ",\n    \(eventTime) AS created_at" : "")
        FROM raw_outputs
      ),
      keyed AS (
        SELECT *, COALESCE(input_id, output_id, 'line' || CAST(line_number AS \(d.text)) || '-' || CAST(output_index AS \(d.text))) AS input_key
        FROM fields
      ),
      \(readableOutputs),
      outputs AS (
        SELECT *\(reads.time ? ",\n    -- Event time: created_at, else the latest one of a successful output before it, else 0.\n    COALESCE(created_at, max(CASE WHEN success THEN created_at END) OVER (ORDER BY line_number, output_index ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS event_time" : "")
        FROM readable_outputs
      )
      """
  }

  /// The type of a field the query reads from an output.
  indirect enum FieldType {
    case text, number, json
    /// A list of structures with these fields.
    case list([([String], FieldType)])
  }

  static let conceptList = FieldType.list([(["id"], .text), (["name"], .text), (["value"], .number)])

  /// A region's fields.
  static let regionFields: [([String], FieldType)] = [
    (["id"], .text), (["value"], .number), (["data", "concepts"], conceptList),
    (["region_info", "bounding_box", "top_row"], .number), (["region_info", "bounding_box", "left_col"], .number),
    (["region_info", "bounding_box", "bottom_row"], .number), (["region_info", "bounding_box", "right_col"], .number),
  ]

  /// The fields of an output the query reads, with their types (regions and frames only when
  /// the rules read them): both spellings of each name are in the structure the reader fills.
  static func fields(_ reads: Reads) -> [([String], FieldType)] {
    var fields: [([String], FieldType)] = [
      (["id"], .text), (["status", "code"], .text), (["created_at"], .text), (["caller_user_id"], .text),
      (["model", "id"], .text), (["model", "user_id"], .text), (["model", "app_id"], .text), (["model", "model_version", "id"], .text),
      (["input", "id"], .text), (["input", "data"], .json), (["data", "concepts"], conceptList),
    ]
    if reads.regions { fields.append((["data", "regions"], .list(regionFields))) }
    if reads.frames {
      let frame: [([String], FieldType)] = [
        (["id"], .text), (["frame_info", "index"], .number), (["frame_info", "time"], .number), (["data", "concepts"], conceptList),
        (["data", "regions"], .list(regionFields)),
      ]
      fields.append((["data", "frames"], .list(frame)))
    }
    return fields
  }

  /// The structure the dialect's JSON reader fills, with both spellings of every name: for
  /// DuckDB's `json_transform` as JSON, for Spark's `from_json` as a DDL type.
  func structure(_ fields: [([String], FieldType)]) -> String {
    final class Node {
      var children: [(String, Node)] = []
      var leaf: FieldType?
      func child(_ name: String) -> Node {
        if let found = children.first(where: { $0.0 == name }) { return found.1 }
        let node = Node()
        children.append((name, node))
        return node
      }
    }
    let root = Node()
    for (path, type) in fields {
      var level = [root]
      for segment in path {
        let names = Self.camel(segment) == segment ? [segment] : [segment, Self.camel(segment)]
        level = level.flatMap { node in names.map { node.child($0) } }
      }
      for node in level { node.leaf = type }
    }
    let d = dialect
    func render(_ node: Node) -> String {
      if let leaf = node.leaf { return type(leaf) }
      switch d {
      case .duckdb: return "{" + node.children.map { "\"\($0.0)\": \(render($0.1))" }.joined(separator: ", ") + "}"
      case .spark: return "STRUCT<" + node.children.map { "\(d.quote($0.0)): \(render($0.1))" }.joined(separator: ", ") + ">"
      }
    }
    func type(_ t: FieldType) -> String {
      switch (t, d) {
      case (.text, .duckdb): "\"VARCHAR\""
      case (.number, .duckdb): "\"DOUBLE\""
      case (.json, .duckdb): "\"JSON\""
      case (.text, .spark), (.json, .spark), (.number, .spark): "STRING"
      case (.list(let fields), .duckdb): "[" + structure(fields) + "]"
      case (.list(let fields), .spark): "ARRAY<" + structure(fields) + ">"
      }
    }
    return render(root)
  }

  /// A parsed field in either spelling, of the output (`p`) or of a parsed element.
  func field(_ path: [String], of base: String = "p") -> String {
    var options = [""]
    for segment in path {
      let names = Self.camel(segment) == segment ? [segment] : [segment, Self.camel(segment)]
      options = options.flatMap { prefix in names.map { prefix + "." + dialect.quote($0) } }
    }
    let all = options.map { base + $0 }
    return all.count == 1 ? all[0] : "COALESCE(" + all.joined(separator: ", ") + ")"
  }

  /// The regions and frames columns, read only when the rules look at them.
  func regionColumns(_ readsRegions: Bool, _ readsFrames: Bool) -> String {
    let d = dialect
    var text = ""
    if readsRegions { text += ",\n    " + d.transform("COALESCE(\(field(["data", "regions"])), \(d.array([])))", "r", region("r")) + " AS regions" }
    if readsFrames {
      let frame = d.record([
        ("id", "COALESCE(\(field(["id"], of: "f")), '')"), ("index", number(field(["frame_info", "index"], of: "f"))),
        ("time", number(field(["frame_info", "time"], of: "f"))), ("concepts", parsedConcepts(field(["data", "concepts"], of: "f"))),
        ("regions", d.transform("COALESCE(\(field(["data", "regions"], of: "f")), \(d.array([])))", "fr", region("fr"))),
      ])
      text += ",\n    " + d.transform("COALESCE(\(field(["data", "frames"])), \(d.array([])))", "f", frame) + " AS frames"
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
      -- collector \(c.id) (\(location(c, c.range))): \(c.source.text)
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
            SELECT \(dialect.allBut(["candidate", "used", "failed_at"] + (r > 0 ? ["failed_before"] : []))), failed_at AS failed_before,
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
              THEN \(dialect.error("rulec: collector '\(c.id)': the inputs over its limit's budget that come again are not settled after \(limitRounds) rounds (\(limit.text)); compile with a larger --limit-rounds, or use rulec run"))
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
          + "CAST(NULL AS \(dialect.text)) AS stage, CAST(NULL AS INTEGER) AS line, CAST(NULL AS \(dialect.text)) AS text, 0 AS passed, 0 AS dropped FROM \(n)_counts")
    }
    text += """
      \(n) AS (
        \(rows.joined(separator: "\n  UNION ALL\n  "))
      )
      """
    return text
  }

  /// What Spark needs set before the query. Its analyzer takes a few iterations of its
  /// resolution batch for each nested window or lambda, and stops at 100 by default: rules with a
  /// concept map, regions and a limit in 4 rounds needed between 100 and 150, a limit in 16
  /// rounds alone more than 170. The bound only stops a runaway analysis, so it is set generously.
  var sparkSettings: String {
    """
    -- Spark's analyzer resolves this query's nested windows and lambdas in more iterations than its
    -- default bound (100): run this first (spark-sql -f runs the file as it is; in PySpark, set it with
    -- spark.conf.set and run the query alone).
    SET spark.sql.analyzer.maxIterations = \(100 * (limitRounds + 10));

    """
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
    let lookup = d.map(map.targetOf.keys.sorted().map { ($0, map.targetOf[$0]!) })
    // Each concept with its target, the target looked up once.
    let target = map.targetOf.isEmpty
      ? "CAST(NULL AS \(d.text))" : "COALESCE(\(d.lookup(lookup, "c.name")), \(d.lookup(lookup, "c.id")))"
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
      d.filter(d.range("1", "\(d.length(rn)) + 1"), "i", "\(d.position(names, "\(d.element(rn, "i")).name")) = i"), "i",
      d.record([
        ("id", "\(d.element(rn, "i")).id"), ("name", "\(d.element(rn, "i")).name"),
        ("value", d.listMax(d.transform(d.filter(rn, "m", "m.name = \(d.element(rn, "i")).name"), "m", "m.value"))),
      ]))
    return d.element(d.transform(d.array([renamed]), rn, merged), "1")
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
    let d = dialect
    let bytes = d.transform(d.range("0", d.byteCount(string)), "i", d.byte(string, "i", as: d.wideInteger))
    return fnv(bytes: bytes, from: start)
  }

  func fnv(bytes: String, from start: UInt64) -> String {
    dialect.fold(bytes, "CAST(\(start) AS \(dialect.wideInteger))", "h", "b", dialect.fnvStep("h", "b"))
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
        let d = dialect
        asKey = "(CASE WHEN \(d.json(v.sql, is: .string)) THEN \(d.jsonString(v.sql)) "
          + "WHEN \(d.json(v.sql, is: .bool)) THEN CAST(\(d.jsonBool(v.sql)) AS \(d.text)) "
          + "WHEN \(d.json(v.sql, is: .number)) THEN \(numberKey(n)) END)"
      case .list: asKey = "NULL"
      }
      key = "COALESCE(\(asKey), input_id, '')"
    }
    return "(\(fnv(key, from: start)) % 1000000 < \(threshold))"
  }

  /// A number as a sampling key (`Value.samplingKey`): a whole number below 10^15 without a
  /// fraction, else its shortest round-trip form.
  func numberKey(_ n: String) -> String {
    let whole = "CAST(CAST(\(n) AS BIGINT) AS \(dialect.text))"
    switch dialect {
    case .duckdb:
      return "(CASE WHEN \(n) = round(\(n)) AND abs(\(n)) < 1e15 THEN \(whole) ELSE CAST(\(n) AS VARCHAR) END)"
    case .spark:
      // Java writes a double as Swift does only from 10^-3 up to 10^7 (outside, 1.0E-5 for 1e-05):
      // another key would sample other inputs, so the query stops instead.
      return "(CASE WHEN \(n) = round(\(n)) AND abs(\(n)) < 1e15 THEN \(whole) "
        + "WHEN abs(\(n)) >= 0.001 AND abs(\(n)) < 10000000 THEN CAST(\(n) AS STRING) "
        + "ELSE \(dialect.error("rulec: sample by a number below 0.001 or at 10^7 or more with a fraction: Spark writes it otherwise than rulec run; use rulec run or DuckDB")) END)"
    }
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
    let hash = d.hex64(fnv(bytes: "input_key_bytes", from: prefix.hash))
    return "\(d.string(prefix.text)) || \(d.joined(cleaned)) || '-' || \(hash)"
  }
}
