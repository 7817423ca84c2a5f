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
}
