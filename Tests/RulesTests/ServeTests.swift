import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// The real `rulec serve` binary as a child process, a PostInputs stand-in on 127.0.0.1, and HTTP
/// requests: events in → exactly the accepted inputs delivered, each once; bad requests refused; a
/// clean exit on SIGTERM.
@Suite(.serialized) struct ServeTests {
  static let binary = TestPaths.root.appendingPathComponent(".build/debug/rulec").path

  /// Starts `rulec serve` and returns the process and the port it listens on.
  static func start(state: String, apiBase: String, extra: [String] = []) throws -> (Process, Int, Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = [
      "serve", TestPaths.path("Tests/RulesTests/Golden/run/forward.rule"), "--listen", "127.0.0.1:0", "--state", state,
      "--api-base", apiBase, "--ingest-token-env", "RULEC_TEST_TOKEN",
    ] + extra
    var environment = ProcessInfo.processInfo.environment
    environment["RULEC_TEST_FORWARD_KEY"] = "good"
    environment["RULEC_TEST_TOKEN"] = "sesame"
    process.environment = environment
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    // Read standard error until the listening line appears.
    var seen = ""
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      let data = errors.fileHandleForReading.availableData
      if data.isEmpty { break }
      seen += String(decoding: data, as: UTF8.self)
      if let range = seen.range(of: "listening on 127.0.0.1:"), let end = seen[range.upperBound...].firstIndex(of: "\n"),
        let port = Int(seen[range.upperBound..<end])
      {
        return (process, port, errors)
      }
    }
    process.terminate()
    throw ServeFailure(output: seen)
  }

  struct ServeFailure: Error { var output: String }

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
    try #require(FileManager.default.fileExists(atPath: Self.binary), "build rulec first (swift build)")
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-serve-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: state) }
    let destination = FakeDestination(keys: ["good": true])
    let base = try destination.start()
    defer { destination.stop() }
    let (process, port, _) = try Self.start(state: state, apiBase: base, extra: ["--max-body", "100000"])
    defer { if process.isRunning { process.terminate() } }
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    do {
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
      let (bad, badReply) = try await Self.post(client, port, String(lines[0]) + "\n{\"id\":\"x\",\"data\":{\"concepts\":[{\"value\":\"no\"}]}}")
      #expect(bad == 400 && badReply.contains("\"line\":2"))
      #expect(try await Self.post(client, port, recording).0 == 413)
      // Everything accepted arrives, each once.
      let deadline = Date().addingTimeInterval(15)
      while destination.received.count < accepted && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
      #expect(destination.received.count == accepted)
      process.terminate()  // SIGTERM
      process.waitUntilExit()
      #expect(process.terminationStatus == 0)
    } catch {
      try await client.shutdown()
      throw error
    }
    try await client.shutdown()
  }
}
