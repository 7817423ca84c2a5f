import Foundation
import RulecCommands
import RulesDiagnostics
import RulesEvents
import RulesRunner
import RulesSema
import RulesSource
import RulesSyntax
import Testing

/// Clarifai's stack writes outputs in two spellings: the proto field names (`created_at`) and
/// proto3 JSON's lowerCamelCase (`createdAt`, `MessageToJson`'s default). Both must give the same
/// verdicts, funnel and items; `null` reads as the field's default.
@Suite struct SpellingTests {
  static let rules = """
    collector all {
      source acme/vision/detector
      destination d/d
      key env RULEC_TEST_KEY
      pre_queue {
        require any region where (concept(forklift) > 0.5 and area > 0.1)
        limit 2 per day
      }
    }
    collector frames {
      source acme/vision/*
      destination d/d
      key env RULEC_TEST_KEY
      pre_queue {
        require any frame where (time >= 1000 and max(concepts) < 0.6)
        require model.version == "v1"
      }
    }

    """

  /// One output in the proto field names, or in lowerCamelCase.
  static func output(_ k: Int, day: Int, box: Double, camel: Bool) -> String {
    func name(_ snake: String) -> String {
      guard camel else { return snake }
      var out = ""
      var upper = false
      for ch in snake {
        if ch == "_" { upper = true } else {
          out += upper ? ch.uppercased() : String(ch)
          upper = false
        }
      }
      return out
    }
    let time = "2024-03-0\(day)T08:00:0\(k % 10).5Z"
    return """
      {"id":"out\(k)","status":{"code":10000},"\(name("created_at"))":"\(time)",\
      "model":{"id":"detector","\(name("app_id"))":"vision","\(name("user_id"))":"acme","\(name("model_version"))":{"id":"v1"}},\
      "input":{"id":"in\(k)","data":{"image":{"url":"https://example.com/\(k).jpg"},"metadata":{"site":"s\(k % 3)"}}},\
      "data":{"concepts":[{"id":"c","name":"forklift","value":0.9}],\
      "regions":[{"id":"r\(k)","value":0.8,"\(name("region_info"))":{"\(name("bounding_box"))":\
      {"\(name("top_row"))":0.1,"\(name("left_col"))":0.1,"\(name("bottom_row"))":\(box),"\(name("right_col"))":\(box)}},\
      "data":{"concepts":[{"id":"f","name":"forklift","value":0.7}]}}],\
      "frames":[{"id":"f\(k)","\(name("frame_info"))":{"index":\(k),"time":\(1000 * k)},"data":{"concepts":[{"id":"x","name":"cat","value":0.5}]}}]}}
      """
  }

  static func run(_ lines: [String], jobs: Int = 1) throws -> (items: String, report: String) {
    let sink = DiagnosticSink()
    let program = Checker(sink: sink).check([Parser.parse(SourceFile(path: "test.rule", text: rules), sink: sink)])
    #expect(!sink.hasErrors)
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-spelling-\(UUID().uuidString).jsonl")
    try Data(lines.joined(separator: "\n").utf8).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let runner = try Runner(program: program)
    runner.jobs = jobs
    var items: [UInt8] = []
    try runner.run(ChunkReader(handle: try FileHandle(forReadingFrom: file))) { items += $0 }
    return (String(decoding: items, as: UTF8.self), runner.report.human)
  }

  @Test(arguments: [1, 2])
  func bothSpellingsGiveTheSameItemsAndFunnel(jobs: Int) throws {
    // Days 1, 1, 1, 2: `limit 2 per day` lets two of day 1 through (so `createdAt` must be read);
    // boxes of 0.5 and 0.2 (areas 0.16 and 0.01) tell whether the box was read.
    let plan = [(1, 0.5), (1, 0.5), (1, 0.5), (2, 0.2), (2, 0.5)]
    let snake = try Self.run(plan.enumerated().map { Self.output($0, day: $1.0, box: $1.1, camel: false) }, jobs: jobs)
    let camel = try Self.run(plan.enumerated().map { Self.output($0, day: $1.0, box: $1.1, camel: true) }, jobs: jobs)
    #expect(snake.items == camel.items)
    #expect(snake.report == camel.report)
    #expect(snake.items.split(separator: "\n").count == 3 + 4, "\(snake.report)")
    #expect(snake.report.contains("collector all: 5 events → 3 accepted"), "\(snake.report)")
    #expect(camel.items.contains("\"model_version_id\":\"v1\""))
  }

  /// Outputs made by Clarifai's own classes and written by protobuf's `json_format` in both
  /// spellings (`tools/clarifai_fixtures.py`): concepts, regions with boxes, frames, text, metadata
  /// `Struct`s, timestamps with 0–9 fraction digits, status names, a whole `MultiOutputResponse`.
  @Test func clarifaisOwnJSONInBothSpellings() throws {
    var results: [String] = []
    for spelling in ["snake", "camel"] {
      var items = ""
      var err = Capture()
      let status = Run.execute(
        rules: TestPaths.path("Tests/RulesTests/Golden/clarifai/fixtures.rule"),
        events: [TestPaths.path("Tests/RulesTests/Golden/clarifai/outputs.\(spelling).jsonl")], out: nil, report: nil, strict: true,
        explain: nil, err: &err, stdout: { items += $0 })
      #expect(status == 0, "\(err.text)")
      #expect(err.text.contains("10 lines, 13 events, 8 accepted; skipped 1 by status, 0 by model; 0 bad lines"), "\(err.text)")
      results.append(items)
    }
    #expect(results[0] == results[1])
    assertGolden(results[1], "clarifai/outputs.items.jsonl")
  }

  /// A recording that is one JSON document, as `MessageToJson` writes a response by default
  /// (indented over hundreds of lines), or a JSON array of outputs: the same items as the JSON Lines
  /// recording of the same outputs, each on one line.
  @Test(arguments: ["response.camel.json", "outputs.snake.json"])
  func aDocumentOverManyLinesIsOneRecording(file: String) throws {
    var items = ""
    var err = Capture()
    let status = Run.execute(
      rules: TestPaths.path("Tests/RulesTests/Golden/clarifai/fixtures.rule"),
      events: [TestPaths.path("Tests/RulesTests/Golden/clarifai/\(file)")], out: nil, report: nil, strict: true, explain: nil,
      err: &err, stdout: { items += $0 })
    #expect(status == 0, "\(err.text)")
    #expect(err.text.contains("13 events, 8 accepted; skipped 1 by status, 0 by model; 0 bad lines"), "\(err.text)")
    let golden = try String(contentsOfFile: TestPaths.path("Tests/RulesTests/Golden/clarifai/outputs.items.jsonl"), encoding: .utf8)
    func parsed(_ text: String) throws -> [NSDictionary] {
      try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! NSDictionary }
    }
    #expect(try parsed(items) == parsed(golden))
  }

  /// A JSON Lines recording whose first line is cut short looks like a document at first; it is
  /// read as JSON Lines, its first line bad.
  @Test func aBadFirstLineIsNotADocument() throws {
    let lines = [#"{"id":"o1","model":{"id":"m""#, #"{"id":"o2","model":{"id":"m","user_id":"u","app_id":"a"},"input":{"id":"i2"},"data":{"concepts":[]}}"#]
    #expect(JSONDocument.layout(ofPrefix: Array(lines.joined(separator: "\n").utf8)) == .document)
    let sink = DiagnosticSink()
    let program = Checker(sink: sink).check([Parser.parse(SourceFile(path: "test.rule", text: Self.rules), sink: sink)])
    let runner = try Runner(program: program)
    #expect(try runner.run(document: Array(lines.joined(separator: "\n").utf8)) { _ in } == false)
    #expect(runner.report.events == 0)
    #expect(JSONDocument.layout(ofPrefix: Array("{\"id\":\"o\"}\n{\"id\":\"p\"}\n".utf8)) == .jsonLines)
    #expect(JSONDocument.layout(ofPrefix: Array("  [\n".utf8)) == .document)
  }

  @Test func nullIsTheDefault() throws {
    let lines = [
      #"{"id":"o1","model":{"id":"detector","user_id":"acme","app_id":"vision"},"input":{"id":"i1"},"data":{"concepts":null,"regions":null,"frames":null}}"#,
      #"{"outputs":null}"#,
      #"{"id":"o2","model":{"id":"detector","userId":"acme","appId":"vision"},"input":{"id":"i2"},"data":{"concepts":[{"id":"c","name":"a","value":"NaN"}]}}"#,
    ]
    let decoder = OutputDecoder(projection: MetadataProjection())
    for (k, line) in lines.enumerated() {
      let events = try Array(line.utf8).withUnsafeBufferPointer { try decoder.decode(line: $0, lineNumber: k + 1) }
      switch k {
      case 0: #expect(events.count == 1 && events[0].concepts.isEmpty && events[0].regions.isEmpty)
      case 1: #expect(events.isEmpty)
      default:
        #expect(events.count == 1 && events[0].modelUser == "acme" && events[0].concepts.first?.value.isNaN == true)
      }
    }
    let (_, report) = try Self.run(lines)
    #expect(report.contains("0 bad lines"), "\(report)")
  }
  /// One output line with `fields` spliced in (a model, an input, and whatever `fields` adds).
  static func line(_ fields: String) -> String {
    #"{"id":"o","model":{"id":"detector","user_id":"acme","app_id":"vision"},"input":{"id":"i"},"# + fields + "}"
  }

  /// The one event of a line, as the decoder reads it, or its error's reason.
  static func decoded(_ line: String) -> Result<Event, DecodeError> {
    let decoder = OutputDecoder(projection: MetadataProjection(), requiresModel: false)
    return Array(line.utf8).withUnsafeBufferPointer { bytes in
      do throws(DecodeError) {
        let events = try decoder.decode(line: bytes, lineNumber: 1)
        return events.count == 1 ? .success(events[0]) : .failure(DecodeError("\(events.count) events", at: 0))
      } catch {
        return .failure(error)
      }
    }
  }

  /// `status.code` as `json_format` reads an enum: a number, a string holding an integer (with
  /// `int()`'s spaces, sign and leading zeros), or a name; `null` and no code are 0 (`ZERO`, not
  /// success). Checked against protobuf 7.36's `json_format.Parse` into `status_pb2.Status`.
  @Test func statusCodesAsJsonFormatReadsThem() throws {
    for (status, code, name, success) in [
      (#""status":{"code":10000}"#, 10000, nil, true),
      (#""status":{"code":"10000"}"#, 10000, nil, true),
      (#""status":{"code":"SUCCESS"}"#, nil, "SUCCESS", true),
      (#""status":{"code":10000.0}"#, 10000, nil, true),
      (#""status":{"code":" 10000 "}"#, 10000, nil, true),
      (#""status":{"code":"+10000"}"#, 10000, nil, true),
      (#""status":{"code":"010000"}"#, 10000, nil, true),
      (#""status":{"code":"30002","description":"Download failed"}"#, 30002, nil, false),
      (#""status":{"code":"CONN_THROTTLED"}"#, nil, "CONN_THROTTLED", false),
      (#""status":{"code":null}"#, 0, nil, false),
      (#""status":{"description":"Ok"}"#, 0, nil, false),
      (#""status":{}"#, 0, nil, false),
      (#""status":null"#, nil, nil, true),
    ] as [(String, Int?, String?, Bool)] {
      let e = try Self.decoded(Self.line(status)).get()
      #expect(e.statusCode == code && e.statusName == name && e.isSuccess == success, "\(status)")
    }
    // What `json_format` refuses ("Invalid enum value") is a bad line.
    for code in [#""""#, #""1e4""#, #""10000.0""#, #"" SUCCESS""#, #""1_0000""#, #""0x2710""#, #""9999999999""#] {
      guard case .failure(let error) = Self.decoded(Self.line(#""status":{"code":\#(code)}"#)) else {
        Issue.record("\(code) was read")
        continue
      }
      #expect(error.reason.contains("neither an integer"), "\(code): \(error)")
    }
  }

  /// A float field may be a string holding a JSON number, read to the same bits as the number;
  /// a string that holds anything else is a bad line that says which field.
  @Test func numbersAsStringsReadAsTheNumbers() throws {
    let regions = #"{"id":"r","value":V,"region_info":{"bounding_box":{"top_row":V,"left_col":V,"bottom_row":V,"right_col":V}}}"#
    let frames = #"{"id":"f","frame_info":{"index":V,"time":V}}"#
    func fields(_ v: String) -> String {
      #""data":{"concepts":[{"id":"c","name":"c","value":\#(v)}],"regions":[\#(regions.replacingOccurrences(of: "V", with: v))],"frames":[\#(frames.replacingOccurrences(of: "V", with: v))]}"#
    }
    func values(_ e: Event) -> [UInt64] {
      let r = e.regions[0]
      return [e.concepts[0].value, r.value!, r.box!.top, r.box!.left, r.box!.bottom, r.box!.right, e.frames[0].index!, e.frames[0].time!]
        .map(\.bitPattern)
    }
    for number in ["0.9", "0.9841", "1e-3", "1E3", "-0", "0", "1000", "0.30000000000000004", "12345678901234567890"] {
      let plain = try Self.decoded(Self.line(fields(number))).get()
      let quoted = try Self.decoded(Self.line(fields("\"\(number)\""))).get()
      #expect(values(quoted) == values(plain), "\(number)")
    }
    #expect(try Self.decoded(Self.line(fields(#""0.9""#))).get().concepts[0].value == 0.9)
    #expect(try Self.decoded(Self.line(fields(#""-Infinity""#))).get().regions[0].value == -.infinity)
    for bad in ["0.9 ", " 0.9", "", "abc", ".5", "5.", "+1", "0x1", "inf", "nan", "1_0", "1e", "0.9\\u0000"] {
      guard case .failure(let error) = Self.decoded(Self.line(fields("\"\(bad)\""))) else {
        Issue.record("\(bad) was read")
        continue
      }
      #expect(error.reason == #"concept value must be a number, or a string holding exactly one (proto3 JSON: "0.9", "1e-3", "NaN", "Infinity", "-Infinity")"#, "\(bad): \(error)")
    }
    guard case .failure(let error) = Self.decoded(Self.line(fields(#""1e999""#))) else {
      Issue.record("1e999 was read")
      return
    }
    #expect(error.reason == "concept value is a number out of range")
    // Each field names itself.
    let box = Self.line(#""data":{"regions":[{"region_info":{"bounding_box":{"top_row":"0.1","left_col":"x"}}}]}"#)
    guard case .failure(let boxError) = Self.decoded(box) else {
      Issue.record("the box was read")
      return
    }
    #expect(boxError.reason.hasPrefix("left_col must be a number, or a string"), "\(boxError)")
    // `null` is the field left out: 0 for a concept value and a box edge, missing for a region value.
    let nulls = try Self.decoded(Self.line(fields("null"))).get()
    #expect(nulls.concepts[0].value == 0 && nulls.regions[0].value == nil && nulls.regions[0].box?.top == 0 && nulls.frames[0].time == nil)
  }

  /// Through `rulec run` (the scanner and the decoder): a `null` code is skipped by its status, a
  /// quoted code and a quoted value are read, a value that is not a number is a bad line with the reason.
  @Test func aRunSkipsNullCodesAndReadsQuotedNumbers() throws {
    let lines = [
      Self.line(#""status":{"code":null},"data":{"concepts":[{"id":"c","name":"forklift","value":0.9}]}"#),
      Self.line(#""status":{"code":"10000"},"data":{"concepts":[{"id":"c","name":"forklift","value":"0.9"}],"regions":[{"value":"0.8","region_info":{"bounding_box":{"top_row":"0.1","left_col":"0.1","bottom_row":"0.9","right_col":"0.9"}},"data":{"concepts":[{"id":"f","name":"forklift","value":"0.7"}]}}]}"#),
      Self.line(#""status":{"code":10000},"data":{"concepts":[{"id":"c","name":"forklift","value":"0.9 "}]}"#),
    ]
    let sink = DiagnosticSink()
    let program = Checker(sink: sink).check([Parser.parse(SourceFile(path: "test.rule", text: Self.rules), sink: sink)])
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-proto3-\(UUID().uuidString).jsonl")
    try Data(lines.joined(separator: "\n").utf8).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let runner = try Runner(program: program)
    try runner.run(ChunkReader(handle: try FileHandle(forReadingFrom: file))) { _ in }
    let report = runner.report
    #expect(report.skippedStatus == 1, "\(report.human)")
    #expect(report.collectors[0].accepted == 1, "\(report.human)")
    #expect(report.badLines.map(\.line) == [3])
    #expect(report.badLines.first?.reason.hasPrefix("concept value must be a number, or a string") == true, "\(report.badLines)")
  }
}
