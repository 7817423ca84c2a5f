import AsyncHTTPClient
import Foundation
import RulesServe
import Testing

/// `rulec proxy` learns who made a call by asking "get user me" upstream with the call's own
/// credential: once per credential, not once per call (Grammar.md §11 item 4).
@Suite struct CallerResolverTests {
  @Test func theCallerIsAskedOncePerCredential() async throws {
    let upstream = FakeDestination(keys: [:])
    upstream.users = ["alice-pat": "alice", "bob-pat": "bob"]
    let base = try upstream.start()
    defer { upstream.stop() }
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    let resolver = CallerResolver(client: client, upstream: base)
    func asked() -> Int { upstream.paths.filter { $0 == "/v2/users/me" }.count }

    // Calls with one credential, three of them at once: one question.
    async let first = resolver.caller(authorization: "Key alice-pat")
    async let second = resolver.caller(authorization: "Key alice-pat")
    async let third = resolver.caller(authorization: "Key alice-pat")
    #expect(await [first, second, third] == ["alice", "alice", "alice"])
    #expect(await resolver.caller(authorization: "Key alice-pat") == "alice")
    #expect(asked() == 1)
    // A second credential is a second question; after it, neither is asked again.
    #expect(await resolver.caller(authorization: "Key bob-pat") == "bob")
    #expect(asked() == 2)
    #expect(await resolver.caller(authorization: "Key alice-pat") == "alice")
    #expect(await resolver.caller(authorization: "Key bob-pat") == "bob")
    #expect(asked() == 2)
    // A credential that reads no user (an app-specific key): no caller, asked once until it is
    // retried a minute later; a call without a credential asks nothing.
    #expect(await resolver.caller(authorization: "Key app-key") == nil)
    #expect(await resolver.caller(authorization: "Key app-key") == nil)
    #expect(await resolver.caller(authorization: nil) == nil)
    #expect(asked() == 3)
    #expect(await resolver.failures == 1)
    try await client.shutdown()
  }
}
