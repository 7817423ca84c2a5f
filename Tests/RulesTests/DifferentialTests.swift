import Foundation
import PropertyBased
import RulesDiagnostics
import RulesEngine
import RulesEvents
import RulesRunner
import RulesSema
import RulesSource
import RulesSyntax
import Testing

/// A small seeded random generator (SplitMix64), so every case can be replayed from its seed.
struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Random rule programs and random events, for the differential test.
struct RandomCase {
  var rng: SplitMix
  static let names = ["dog", "cat", "puppy", "kitten", "car"]
  static let strings = ["a", "ab", "b", "mobile", "", "é"]

  mutating func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
  mutating func chance(_ p: Double) -> Bool { Double(rng.next() % 1000) < p * 1000 }
  mutating func threshold() -> String { pick(["0", "0.2", "0.25", "0.5", "0.6", "0.75", "1", "30%"]) }

  // MARK: Programs

  mutating func conceptCollection(_ depth: Int) -> String {
    var text = pick(["concepts", "concept"])
    if chance(0.3) { text += " in [" + (0..<Int(1 + rng.next() % 3)).map { _ in pick(Self.names) }.joined(separator: ", ") + "]" }
    if chance(0.3) {
      text += " " + pick([">", ">=", "<", "<=", "==", "!="]) + " " + threshold()
    } else if chance(0.2) && depth > 0 {
      text += " where " + pick([
        "value > 0.3", "(value >= 0.5 and name != \"dog\")", "name starts_with \"c\"", "id in [dog, kitten]", "not (value < 0.25)",
        "(name == \"dog\" and value > 0.5)", "(value <= 0.6 and id in [cat, kitten])", "(name in [dog, car] and 0.3 < value)",
      ])
    }
    return text
  }

  mutating func number(_ depth: Int) -> String {
    switch rng.next() % 11 {
    case 0: return "concept(\(pick(Self.names)))"
    case 1: return "\(pick(["max", "min", "margin", "entropy", "least_confidence"]))(\(conceptCollection(depth)))"
    case 2: return "top(\(conceptCollection(depth)), \(1 + rng.next() % 4))"
    case 3: return "count(\(conceptCollection(depth)))"
    case 4: return "count(regions" + (chance(0.5) ? " where " + pick(["area > 0.02", "concept(dog) > 0.5", "value >= 0.5", "(width < 0.5 and height > 0.1)"]) : "") + ")"
    case 5: return "metadata.n"
    case 6: return "length(input.text)"
    case 7 where depth > 0: return "\(number(depth - 1)) \(pick(["+", "-", "*", "/"])) \(number(depth - 1))"
    case 8: return "count(frames where max(concepts) < 0.5)"
    default: return threshold()
    }
  }

  mutating func condition(_ depth: Int) -> String {
    switch rng.next() % 16 {
    case 0, 1, 2: return "\(number(depth)) \(pick([">", ">=", "<", "<=", "==", "!="])) \(number(depth))"
    case 3: return "\(pick(["any", "all"])) \(conceptCollection(depth))"
    case 4: return "\(pick(["any", "all"])) region where " + pick(["concept(dog) > 0.5", "area > 0.05", "(value > 0.5 and right < 0.9)"])
    case 5: return "metadata.s " + pick(["== \"mobile\"", "!= \"a\"", "in [a, b, mobile]", "not in [a]", "in [a, b, c, d, e, mobile]", "not in [a, b, c, d, mobile]", "starts_with \"a\"", "ends_with \"b\"", "contains \"b\"", "matches \"^a\""])
    case 6: return "metadata.tags contains " + pick(["\"a\"", "1", "true"])
    case 7: return "metadata.flag " + pick(["== true", "!= true", "== false"])
    case 8: return "exists(metadata.\(pick(["s", "n", "flag", "obj", "tags", "none"])))"
    case 9: return "input.kind " + pick(["== image", "!= text", "in [image, video]", "not in [audio]"])
    case 10: return "metadata.n " + pick(["== 3", "!= 3", "in [1, 2, 3]", "not in [3]", "> metadata.m", "== metadata.m"])
    case 11:
      return pick([
        "metadata.s == metadata.t", "type(metadata.\(pick(["s", "n", "tags", "obj", "flag", "none"]))) == \"\(pick(["list", "string", "number", "object", "bool"]))\"",
        "type(metadata.tags) in [list, object]", "type(input.text) != \"string\"",
      ])
    case 12 where depth > 0: return "(\(condition(depth - 1)) and \(condition(depth - 1)))"
    case 13 where depth > 0: return "(\(condition(depth - 1)) or \(condition(depth - 1)))"
    case 14 where depth > 0: return "not (\(condition(depth - 1)))"
    default: return pick(["true", "false", "any frame where time > 500", "input.text starts_with \"h\""])
    }
  }

  mutating func program() -> String {
    var statements: [String] = []
    for _ in 0..<(1 + rng.next() % 4) {
      switch rng.next() % 8 {
      case 0: statements.append("sample \(pick(["50%", "0.3", "90%"]))" + (chance(0.5) ? " by metadata.\(pick(["s", "n", "flag", "obj"]))" : ""))
      case 1: statements.append("limit \(1 + rng.next() % 5) per \(pick(["second", "minute", "10 seconds"]))")
      case 2, 3: statements.append("drop if " + condition(2))
      default: statements.append("require " + condition(2))
      }
    }
    let map = chance(0.3) ? "  map { dog, puppy -> canine\(chance(0.5) ? " unmapped drop" : "") }\n" : ""
    return "collector diff {\n  source */*/*\n  destination me/x\n  key env K\n\(map)  pre_queue {\n"
      + statements.map { "    " + $0 }.joined(separator: "\n") + "\n  }\n}\n"
  }

  // MARK: Events

  mutating func concepts(_ n: Int) -> String {
    "[" + (0..<n).map { _ in
      let name = pick(Self.names)
      let value = pick(["0", "0.1", "0.25", "0.3", "0.5", "0.5", "0.6", "0.75", "0.9", "1"])
      return "{\"id\":\"\(chance(0.2) ? pick(Self.names) : name)\",\"name\":\"\(name)\",\"value\":\(value)}"
    }.joined(separator: ",") + "]"
  }

  mutating func metadataValue() -> String? {
    switch rng.next() % 8 {
    case 0: return nil
    case 1: return "null"
    case 2: return "\"\(pick(Self.strings))\""
    case 3: return pick(["1", "2", "3", "-1.5", "0"])
    case 4: return pick(["true", "false"])
    case 5: return "[\"a\", 1, true]"
    case 6: return "{\"x\":1}"
    default: return "\"mobile\""
    }
  }

  mutating func event(_ index: Int) -> String {
    var metadata: [String] = []
    for key in ["s", "t", "n", "m", "flag", "obj", "tags"] {
      if let v = metadataValue() { metadata.append("\"\(key)\":\(v)") }
    }
    let kind = pick(["image", "video", "text", "audio", "none"])
    let media = kind == "none" ? "" : (kind == "text" ? "\"text\":{\"raw\":\"\(pick(["hello", "hé", ""]))\"}," : "\"\(kind)\":{\"url\":\"u\"},")
    var regions: [String] = []
    for _ in 0..<(rng.next() % 3) {
      let box = chance(0.7) ? "\"region_info\":{\"bounding_box\":{\"top_row\":0.1,\"left_col\":0.2,\"bottom_row\":\(pick(["0.3", "0.6"])),\"right_col\":\(pick(["0.25", "0.95"]))}}," : ""
      regions.append("{\(box)\"data\":{\"concepts\":\(concepts(Int(rng.next() % 3)))}" + (chance(0.7) ? ",\"value\":\(pick(["0.4", "0.5", "0.9"]))" : "") + "}")
    }
    var frames: [String] = []
    for _ in 0..<(rng.next() % 2) {
      frames.append("{\"frame_info\":{\"time\":\(pick(["250", "750", "\"900\""]))},\"data\":{\"concepts\":\(concepts(Int(rng.next() % 3)))}}")
    }
    let time = index * Int(1 + rng.next() % 20)
    return "{\"id\":\"o\(index)\",\"status\":{\"code\":\(chance(0.05) ? 30002 : 10000)},\"created_at\":\"2024-01-01T00:00:\(String(format: "%02d", time % 60)).\(time)Z\","
      + "\"model\":{\"id\":\"m\",\"user_id\":\"u\",\"app_id\":\"a\"},\"input\":{\"id\":\"in\(rng.next() % 40)\",\"data\":{\(media)\"metadata\":{\(metadata.joined(separator: ","))}}},"
      + "\"data\":{\"concepts\":\(concepts(Int(rng.next() % 6))),\"regions\":[\(regions.joined(separator: ","))],\"frames\":[\(frames.joined(separator: ","))]}}"
  }
}

/// The bytecode VM against the reference evaluator: same accepted items, same per-statement counts.
@Suite struct DifferentialTests {
  static func run(_ rules: String, _ events: String, engine: Runner.Engine, jobs: Int = 1) throws -> (String, String) {
    let sink = DiagnosticSink()
    let file = Parser.parse(SourceFile(path: "diff.rule", text: rules), sink: sink)
    let program = Checker(sink: sink).check([file])
    let runner = try Runner(program: program, engine: engine)
    runner.jobs = jobs
    var items = ""
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-diff-\(UUID().uuidString).jsonl")
    try Data(events.utf8).write(to: dir)
    defer { try? FileManager.default.removeItem(at: dir) }
    try runner.run(ChunkReader(handle: try FileHandle(forReadingFrom: dir))) { items += String(decoding: $0, as: UTF8.self) }
    return (items, runner.report.json.rendered())
  }

  static let counter = Counter()

  final class Counter: @unchecked Sendable {
    var programs = 0
    var events = 0
    var skipped = 0
    let lock = NSLock()
    func add(programs p: Int, events e: Int, skipped s: Int) {
      lock.withLock {
        programs += p
        events += e
        skipped += s
      }
    }
  }

  /// One condition as a collector's only statement, with and without a concept map, on 4 × 200
  /// random events (seeds from `firstSeed` on): the VM and the reference must give the same items and
  /// reports, and some inputs must pass and some not, or a wrong answer could go unseen.
  static func checkAgainstTheReference(_ condition: String, firstSeed: UInt64) throws {
    var accepted = 0
    for (k, map) in ["", "  map { dog, puppy -> canine }\n", "", ""].enumerated() {
      let seed = firstSeed + UInt64(k)
      var random = RandomCase(rng: SplitMix(state: seed))
      let rules = "collector one {\n  source */*/*\n  destination me/x\n  key env K\n\(map)  pre_queue {\n    require \(condition)\n  }\n}\n"
      let events = (0..<200).map { random.event($0) }.joined(separator: "\n") + "\n"
      let vm = try run(rules, events, engine: .vm)
      let reference = try run(rules, events, engine: .reference)
      #expect(vm.0 == reference.0 && vm.1 == reference.1, "\(condition) with seed \(seed)")
      accepted += vm.0.split(separator: "\n").count
    }
    #expect(accepted > 0 && accepted < 800, "\(condition) accepted \(accepted) of 800")
  }

  /// The fused key-and-value test (`br.any.key`) in each of its forms: the generator above reaches
  /// these forms only now and then.
  @Test(arguments: [
    "any concepts where (name == \"dog\" and value > 0.5)", "any concept where (value <= 0.6 and id in [cat, kitten])",
    "any concepts where (name in [dog, car] and 0.3 < value)", "any concept where (id == \"dog\" and value == 0.5)",
    "not (any concepts where (value != 0.25 and name in [puppy]))",
  ])
  func fusedConceptTestsAgreeWithTheReference(_ condition: String) throws {
    try Self.checkAgainstTheReference(condition, firstSeed: 1)
  }

  /// Aggregates over the whole top-level list, which the VM reads from the value column where it
  /// lies (`margin` in one pass and `top` in a short run instead of a sort), at thresholds where
  /// ties decide; ranks past the run's limit (16) and past the list's length sort.
  @Test(arguments: [
    "margin(concepts) == 0", "margin(concepts) < 0.1", "margin(concepts) >= 0.25", "max(concepts) >= 0.5 and min(concepts) < 0.25",
    "least_confidence(concepts) <= 0.4", "entropy(concepts) > 1.2", "top(concepts, 2) >= 0.5", "margin(concepts) + entropy(concepts) > 1",
    "top(concepts, 1) > 0.5", "top(concepts, 3) >= 0.25", "top(concepts, 5) > 0.2", "top(concepts, 16) >= 0.25", "top(concepts, 17) < 0.5",
  ])
  func wholeListAggregatesAgreeWithTheReference(_ condition: String) throws {
    try Self.checkAgainstTheReference(condition, firstSeed: 5)
  }

  @Test func vmAgreesWithTheReference() async throws {
    await propertyCheck(count: 400, input: Gen.uint64()) { seed in
      var random = RandomCase(rng: SplitMix(state: seed))
      let rules = random.program()
      let sink = DiagnosticSink()
      _ = Checker(sink: sink).check([Parser.parse(SourceFile(path: "diff.rule", text: rules), sink: sink)])
      guard !sink.hasErrors else {
        Self.counter.add(programs: 0, events: 0, skipped: 1)
        return
      }
      let events = (0..<60).map { random.event($0) }.joined(separator: "\n") + "\n"
      let vm = try! Self.run(rules, events, engine: .vm)
      let reference = try! Self.run(rules, events, engine: .reference)
      #expect(vm.0 == reference.0, "accepted items differ for seed \(seed):\n\(rules)")
      #expect(vm.1 == reference.1, "reports differ for seed \(seed):\n\(rules)")
      // Evaluating the pure collectors on the decoding threads changes nothing either.
      let parallel = try! Self.run(rules, events, engine: .vm, jobs: 2)
      #expect(parallel.0 == vm.0 && parallel.1 == vm.1, "--jobs 2 differs for seed \(seed):\n\(rules)")
      Self.counter.add(programs: 1, events: 60, skipped: 0)
    }
    let c = Self.counter
    print("differential: \(c.programs) programs × 60 events = \(c.events) evaluations agreed; \(c.skipped) generated programs rejected by the checker")
    #expect(c.programs >= 300)
  }
}
