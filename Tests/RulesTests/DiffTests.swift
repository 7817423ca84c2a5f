import Foundation
import RulecCommands
import RulesDiagnostics
import Testing

/// `rulec diff`: static changes, and the effect on a recording equal to two separate runs.
@Suite struct DiffTests {
  static let recording = TestPaths.path("samples/recording.jsonl")

  /// A folder with `old.rule`, `new.rule` and the concept map they use.
  static func folder(old: String, new: String) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-diff-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder + "/maps", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: TestPaths.path("rules/maps/general-to-pets.csv"), toPath: folder + "/maps/general-to-pets.csv")
    try old.write(toFile: folder + "/old.rule", atomically: true, encoding: .utf8)
    try new.write(toFile: folder + "/new.rule", atomically: true, encoding: .utf8)
    return folder
  }

  static let combined = read("rules/combined.rule")
  static let changed = combined
    .replacingOccurrences(of: "require max(concepts) < 0.6 or margin(concepts) < 0.1", with: "require max(concepts) < 0.5 or margin(concepts) < 0.2")
    .replacingOccurrences(of: "    drop if metadata.camera starts_with \"test-\"\n", with: "")
    .replacingOccurrences(of: "sample 25% by metadata.user_id", with: "sample 50% by metadata.user_id")
    .replacingOccurrences(of: "destination acme/ticket-labels", with: "destination acme/ticket-review")
    + "\ncollector brand-new {\n  source clarifai/main/general-image-recognition\n  destination acme/new\n  key env NEW_KEY\n  pre_queue { sample 10% }\n}\n"

  /// The source input ids a plain `rulec run` accepts, per collector.
  static func accepted(_ rules: String) -> [String: Set<String>] {
    var items = ""
    var err = Capture()
    _ = Run.execute(rules: rules, events: [recording], out: nil, report: nil, strict: false, explain: nil, err: &err, stdout: { items += $0 })
    var out: [String: Set<String>] = [:]
    for line in items.split(separator: "\n") {
      let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      let rulec = ((json?["data"] as? [String: Any])?["metadata"] as? [String: Any])?["rulec"] as? [String: Any]
      if let c = rulec?["collector"] as? String, let s = rulec?["source_input_id"] as? String { out[c, default: []].insert(s) }
    }
    return out
  }

  @Test func staticChangesAndTheEffectOnARecording() throws {
    let folder = try Self.folder(old: Self.combined, new: Self.changed)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var out = Capture()
    var err = Capture()
    let status = Diff.execute(old: folder + "/old.rule", new: folder + "/new.rule", events: [Self.recording], format: .human, out: &out, err: &err)
    #expect(status == 0, "\(err.text)")
    assertGolden(TestPaths.relativize(out.text.replacingOccurrences(of: folder + "/", with: "")), "diff/combined.txt")
    // The gains and losses are those of two separate runs (sampling keeps each collector's seed).
    var json = Capture()
    _ = Diff.execute(old: folder + "/old.rule", new: folder + "/new.rule", events: [Self.recording], format: .json, examples: 100_000, out: &json, err: &err)
    let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as? [String: Any])
    let before = Self.accepted(folder + "/old.rule")
    let after = Self.accepted(folder + "/new.rule")
    let collectors = try #require(parsed["collectors"] as? [[String: Any]])
    #expect(collectors.map { $0["id"] as? String } == ["uncertain-pets", "people-near-forklifts", "ambiguous-tickets", "brand-new"])
    var changedSomething = false
    for c in collectors {
      let id = c["id"] as! String
      let gained = Set(c["gained_examples"] as? [String] ?? [])
      let lost = Set(c["lost_examples"] as? [String] ?? [])
      #expect(gained == (after[id] ?? []).subtracting(before[id] ?? []), "\(id) gained")
      #expect(lost == (before[id] ?? []).subtracting(after[id] ?? []), "\(id) lost")
      let accepted = c["accepted"] as? [String: Any]
      #expect(accepted?["new"] as? Int == after[id]?.count ?? 0 || accepted?["new"] is NSNull)
      changedSomething = changedSomething || !gained.isEmpty || !lost.isEmpty
    }
    #expect(changedSomething)
  }

  @Test func failIfMakesItAGate() throws {
    let folder = try Self.folder(old: Self.combined, new: Self.changed)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var out = Capture()
    var err = Capture()
    let args = (old: folder + "/old.rule", new: folder + "/new.rule")
    #expect(Diff.execute(old: args.old, new: args.new, events: [Self.recording], format: .human, failIf: ["gained > 100"], out: &out, err: &err) == 1)
    #expect(out.text.contains("fail-if met: brand-new: gained > 100"))
    #expect(Diff.execute(old: args.old, new: args.new, events: [Self.recording], format: .human, failIf: ["accepted > 100x"], out: &out, err: &err) == 0)
    #expect(Diff.execute(old: args.old, new: args.new, events: [Self.recording], format: .human, failIf: ["accepted >> 2"], out: &out, err: &err) == 2)
    #expect(err.text.contains("write METRIC OP VALUE"))
    // A recording no collector watches compares nothing: exit 3, with the models it holds.
    let other = folder + "/other.jsonl"
    try #"{"id": "o", "status": {"code": 10000}, "model": {"id": "zzz", "user_id": "u", "app_id": "a"}, "input": {"id": "i"}, "data": {}}"#
      .write(toFile: other, atomically: true, encoding: .utf8)
    err = Capture()
    #expect(Diff.execute(old: args.old, new: args.new, events: [other], format: .human, out: &out, err: &err) == 3)
    #expect(err.text.contains("models seen: u/a/zzz (1)"))
    // Nothing changes: no gate met, and it says so.
    out = Capture()
    #expect(Diff.execute(old: args.old, new: args.old, events: [Self.recording], format: .human, failIf: ["lost > 0", "gained > 0"], out: &out, err: &err) == 0)
    #expect(out.text.contains("no change to collectors or statements"))
  }

  @Test func gitRevisionsOfRules() throws {
    let folder = try Self.folder(old: Self.combined, new: Self.changed)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    func git(_ args: String...) throws {
      let p = Process()
      p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      p.arguments = ["git", "-C", folder] + args
      p.standardOutput = FileHandle.nullDevice
      p.standardError = FileHandle.nullDevice
      try p.run()
      p.waitUntilExit()
      try #require(p.terminationStatus == 0, "git \(args)")
    }
    try git("init", "-q")
    try git("-c", "user.name=t", "-c", "user.email=t@example.com", "add", "old.rule", "maps")
    try git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "old")
    try Self.changed.write(toFile: folder + "/old.rule", atomically: true, encoding: .utf8)
    // The repository is named by GIT_DIR, not by changing the working directory: tests run in
    // parallel in one process, and a changed directory made another test's relative paths fail.
    // Only git reads GIT_DIR, and no other test runs git.
    setenv("GIT_DIR", folder + "/.git", 1)
    defer { unsetenv("GIT_DIR") }
    var out = Capture()
    var err = Capture()
    #expect(Diff.execute(old: "HEAD:old.rule", new: folder + "/old.rule", events: [], format: .human, out: &out, err: &err) == 0, "\(err.text)")
    #expect(out.text.contains("(0.6 → 0.5, 0.1 → 0.2)"))
    #expect(out.text.contains("(no --events"))
    #expect(Diff.execute(old: "nope:old.rule", new: folder + "/old.rule", events: [], format: .human, out: &out, err: &err) == 2)
    #expect(err.text.contains("at git revision nope"))
  }
}
