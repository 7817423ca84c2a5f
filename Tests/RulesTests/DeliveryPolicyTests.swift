import Foundation
import RulesForward
import Testing

/// How PostInputs replies are read: per-input statuses, retryable and fatal codes, Retry-After.
@Suite struct DeliveryPolicyTests {
  static func read(_ http: Int, _ body: String, ids: [String] = ["a", "b"], retryAfter: String? = nil) -> [Delivery] {
    DeliveryPolicy.read(
      httpStatus: http, retryAfter: retryAfter, body: Array(body.utf8), ids: ids,
      now: Date(timeIntervalSince1970: 1_700_000_000))
  }

  @Test func successAndMixedReplies() {
    #expect(Self.read(200, #"{"status":{"code":10000,"description":"Ok"},"inputs":[]}"#) == [.delivered, .delivered])
    let mixed = #"""
      {"status":{"code":10010,"description":"Mixed Success"},"inputs":[
        {"id":"b","status":{"code":30106,"description":"Invalid URL"}},
        {"id":"a","status":{"code":"INPUT_PENDING"}}]}
      """#
    #expect(Self.read(207, mixed) == [.delivered, .deadLetter(reason: "30106 Invalid URL")])
    let duplicates = #"{"status":{"code":10020},"inputs":[{"id":"a","status":{"code":40010}},{"id":"b","status":{"code":30100}}]}"#
    #expect(Self.read(400, duplicates) == [.delivered, .delivered])
    let missing = #"{"status":{"code":10010},"inputs":[{"id":"a","status":{"code":30001}}]}"#
    #expect(Self.read(207, missing)[1] == .retry(reason: "not in the mixed reply", after: nil))
  }

  @Test func retryableFailures() {
    #expect(Self.read(429, #"{"status":{"code":"CONN_THROTTLED","description":"slow down"}}"#, retryAfter: "7")
      == Array(repeating: .retry(reason: "HTTP 429 slow down", after: 7), count: 2))
    #expect(Self.read(503, "<html>gateway</html>", retryAfter: "Tue, 14 Nov 2023 22:13:30 GMT")
      == Array(repeating: .retry(reason: "HTTP 503 without a Clarifai status", after: 10), count: 2))
    #expect(Self.read(200, #"{"status":{"code":10030,"description":"try again"}}"#)[0] == .retry(reason: "10030 try again", after: nil))
    #expect(Self.read(500, #"{"status":{"code":40031}}"#)[0] == .retry(reason: "40031", after: nil))
  }

  @Test func keysThatCannotPostPauseTheCollector() {
    #expect(Self.read(401, #"{"status":{"code":11008,"description":"API key not found"}}"#)[0] == .pause(reason: "11008 API key not found"))
    #expect(Self.read(403, #"{"status":{"code":"CONN_INSUFFICIENT_SCOPES"}}"#)[0] == .pause(reason: "11007"))
  }

  @Test func invalidRequestsAreSplitThenDeadLettered() {
    #expect(Self.read(400, #"{"status":{"code":11102,"description":"Invalid request"}}"#)[0] == .split(reason: "11102 Invalid request"))
    #expect(Self.read(400, #"{"status":{"code":11102,"description":"Invalid request"}}"#, ids: ["a"]) == [.deadLetter(reason: "11102 Invalid request")])
  }

  @Test func backoffGrowsIsCappedAndHonoursRetryAfter() {
    #expect(DeliveryPolicy.backoff(attempts: 0, retryAfter: nil, random: 1) == 1)
    #expect(DeliveryPolicy.backoff(attempts: 3, retryAfter: nil, random: 1) == 8)
    #expect(DeliveryPolicy.backoff(attempts: 30, retryAfter: nil, random: 1) == 60)
    #expect(DeliveryPolicy.backoff(attempts: 3, retryAfter: nil, random: 0.5) == 4)
    #expect(DeliveryPolicy.backoff(attempts: 0, retryAfter: 20, random: 1) == 20)
  }

  @Test func batchesAndBodies() {
    let image = Array(#"{"id":"x","data":{"image":{"url":"u"},"metadata":{}},"dataset_ids":[]}"#.utf8) + [10]
    let video = Array(#"{"id":"y","data":{"video":{"url":"u"},"metadata":{}},"dataset_ids":[]}"#.utf8)
    #expect(!DeliveryPolicy.isVideo(image) && DeliveryPolicy.isVideo(video))
    let body = String(decoding: DeliveryPolicy.body([image, video]), as: UTF8.self)
    let parsed = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    #expect((parsed?["inputs"] as? [Any])?.count == 2)
    #expect(parsed?["input_id_conflict_resolution"] as? String == "SKIP")
  }
}
