import AsyncHTTPClient
import Foundation
import RulesDiagnostics
import RulesEvents
import RulesForward
import RulesLoader
import RulesQueue
@testable import RulesEngine
@testable import RulesRunner
import RulesSema
import RulesSource
import RulesSyntax
import Testing

/// `collect_outputs`: the clause in both front ends, the predictions written onto items (concepts
/// after the concept map; regions last in `data`), and the forwarder posting the regions as an
/// annotation once the input exists.
@Suite(.serialized) struct CollectOutputsTests {
  static func rules(_ clause: String, map: String = "", metadataRegions: Bool = false) -> String {
    """
    collector detect {
      source acme/vision/detector
      destination acme/review
      key env RULEC_TEST_KEY
      \(clause)
      \(map)
      pre_queue {
        require count(concepts) > 0
      }
    }

    """
  }

  /// Two outputs: one with concepts and regions (one of them without a box, one with a NaN box),
  /// and one with a concept only.
  static let lines = [
    #"{"id":"o1","model":{"id":"detector","user_id":"acme","app_id":"vision"},"input":{"id":"in-1","data":{"image":{"url":"https://x/1.jpg"},"metadata":{"regions":[1,2],"k":"v"}}},"data":{"concepts":[{"id":"dog","name":"dog","value":0.9},{"id":"puppy","name":"puppy","value":0.95},{"id":"cat","name":"cat","value":0.1}],"regions":[{"id":"r1","value":0.8,"region_info":{"bounding_box":{"top_row":0.1,"left_col":0.2,"bottom_row":0.5,"right_col":0.6}},"data":{"concepts":[{"id":"dog","name":"dog","value":0.8}]}},{"id":"r2","data":{"concepts":[{"id":"cat","value":0.3}]}},{"id":"r3","regionInfo":{"boundingBox":{"topRow":"NaN","leftCol":0,"bottomRow":1,"rightCol":1}}}]}}"#,
    #"{"id":"o2","model":{"id":"detector","user_id":"acme","app_id":"vision"},"input":{"id":"in-2","data":{"text":{"raw":"a \"quoted\" text"}}},"data":{"concepts":[{"id":"c\"q","name":"n\\m","value":1}]}}"#,
  ]

  /// The items of a dry run (one JSON line each) and the report.
  static func dryRun(_ rules: String, jobs: Int = 1) throws -> (items: [String], report: RunReport) {
    var items = ""
    var report: RunReport?
    try RunTests.withRecording(rules: rules, lines: lines) { program, file in
      #expect(program.collectors.count == 1)
      let runner = try Runner(program: program)
      runner.jobs = jobs
      try runner.run(ChunkReader(handle: try FileHandle(forReadingFrom: file))) { items += String(decoding: $0, as: UTF8.self) }
      report = runner.report
    }
    return (items.split(separator: "\n").map(String.init), report!)
  }

  static func object(_ line: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
  }

  // MARK: The clause

  @Test func theClauseAloneCollectsBothKindsAndAListNamesThem() throws {
    for (clause, expected) in [
      ("collect_outputs", CollectedOutputs.all), ("collect_outputs [concepts]", .concepts), ("collect_outputs [regions]", .regions),
      ("collect_outputs [regions, concepts]", .all), ("", []),
    ] {
      let sink = DiagnosticSink()
      let program = Checker(sink: sink).check([Parser.parse(SourceFile(path: "t.rule", text: Self.rules(clause)), sink: sink)])
      #expect(!sink.hasErrors, "\(clause)")
      #expect(program.collectors.first?.collectOutputs == expected, "\(clause)")
    }
  }

  @Test func anUnknownKindIsLocatedWithASuggestion() {
    let ds = check(Self.rules("collect_outputs [concepts, region]"))
    #expect(codes(ds) == ["RC3001"])
    #expect(ds.first?.message.text == "unknown output kind 'region' in 'collect_outputs'")
    #expect(ds.first?.message.help == "did you mean 'regions'?")
    #expect(ds.first?.location.line == 5)
    let twice = check(Self.rules("collect_outputs\n  collect_outputs [concepts]"))
    #expect(codes(twice) == ["RC3012"])
  }

  @Test func yamlTakesClarifaisBoolAndAList() throws {
    func yaml(_ value: String) -> String {
      """
      collectors:
        - id: detect
          source: {user: acme, app: vision, model: detector}
          destination: {user: acme, app: review}
          key: {env: RULEC_TEST_KEY}
          collect_outputs: \(value)
          pre_queue:
            - require count(concepts) > 0

      """
    }
    for (value, expected) in [("true", CollectedOutputs.all), ("false", []), ("[regions]", .regions)] {
      let sink = DiagnosticSink()
      let file = RuleLoader.parse(SourceFile(path: "t.yaml", text: yaml(value)), sink: sink)
      let program = Checker(sink: sink).check([file])
      #expect(!sink.hasErrors, "\(value)")
      #expect(program.collectors.first?.collectOutputs == expected, "\(value)")
    }
    #expect(codes(check(yaml("7"), path: "t.yaml")) == ["RC2004"])
  }

  @Test func theFormatterKeepsTheClause() {
    for clause in ["collect_outputs", "collect_outputs [concepts, regions]"] {
      let sink = DiagnosticSink()
      let text = Self.rules(clause)
      let file = Parser.parse(SourceFile(path: "t.rule", text: text), sink: sink)
      let printed = Printer.format(file)
      #expect(printed.contains("  \(clause)\n"))
      let again = Printer.format(Parser.parse(SourceFile(path: "t.rule", text: printed), sink: sink))
      #expect(again == printed)
    }
  }

  // MARK: Items

  @Test func itemsCarryTheMappedConceptsAndTheBoxedRegions() throws {
    let (items, report) = try Self.dryRun(Self.rules("collect_outputs", map: "map { dog, puppy -> canine }"))
    #expect(items.count == 2)
    let first = try Self.object(items[0])
    let data = try #require(first["data"] as? [String: Any])
    let concepts = try #require(data["concepts"] as? [[String: Any]])
    // After the map: dog and puppy are one concept, canine, with the larger value.
    #expect(concepts.map { $0["id"] as? String } == ["canine", "cat"])
    #expect(concepts.map { $0["value"] as? Double } == [0.95, 0.1])
    let regions = try #require(data["regions"] as? [[String: Any]])
    // r2 has no box and r3 a NaN one: only r1 can be an annotation.
    #expect(regions.count == 1)
    #expect(regions[0]["id"] as? String == "r1" && regions[0]["value"] as? Double == 0.8)
    let box = (regions[0]["region_info"] as? [String: Any])?["bounding_box"] as? [String: Double]
    #expect(box == ["top_row": 0.1, "left_col": 0.2, "bottom_row": 0.5, "right_col": 0.6])
    let regionConcepts = ((regions[0]["data"] as? [String: Any])?["concepts"] as? [[String: Any]])?.map { $0["id"] as? String }
    #expect(regionConcepts == ["canine"])
    // The media, the metadata (with its own `regions` key) and the provenance are as ever.
    #expect((data["metadata"] as? [String: Any])?["regions"] as? [Int] == [1, 2])
    #expect(((data["metadata"] as? [String: Any])?["rulec"] as? [String: Any])?["collector"] as? String == "detect")
    // Text that needs escapes is escaped.
    let second = try Self.object(items[1])
    let escaped = ((second["data"] as? [String: Any])?["concepts"] as? [[String: Any]])?.first
    #expect(escaped?["id"] as? String == "c\"q" && escaped?["name"] as? String == "n\\m")
    #expect((second["data"] as? [String: Any])?["regions"] == nil)
    let counted = try #require(report.collectors[0].collected)
    #expect((counted.itemsWithConcepts, counted.regions, counted.itemsWithRegions) == (2, 1, 1))
    #expect(report.human.contains("collected outputs: 2 items with concepts, 1 regions on 1 items (annotations)"))
  }

  @Test func eachKindAloneAndNoneLeaveTheOthersOut() throws {
    let concepts = try Self.dryRun(Self.rules("collect_outputs [concepts]")).items
    #expect(concepts.allSatisfy { $0.contains(#""concepts":["#) && !$0.contains(#""regions":[{"#) })
    let regions = try Self.dryRun(Self.rules("collect_outputs [regions]")).items
    #expect(try Self.object(regions[0])["data"].flatMap { ($0 as? [String: Any])?["concepts"] } == nil)
    #expect(regions[0].contains(#""regions":[{"id":"r1""#))
    let (none, report) = try Self.dryRun(Self.rules(""))
    #expect(none.allSatisfy { !$0.contains(#""concepts""#) })
    #expect(report.collectors[0].collected == nil)
  }

  @Test func jobsWriteTheSameItems() throws {
    let rules = Self.rules("collect_outputs", map: "map { dog -> canine }")
    #expect(try Self.dryRun(rules, jobs: 1).items == Self.dryRun(rules, jobs: 2).items)
  }

  /// The forwarder splits the regions off exactly: what is left is the item written without them.
  @Test func splittingTheRegionsLeavesTheItemWithoutThem() throws {
    let both = try Self.dryRun(Self.rules("collect_outputs")).items
    let conceptsOnly = try Self.dryRun(Self.rules("collect_outputs [concepts]")).items
    let split = try #require(DeliveryPolicy.splitRegions(Array(both[0].utf8) + [10]))
    #expect(String(decoding: split.input, as: UTF8.self) == conceptsOnly[0] + "\n")
    let regions = try #require(try JSONSerialization.jsonObject(with: Data(split.regions)) as? [[String: Any]])
    #expect(regions.count == 1)
    // No regions: nothing to split, even with a `regions` key in the metadata.
    #expect(DeliveryPolicy.splitRegions(Array(conceptsOnly[0].utf8)) == nil)
    let annotation = DeliveryPolicy.annotation(inputID: "x-1", regions: split.regions)
    let parsed = try #require(try JSONSerialization.jsonObject(with: Data(annotation)) as? [String: Any])
    #expect(parsed["id"] as? String == "x-1" && parsed["input_id"] as? String == "x-1")
    #expect(((parsed["data"] as? [String: Any])?["regions"] as? [Any])?.count == 1)
  }

  // MARK: Forwarding

  static func queued(_ rules: String) throws -> [QueuedItem] {
    let items = try dryRun(rules).items
    return try items.map { line in
      let id = try #require(try object(line)["id"] as? String)
      return QueuedItem(
        id: id, collector: "detect", destinationUser: "acme", destinationApp: "review", ruleSet: 1, payload: Array(line.utf8) + [10])
    }
  }

  @Test func regionsArePostedAsAnAnnotationOnceTheInputExists() async throws {
    let items = try Self.queued(Self.rules("collect_outputs"))
    try await ForwarderTests.withForwarder(keys: ["detect": "good"]) { store, server, forwarder in
      try store.enqueue(items, now: 0)
      try await forwarder.drain(deadline: Date().timeIntervalSince1970 + 30)
      #expect(try store.depth() == 0)
      #expect(server.received.count == 2)
      // PostInputs got no regions; the concepts stayed on the input.
      for (_, body) in server.received {
        #expect(!body.contains("\"regions\":[{"))
        #expect(body.contains("\"concepts\""))
      }
      let annotations = server.annotations
      #expect(annotations.count == 1)
      let only = try #require(annotations.first)
      #expect(only.key == items[0].id && only.value["input_id"] as? String == items[0].id)
      #expect((((only.value["data"] as? [String: Any])?["regions"]) as? [Any])?.count == 1)
      #expect(forwarder.stats.delivered == 2 && forwarder.stats.annotationsDelivered == 1)
      #expect(try store.deadLetters(limit: 10).isEmpty)
    }
  }

  @Test func anAnnotationWaitsForItsInputThenGivesUpIntoTheDeadLetters() async throws {
    let items = try Self.queued(Self.rules("collect_outputs [regions]"))
    try await ForwarderTests.withForwarder(keys: ["detect": "good"]) { store, server, forwarder in
      // The input exists but is not visible yet for two attempts.
      server.hidden = [items[0].id]
      try store.enqueue([items[0]], now: 0)
      _ = try await forwarder.pass()  // the input
      _ = try await forwarder.pass()  // the annotation: not visible yet
      #expect(server.annotations.isEmpty)
      #expect(forwarder.stats.retried == 1)
      server.hidden = []
      try store.resumeAll()
      try await forwarder.drain(deadline: Date().timeIntervalSince1970 + 30)
      #expect(server.annotations.count == 1 && forwarder.stats.annotationsDelivered == 1)

      // An input that never shows: the annotation goes to the dead letters with the reason.
      server.hidden = [items[1].id]
      var never = items[0]
      never.id = items[1].id + QueuedItem.annotationsSuffix
      never.payload = DeliveryPolicy.annotation(inputID: items[1].id, regions: DeliveryPolicy.splitRegions(items[0].payload)!.regions)
      try store.enqueue([never], now: 0)
      for _ in 0...8 {
        try store.resumeAll()
        _ = try await forwarder.pass()
      }
      let dead = try store.deadLetters(limit: 10)
      #expect(dead.map(\.item.id) == [never.id])
      #expect(dead.first?.reason.hasPrefix("11101") == true)
    }
  }

  @Test func aRejectedInputGetsNoAnnotationUntilItIsDelivered() async throws {
    let items = try Self.queued(Self.rules("collect_outputs"))
    try await ForwarderTests.withForwarder(keys: ["detect": "good"]) { store, server, forwarder in
      server.rejected = [items[0].id]
      try store.enqueue(items, now: 0)
      try await forwarder.drain(deadline: Date().timeIntervalSince1970 + 30)
      #expect(server.annotations.isEmpty)
      #expect(try store.deadLetters(limit: 10).map(\.item.id) == [items[0].id])
      // Sent again (a retried dead letter, say): the destination's duplicate counts as delivered.
      server.rejected = []
      try store.retryDeadLetters(nil, now: 0)
      try await forwarder.drain(deadline: Date().timeIntervalSince1970 + 30)
      #expect(server.annotations.count == 1)
      let again = QueuedItem(
        id: items[0].id + QueuedItem.annotationsSuffix, collector: "detect", destinationUser: "acme", destinationApp: "review",
        ruleSet: 1, payload: DeliveryPolicy.annotation(inputID: items[0].id, regions: DeliveryPolicy.splitRegions(items[0].payload)!.regions))
      // Delivered annotations are remembered like inputs: the same one is not queued again.
      #expect(try store.enqueue([again], now: 0) == 0)
      #expect(try store.depth() == 0 && forwarder.stats.annotationsDelivered == 1)
      #expect(try store.deadLetters(limit: 10).isEmpty)
    }
  }
  /// An annotation batch answered 401 or 403 (the key can no longer post) pauses its collector as an
  /// input batch does: the annotation is kept, not dead-lettered, and goes once the key is fixed.
  @Test(arguments: [(401, 11009), (403, 11007)]) func anAnnotationRefusedForItsKeyPausesTheCollector(http: Int, code: Int) async throws {
    let items = try Self.queued(Self.rules("collect_outputs [regions]"))
    try await ForwarderTests.withForwarder(keys: ["detect": "good"]) { store, server, forwarder in
      try store.enqueue([items[0]], now: 0)
      _ = try await forwarder.pass()  // the input
      #expect(server.received.count == 1 && forwarder.stats.paused.isEmpty)
      server.queue(.status(http, code: code, retryAfter: nil))
      _ = try await forwarder.pass()  // the annotation
      #expect(server.paths.last?.hasSuffix("/annotations") == true, "\(server.paths)")
      #expect(forwarder.stats.paused["detect"] == "\(code) injected")
      #expect(server.annotations.isEmpty)
      #expect(try store.depth() == 1)
      #expect(try store.deadLetters(limit: 10).isEmpty)
      // The key is fixed (a reload): the annotation goes.
      forwarder.requestKeys(["detect": "good"])
      try await forwarder.drain(deadline: Date().timeIntervalSince1970 + 30)
      #expect(server.annotations.count == 1 && forwarder.stats.annotationsDelivered == 1)
      #expect(try store.depth() == 0)
    }
  }
}
