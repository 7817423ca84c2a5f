import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import RulesForward
import RulesQueue
import RulesSema

/// `rulec serve`: the HTTP ingest endpoint, the durable queue and the forwarding loop, as one service.
public struct CollectorServer {
  public struct Configuration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var state = "./rulec-state"
    public var apiBase = "https://api.clarifai.com"
    /// Bearer token ingest requests must carry, if set.
    public var ingestToken: String?
    /// Bodies over this many bytes get 413.
    public var maxBody = 64 << 20
    public init() {}
  }

  let configuration: Configuration
  let pipeline: IngestPipeline
  let forwarder: Forwarder
  let client: HTTPClient

  public init(configuration: Configuration, program: CheckedProgram, ruleText: String, keys: [String: String]) throws {
    self.configuration = configuration
    let store = try SQLiteQueueStore(directory: configuration.state)
    // One `rulec serve` per state folder: leases of a previous process (killed mid-delivery) end now.
    try store.releaseLeases()
    let ruleSet = try store.recordRuleSet(ruleText)
    pipeline = try IngestPipeline(program: program, store: store, ruleSet: ruleSet)
    client = HTTPClient(eventLoopGroupProvider: .singleton)
    forwarder = Forwarder(store: store, client: client, apiBase: configuration.apiBase, keys: keys)
    let gate = try PostQueueGate(program: program)
    forwarder.admit = { gate.admit($0) }
  }

  static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
  }

  /// Serves until SIGTERM or SIGINT: then stops taking requests, finishes those in flight, stops the
  /// forwarding loop after its current batch, and returns (the queue is closed cleanly).
  public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
    let router = Router()
    let pipeline = self.pipeline
    let configuration = self.configuration
    router.get("healthz") { _, _ -> Response in Self.json(.ok, #"{"status":"ok"}"#) }
    router.post("v1/events") { request, _ -> Response in
      if let token = configuration.ingestToken, request.headers[.authorization] != "Bearer \(token)" {
        return Self.json(.unauthorized, #"{"error":"a valid Authorization: Bearer token is required"}"#)
      }
      var request = request
      let buffer: ByteBuffer
      do {
        buffer = try await request.collectBody(upTo: configuration.maxBody)
      } catch {
        return Self.json(.contentTooLarge, #"{"error":"the body is larger than \#(configuration.maxBody) bytes"}"#)
      }
      do {
        let r = try await pipeline.ingest(Array(buffer: buffer))
        return Self.json(
          .accepted,
          #"{"events":\#(r.events),"accepted":\#(r.accepted),"already_queued":\#(r.alreadyQueued),"skipped_status":\#(r.skippedStatus)}"#)
      } catch let e as IngestError {
        var reason = ""
        JSONEscape.append(e.reason, to: &reason)
        return Self.json(.badRequest, #"{"error":"malformed event","line":\#(e.line),"reason":\#(reason)}"#)
      } catch {
        return Self.json(.serviceUnavailable, #"{"error":"the queue could not be written"}"#)
      }
    }
    let forwarder = self.forwarder
    let loop = Task {
      while !Task.isCancelled {
        let leased = (try? await forwarder.pass()) ?? 0
        if leased == 0 { try? await Task.sleep(nanoseconds: 100_000_000) }
      }
    }
    let app = Application(
      router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
      onServerRunning: { channel in onListening(channel.localAddress?.port ?? configuration.port) })
    try await app.runService()
    loop.cancel()
    _ = await loop.result
    try await client.shutdown()
  }
}

/// JSON string quoting for the small replies above.
enum JSONEscape {
  static func append(_ s: String, to out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      default:
        if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
      }
    }
    out += "\""
  }
}
