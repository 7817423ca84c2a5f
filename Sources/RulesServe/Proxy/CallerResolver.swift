import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// Who made a prediction call: the user its credential belongs to, asked of Clarifai once per
/// credential ("get user `me`", `GET /v2/users/me` with the caller's own `Authorization` header) and
/// remembered by the credential's SHA-256, so the credential itself is never kept, logged or written.
/// An answer is kept an hour; a failure is retried after a minute (an app-specific key cannot read a
/// user, and its calls then have no caller).
public actor CallerResolver {
  let client: HTTPClient
  let upstream: String
  let timeout: TimeAmount
  struct Entry {
    var user: String?
    var until: Date
  }
  var known: [SHA256.Digest: Entry] = [:]
  var asking: [SHA256.Digest: Task<String?, Never>] = [:]
  /// Resolutions that failed (the upstream did not answer, or not with a user).
  public private(set) var failures = 0
  static let kept: TimeInterval = 3600
  static let retried: TimeInterval = 60
  static let limit = 100_000

  public init(client: HTTPClient, upstream: String, timeout: TimeAmount = .seconds(10)) {
    self.client = client
    self.upstream = upstream
    self.timeout = timeout
  }

  /// The caller's user id, or nil when the call carried no credential or Clarifai would not say.
  public func caller(authorization: String?) async -> String? {
    guard let authorization, !authorization.isEmpty else { return nil }
    let digest = SHA256.hash(data: Data(authorization.utf8))
    let now = Date()
    if let entry = known[digest], entry.until > now { return entry.user }
    if let task = asking[digest] { return await task.value }
    let (client, upstream, timeout) = (self.client, self.upstream, self.timeout)
    let task = Task { await Self.ask(client, upstream, authorization, timeout) }
    asking[digest] = task
    let user = await task.value
    asking[digest] = nil
    if user == nil { failures += 1 }
    if known.count >= Self.limit { known.removeAll(keepingCapacity: true) }
    known[digest] = Entry(user: user, until: now.addingTimeInterval(user == nil ? Self.retried : Self.kept))
    return user
  }

  static func ask(_ client: HTTPClient, _ upstream: String, _ authorization: String, _ timeout: TimeAmount) async -> String? {
    var request = HTTPClientRequest(url: upstream + "/v2/users/me")
    request.headers.add(name: "Authorization", value: authorization)
    request.headers.add(name: "Accept", value: "application/json")
    do {
      let response = try await client.execute(request, timeout: timeout)
      let body = try await response.body.collect(upTo: 1 << 20)
      guard response.status == .ok,
        let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
        let user = object["user"] as? [String: Any], let id = user["id"] as? String, !id.isEmpty
      else { return nil }
      return id
    } catch {
      return nil
    }
  }
}
