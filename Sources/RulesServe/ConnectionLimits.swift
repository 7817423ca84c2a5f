import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request does not arrive in time: its head within `head` of the
/// connection opening (or within `next` of the previous response, on a keep-alive connection), and
/// its whole body within `body` of its head. The idle timeout alone does not catch a client that
/// trickles its headers or its body a byte at a time (slowloris), since every byte counts as
/// activity; and a stalled body would hold its share of the body memory. Timing the body here,
/// after HTTP decoding, rather than racing the handler's read of it, keeps the body read by one
/// reader (racing it and answering 408 first made the server trap when the body was drained).
final class RequestTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPRequestPart
  typealias InboundOut = HTTPRequestPart
  typealias OutboundIn = HTTPResponsePart
  typealias OutboundOut = HTTPResponsePart

  let first: TimeAmount
  let next: TimeAmount
  let body: TimeAmount
  private var timer: Scheduled<Void>?

  init(first: TimeAmount, next: TimeAmount, body: TimeAmount) {
    self.first = first
    self.next = next
    self.body = body
  }

  func handlerAdded(context: ChannelHandlerContext) {
    if context.channel.isActive { arm(context, first) }
  }

  func channelActive(context: ChannelHandlerContext) {
    arm(context, first)
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    timer?.cancel()
    timer = nil
    context.fireChannelInactive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head: arm(context, body)
    case .end:
      timer?.cancel()
      timer = nil
    case .body: break
    }
    context.fireChannelRead(data)
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    if case .end = unwrapOutboundIn(data) { arm(context, next) }
    context.write(data, promise: promise)
  }

  private func arm(_ context: ChannelHandlerContext, _ after: TimeAmount) {
    timer?.cancel()
    let channel = context.channel
    timer = context.eventLoop.scheduleTask(in: after) { channel.close(promise: nil) }
  }
}

/// A budget for request bodies held in memory at once: a request reserves its declared length
/// (times what it costs while handled) before its body is read, and one that does not fit is
/// answered 503 with `Retry-After` instead of read (16 bodies near the size limit at once held 1.1 GB).
final class BodyBudget: @unchecked Sendable {
  /// What an ingest body costs in memory while it is handled, per byte of body: the collected
  /// buffer, its bytes as an array, the decoded outputs and the accepted items' payloads. Measured
  /// with `tools/bench_hostile.py`: one 48 MB body of JSON Lines raised the server's resident memory
  /// by 191 MB (4.0 per byte); reserving the body alone let eight such clients take 980 MB under a
  /// 256 MiB budget.
  static let ingestCostPerByte = 4

  let total: Int
  private var used = 0
  private let lock = NSLock()

  init(total: Int) { self.total = total }

  /// Reserves `bytes`; false when they do not fit next to what is reserved. A body larger than the
  /// whole budget is let through alone.
  func take(_ bytes: Int) -> Bool {
    lock.withLock {
      guard used == 0 || used + bytes <= total else { return false }
      used += bytes
      return true
    }
  }

  func give(_ bytes: Int) { lock.withLock { used -= bytes } }

  /// What a request reserves: its `Content-Length` (at most `maxBody`), or, for a body of unknown
  /// length, a quarter of the budget (at most `maxBody`); times `costPerByte`.
  func reservation(contentLength: String?, maxBody: Int, costPerByte: Int = 1) -> Int {
    if let declared = contentLength.flatMap(Int.init), declared >= 0 { return min(declared, maxBody) * costPerByte }
    return min(maxBody, max(1, total / 4)) * costPerByte
  }
}
