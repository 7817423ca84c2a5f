import Foundation
import RulecCommands
import Testing

/// A zero is never silent: a run whose outputs reach no collector, or mostly none, says so with the
/// models it saw and the sources its collectors watch, and its exit status tells a script.
@Suite struct SilenceTests {
  /// Runs `rulec run` in-process on rule text and recording lines written to temporary files.
  static func run(rules: String, lines: [String], strict: Bool = false) throws -> (status: Int32, err: String, report: [String: Any]) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-silence-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let rulePath = folder.appendingPathComponent("test.rule").path
    let eventsPath = folder.appendingPathComponent("events.jsonl").path
    let reportPath = folder.appendingPathComponent("report.json").path
    try rules.write(toFile: rulePath, atomically: true, encoding: .utf8)
    try (lines.joined(separator: "\n") + "\n").write(toFile: eventsPath, atomically: true, encoding: .utf8)
    var err = Capture()
    let status = Run.execute(
      rules: rulePath, events: [eventsPath], out: nil, report: reportPath, strict: strict, explain: nil, err: &err, stdout: { _ in })
    let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportPath))) as! [String: Any]
    return (status, err.text, report)
  }

  static func collector(_ id: String, source: String) -> String {
    "collector \(id) {\n  source \(source)\n  destination d/d\n  key env RULEC_TEST_KEY\n  pre_queue {\n    require count(concepts) > 0\n  }\n}\n"
  }

  static func output(_ k: Int, user: String, app: String, model: String) -> String {
    "{\"model\":{\"id\":\"\(model)\",\"app_id\":\"\(app)\",\"user_id\":\"\(user)\"},\"input\":{\"id\":\"in\(k)\"},"
      + "\"data\":{\"concepts\":[{\"id\":\"c\",\"name\":\"cat\",\"value\":0.9}]}}"
  }

  /// Grammar.md §9: a successful output that names no model cannot be routed, so its line is a bad
  /// line (not a skip "by model"), whether the fast scanner or the decoder reads it, in one or two
  /// jobs; a failed output is skipped by its status whatever it names.
  @Test func anOutputThatNamesNoModelIsABadLine() throws {
    let good = Self.output(0, user: "u", app: "a", model: "m")
    let lines = [
      good,
      #"{"input":{"id":"in1"},"data":{"concepts":[{"id":"c","name":"cat","value":0.9}]}}"#,
      #"{"model":{"id":""},"input":{"id":"in2"},"data":{}}"#,
      #"{"model":null,"input":{"id":"in3"},"data":{}}"#,
      #"{"outputs":[{"model":{"id":"m","user_id":"u","app_id":"a"},"input":{"id":"in4"}},{"input":{"id":"in5"}}]}"#,
      #"{"status":{"code":30002},"input":{"id":"in6"},"data":{}}"#,
    ]
    let (status, err, report) = try Self.run(rules: Self.collector("any", source: "*/*/*"), lines: lines)
    #expect(status == 3)
    #expect(err.contains("6 lines, 2 events, 1 accepted; skipped 1 by status, 0 by model; 4 bad lines"), "\(err)")
    #expect(err.contains("bad line 2: the output names no model (model.id is missing or empty)"))
    #expect(err.contains("bad line 5: output 2 names no model (model.id is missing or empty)"))
    #expect((report["bad_lines"] as? [[String: Any]])?.map { $0["line"] as? Int } == [2, 3, 4, 5])
  }

  /// Grammar.md §9: a collector of one caller takes only outputs stamped with that caller
  /// (`caller_user_id`, as `rulec proxy` records them, in either spelling); outputs without a caller
  /// do not reach it, and the warning names the caller it watches.
  @Test func aCollectorOfOneCallerTakesOnlyThatCallersOutputs() throws {
    func line(_ k: Int, _ caller: String?, camel: Bool = false) -> String {
      let stamp = caller.map { "\"\(camel ? "callerUserId" : "caller_user_id")\":\"\($0)\"," } ?? ""
      return "{" + stamp + String(Self.output(k, user: "u", app: "a", model: "m").dropFirst())
    }
    let rules = Self.collector("alices", source: "u/a/m caller alice")
    let lines = [line(0, "alice"), line(1, "bob"), line(2, nil), line(3, "alice", camel: true)]
    let (status, err, report) = try Self.run(rules: rules, lines: lines)
    #expect(status == 0)
    #expect(err.contains("4 lines, 4 events, 2 accepted; skipped 0 by status, 2 by model"), "\(err)")
    #expect((report["collectors"] as? [[String: Any]])?.first?["accepted"] as? Int == 2)
    let (noneStatus, noneErr, _) = try Self.run(rules: rules, lines: [line(5, nil)])
    #expect(noneStatus == 3)
    #expect(noneErr.contains("the collectors watch u/a/m caller alice (alices)"), "\(noneErr)")
  }

  @Test func outputsOfOtherModelsAloneFailTheRunAndNameTheModels() throws {
    let lines = (0..<3).map { Self.output($0, user: "clarifai", app: "main", model: "general-image-recognition") }
    for strict in [false, true] {
      let (status, err, report) = try Self.run(rules: Self.collector("pets", source: "acme/pets/dog-model"), lines: lines, strict: strict)
      #expect(status == 3)
      #expect(err.contains("3 lines, 3 events, 0 accepted; skipped 0 by status, 3 by model"))
      #expect(
        err.contains(
          "warning: no output reached any collector: outputs of clarifai/main/general-image-recognition (3); the collectors watch acme/pets/dog-model (pets)"
        ), "\(err)")
      let skipped = report["skipped_models"] as? [[String: Any]]
      #expect(skipped?.first?["model"] as? String == "clarifai/main/general-image-recognition")
      #expect(skipped?.first?["count"] as? Int == 3)
      #expect((report["warnings"] as? [String])?.count == 1)
    }
  }

  @Test func mostlySkippedWarnsAndFailsOnlyUnderStrict() throws {
    var lines = (0..<3).map { Self.output($0, user: "acme", app: "other", model: "m\($0 % 2)") }
    lines.append(Self.output(9, user: "acme", app: "pets", model: "dog-model"))
    let rules = Self.collector("pets", source: "acme/pets/dog-model")
    let (status, err, _) = try Self.run(rules: rules, lines: lines)
    #expect(status == 0)
    #expect(
      err.contains(
        "warning: 3 of 4 outputs reached no collector: outputs of acme/other/m0 (2), acme/other/m1 (1); the collectors watch acme/pets/dog-model (pets)"
      ), "\(err)")
    #expect(try Self.run(rules: rules, lines: lines, strict: true).status == 3)
  }

  @Test func aRunThatCollectsFromMostOutputsSaysNothingMore() throws {
    let lines = (0..<4).map { Self.output($0, user: "acme", app: "pets", model: $0 == 0 ? "cat-model" : "dog-model") }
    let (status, err, report) = try Self.run(rules: Self.collector("pets", source: "acme/pets/dog-model"), lines: lines, strict: true)
    #expect(status == 0)
    #expect(!err.contains("warning"))
    #expect((report["warnings"] as? [String])?.isEmpty == true)
    #expect((report["skipped_models"] as? [[String: Any]])?.count == 1)
  }

  @Test func aRecordingWithoutOutputsSaysSo() throws {
    let (status, err, _) = try Self.run(rules: Self.collector("pets", source: "*/*/*"), lines: ["", "  "], strict: true)
    #expect(status == 3)
    #expect(err.contains("warning: no model output was read"), "\(err)")
  }
}
