import Foundation
import RulesDiagnostics
import RulesEvents
import RulesRunner
import RulesSema
import RulesSource
import RulesSyntax
import Testing

/// What `rulec proxy` makes of one PostModelOutputs exchange: the call from its path, and each output
/// with the call's model, the caller's own input and the caller stamped (Grammar.md §11).
@Suite struct PredictExchangeTests {
  @Test func callsAreRecognisedFromTheirPaths() {
    #expect(
      PredictCall.recognise(method: "POST", path: "/v2/users/clarifai/apps/main/models/general-image-recognition/outputs")
        == PredictCall(user: "clarifai", app: "main", model: "general-image-recognition"))
    #expect(
      PredictCall.recognise(method: "POST", path: "/v2/users/u/apps/a/models/m/versions/v1/outputs?x=1")
        == PredictCall(user: "u", app: "a", model: "m", version: "v1"))
    #expect(PredictCall.recognise(method: "POST", path: "/v2/models/m/outputs") == PredictCall(model: "m"))
    #expect(PredictCall.recognise(method: "POST", path: "/v2/models/m/versions/v/outputs/") == PredictCall(model: "m", version: "v"))
    #expect(PredictCall.recognise(method: "POST", path: "/v2/users/u/deployments/d/outputs") == PredictCall(user: "u"))
    // Not PostModelOutputs: other methods, workflows, listing outputs, other resources.
    #expect(PredictCall.recognise(method: "GET", path: "/v2/users/u/apps/a/models/m/outputs") == nil)
    #expect(PredictCall.recognise(method: "POST", path: "/v2/users/u/apps/a/workflows/w/results") == nil)
    #expect(PredictCall.recognise(method: "POST", path: "/v2/users/u/apps/a/inputs") == nil)
    #expect(PredictCall.recognise(method: "POST", path: "/v2/users/u/apps/a/models//outputs") == nil)
    #expect(PredictCall.recognise(method: "POST", path: "/v2/models/m/outputs/extra") == nil)
  }

  static let response = #"""
    {"status": {"code": 10010, "description": "Mixed Success"},
     "outputs": [
      {"id": "o1", "status": {"code": 10000}, "created_at": "2024-03-02T08:00:01Z",
       "model": {"id": "general-image-recognition", "user_id": "clarifai", "app_id": "main", "model_version": {"id": "aa7f"}, "output_info": {"x": 1}},
       "input": {"id": "given-1", "data": {"image": {"url": "https://clarifai.hosted/1.jpg"}}},
       "data": {"concepts": [{"id": "ai_1", "name": "dog", "value": 0.4}]}},
      {"id": "o2", "status": {"code": 30002, "description": "Download failed"},
       "model": {"id": "general-image-recognition"},
       "input": {"id": "generated-2", "data": {"image": {"url": "https://clarifai.hosted/2.jpg"}}},
       "data": {}},
      {"id": "o3", "status": {"code": 10000}, "model": {"id": "general-image-recognition"},
       "input": {"id": "generated-3"}, "data": {"concepts": []}}
     ]}
    """#

  static let request = #"""
    {"user_app_id": {"user_id": "me", "app_id": "ignored-when-in-the-url"},
     "inputs": [
      {"id": "given-1", "data": {"image": {"url": "https://caller.example/1.jpg"}, "metadata": {"camera": "c1"}}},
      {"data": {"image": {"base64": "aGVsbG8="}}},
      {"data": {"text": {"raw": "third"}}}
     ]}
    """#

  static func lines(call: PredictCall, caller: String?, request: String = request, response: String = response) throws -> [[String: Any]] {
    let q = Array(request.utf8)
    let r = Array(response.utf8)
    let lines = try q.withUnsafeBufferPointer { q in
      try r.withUnsafeBufferPointer { r in try PredictExchange.outputLines(call: call, request: q, response: r, caller: caller) }
    }
    for line in lines {
      #expect(line.last == 10)
      #expect(!line.dropLast().contains(10), "one line each")
    }
    return try lines.map { try JSONSerialization.jsonObject(with: Data($0)) as! [String: Any] }
  }

  @Test func eachOutputCarriesTheCallsModelTheCallersInputAndTheCaller() throws {
    let call = PredictCall(user: "me", app: "main", model: "general-image-recognition")
    let outputs = try Self.lines(call: call, caller: "alice")
    #expect(outputs.count == 3)
    let first = outputs[0]
    #expect(first["caller_user_id"] as? String == "alice")
    // `me` is the caller; the version the answer says ran; nothing else of the answer's model.
    let model = first["model"] as! [String: Any]
    #expect(model["id"] as? String == "general-image-recognition")
    #expect(model["user_id"] as? String == "alice")
    #expect(model["app_id"] as? String == "main")
    #expect((model["model_version"] as? [String: Any])?["id"] as? String == "aa7f")
    #expect(model["output_info"] == nil)
    // The caller's own input (by id), not the echo.
    let input = first["input"] as! [String: Any]
    #expect(input["id"] as? String == "given-1")
    #expect(((input["data"] as! [String: Any])["image"] as! [String: Any])["url"] as? String == "https://caller.example/1.jpg")
    #expect(first["id"] as? String == "o1")
    #expect(first["created_at"] as? String == "2024-03-02T08:00:01Z")
    // Unnamed inputs take Clarifai's id, matched by position; the bytes are the caller's.
    let second = outputs[1]["input"] as! [String: Any]
    #expect(second["id"] as? String == "generated-2")
    #expect(((second["data"] as! [String: Any])["image"] as! [String: Any])["base64"] as? String == "aGVsbG8=")
    #expect((outputs[1]["status"] as! [String: Any])["code"] as? Int == 30002)
    let third = outputs[2]["input"] as! [String: Any]
    #expect(((third["data"] as! [String: Any])["text"] as! [String: Any])["raw"] as? String == "third")
  }

  @Test func theAnswersModelFillsWhatTheCallLeavesOpen() throws {
    let outputs = try Self.lines(call: PredictCall(model: "general-image-recognition"), caller: nil, request: #"{"inputs":[]}"#)
    let model = outputs[0]["model"] as! [String: Any]
    #expect(model["user_id"] as? String == "clarifai")
    #expect(model["app_id"] as? String == "main")
    #expect(outputs[0]["caller_user_id"] == nil)
    // Without request inputs to match, the echoed input is used.
    #expect(((outputs[0]["input"] as! [String: Any])["id"]) as? String == "given-1")
  }

  @Test func failedAnswersGiveNothingAndBadOnesAreErrors() throws {
    let failed = #"{"status":{"code":11007,"description":"insufficient scopes"},"outputs":[]}"#
    #expect(try Self.lines(call: PredictCall(model: "m"), caller: nil, response: failed).isEmpty)
    #expect(throws: DecodeError.self) { _ = try Self.lines(call: PredictCall(model: "m"), caller: nil, response: "<html>") }
    // A request body that is not JSON loses only the matching.
    let outputs = try Self.lines(call: PredictCall(model: "m"), caller: nil, request: "not json")
    #expect(outputs.count == 3)
  }

  /// The lines read back through the decoder `rulec run` uses, with the stamped caller.
  @Test func theLinesAreWhatRulecRunReads() throws {
    let call = PredictCall(user: "clarifai", app: "main", model: "general-image-recognition", version: "aa7f")
    let q = Array(Self.request.utf8)
    let r = Array(Self.response.utf8)
    let lines = try q.withUnsafeBufferPointer { q in
      try r.withUnsafeBufferPointer { r in try PredictExchange.outputLines(call: call, request: q, response: r, caller: "bob") }
    }
    let decoder = OutputDecoder(projection: MetadataProjection())
    let events = try lines.flatMap { line in try line.withUnsafeBufferPointer { try decoder.decode(line: UnsafeBufferPointer(rebasing: $0.dropLast()), lineNumber: 1) } }
    #expect(events.map(\.caller) == ["bob", "bob", "bob"])
    #expect(events.map(\.modelVersion) == ["aa7f", "aa7f", "aa7f"])
    #expect(events[0].inputURL == "https://caller.example/1.jpg")
    #expect(events.map(\.inputID) == ["given-1", "generated-2", "generated-3"])
    #expect(events.map(\.isSuccess) == [true, false, true])
  }
  /// The answer's own status code read as `rulec run` reads one (Grammar.md §9 item 1): `"10000"`
  /// is success as 10000 and `"SUCCESS"` are; `null` or no code is 0, a failure.
  @Test func theAnswersCodeIsReadAsJsonFormatReadsIt() throws {
    for (code, collected) in [
      ("10000", true), (#""10000""#, true), (#""SUCCESS""#, true), (#""10010""#, true), ("10010.0", true), (#"" 10000""#, true),
      (#""MIXED_STATUS""#, true), ("null", false), (#""10020""#, false), (#""1e4""#, false), ("true", false),
    ] {
      let answer = Self.response.replacingOccurrences(of: #"{"code": 10010, "description": "Mixed Success"}"#, with: #"{"code": \#(code)}"#)
      #expect(answer != Self.response)
      #expect(try Self.lines(call: PredictCall(model: "m"), caller: nil, response: answer).count == (collected ? 3 : 0), "\(code)")
    }
    let noCode = Self.response.replacingOccurrences(of: #"{"code": 10010, "description": "Mixed Success"}"#, with: #"{"description": "Ok"}"#)
    #expect(try Self.lines(call: PredictCall(model: "m"), caller: nil, response: noCode).isEmpty)
  }

  static let sourceRules = """
    collector by-body {
      source acme/vision/detector version *
      destination acme/review
      key env RULEC_TEST_KEY
      pre_queue { sample 100% }
    }
    collector by-answer {
      source clarifai/main/*
      destination acme/review
      key env RULEC_TEST_KEY
      pre_queue { sample 100% }
    }

    """

  /// `POST /v2/models/{m}/outputs` and `…/versions/{v}/outputs` name no user or app: they come from
  /// the body's `user_app_id` (in either spelling), not from the answer's model, and the outputs are
  /// collected under that source: the model from the path, the version from the path or else the
  /// one the answer says ran (Grammar.md §11 item 3).
  @Test(arguments: [false, true]) func aPathWithoutUserAndAppTakesThemFromTheBody(camel: Bool) throws {
    let request =
      camel
      ? #"{"userAppId": {"userId": "acme", "appId": "vision"}, "inputs": [{"id": "in-1", "data": {"image": {"url": "https://x/1.jpg"}}}]}"#
      : #"{"user_app_id": {"user_id": "acme", "app_id": "vision"}, "inputs": [{"id": "in-1", "data": {"image": {"url": "https://x/1.jpg"}}}]}"#
    let response = #"""
      {"status": {"code": 10000}, "outputs": [{"id": "o1", "status": {"code": 10000},
       "model": {"id": "detector", "user_id": "clarifai", "app_id": "main", "model_version": {"id": "ran"}},
       "input": {"id": "in-1"}, "data": {"concepts": [{"id": "dog", "name": "dog", "value": 0.4}]}}]}
      """#
    let sink = DiagnosticSink()
    let program = Checker(sink: sink).check([Parser.parse(SourceFile(path: "test.rule", text: Self.sourceRules), sink: sink)])
    #expect(!sink.hasErrors)
    for (path, version) in [("/v2/models/detector/outputs", "ran"), ("/v2/models/detector/versions/v7/outputs?x=1", "v7")] {
      let call = try #require(PredictCall.recognise(method: "POST", path: path))
      #expect(call.user == nil && call.app == nil)
      let q = Array(request.utf8)
      let r = Array(response.utf8)
      let lines = try q.withUnsafeBufferPointer { q in
        try r.withUnsafeBufferPointer { r in try PredictExchange.outputLines(call: call, request: q, response: r, caller: "alice") }
      }
      let decoder = OutputDecoder(projection: MetadataProjection())
      let events = try lines.flatMap { line in
        try line.withUnsafeBufferPointer { try decoder.decode(line: UnsafeBufferPointer(rebasing: $0.dropLast()), lineNumber: 1) }
      }
      #expect(events.map { [$0.modelUser, $0.modelApp, $0.modelID, $0.modelVersion] } == [["acme", "vision", "detector", version]], "\(path)")
      #expect(events.map(\.inputURL) == ["https://x/1.jpg"])
      // The collector of that source takes it; the one of the answer's model does not.
      let runner = try Runner(program: program)
      #expect(try runner.run(document: lines.flatMap { $0 }) { _ in })
      #expect(runner.report.collectors.map(\.events) == [1, 0], "\(runner.report.human)")
    }
  }
}
