import RulesLoader
import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RulesForward
import RulesDiagnostics
import RulesEvents
import RulesQueue
import RulesSema

/// `rulec serve`: the HTTP ingest endpoint, the durable queue and the forwarding loop, as one service.
/// The current ingest pipeline, swapped whole on reload.
public actor PipelineHolder {
  var pipeline: IngestPipeline
  init(_ pipeline: IngestPipeline) { self.pipeline = pipeline }
  func swap(_ new: IngestPipeline) { pipeline = new }
  func current() -> IngestPipeline { pipeline }
  func ingest(_ body: [UInt8]) async throws -> IngestResult { try await pipeline.ingest(body) }
  func ingestLines(_ lines: [[UInt8]], firstLine: Int) async throws -> (IngestResult, [IngestError]) {
    try await pipeline.ingestLines(lines, firstLine: firstLine)
  }
}

public final class CollectorServer: @unchecked Sendable {
  public struct Configuration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var state = "./rulec-state"
    /// A PostgreSQL queue shared with other processes (`--queue postgres://…`), instead of the SQLite
    /// file in `state`.
    public var queue: PostgresQueueStore.Settings?
    /// Seconds a leased item belongs to this process's forwarder before another may take it.
    public var lease: Double = 60
    public var apiBase = "https://api.clarifai.com"
    /// Bearer token ingest requests must carry, if set.
    public var ingestToken: String?
    /// Bodies over this many bytes get 413.
    public var maxBody = 64 << 20
    /// `rulec proxy`: Clarifai's API base every request is passed to (no `/v1/events` then).
    public var upstream: String?
    /// How long the proxy waits for the upstream's whole answer.
    public var upstreamTimeout: TimeAmount = .seconds(600)
    /// The largest upstream answer the proxy passes on.
    public var maxResponse = 1 << 30
    /// Where the proxy records every output it sees.
    public var record: OutputRecorder.Options?
    /// A connection with nothing going on is closed after this long.
    public var idleTimeout: TimeAmount = .seconds(60)
    /// A request's head must have arrived this long after the connection opened (or, on a
    /// keep-alive connection, after the idle timeout and this long since the last response).
    public var headerTimeout: TimeAmount = .seconds(10)
    /// Connections held at once; more wait to be accepted.
    public var maxConnections = 4096
    /// Bytes of request bodies held in memory at once.
    public var bodyMemory = 256 << 20
    /// At shutdown, how long the forwarding pass in flight may take to finish its requests before
    /// it is cut (its items then stay queued for the next start).
    public var shutdownGrace: Duration = .seconds(10)
    /// A request's whole body must have arrived this long after its head (else the connection is closed).
    public var bodyTimeout: TimeAmount = .seconds(300)
    public init() {}
  }

  let configuration: Configuration
  let rulesPath: String
  let holder: PipelineHolder
  let gates: GateSet
  let forwarder: Forwarder
  let client: HTTPClient
  let store: any QueueStore
  let metrics: ServeMetrics
  let logger: Logger
  /// The proxy's parts, when it is one.
  let recorder: OutputRecorder?
  let collector = ProxyCollector()
  /// Request bodies in memory at once (ingest and proxy).
  let budget: BodyBudget

  /// Opens the queue (the state folder's SQLite file, locked for this process, or the shared
  /// PostgreSQL queue) and records the rules' snapshot in it.
  public static func open(configuration: Configuration, rulesPath: String, program: CheckedProgram, keys: [String: String]) async throws
    -> CollectorServer
  {
    let store: any QueueStore
    if let settings = configuration.queue {
      // Leases found in a shared queue belong to live processes: they end by themselves.
      store = try await PostgresQueueStore(settings: settings)
    } else {
      let local = try SQLiteQueueStore(directory: configuration.state, exclusive: true)
      // One process per state folder (the store holds its lock), so the leases of a previous process
      // (killed mid-delivery) end now.
      try local.releaseLeases()
      store = local
    }
    let ruleSet = try await store.recordRuleSet(RuleSnapshot.text(of: program))
    let depth = (try? await store.depth()) ?? -1
    return try CollectorServer(
      configuration: configuration, rulesPath: rulesPath, program: program, keys: keys, store: store, ruleSet: ruleSet, depth: depth)
  }

  init(
    configuration: Configuration, rulesPath: String, program: CheckedProgram, keys: [String: String], store: any QueueStore, ruleSet: Int64,
    depth: Int
  ) throws {
    self.configuration = configuration
    self.rulesPath = rulesPath
    budget = BodyBudget(total: configuration.bodyMemory)
    var logger = Logger(label: "rulec")
    logger.logLevel = .info
    self.logger = logger
    metrics = ServeMetrics(bootstrap: true)
    metrics.logger = logger
    self.store = store
    logger.info(
      "queue opened", metadata: ["queue": "\(store.location)", "shared": "\(store.isShared)", "depth": "\(depth)", "rule_set": "\(ruleSet)"])
    if store.isShared {
      // Each process's engine keeps its own event time and limit budgets (Grammar.md §9).
      let limited = program.collectors.filter { c in
        ((c.preQueue ?? []) + (c.postQueue ?? [])).contains { if case .limit = $0.kind { true } else { false } }
      }
      if !limited.isEmpty {
        logger.warning(
          "limit statements count per process on a shared queue: with several processes a collector may accept up to that many times its limit",
          metadata: ["collectors": "\(limited.map(\.id).joined(separator: ","))"])
      }
    }
    holder = PipelineHolder(try IngestPipeline(program: program, store: store, ruleSet: ruleSet, metrics: metrics))
    client = Forwarder.makeClient()
    forwarder = Forwarder(store: store, client: client, apiBase: configuration.apiBase, keys: keys)
    forwarder.lease = configuration.lease
    let gates = GateSet(store: store, metrics: metrics)
    try gates.install(ruleSet, program)
    self.gates = gates
    forwarder.admit = { await gates.admit($0) }
    let latency = metrics.forwardLatency
    forwarder.onRequest = { latency.recordNanoseconds($0) }
    forwarder.onProblem = { [metrics, logger] kind, cause, isNew in
      metrics.forwardProblem(kind)
      if isNew { logger.warning("forwarding problem (logged once per cause)", metadata: ["kind": "\(kind)", "cause": "\(cause)"]) }
    }
    fingerprint = Self.fingerprint(rulesPath)
    recorder = try configuration.record.map { try OutputRecorder($0) }
  }

  // MARK: Reload

  /// Modification dates of the rule files, to notice edits.
  var fingerprint: [String: Date]
  let reloadLock = NSLock()

  static func fingerprint(_ path: String) -> [String: Date] {
    var out: [String: Date] = [:]
    for file in (try? RuleLoader.expand([path])) ?? [] {
      out[file] = (try? FileManager.default.attributesOfItem(atPath: file)[.modificationDate]) as? Date ?? .distantPast
    }
    return out
  }

  /// Checks and compiles the rules again and swaps them in whole; a broken file keeps the old rules
  /// running and its diagnostics go to the log. Keys are read again, and paused collectors resume.
  public func reload(_ why: String) async {
    reloadLock.withLock { fingerprint = Self.fingerprint(rulesPath) }
    let sink = DiagnosticSink()
    let program: CheckedProgram
    do {
      program = try RuleLoader.load([rulesPath], options: CheckOptions(), sink: sink).program
    } catch {
      logger.error("reload failed; the previous rules keep running", metadata: ["why": "\(why)", "error": "\(error.description)"])
      return
    }
    if sink.hasErrors {
      for d in sink.sorted where d.severity == .error {
        let l = d.location
        logger.error("\(d.file.path):\(l.line):\(l.column): \(d.code.id) \(d.message.text)")
      }
      logger.error("reload refused: the rules have errors; the previous rules keep running", metadata: ["why": "\(why)"])
      return
    }
    do {
      let keys = try KeyReferences.read(program)
      let version = try await store.recordRuleSet(RuleSnapshot.text(of: program))
      let pipeline = try IngestPipeline(program: program, store: store, ruleSet: version, metrics: metrics)
      try gates.install(version, program)
      await holder.swap(pipeline)
      forwarder.requestKeys(keys)
      logger.info("rules reloaded", metadata: ["why": "\(why)", "rule_set": "\(version)", "collectors": "\(program.collectors.count)"])
    } catch {
      logger.error("reload failed; the previous rules keep running", metadata: ["why": "\(why)", "error": "\(error)"])
    }
  }

  /// Reloads on SIGHUP and when a rule file changes (checked every second).
  func watch() -> Task<Void, Never> {
    signal(SIGHUP, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGHUP)
    source.setEventHandler { [self] in Task { await self.reload("SIGHUP") } }
    source.resume()
    return Task { [self] in
      while !Task.isCancelled {
        try? await Task.sleep(nanoseconds: 1_000_000_000)
        let now = Self.fingerprint(rulesPath)
        let changed = reloadLock.withLock { now != fingerprint }
        if changed { await reload("a rule file changed") }
      }
      source.cancel()
    }
  }

  /// Compares a presented credential with the expected one in time that depends only on their
  /// lengths, not on where they first differ (so the token cannot be guessed byte by byte).
  static func sameSecret(_ presented: String?, _ expected: String) -> Bool {
    guard let presented else { return false }
    let a = Array(presented.utf8)
    let b = Array(expected.utf8)
    var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
    for k in 0..<max(a.count, b.count) {
      difference |= (k < a.count ? a[k] : 0) ^ (k < b.count ? b[k] : 0)
    }
    return difference == 0 && a.count == b.count
  }

  /// The answer when bodies already being read fill `bodyMemory`: try again in a second.
  static func busy() -> Response {
    var response = json(.serviceUnavailable, #"{"error":"busy reading other request bodies; try again"}"#)
    response.headers[.retryAfter] = "1"
    return response
  }

  static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
  }

  /// Reads JSON Lines from standard input, a block at a time, on a thread of its own (reading blocks),
  /// and queues what they accept (`rulec serve --events -`); forwarding goes on after the input ends.
  public func ingestStandardInput() {
    let holder = self.holder
    let logger = self.logger
    Thread.detachNewThread {
      do {
        try ChunkReader(handle: FileHandle.standardInput).forEachBlock { block, lines in
          var batch: [[UInt8]] = []
          var first = 0
          for line in lines {
            switch line {
            case .bytes(let number, let range):
              if first == 0 { first = number }
              batch.append(Array(block[range]))
            case .tooLong(let number, let length):
              logger.warning("bad line", metadata: ["line": "\(number)", "reason": "line is \(length) bytes, longer than the limit"])
            }
          }
          let done = DispatchSemaphore(value: 0)
          let lines = batch
          let firstLine = max(first, 1)
          Task {
            do {
              let (result, bad) = try await holder.ingestLines(lines, firstLine: firstLine)
              for b in bad.prefix(20) { logger.warning("bad line", metadata: ["line": "\(b.line)", "reason": "\(b.reason)"]) }
              logger.info("ingested", metadata: ["lines": "\(lines.count)", "accepted": "\(result.accepted)", "reached_no_collector": "\(result.reachedNoCollector)", "bad": "\(bad.count)"])
            } catch {
              logger.error("the queue could not be written", metadata: ["error": "\(error)"])
            }
            done.signal()
          }
          done.wait()
        }
      } catch {
        logger.error("cannot read standard input", metadata: ["error": "\(error)"])
      }
      logger.info("end of standard input; forwarding goes on until SIGTERM")
    }
  }

  /// Serves until SIGTERM or SIGINT: then stops taking requests, finishes those in flight, stops the
  /// forwarding loop after its current batch, and returns (the queue is closed cleanly).
  public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
    let router = Router()
    let holder = self.holder
    let configuration = self.configuration
    router.get("healthz") { _, _ -> Response in Self.json(.ok, #"{"status":"ok"}"#) }
    let metrics = self.metrics
    let store = self.store
    router.get("metrics") { _, _ -> Response in
      let depth = try? await store.depth()
      return Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
        body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition(queueDepth: depth))))
    }
    let budget = self.budget
    router.post("v1/events") { request, _ -> Response in
      if let token = configuration.ingestToken, !Self.sameSecret(request.headers[.authorization], "Bearer \(token)") {
        return Self.json(.unauthorized, #"{"error":"a valid Authorization: Bearer token is required"}"#)
      }
      var request = request
      let reserved = budget.reservation(
        contentLength: request.headers[.contentLength], maxBody: configuration.maxBody, costPerByte: BodyBudget.ingestCostPerByte)
      if let declared = request.headers[.contentLength].flatMap(Int.init), declared > configuration.maxBody {
        return Self.json(.contentTooLarge, #"{"error":"the body is larger than \#(configuration.maxBody) bytes"}"#)
      }
      guard budget.take(reserved) else {
        return Self.busy()
      }
      defer { budget.give(reserved) }
      let buffer: ByteBuffer
      do {
        buffer = try await request.collectBody(upTo: configuration.maxBody)
      } catch is NIOTooManyBytesError {
        return Self.json(.contentTooLarge, #"{"error":"the body is larger than \#(configuration.maxBody) bytes"}"#)
      } catch {
        // A body that is not well-formed HTTP (a bad chunk size, a connection cut mid-body).
        return Self.json(.badRequest, #"{"error":"the body could not be read as HTTP"}"#)
      }
      do {
        // Decoding runs here, on the request's own task, in parallel with other requests; only the
        // evaluation and the queue write go through the pipeline actor.
        let bytes = Array(buffer: buffer)
        let pipeline = await holder.current()
        let r = try await pipeline.evaluate(pipeline.decode(bytes), body: bytes)
        var warning = ""
        if let text = await pipeline.warning(for: r) {
          warning = #","warning":"#
          JSONEscape.append(text, to: &warning)
        }
        return Self.json(
          .accepted,
          #"{"events":\#(r.events),"accepted":\#(r.accepted),"already_queued":\#(r.alreadyQueued),"skipped_status":\#(r.skippedStatus),"reached_no_collector":\#(r.reachedNoCollector)\#(warning)}"#)
      } catch let e as IngestError {
        var reason = ""
        JSONEscape.append(e.reason, to: &reason)
        return Self.json(.badRequest, #"{"error":"malformed event","line":\#(e.line),"reason":\#(reason)}"#)
      } catch {
        // The request's items go in one statement, so none of them or (when the answer was lost) all
        // are queued: sending the body again, here or to another process, is safe.
        var response = Self.json(.serviceUnavailable, #"{"error":"the queue could not be written"}"#)
        response.headers[.retryAfter] = "1"
        return response
      }
    }
    let forwarder = self.forwarder
    let logger = self.logger
    // Set at shutdown: the loop ends after the pass in flight, whose requests finish (cancelling
    // them counted a stop as an unreachable destination and logged an error).
    let stopping = NIOLockedValueBox(false)
    let loop = Task {
      var paused = Set<String>()
      var depth = 0
      var depthRead = ContinuousClock.now - .seconds(60)
      while !stopping.withLockedValue({ $0 }) && !Task.isCancelled {
        let leased: Int
        do {
          leased = try await forwarder.pass()
        } catch let error as PostgresQueueStore.Unavailable {
          logger.error("forwarding pass failed", metadata: ["error": "\(error)"])
          leased = 0
        } catch {
          if Task.isCancelled { break }
          logger.error("forwarding pass failed", metadata: ["error": "\(type(of: error))"])
          leased = 0
        }
        let stats = forwarder.stats
        // Counting the queue reads all of it (PostgreSQL has no cheap exact count): once a second,
        // not once a pass.
        if ContinuousClock.now - depthRead >= .seconds(1) {
          depth = (try? await store.depth()) ?? depth
          depthRead = ContinuousClock.now
        }
        metrics.forwarded(stats, droppedAtDequeue: forwarder.droppedAtDequeue, queueDepth: depth)
        for (collector, reason) in stats.paused where !paused.contains(collector) {
          paused.insert(collector)
          logger.warning("collector paused; its items are kept until its key is fixed", metadata: ["collector": "\(collector)", "reason": "\(reason)"])
        }
        if leased == 0 { try? await Task.sleep(nanoseconds: 100_000_000) }
      }
    }
    // Hostile or broken clients: idle connections are closed, a head that trickles in is cut off,
    // and connections are capped below the descriptor limit (19,990 idle ones starved every other
    // client before).
    let address = ApplicationConfiguration(
      address: .hostname(configuration.host, port: configuration.port),
      availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections))
    let (idle, header, body) = (configuration.idleTimeout, configuration.headerTimeout, configuration.bodyTimeout)
    let server: HTTPServerBuilder = .http1(
      configuration: .init(
        additionalChannelHandlers: [RequestTimeoutHandler(first: header, next: idle + header, body: body)], idleTimeout: idle))
    let running: @Sendable (any Channel) async -> Void = { channel in onListening(channel.localAddress?.port ?? configuration.port) }
    let watcher = watch()
    if let upstream = configuration.upstream {
      // The proxy answers /healthz and /metrics itself (Clarifai's API has neither: all of it is
      // under /v2) and passes everything else upstream.
      let proxy = ProxyService(
        upstream: upstream, client: client, collector: collector, metrics: metrics, budget: budget, maxBody: configuration.maxBody,
        maxResponse: configuration.maxResponse, timeout: configuration.upstreamTimeout, logger: logger)
      let resolver = CallerResolver(client: client, upstream: upstream)
      let collecting = Task { [collector, recorder] in
        await collector.run(holder: holder, resolver: resolver, recorder: recorder, metrics: metrics, logger: logger)
      }
      let responder = CallbackResponder<BasicRequestContext> { request, _ in
        if request.method == .get && request.uri.path == "/healthz" { return Self.json(.ok, #"{"status":"ok"}"#) }
        if request.method == .get && request.uri.path == "/metrics" {
          let depth = try? await store.depth()
          return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition(queueDepth: depth))))
        }
        return await proxy.respond(request)
      }
      try await Application(responder: responder, server: server, configuration: address, onServerRunning: running).runService()
      // Answers already taken are collected before the queue closes.
      collector.finish()
      _ = await collecting.result
      recorder?.close()
    } else {
      try await Application(router: router, server: server, configuration: address, onServerRunning: running).runService()
    }
    watcher.cancel()
    logger.info("shutting down: ingest stopped, finishing the current forwarding pass")
    stopping.withLockedValue { $0 = true }
    if !(await Self.finish(loop, within: configuration.shutdownGrace)) {
      logger.warning(
        "the forwarding pass did not finish in time and was cut short; its items stay queued for the next start",
        metadata: ["grace_seconds": "\(configuration.shutdownGrace.components.seconds)"])
    }
    try await client.shutdown()
    let depth = (try? await store.depth()) ?? -1
    if let shared = store as? PostgresQueueStore { await shared.close() }
    logger.info("stopped", metadata: ["depth": "\(depth)"])
  }
}

extension CollectorServer {
  /// Waits for `loop` to end by itself for at most `grace`, then cancels it and waits for that.
  /// Returns whether it ended in time.
  static func finish(_ loop: Task<Void, Never>, within grace: Duration) async -> Bool {
    let watchdog = Task {
      try? await Task.sleep(for: grace)
      if !Task.isCancelled { loop.cancel() }
    }
    _ = await loop.result
    watchdog.cancel()
    return !loop.isCancelled
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
