import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
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
  let store: SQLiteQueueStore
  let metrics: ServeMetrics
  let logger: Logger

  public init(configuration: Configuration, program: CheckedProgram, ruleText: String, keys: [String: String]) throws {
    self.configuration = configuration
    var logger = Logger(label: "rulec")
    logger.logLevel = .info
    self.logger = logger
    metrics = ServeMetrics(bootstrap: true)
    let store = try SQLiteQueueStore(directory: configuration.state)
    self.store = store
    // One `rulec serve` per state folder: leases of a previous process (killed mid-delivery) end now.
    try store.releaseLeases()
    let ruleSet = try store.recordRuleSet(ruleText)
    logger.info(
      "queue opened",
      metadata: ["state": "\(configuration.state)", "journal": "\((try? store.journalMode()) ?? "?")", "depth": "\((try? store.depth()) ?? -1)", "rule_set": "\(ruleSet)"])
    pipeline = try IngestPipeline(program: program, store: store, ruleSet: ruleSet, metrics: metrics)
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
    let registry = metrics.registry
    router.get("metrics") { _, _ -> Response in
      Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
        body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
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
    let metrics = self.metrics
    let store = self.store
    let logger = self.logger
    let loop = Task {
      var paused = Set<String>()
      while !Task.isCancelled {
        let started = DispatchTime.now().uptimeNanoseconds
        let leased: Int
        do {
          leased = try await forwarder.pass()
        } catch {
          logger.error("forwarding pass failed", metadata: ["error": "\(type(of: error))"])
          leased = 0
        }
        if leased > 0 { metrics.forwardLatency.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started)) }
        let stats = forwarder.stats
        metrics.forwarded(stats, droppedAtDequeue: forwarder.droppedAtDequeue, queueDepth: (try? store.depth()) ?? 0)
        for (collector, reason) in stats.paused where !paused.contains(collector) {
          paused.insert(collector)
          logger.warning("collector paused; its items are kept until its key is fixed", metadata: ["collector": "\(collector)", "reason": "\(reason)"])
        }
        if leased == 0 { try? await Task.sleep(nanoseconds: 100_000_000) }
      }
    }
    let app = Application(
      router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
      onServerRunning: { channel in onListening(channel.localAddress?.port ?? configuration.port) })
    try await app.runService()
    logger.info("shutting down: ingest stopped, finishing the current forwarding pass")
    loop.cancel()
    _ = await loop.result
    try await client.shutdown()
    logger.info("stopped", metadata: ["depth": "\((try? store.depth()) ?? -1)"])
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
