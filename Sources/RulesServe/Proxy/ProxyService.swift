import AsyncHTTPClient
import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import RulesEvents

/// `rulec proxy`: Clarifai's API passed through, with PostModelOutputs answers collected.
///
/// Every request goes upstream with its headers as they came (but those that belong to one hop of a
/// connection, RFC 9110 §7.6.1, and `Host`, which names the upstream), and the upstream's answer comes
/// back unchanged: status, headers and body bytes. Each body is gathered once into a `ByteBuffer`
/// and handed on without another copy. A successful PostModelOutputs answer is then queued for
/// collection (`ProxyCollector`) and the caller is answered without waiting for it: the rules, the
/// queue and the disk never delay or fail the caller's call.
struct ProxyService: Sendable {
  let upstream: String
  let client: HTTPClient
  let collector: ProxyCollector
  let metrics: ServeMetrics
  /// Request bodies in memory at once, shared with the server's other routes.
  let budget: BodyBudget
  let maxBody: Int
  let maxResponse: Int
  let timeout: TimeAmount
  let logger: Logger

  /// Headers of one connection's hop, which a proxy must not forward (RFC 9110 §7.6.1), and those the
  /// HTTP layers on each side write themselves.
  static let hopByHop: Set<String> = [
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "host", "content-length",
  ]

  func respond(_ request: Request) async -> Response {
    let started = ContinuousClock.now
    let call = PredictCall.recognise(method: request.method.rawValue, path: request.uri.path)
    metrics.proxyRequest(predict: call != nil)
    var request = request
    if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maxBody {
      return Self.failure(.contentTooLarge, "the request body is larger than \(maxBody) bytes (rulec proxy --max-body)")
    }
    let reserved = budget.reservation(contentLength: request.headers[.contentLength], maxBody: maxBody)
    guard budget.take(reserved) else {
      var busy = Self.failure(.serviceUnavailable, "rulec proxy is busy reading other request bodies; try again")
      busy.headers[.retryAfter] = "1"
      return busy
    }
    defer { budget.give(reserved) }
    let body: ByteBuffer
    do {
      body = try await request.collectBody(upTo: maxBody)
    } catch is NIOTooManyBytesError {
      return Self.failure(.contentTooLarge, "the request body is larger than \(maxBody) bytes (rulec proxy --max-body)")
    } catch {
      return Self.failure(.badRequest, "the request body could not be read as HTTP")
    }
    var outbound = HTTPClientRequest(url: upstream + request.uri.string)
    outbound.method = HTTPMethod(rawValue: request.method.rawValue)
    for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
      outbound.headers.add(name: field.name.rawName, value: field.value)
    }
    if body.readableBytes > 0 || request.method == .post || request.method == .put || request.method == .patch {
      outbound.body = .bytes(body)
    }
    let upstreamStarted = ContinuousClock.now
    let answer: HTTPClientResponse
    let answerBody: ByteBuffer
    do {
      answer = try await client.execute(outbound, timeout: timeout)
      answerBody = try await answer.body.collect(upTo: maxResponse)
    } catch {
      metrics.proxyUpstreamFailure()
      let timedOut = (error as? HTTPClientError) == .deadlineExceeded || (error as? HTTPClientError) == .readTimeout
      logger.warning("upstream call failed", metadata: ["path": "\(request.uri.path)", "error": "\(Self.reason(error))"])
      return Self.failure(
        timedOut ? .gatewayTimeout : .badGateway,
        "rulec proxy: \(upstream) \(timedOut ? "did not answer in time" : "could not be reached"): \(Self.reason(error))")
    }
    let upstreamTook = ContinuousClock.now - upstreamStarted
    var headers = HTTPFields()
    var encoding: String?
    for (name, value) in answer.headers {
      let lower = name.lowercased()
      if lower == "content-encoding" { encoding = value.lowercased() }
      guard !Self.hopByHop.contains(lower), let field = HTTPField.Name(name) else { continue }
      headers.append(HTTPField(name: field, value: value))
    }
    if let call, (200..<300).contains(answer.status.code) {
      let exchange = ProxyCollector.Exchange(
        call: call, request: body, response: answerBody, authorization: request.headers[.authorization], encoding: encoding)
      if !collector.offer(exchange) { metrics.proxyCollectionFailure("overflow") }
    }
    metrics.proxyAdded(ContinuousClock.now - started - upstreamTook)
    return Response(status: .init(code: Int(answer.status.code), reasonPhrase: answer.status.reasonPhrase), headers: headers, body: .init(byteBuffer: answerBody))
  }

  /// An answer of the proxy's own, in Clarifai's shape (status code 10020, FAILURE) so that a client
  /// reads it like any failed call.
  static func failure(_ status: HTTPResponse.Status, _ details: String) -> Response {
    var text = #"{"status":{"code":10020,"description":"Failure","details":"#
    JSONEscape.append(details, to: &text)
    text += "}}\n"
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
  }

  static func reason(_ error: Error) -> String {
    if let e = error as? HTTPClientError { return "\(e)" }
    return String(describing: error)
  }
}

/// The collection side of the proxy: answers waiting to be collected, in a bounded buffer (when it is
/// full, an answer is not collected and `rulec_proxy_collection_failures_total{stage="overflow"}`
/// counts it), read by one task that takes every waiting answer at once, resolves the callers,
/// records the outputs, and runs them through the serve pipeline (pre-queue stage, durable queue) as
/// one body. `lock` guards `waiting`, `waiter` and `finished`.
final class ProxyCollector: @unchecked Sendable {
  struct Exchange: Sendable {
    var call: PredictCall
    var request: ByteBuffer
    var response: ByteBuffer
    var authorization: String?
    var encoding: String?
  }

  /// Answers waiting, taken by the collecting task all at once.
  private let lock = NSLock()
  private var waiting: [Exchange] = []
  private var waiter: CheckedContinuation<[Exchange]?, Never>?
  private var finished = false
  let limit: Int

  init(limit: Int = 10_000) {
    self.limit = limit
  }

  /// Queues an answer for collection; false when the buffer is full.
  func offer(_ exchange: Exchange) -> Bool {
    lock.lock()
    if finished || waiting.count >= limit {
      lock.unlock()
      return false
    }
    if let waiter {
      self.waiter = nil
      lock.unlock()
      waiter.resume(returning: [exchange])
      return true
    }
    waiting.append(exchange)
    lock.unlock()
    return true
  }

  func finish() {
    lock.lock()
    finished = true
    let waiter = self.waiter
    self.waiter = nil
    lock.unlock()
    waiter?.resume(returning: nil)
  }

  /// Every answer waiting, or the next one to come; nil once finished and empty.
  func next() async -> [Exchange]? {
    await withCheckedContinuation { continuation in
      lock.lock()
      if !waiting.isEmpty {
        let batch = waiting
        waiting = []
        lock.unlock()
        continuation.resume(returning: batch)
      } else if finished {
        lock.unlock()
        continuation.resume(returning: nil)
      } else {
        waiter = continuation
        lock.unlock()
      }
    }
  }

  /// Collects until `finish`: every failure is counted by stage and logged (at most once a minute
  /// per stage), and the call it came from has long been answered.
  func run(holder: PipelineHolder, resolver: CallerResolver, recorder: OutputRecorder?, metrics: ServeMetrics, logger: Logger) async {
    var lastLogged: [String: Date] = [:]
    func fail(_ stage: String, _ message: String, _ error: Any) {
      metrics.proxyCollectionFailure(stage)
      let now = Date()
      if (lastLogged[stage] ?? .distantPast) < now.addingTimeInterval(-60) {
        lastLogged[stage] = now
        logger.error("\(message); the call was answered, its outputs are not collected", metadata: ["stage": "\(stage)", "error": "\(error)"])
      }
    }
    func report(_ error: Error) {
      if let error = error as? IngestError {
        fail("rules", "outputs could not be read by the rules", error.reason)
      } else {
        fail("queue", "the queue could not be written", error)
      }
    }
    // The answers that arrived while the previous batch was being queued go together: one queue
    // transaction (one fsync) for all of them instead of one per call.
    while let batch = await next() {
      var collected: [[[UInt8]]] = []
      for exchange in batch {
        var response = exchange.response
        if let encoding = exchange.encoding, encoding == "gzip" || encoding == "deflate" {
          do {
            response = try response.decompress(with: encoding == "gzip" ? .gzip : .zlib, maxSize: 1 << 30)
          } catch {
            fail("read", "a PostModelOutputs answer could not be decompressed", error)
            continue
          }
        }
        let caller = await resolver.caller(authorization: exchange.authorization)
        let lines: [[UInt8]]
        do {
          lines = try exchange.request.withUnsafeReadableBytes { q in
            try response.withUnsafeReadableBytes { r in
              try PredictExchange.outputLines(
                call: exchange.call, request: q.bindMemory(to: UInt8.self), response: r.bindMemory(to: UInt8.self), caller: caller)
            }
          }
        } catch {
          fail("read", "a PostModelOutputs answer could not be read", error)
          continue
        }
        guard !lines.isEmpty else { continue }
        metrics.proxyOutputs(lines.count)
        if let recorder {
          do { try recorder.append(lines) } catch { fail("record", "outputs could not be recorded", error) }
        }
        collected.append(lines)
      }
      guard !collected.isEmpty else { continue }
      do {
        _ = try await holder.ingest(collected.joined().flatMap { $0 })
      } catch is IngestError where collected.count > 1 {
        // A line the rules cannot read refuses the whole body: each answer goes alone, so one bad
        // answer does not cost the others.
        for lines in collected {
          do { _ = try await holder.ingest(lines.flatMap { $0 }) } catch { report(error) }
        }
      } catch {
        report(error)
      }
    }
  }
}
