import AsyncHTTPClient
import Foundation
import GRDB
import NIOCore
import RulecCommands
import Testing

/// The real `rulec serve` binary as a child process, a PostInputs stand-in on 127.0.0.1, and HTTP
/// requests: events in → exactly the accepted inputs delivered, each once; bad requests refused; a
/// clean exit on SIGTERM.
@Suite(.serialized) struct ServeTests {
  static let binary = TestPaths.root.appendingPathComponent(".build/debug/rulec").path

  /// Everything the child writes to standard error, drained as it comes.
  final class Output: @unchecked Sendable {
    let lock = NSLock()
    var text = ""
    func append(_ data: Data) { lock.withLock { text += String(decoding: data, as: UTF8.self) } }
    var value: String { lock.withLock { text } }

    /// Waits until `needle` appears (or the time is up), suspending rather than blocking: the tests
    /// share two cooperative threads, and a blocked one starves the others' timeouts.
    func wait(for needle: String, seconds: Double = 15) async -> Bool {
      let deadline = Date().addingTimeInterval(seconds)
      while Date() < deadline {
        if value.contains(needle) { return true }
        try? await Task.sleep(nanoseconds: 50_000_000)
      }
      return value.contains(needle)
    }
  }

  /// Starts `rulec serve` and returns the process, the port it listens on and its standard error.
  static func start(
    state: String, apiBase: String, rules: String = TestPaths.path("Tests/RulesTests/Golden/run/forward.rule"),
    extra: [String] = [], standardInput: Pipe? = nil, token: Bool = true
  ) async throws -> (Process, Int, Output) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments =
      ["serve", rules, "--listen", "127.0.0.1:0", "--state", state, "--api-base", apiBase]
      + (token ? ["--ingest-token-env", "RULEC_TEST_TOKEN"] : []) + extra
    if let standardInput { process.standardInput = standardInput }
    var environment = ProcessInfo.processInfo.environment
    environment["RULEC_TEST_FORWARD_KEY"] = "good"
    environment["RULEC_TEST_TOKEN"] = "sesame"
    process.environment = environment
    let errors = Pipe()
    let output = Output()
    errors.fileHandleForReading.readabilityHandler = { handle in output.append(handle.availableData) }
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    guard await output.wait(for: "listening on 127.0.0.1:", seconds: 20) else {
      process.terminate()
      throw ServeFailure(output: output.value)
    }
    _ = await output.wait(for: "\n", seconds: 1)
    let text = output.value
    let range = text.range(of: "listening on 127.0.0.1:")!
    let digits = text[range.upperBound...].prefix { $0.isNumber }
    return (process, Int(digits)!, output)
  }

  struct ServeFailure: Error { var output: String }

  /// The value of an unlabelled counter in Prometheus text.
  static func counter(_ name: String, in text: String) -> Int {
    for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
      return Int(Double(line.dropFirst(name.count + 1)) ?? -1)
    }
    return -1
  }

  /// Prometheus's own checker, `promtool check metrics` (Debian's `prometheus` package, which
  /// `.ci/run` installs and then requires with `RULEC_REQUIRE_PROMTOOL=1`), finds nothing to say.
  static func promtoolAccepts(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let promtool else {
      if ProcessInfo.processInfo.environment["RULEC_REQUIRE_PROMTOOL"] == "1" {
        Issue.record("promtool is not installed", sourceLocation: sourceLocation)
      }
      return
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: promtool)
    process.arguments = ["check", "metrics"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = output
    try process.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try input.fileHandleForWriting.close()
    let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0 && said.isEmpty, "promtool check metrics: \(said)", sourceLocation: sourceLocation)
  }

  static func post(_ client: HTTPClient, _ port: Int, _ body: String, token: String? = "sesame") async throws -> (Int, String) {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/events")
    request.method = .POST
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await client.execute(request, timeout: .seconds(10))
    let reply = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), String(buffer: reply))
  }

  @Test func eventsInInputsOutCleanExit() async throws {
    try await ServeHarness.with("serve", keys: ["good": true]) { harness in
      let (destination, client) = (harness.destination, harness.client)
      let (process, port, _) = try await harness.start(extra: ["--max-body", "100000"])
      let recording = read("Tests/RulesTests/Golden/run/recording.jsonl")
      let lines = recording.split(separator: "\n")
      let (status, reply) = try await Self.post(client, port, lines.prefix(30).joined(separator: "\n"))
      #expect(status == 202, "\(reply)")
      let counts = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as! [String: Int]
      let accepted = counts["accepted"]!
      #expect(accepted > 0)
      // The same events again: the same inputs are queued once.
      let (again, replyAgain) = try await Self.post(client, port, lines.prefix(30).joined(separator: "\n"))
      #expect(again == 202)
      #expect(replyAgain.contains("\"accepted\":\(accepted)"))
      #expect(try await Self.post(client, port, String(lines[0]), token: nil).0 == 401)
      #expect(try await Self.post(client, port, String(lines[0]), token: "wrong").0 == 401)
      // Compared whole, in constant time: a prefix, an extension or one changed byte is refused.
      for near in ["sesam", "sesamee", "sesamf", "SESAME", ""] {
        #expect(try await Self.post(client, port, String(lines[0]), token: near).0 == 401, "\(near)")
      }
      let (bad, badReply) = try await Self.post(client, port, String(lines[0]) + "\n{\"id\":\"x\",\"data\":{\"concepts\":[{\"value\":\"no\"}]}}")
      #expect(bad == 400 && badReply.contains("\"line\":2"))
      #expect(try await Self.post(client, port, recording).0 == 413)
      // Everything accepted arrives, each once.
      let deadline = Date().addingTimeInterval(15)
      while destination.received.count < accepted && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
      #expect(destination.received.count == accepted)
      // Metrics in Prometheus text format.
      // The forwarding loop updates its counters after each pass: ask until they show the deliveries.
      var text = ""
      let metricsDeadline = Date().addingTimeInterval(10)
      repeat {
        let metrics = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(5))
        text = String(buffer: try await metrics.body.collect(upTo: 1 << 20))
        if Self.counter("rulec_delivered_total", in: text) >= accepted { break }
        try await Task.sleep(nanoseconds: 100_000_000)
      } while Date() < metricsDeadline
      #expect(text.contains("rulec_events_total{collector=\"backfill\"}"))
      // A statement is named by where it is written; accepted counts what was queued, once.
      #expect(text.contains("rulec_statement_total{collector=\"backfill\",stage=\"pre_queue\",line=\"7\",outcome=\"passed\"}"))
      #expect(Self.counter("rulec_accepted_total{collector=\"backfill\"}", in: text) == accepted)
      #expect(Self.counter("rulec_already_queued_total{collector=\"backfill\"}", in: text) == accepted)
      #expect(text.contains("rulec_forward_request_seconds_bucket"))  // the latency histogram
      #expect(Self.counter("rulec_delivered_total", in: text) == accepted)
      #expect(Self.counter("rulec_queue_depth", in: text) == 0)
      try Self.promtoolAccepts(text)
      #expect(!text.contains("good") && !text.contains("sesame"))  // no key or token in metrics
      process.terminate()  // SIGTERM
      await process.exited()
      #expect(process.terminationStatus == 0)
    }
  }
}

/// Stopping `rulec serve`: the forwarding request in flight finishes (within `--shutdown-grace`) and
/// is not reported as a failure; one that takes longer is cut, and its items go at the next start.
@Suite(.serialized) struct ShutdownTests {
  /// Posts 30 lines, waits until the forwarder's request is at the destination (which answers
  /// after `slow` seconds), then sends SIGTERM. Returns the accepted count and the log.
  static func stopDuringARequest(_ harness: ServeHarness, slow: Double, extra: [String]) async throws -> (Int, String, Int32) {
    harness.destination.queue(.slow(seconds: slow))
    let (process, port, output) = try await harness.start(extra: extra)
    let lines = read("Tests/RulesTests/Golden/run/recording.jsonl").split(separator: "\n")
    let (status, reply) = try await ServeTests.post(harness.client, port, lines.prefix(30).joined(separator: "\n"))
    #expect(status == 202)
    let accepted = (try JSONSerialization.jsonObject(with: Data(reply.utf8)) as! [String: Int])["accepted"]!
    #expect(accepted > 0)
    let deadline = Date().addingTimeInterval(15)
    while !harness.destination.paths.contains(where: { $0.hasSuffix("/inputs") }) && Date() < deadline {
      try await Task.sleep(nanoseconds: 20_000_000)
    }
    process.terminate()
    await process.exited()
    return (accepted, output.value, process.terminationStatus)
  }

  @Test func theRequestInFlightFinishes() async throws {
    try await ServeHarness.with("stop", keys: ["good": true]) { harness in
      let (accepted, log, status) = try await Self.stopDuringARequest(harness, slow: 1.5, extra: [])
      #expect(status == 0)
      #expect(harness.destination.received.count == accepted, "\(log)")
      #expect(log.contains("depth=0 [RulesServe] stopped"), "\(log)")
      #expect(!log.contains("forwarding pass failed") && !log.contains("forwarding problem") && !log.contains("Cancellation"), "\(log)")
    }
  }

  @Test func aRequestPastTheGraceIsCutAndItsItemsGoNextTime() async throws {
    try await ServeHarness.with("stop-cut", keys: ["good": true]) { harness in
      let (accepted, log, status) = try await Self.stopDuringARequest(harness, slow: 4, extra: ["--shutdown-grace", "0.3"])
      #expect(status == 0)
      #expect(log.contains("cut short"), "\(log)")
      #expect(!log.contains("forwarding pass failed") && !log.contains("forwarding problem"), "\(log)")
      // The next start sends them (the destination may have kept the cut request's inputs: a
      // second copy of an id is answered as a duplicate and counts as delivered).
      let (process, _, output) = try await harness.start()
      let deadline = Date().addingTimeInterval(20)
      while harness.destination.received.count < accepted && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
      #expect(harness.destination.received.count == accepted)
      process.terminate()
      await process.exited()
      #expect(output.value.contains("depth=0 [RulesServe] stopped"), "\(output.value)")
    }
  }
}

/// A zero is never silent in `rulec serve` either: outputs of a model no collector watches are read
/// and answered 202, but the answer carries a warning naming the model and the collectors' sources,
/// `/metrics` counts them, and the log names the model once.
@Suite(.serialized) struct ServeSilenceTests {
  /// The queue refusing writes (a trigger fails every insert, as a full disk would): the request is
  /// answered 503, nothing is acknowledged, and once writes succeed again the same body is queued
  /// and delivered, each input once.
  @Test func aQueueThatRefusesWritesAcknowledgesNothing() async throws {
    try await ServeHarness.with("serve-diskfull", keys: ["good": true]) { harness in
      let (_, port, _) = try await harness.start()
      let body = read("Tests/RulesTests/Golden/run/recording.jsonl").split(separator: "\n").prefix(40).joined(separator: "\n")
      let database = try DatabaseQueue(path: harness.state + "/queue.sqlite")
      try await database.write { db in
        try db.execute(sql: "CREATE TRIGGER refuse BEFORE INSERT ON items BEGIN SELECT RAISE(FAIL, 'disk full (injected)'); END")
      }
      let (refused, reply) = try await ServeTests.post(harness.client, port, body)
      #expect(refused == 503, "\(reply)")
      #expect(reply.contains("the queue could not be written"))
      #expect(try await database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM items") } == 0)
      try await database.write { try $0.execute(sql: "DROP TRIGGER refuse") }
      let (status, accepted) = try await ServeTests.post(harness.client, port, body)
      #expect(status == 202)
      let count = (try JSONSerialization.jsonObject(with: Data(accepted.utf8)) as? [String: Any])?["accepted"] as? Int ?? 0
      #expect(count > 0)
      let deadline = Date().addingTimeInterval(20)
      while harness.destination.received.count < count && Date() < deadline { try await Task.sleep(nanoseconds: 100_000_000) }
      #expect(harness.destination.received.count == count)
      #expect(harness.destination.requests.reduce(0) { $0 + $1.count } == count, "each input posted once")
    }
  }

  @Test func outputsOfAnUnwatchedModelAreAnsweredWithAWarning() async throws {
    try await ServeHarness.with("serve-silence", keys: ["good": true]) { harness in
      let rules = harness.folder + "/pets.rule"
      try """
        collector pets {
          source acme/pets/dog-model
          destination me/backfill
          key env RULEC_TEST_FORWARD_KEY
          pre_queue {
            require max(concepts) < 0.5
          }
        }
        """.write(toFile: rules, atomically: true, encoding: .utf8)
      let (_, port, output) = try await harness.start(rules: rules)
      let lines = read("Tests/RulesTests/Golden/run/recording.jsonl").split(separator: "\n")
      for _ in 0..<2 {
        let (status, reply) = try await ServeTests.post(harness.client, port, lines.prefix(3).joined(separator: "\n"))
        #expect(status == 202)
        let answer = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as! [String: Any]
        #expect(answer["accepted"] as? Int == 0)
        #expect(answer["reached_no_collector"] as? Int == 3)
        #expect(
          answer["warning"] as? String
            == "no output reached any collector: outputs of acme/support/ticket-router (1), clarifai/main/general-image-recognition (2); the collectors watch acme/pets/dog-model (pets)",
          "\(reply)")
      }
      let metrics = try await harness.client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(5))
      let text = String(buffer: try await metrics.body.collect(upTo: 1 << 20))
      #expect(ServeTests.counter("rulec_unrouted_events_total", in: text) == 6)
      #expect(await output.wait(for: "outputs of a model no collector watches"))
      // Once per model (two here), not once per request.
      #expect(output.value.components(separatedBy: "outputs of a model no collector watches").count == 3)
      #expect(output.value.contains("model=clarifai/main/general-image-recognition"))
    }
  }
}

/// One serve test's surroundings, set up and torn down in one place: the binary built, a fresh folder,
/// a PostInputs stand-in on 127.0.0.1 and an HTTP client. Every `rulec serve` started through the
/// harness is stopped when the test ends, passing or failing, so a failed expectation leaves no server
/// behind.
final class ServeHarness: @unchecked Sendable {
  let folder: String
  let destination: FakeDestination
  let apiBase: String
  let client = HTTPClient(eventLoopGroupProvider: .singleton)
  private var processes: [Process] = []

  private init(folder: String, destination: FakeDestination, apiBase: String) {
    self.folder = folder
    self.destination = destination
    self.apiBase = apiBase
  }

  /// The state folder `rulec serve` is given (inside the harness's folder).
  var state: String { folder + "/state" }

  static func with(_ name: String, keys: [String: Bool], _ body: (ServeHarness) async throws -> Void) async throws {
    try #require(FileManager.default.fileExists(atPath: ServeTests.binary), "build rulec first (swift build)")
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-\(name)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let destination = FakeDestination(keys: keys)
    let harness = ServeHarness(folder: folder, destination: destination, apiBase: try destination.start())
    do {
      try await body(harness)
    } catch {
      await harness.tearDown()
      throw error
    }
    await harness.tearDown()
  }

  /// Starts `rulec serve` on the harness's state folder and destination (see `ServeTests.start`).
  func start(
    rules: String = TestPaths.path("Tests/RulesTests/Golden/run/forward.rule"), extra: [String] = [],
    standardInput: Pipe? = nil, token: Bool = true
  ) async throws -> (Process, Int, ServeTests.Output) {
    let started = try await ServeTests.start(
      state: state, apiBase: apiBase, rules: rules, extra: extra, standardInput: standardInput, token: token)
    processes.append(started.0)
    return started
  }

  private func tearDown() async {
    for process in processes where process.isRunning {
      process.terminate()
      await process.exited()
    }
    try? await client.shutdown()
    destination.stop()
    try? FileManager.default.removeItem(atPath: folder)
  }
}

/// Crash safety: `kill -9` of `rulec serve` at random moments during ingest and forwarding, restarts on
/// the same state, and in the end every input acknowledged with 202 is delivered, each once.
@Suite(.serialized) struct CrashTests {
  @Test func killNineAtRandomMomentsLosesNothing() async throws {
    try await ServeHarness.with("crash", keys: ["good": true]) { harness in
      let (destination, client, state) = (harness.destination, harness.client, harness.state)
      let lines = read("samples/recording.jsonl").split(separator: "\n")
      var acknowledgedInputs = Set<String>()  // source input ids of requests answered 202
      var generator = SplitMix(state: 42)
      var offset = 0
      let rounds = ProcessInfo.processInfo.environment["RULEC_CRASH_ROUNDS"].flatMap(Int.init) ?? 100
      for round in 0..<rounds {
        // Slow replies keep deliveries in flight when the kill comes.
        destination.queue(.slow(seconds: 0.02))
        let (process, port, _) = try await harness.start()
        for _ in 0..<3 {
          let chunk = lines[offset..<min(lines.count, offset + 25)]
          offset = (offset + 25) % lines.count
          if let (status, _) = try? await ServeTests.post(client, port, chunk.joined(separator: "\n")), status == 202 {
            for line in chunk {
              if let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
                let outputs = (json["outputs"] as? [[String: Any]]) ?? [json]
                for o in outputs { if let id = (o["input"] as? [String: Any])?["id"] as? String { acknowledgedInputs.insert(id) } }
              }
            }
          }
        }
        try await Task.sleep(nanoseconds: UInt64(generator.next() % 80_000_000))
        kill(process.processIdentifier, SIGKILL)
        await process.exited()
        _ = round
      }
      // A last run drains the queue.
      let (process, _, _) = try await harness.start()
      let deadline = Date().addingTimeInterval(30)
      var queueEmpty = false
      while Date() < deadline && !queueEmpty {
        try await Task.sleep(nanoseconds: 200_000_000)
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [state + "/queue.sqlite", "SELECT COUNT(*) FROM items"]
        let out = Pipe()
        sqlite.standardOutput = out
        try sqlite.run()
        await sqlite.exited()
        queueEmpty = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "0"
      }
      process.terminate()
      await process.exited()
      #expect(queueEmpty)
      // Every acknowledged input that the rule accepts was delivered; ids are unique by construction.
      let sources = destination.received.values.compactMap { item -> String? in
        let json = try? JSONSerialization.jsonObject(with: Data(item.utf8)) as? [String: Any]
        let metadata = (json?["data"] as? [String: Any])?["metadata"] as? [String: Any]
        return (metadata?["rulec"] as? [String: Any])?["source_input_id"] as? String
      }
      let delivered = Set(sources)
      #expect(!delivered.isEmpty)
      #expect(sources.count == delivered.count, "an input was delivered twice under different ids")
      // Replay the acknowledged inputs through the rule offline: each it accepts must have been delivered.
      var expected = Set<String>()
      for line in lines {
        guard let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
        for o in (json["outputs"] as? [[String: Any]]) ?? [json] {
          guard let id = (o["input"] as? [String: Any])?["id"] as? String, acknowledgedInputs.contains(id),
            (o["status"] as? [String: Any])?["code"] as? Int == 10000,
            let concepts = (o["data"] as? [String: Any])?["concepts"] as? [[String: Any]], !concepts.isEmpty
          else { continue }
          if concepts.compactMap({ $0["value"] as? Double }).max()! < 0.5 { expected.insert(id) }
        }
      }
      #expect(expected.isSubset(of: delivered), "lost: \(expected.subtracting(delivered).sorted().prefix(5))")
    }
  }
}

/// Hot reload: a broken rule file keeps the old rules serving; a fixed key plus a reload resumes a
/// paused collector and delivers its kept items.
@Suite(.serialized) struct ReloadTests {
  static func rule(threshold: String, keyFile: String) -> String {
    """
    collector backfill {
      source */*/*
      destination me/backfill
      key file "\(keyFile)"
      pre_queue {
        require max(concepts) < \(threshold)
      }
    }

    """
  }

  @Test func brokenRulesKeepServingAndAFixedKeyResumes() async throws {
    try await ServeHarness.with("reload", keys: ["good": true, "unscoped": false]) { harness in
      let (destination, client) = (harness.destination, harness.client)
      let rules = harness.folder + "/collectors.rule"
      let keyFile = harness.folder + "/key"
      try "unscoped\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
      try Self.rule(threshold: "0.5", keyFile: keyFile).write(toFile: rules, atomically: true, encoding: .utf8)
      let (process, port, output) = try await harness.start(rules: rules)
      let lines = read("Tests/RulesTests/Golden/run/recording.jsonl").split(separator: "\n")
      let (status, reply) = try await ServeTests.post(client, port, lines.prefix(20).joined(separator: "\n"))
      #expect(status == 202)
      let accepted = (try JSONSerialization.jsonObject(with: Data(reply.utf8)) as! [String: Int])["accepted"]!
      #expect(accepted > 0)
      // The key lacks the PostInputs scope: the collector pauses and keeps its items.
      #expect(await output.wait(for: "collector paused"))
      #expect(destination.received.isEmpty)
      // A broken edit is refused and the old rules keep serving.
      try "collector backfill {\n  require (\n".write(toFile: rules, atomically: true, encoding: .utf8)
      #expect(await output.wait(for: "reload refused"))
      #expect(try await ServeTests.post(client, port, String(lines[25])).0 == 202)
      // The key fixed and the rules restored: a reload (SIGHUP) resumes delivery of the kept items.
      try "good\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
      try Self.rule(threshold: "0.5", keyFile: keyFile).write(toFile: rules, atomically: true, encoding: .utf8)
      kill(process.processIdentifier, SIGHUP)
      #expect(await output.wait(for: "rules reloaded"))
      let deadline = Date().addingTimeInterval(15)
      while destination.received.count < accepted && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
      #expect(destination.received.count >= accepted)
      #expect(!output.value.contains("good") && !output.value.contains("unscoped"))  // keys never logged
      process.terminate()
      await process.exited()
      #expect(process.terminationStatus == 0)
    }
  }
}

/// `rulec serve --events -`: JSON Lines piped on standard input are queued and forwarded; a bad line
/// is reported with its number and skipped.
@Suite(.serialized) struct StandardInputTests {
  @Test func pipedEventsAreForwarded() async throws {
    try await ServeHarness.with("stdin", keys: ["good": true]) { harness in
      let destination = harness.destination
      // What a dry run of the same rule accepts from the same lines.
      var items = ""
      var err = Capture()
      _ = Run.execute(
        rules: TestPaths.path("Tests/RulesTests/Golden/run/forward.rule"), events: [TestPaths.path("Tests/RulesTests/Golden/run/recording.jsonl")],
        out: nil, report: nil, strict: false, explain: nil, err: &err, stdout: { items += $0 })
      let expected = items.split(separator: "\n").count
      let input = Pipe()
      let (process, _, output) = try await harness.start(extra: ["--events", "-"], standardInput: input, token: false)
      var lines = read("Tests/RulesTests/Golden/run/recording.jsonl").split(separator: "\n").map(String.init)
      lines.insert("{\"id\": truncated", at: 3)  // line 4
      input.fileHandleForWriting.write(Data((lines.joined(separator: "\n") + "\n").utf8))
      try input.fileHandleForWriting.close()
      #expect(await output.wait(for: "end of standard input"))
      #expect(output.value.contains("line=4"))
      let deadline = Date().addingTimeInterval(15)
      while destination.received.count < expected && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
      #expect(destination.received.count == expected)
      process.terminate()
      await process.exited()
      #expect(process.terminationStatus == 0)
    }
  }
}
