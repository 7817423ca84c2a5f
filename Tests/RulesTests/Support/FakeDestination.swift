import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A stand-in for Clarifai's `POST /v2/users/{user}/apps/{app}/inputs` (and `…/annotations`, and
/// "get user me" for the proxy's callers) on 127.0.0.1, for tests: it
/// checks the `Key` header (keys with and without the PostInputs scope), rejects batches over 128 and
/// ids outside `[a-z0-9_-]{1,48}`, answers ids it already has as duplicates (40010), returns mixed
/// statuses, and plays queued faults (a status with `Retry-After`, a dropped connection, a slow reply).
final class FakeDestination: @unchecked Sendable {
  enum Fault {
    case status(Int, code: Int, retryAfter: String?)
    case dropConnection
    case slow(seconds: Double)
    /// 307 to this location.
    case redirect(String)
  }

  private let lock = NSLock()
  private var _received: [String: String] = [:]
  private var _requests: [(app: String, count: Int)] = []
  private var faults: [Fault] = []
  /// Key → whether it carries the PostInputs scope.
  let keys: [String: Bool]
  /// Ids the destination rejects for good (answered with 30106 INVALID_URL).
  var rejected: Set<String> = []
  private var group: MultiThreadedEventLoopGroup?
  private var channel: Channel?

  init(keys: [String: Bool]) { self.keys = keys }

  var received: [String: String] { lock.withLock { _received } }
  private var _paths: [String] = []
  /// The path of every request, in order.
  var paths: [String] { lock.withLock { _paths } }
  private var _annotations: [String: [String: Any]] = [:]
  /// Annotations received, by id.
  var annotations: [String: [String: Any]] { lock.withLock { _annotations } }
  /// Inputs the destination has but does not show yet (annotations of them get 11101).
  var hidden: Set<String> {
    get { lock.withLock { _hidden } }
    set { lock.withLock { _hidden = newValue } }
  }
  private var _hidden: Set<String> = []
  var requests: [(app: String, count: Int)] { lock.withLock { _requests } }
  /// Key → the user it belongs to, for "get user me" (`GET /v2/users/me`, which `rulec proxy` asks
  /// to learn a call's caller); a key not here gets 401.
  var users: [String: String] {
    get { lock.withLock { _users } }
    set { lock.withLock { _users = newValue } }
  }
  private var _users: [String: String] = [:]
  func queue(_ fault: Fault) { lock.withLock { faults.append(fault) } }
  /// Inputs the destination has already (posted by someone else, or an attempt whose answer was lost).
  func preload(_ ids: [String]) { lock.withLock { for id in ids { _received[id] = "" } } }

  /// Starts listening on 127.0.0.1 and returns the base URL.
  func start() throws -> String {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    self.group = group
    let bootstrap = ServerBootstrap(group: group)
      .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        channel.pipeline.configureHTTPServerPipeline().flatMap { channel.pipeline.addHandler(Handler(self)) }
      }
    let channel = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
    self.channel = channel
    return "http://127.0.0.1:\(channel.localAddress!.port!)"
  }

  func stop() {
    try? channel?.close().wait()
    try? group?.syncShutdownGracefully()
  }

  /// The reply to one request: HTTP status, extra headers, body; nil to drop the connection.
  func respond(path: String, authorization: String?, body: [UInt8]) -> (Int, [(String, String)], String)? {
    let fault: Fault? = lock.withLock {
      _paths.append(path)
      return faults.isEmpty ? nil : faults.removeFirst()
    }
    switch fault {
    case .redirect(let location)?:
      return (307, [("Location", location)], "")
    case .dropConnection?: return nil
    case .slow(let seconds)?: Thread.sleep(forTimeInterval: seconds)
    case .status(let http, let code, let retryAfter)?:
      return (http, retryAfter.map { [("Retry-After", $0)] } ?? [], #"{"status":{"code":\#(code),"description":"injected"}}"#)
    case nil: break
    }
    if path == "/v2/users/me" {
      guard let auth = authorization, auth.hasPrefix("Key "), let user = users[String(auth.dropFirst(4))] else {
        return (401, [], #"{"status":{"code":11009,"description":"API key not found"}}"#)
      }
      return (200, [], #"{"status":{"code":10000,"description":"Ok"},"user":{"id":"\#(user)"}}"#)
    }
    let parts = path.split(separator: "/")
    if parts.count == 6, parts[0] == "v2", parts[1] == "users", parts[3] == "apps", parts[5] == "annotations" {
      return annotate(authorization: authorization, body: body)
    }
    guard parts.count == 6, parts[0] == "v2", parts[1] == "users", parts[3] == "apps", parts[5] == "inputs" else {
      return (404, [], #"{"status":{"code":11101,"description":"not found"}}"#)
    }
    guard let auth = authorization, auth.hasPrefix("Key "), let scoped = keys[String(auth.dropFirst(4))] else {
      return (401, [], #"{"status":{"code":11009,"description":"API key not found"}}"#)
    }
    guard scoped else { return (403, [], #"{"status":{"code":11007,"description":"Insufficient scopes"}}"#) }
    guard let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
      let inputs = json["inputs"] as? [[String: Any]]
    else { return (400, [], #"{"status":{"code":11100,"description":"bad request format"}}"#) }
    lock.withLock { _requests.append((String(parts[4]), inputs.count)) }
    guard inputs.count <= 128 else { return (400, [], #"{"status":{"code":11102,"description":"too many inputs"}}"#) }
    var statuses: [String] = []
    var allGood = true
    for input in inputs {
      let id = input["id"] as? String ?? ""
      let valid = (1...48).contains(id.utf8.count)
        && id.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 }
      let code: Int = lock.withLock {
        if !valid { return 39999 }
        if rejected.contains(id) { return 30106 }
        if _received[id] != nil { return 40010 }
        let item = (try? JSONSerialization.data(withJSONObject: input)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        _received[id] = item
        return 30001
      }
      if code != 30001 { allGood = false }
      statuses.append(#"{"id":"\#(id)","status":{"code":\#(code)}}"#)
    }
    let top = allGood ? #"{"code":10000,"description":"Ok"}"# : #"{"code":10010,"description":"Mixed Success"}"#
    return (allGood ? 200 : 207, [], #"{"status":\#(top),"inputs":[\#(statuses.joined(separator: ","))]}"#)
  }

  /// `POST …/annotations`: each annotation needs an input the destination has (11101 otherwise);
  /// an id it already has is a duplicate (40010).
  func annotate(authorization: String?, body: [UInt8]) -> (Int, [(String, String)], String) {
    guard let auth = authorization, auth.hasPrefix("Key "), keys[String(auth.dropFirst(4))] == true else {
      return (403, [], #"{"status":{"code":11007,"description":"Insufficient scopes"}}"#)
    }
    guard let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
      let annotations = json["annotations"] as? [[String: Any]]
    else { return (400, [], #"{"status":{"code":11100,"description":"bad request format"}}"#) }
    var statuses: [String] = []
    var allGood = true
    for annotation in annotations {
      let id = annotation["id"] as? String ?? ""
      let input = annotation["input_id"] as? String ?? ""
      let code: Int = lock.withLock {
        if _received[input] == nil || _hidden.contains(input) { return 11101 }
        if _annotations[id] != nil { return 40010 }
        _annotations[id] = annotation
        return 10000
      }
      if code != 10000 { allGood = false }
      statuses.append(#"{"id":"\#(id)","status":{"code":\#(code)}}"#)
    }
    let top = allGood ? #"{"code":10000,"description":"Ok"}"# : #"{"code":10010,"description":"Mixed Success"}"#
    return (200, [], #"{"status":\#(top),"annotations":[\#(statuses.joined(separator: ","))]}"#)
  }

  final class Handler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let server: FakeDestination
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    init(_ server: FakeDestination) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      switch unwrapInboundIn(data) {
      case .head(let h):
        head = h
        body = []
      case .body(var buffer):
        body += buffer.readBytes(length: buffer.readableBytes) ?? []
      case .end:
        guard let head else { return }
        guard let (status, headers, text) = server.respond(path: head.uri, authorization: head.headers.first(name: "Authorization"), body: body)
        else {
          context.close(promise: nil)
          return
        }
        var h = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(text.utf8.count))])
        for (k, v) in headers { h.add(name: k, value: v) }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .init(statusCode: status), headers: h))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
      }
    }
  }
}
