import Foundation
import RulesDiagnostics
import RulesEvents
import RulesRuntime
import RulesSema
import RulesSource
import RulesSyntax
import Testing

/// The reference semantics of Grammar.md, case by case: missing values, null, empty lists, NaN, ties.
@Suite struct EvaluatorTests {
  /// Decodes an output line and evaluates one condition on it (pre-queue, with an optional map).
  static func holds(_ condition: String, _ output: String, map: String? = nil) -> Bool {
    let sink = DiagnosticSink()
    let text = collector(pre: "    require " + condition, map: map)
    let file = Parser.parse(SourceFile(path: "t.rule", text: text), sink: sink)
    let program = Checker(sink: sink).check([file])
    let errors = sink.diagnostics.filter { $0.severity == .error }
    precondition(errors.isEmpty, "\(condition): \(errors.map(\.message.text))")
    var projection = MetadataProjection()
    let evaluator = ReferenceEvaluator(collector: program.collectors[0], projection: &projection)
    let decoder = OutputDecoder(projection: projection, requiresModel: false)
    var event = Array(output.utf8).withUnsafeBufferPointer { try! decoder.decode(line: $0, lineNumber: 1)[0] }
    program.collectors[0].conceptMap?.apply(to: &event)
    var state = CollectorState()
    return evaluator.run(.preQueue, event: event, eventTime: 0, state: &state).passed
  }

  static let concepts = #"{"id":"o","data":{"concepts":[{"id":"ai_d","name":"dog","value":0.6},{"id":"ai_c","name":"cat","value":0.6},{"id":"ai_p","name":"puppy","value":0.3}]},"input":{"id":"i","data":{"image":{"url":"u"},"metadata":{"a":{"b":2},"s":"mobile","n":null,"tags":["outdoor","x"],"t":"three"}}}}"#
  static let empty = #"{"id":"o","data":{"concepts":[]},"input":{"id":"i","data":{"text":{"raw":"héllo"}}}}"#

  @Test(arguments: [
    // Missing values make comparisons false, and `not` of them true.
    ("metadata.missing == 1", false), ("metadata.missing != 1", false), ("not (metadata.missing == 1)", true),
    ("metadata.n == 1", false), ("exists(metadata.n)", false), ("exists(metadata.a)", true), ("exists(metadata.a.b)", true),
    ("metadata.a.b == 2", true), ("metadata.a.b > 1.5", true), ("metadata.t > 2", false), ("metadata.t != 2", false),
    ("metadata.s in [mobile, web]", true), ("metadata.s not in [mobile]", false), ("metadata.missing not in [x]", false),
    ("metadata.tags contains \"outdoor\"", true), ("length(metadata.tags) == 2", true), ("metadata.s starts_with \"mob\"", true),
    ("metadata.s matches \"^m.b\"", true), ("input.kind == image", true), ("input.kind in [text, video]", false),
    // Concepts: by name, the largest on ties, absent ones missing.
    ("concept(dog) == 0.6", true), ("concept(ai_p) == 0.3", true), ("concept(wolf) < 1", false), ("not (concept(wolf) > 0.5)", true),
    ("max(concepts) == 0.6", true), ("margin(concepts) == 0", true), ("top(concepts, 2) == 0.6", true), ("top(concepts, 9) == 0.3", true),
    ("min(concepts) == 0.3", true), ("least_confidence(concepts) == 0.4", true), ("count(concepts > 0.5) == 2", true),
    ("any concept in [dog, wolf] > 0.5", true), ("all concepts in [dog, wolf] > 0.5", false), ("all concepts > 0.2", true),
    ("max(concepts in [puppy]) == 0.3", true), ("any concept where (name starts_with \"pup\" and value < 0.5)", true),
    // NaN from arithmetic is missing.
    ("concept(dog) / 0 > 0", false), ("not (concept(dog) / 0 > 0)", true), ("concept(dog) * 2 == 1.2", true),
  ])
  func onConcepts(condition: String, expected: Bool) {
    #expect(Self.holds(condition, Self.concepts) == expected, "\(condition)")
  }

  @Test(arguments: [
    ("max(concepts) < 1", false), ("not (max(concepts) < 1)", true), ("all concepts < 0.5", false), ("any concept > 0", false),
    ("count(concepts) == 0", true), ("entropy(concepts) >= 0", false), ("margin(concepts) < 1", false),
    ("length(input.text) == 5", true), ("input.kind == text", true), ("count(regions) == 0", true),
  ])
  func onAnEmptyConceptList(condition: String, expected: Bool) {
    #expect(Self.holds(condition, Self.empty) == expected, "\(condition)")
  }

  @Test func entropyAndMarginWithOneConcept() {
    let one = #"{"id":"o","data":{"concepts":[{"name":"a","value":0.5}]}}"#
    #expect(Self.holds("entropy(concepts) == 0", one))
    #expect(!Self.holds("margin(concepts) < 1", one))
    let two = #"{"id":"o","data":{"concepts":[{"name":"a","value":0.5},{"name":"b","value":0.5}]}}"#
    #expect(Self.holds("entropy(concepts) > 0.6931 and entropy(concepts) < 0.6932", two))
  }

  @Test func conceptMapMergesWithTheLargestValue() {
    #expect(Self.holds("concept(canine) == 0.6 and count(concepts) == 2", Self.concepts, map: "map { dog, puppy -> canine }"))
    #expect(Self.holds("count(concepts) == 1", Self.concepts, map: "map { dog, puppy -> canine unmapped drop }"))
    #expect(Self.holds("concept(dog) < 1", Self.concepts, map: "map { cat -> feline }"))
  }

  @Test func regionsAndFrames() {
    let detection = #"{"id":"o","data":{"regions":[{"region_info":{"bounding_box":{"top_row":0.1,"left_col":0.1,"bottom_row":0.5,"right_col":0.3}},"data":{"concepts":[{"name":"person","value":0.9}]},"value":0.9},{"data":{"concepts":[{"name":"forklift","value":0.4}]}}],"frames":[{"frame_info":{"index":1,"time":"750"},"data":{"concepts":[{"name":"a","value":0.2}]}}]}}"#
    #expect(Self.holds("any region where concept(person) > 0.8", detection))
    #expect(Self.holds("count(regions where area > 0.07) == 1", detection))
    #expect(!Self.holds("all regions where area > 0", detection))  // the second region has no box
    #expect(Self.holds("any frame where (time == 750 and max(concepts) < 0.5)", detection))
    #expect(Self.holds("count(concepts) == 0", detection))  // region concepts never count at the top
  }

  @Test func samplingKeysAndTimestamps() {
    #expect(Value.number(3).samplingKey == "3")
    #expect(Value.number(0.25).samplingKey == "0.25")
    #expect(Value.bool(true).samplingKey == "true")
    #expect(Value.object.samplingKey == nil)
    #expect(Timestamp.parse(Array("1970-01-01T00:00:00Z".utf8)) == 0)
    #expect(Timestamp.parse(Array("2024-03-02T10:15:22.5Z".utf8)) == 1_709_374_522.5)
    #expect(Timestamp.parse(Array("2024-03-02T12:15:22+02:00".utf8)) == 1_709_374_522)
    #expect(Timestamp.parse(Array("2024-03-02".utf8)) == nil)
    #expect(Timestamp.parse(Array("2024-03-02T10:15:22.Z".utf8)) == nil)
  }

  /// Fractions of a second add up exactly as a running `scale /= 10` does, to the last bit, for
  /// short and very long fractions (past the point where the weights underflow to 0).
  @Test func timestampFractionsAreExact() {
    var rng = SystemRandomNumberGenerator()
    for length in [1, 3, 6, 9, 17, 40, 330, 400] {
      for _ in 0..<50 {
        let digits = (0..<length).map { _ in UInt8(48 + rng.next() % 10) }
        var fraction = 0.0
        var scale = 0.1
        for d in digits {
          fraction += Double(d - 48) * scale
          scale /= 10
        }
        // At the epoch, so that the fraction's last bits are not lost in the seconds.
        let text = Array("1970-01-01T00:00:00.".utf8) + digits + Array("Z".utf8)
        #expect(Timestamp.parse(text)?.bitPattern == fraction.bitPattern, "\(length) digits")
      }
    }
  }
  /// A scanner reuses the days of the last timestamp's date. Along a sequence where the date and
  /// time repeat, change in any one byte, turn invalid and come back, and where the rest varies, the
  /// remembering parse must read exactly what the plain one reads.
  @Test func rememberedTimestampDatesReadAsTheirBytes() {
    var rng = SystemRandomNumberGenerator()
    let heads = ["2024-03-02T10:15:22", "2024-03-02T10:15:23", "2024-03-02t10:15:22", "2024-03-02 10:15:22", "1999-12-31T23:59:60",
      "2024-13-02T10:15:22", "2024-03-02T10:15:2x", "2024-03-02X10:15:22", "2024-03-02T10:15", "2024-02-30T00:00:00", "2024-03-0"]
    let tails = ["Z", "z", ".5Z", ".460284Z", "+02:00", "-05:30", ".25+01:00", "", ".Z", "+0200", "Zx"]
    var recent = Timestamp.RecentDate()
    var parsed = 0
    for _ in 0..<5_000 {
      var text = Array((heads[Int(rng.next() % UInt64(heads.count))] + tails[Int(rng.next() % UInt64(tails.count))]).utf8)
      // Now and then one byte of the head changes to a digit or to anything.
      if rng.next() % 4 == 0 && text.count > 18 { text[Int(rng.next() % 19)] = rng.next() % 2 == 0 ? UInt8(48 + rng.next() % 10) : UInt8(truncatingIfNeeded: rng.next()) }
      let expected = Timestamp.parse(text)
      let remembered = text.withUnsafeBufferPointer { Timestamp.parse($0, recent: &recent) }
      #expect(remembered?.bitPattern == expected?.bitPattern, "\(String(decoding: text, as: UTF8.self))")
      if expected != nil { parsed += 1 }
    }
    #expect(parsed > 1_000)
  }
}

