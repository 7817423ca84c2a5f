/// A PostModelOutputs call, recognised from its method and path as Clarifai's API routes it:
/// `POST /v2/users/{user}/apps/{app}/models/{model}[/versions/{version}]/outputs`, the forms without
/// the user and app (`/v2/models/{model}[/versions/{version}]/outputs`, the app then comes from the
/// body's `user_app_id` or the key), and a deployment's `/v2/users/{user}/deployments/{id}/outputs`.
public struct PredictCall: Sendable, Equatable {
  public var user: String?
  public var app: String?
  public var model: String?
  public var version: String?

  public init(user: String? = nil, app: String? = nil, model: String? = nil, version: String? = nil) {
    self.user = user
    self.app = app
    self.model = model
    self.version = version
  }

  /// The call a request makes, or nil when it is not a PostModelOutputs call (only direct
  /// PostModelOutputs calls are collected, as in Clarifai's feature).
  public static func recognise(method: String, path: String) -> PredictCall? {
    guard method == "POST" else { return nil }
    let plain = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    var parts = plain.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    if parts.last == "" { parts.removeLast() }  // a trailing slash
    guard parts.count >= 4, parts[0] == "", parts[1] == "v2", parts.last == "outputs" else { return nil }
    let middle = Array(parts[2..<(parts.count - 1)])
    guard middle.allSatisfy({ !$0.isEmpty }) else { return nil }
    switch middle.count {
    case 2 where middle[0] == "models":
      return PredictCall(model: middle[1])
    case 4 where middle[0] == "models" && middle[2] == "versions":
      return PredictCall(model: middle[1], version: middle[3])
    case 4 where middle[0] == "users" && middle[2] == "deployments":
      return PredictCall(user: middle[1])
    case 6 where middle[0] == "users" && middle[2] == "apps" && middle[4] == "models":
      return PredictCall(user: middle[1], app: middle[3], model: middle[5])
    case 8 where middle[0] == "users" && middle[2] == "apps" && middle[4] == "models" && middle[6] == "versions":
      return PredictCall(user: middle[1], app: middle[3], model: middle[5], version: middle[7])
    default:
      return nil
    }
  }
}

/// Turns one PostModelOutputs exchange (the caller's request and Clarifai's answer) into the outputs
/// a collector sees, one JSON line each, in the shape `rulec run` reads:
/// - the model is the call's: user and app from the URL or the body's `user_app_id` (`me` is the
///   caller), the model from the URL, the version from the URL or else the one the answer says ran;
///   what the call leaves open comes from the answer's own `model`;
/// - the input is the caller's own input from the request (its URL or bytes, its metadata), matched
///   to its output by id, else by position; an input without an id takes the id Clarifai gave it;
/// - `caller_user_id` is stamped first when the caller is known;
/// - every other field of the output (`id`, `status`, `created_at`, `data`, …) is copied as it came.
public enum PredictExchange {
  /// The answer's outputs as lines (each ends with a newline), or an empty list when the answer's
  /// own status is neither success nor mixed success. A body that is not JSON of the expected shape
  /// is an error; a request body that cannot be read only loses the matching of inputs (the answer's
  /// echoed inputs are used).
  public static func outputLines(
    call: PredictCall, request: UnsafeBufferPointer<UInt8>, response: UnsafeBufferPointer<UInt8>, caller: String?
  ) throws(DecodeError) -> [[UInt8]] {
    let answer = try Answer(response)
    guard answer.succeeded else { return [] }
    let asked = (try? Request(request)) ?? Request()
    var lines: [[UInt8]] = []
    lines.reserveCapacity(answer.outputs.count)
    var byID: [String: Int] = [:]
    for (k, input) in asked.inputs.enumerated() { if let id = input.id, byID[id] == nil { byID[id] = k } }
    let user = (call.user ?? asked.user).flatMap { $0 == "me" ? caller : $0 }
    let app = call.app ?? asked.app
    for (k, output) in answer.outputs.enumerated() {
      var line: [UInt8] = [UInt8(ascii: "{")]
      line.reserveCapacity(output.range.count + 256)
      var first = true
      func member(_ key: String) {
        if !first { line.append(UInt8(ascii: ",")) }
        first = false
        appendString(key, to: &line)
        line.append(UInt8(ascii: ":"))
      }
      if let caller {
        member("caller_user_id")
        appendString(caller, to: &line)
      }
      member("model")
      line.append(UInt8(ascii: "{"))
      var modelFirst = true
      for (key, value) in [
        ("id", call.model ?? output.modelID), ("user_id", user ?? output.modelUser), ("app_id", app ?? output.modelApp),
      ] {
        guard let value, !value.isEmpty else { continue }
        if !modelFirst { line.append(UInt8(ascii: ",")) }
        modelFirst = false
        appendString(key, to: &line)
        line.append(UInt8(ascii: ":"))
        appendString(value, to: &line)
      }
      if let version = call.version ?? output.modelVersion, !version.isEmpty {
        if !modelFirst { line.append(UInt8(ascii: ",")) }
        line += Array(#""model_version":{"id":"#.utf8)
        appendString(version, to: &line)
        line.append(UInt8(ascii: "}"))
      }
      line.append(UInt8(ascii: "}"))
      // The caller's own input: by id, else at the same position.
      let matched = output.inputID.flatMap { byID[$0] } ?? (k < asked.inputs.count && asked.inputs[k].id == nil ? k : nil)
      if let matched {
        let input = asked.inputs[matched]
        member("input")
        if input.id == nil, let id = output.inputID {
          // Clarifai named an input the caller left unnamed: the copy carries that name.
          line += Array(#"{"id":"#.utf8)
          appendString(id, to: &line)
          let body = request[input.range.dropFirst()].drop { JSONBytes.isWhitespace($0) }
          if body.first != UInt8(ascii: "}") { line.append(UInt8(ascii: ",")) }
          line += body
        } else {
          line += request[input.range]
        }
      } else if let echoed = output.inputRange {
        member("input")
        line += response[echoed]
      }
      for (keyRange, valueRange) in output.others {
        if !first { line.append(UInt8(ascii: ",")) }
        first = false
        line += response[(keyRange.lowerBound - 1)..<(keyRange.upperBound + 1)]  // the key with its quotes
        line.append(UInt8(ascii: ":"))
        line += response[valueRange]
      }
      line.append(UInt8(ascii: "}"))
      // Either body may be indented over lines: a JSON line holds none of its whitespace.
      var compact = line.withUnsafeBufferPointer { JSONDocument.compact($0) }
      compact.append(10)
      lines.append(compact)
    }
    return lines
  }

  /// A JSON string of `text`, escaped as JSON requires.
  static func appendString(_ text: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "\""): out += [92, 34]
      case 92: out += [92, 92]
      case 0..<0x20:
        let hex = Array("0123456789abcdef".utf8)
        out += [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]]
      default: out.append(byte)
      }
    }
    out.append(UInt8(ascii: "\""))
  }

  /// What the proxy reads of a PostModelOutputs answer.
  struct Answer {
    var succeeded = false
    var outputs: [Output] = []

    struct Output {
      var range: Range<Int>
      var modelID: String?
      var modelUser: String?
      var modelApp: String?
      var modelVersion: String?
      var inputID: String?
      var inputRange: Range<Int>?
      /// The other members, as key (between its quotes) and value ranges, in order.
      var others: [(Range<Int>, Range<Int>)] = []
    }

    init(_ bytes: UnsafeBufferPointer<UInt8>) throws(DecodeError) {
      var c = JSONCursor(bytes)
      var statusCode: ProtoJSON.StatusCode?
      try c.object { (c, key) throws(DecodeError) in
        if c.key(key, is: "status") {
          statusCode = try PredictExchange.statusCode(&c)
        } else if c.key(key, is: "outputs") {
          if c.nextIsNull() {
            _ = try c.literal()
            return
          }
          var list: [Output] = []
          try c.array { (c) throws(DecodeError) in list.append(try Self.output(&c)) }
          outputs = list
        } else {
          try c.skipValue()
        }
      }
      guard c.peek() == nil else { throw c.fail("unexpected text after the answer") }
      // Success, or mixed success (each output then carries its own status).
      switch statusCode {
      case .number(let code)?: succeeded = code == 10000 || code == 10010
      case .name(let name)?: succeeded = name == "SUCCESS" || name == "MIXED_STATUS"
      case nil: succeeded = false
      }
    }

    static func output(_ c: inout JSONCursor) throws(DecodeError) -> Output {
      c.skipWhitespace()
      let start = c.i
      var output = Output(range: start..<start)
      try c.object { (c, key) throws(DecodeError) in
        if c.key(key, is: "model") {
          if c.nextIsNull() {
            _ = try c.literal()
            return
          }
          try c.object { (c, key) throws(DecodeError) in
            if c.key(key, is: "id") {
              output.modelID = try PredictExchange.optionalString(&c)
            } else if c.key(key, is: "user_id") {
              output.modelUser = try PredictExchange.optionalString(&c)
            } else if c.key(key, is: "app_id") {
              output.modelApp = try PredictExchange.optionalString(&c)
            } else if c.key(key, is: "model_version"), !c.nextIsNull(), c.peek() == UInt8(ascii: "{") {
              try c.object { (c, key) throws(DecodeError) in
                if c.key(key, is: "id") { output.modelVersion = try PredictExchange.optionalString(&c) } else { try c.skipValue() }
              }
            } else {
              try c.skipValue()
            }
          }
        } else if c.key(key, is: "input") {
          let valueStart = c.i
          if c.peek() == UInt8(ascii: "{") {
            try c.object { (c, key) throws(DecodeError) in
              if c.key(key, is: "id") { output.inputID = try PredictExchange.optionalString(&c) } else { try c.skipValue() }
            }
          } else {
            try c.skipValue()
          }
          output.inputRange = valueStart..<c.i
        } else if c.key(key, is: "caller_user_id") {
          try c.skipValue()  // the proxy stamps its own
        } else {
          let valueStart = c.i
          try c.skipValue()
          output.others.append((key, valueStart..<c.i))
        }
      }
      output.range = start..<c.i
      return output
    }
  }

  /// What the proxy reads of a PostModelOutputs request: its inputs, and `user_app_id`.
  struct Request {
    var inputs: [(id: String?, range: Range<Int>)] = []
    var user: String?
    var app: String?

    init() {}

    init(_ bytes: UnsafeBufferPointer<UInt8>) throws(DecodeError) {
      var c = JSONCursor(bytes)
      var inputs: [(id: String?, range: Range<Int>)] = []
      var user: String?
      var app: String?
      try c.object { (c, key) throws(DecodeError) in
        if c.key(key, is: "inputs"), c.peek() == UInt8(ascii: "[") {
          try c.array { (c) throws(DecodeError) in
            c.skipWhitespace()
            let start = c.i
            var id: String?
            if c.peek() == UInt8(ascii: "{") {
              try c.object { (c, key) throws(DecodeError) in
                if c.key(key, is: "id") { id = try PredictExchange.optionalString(&c) } else { try c.skipValue() }
              }
            } else {
              try c.skipValue()
            }
            inputs.append((id.flatMap { $0.isEmpty ? nil : $0 }, start..<c.i))
          }
        } else if c.key(key, is: "user_app_id"), c.peek() == UInt8(ascii: "{") {
          try c.object { (c, key) throws(DecodeError) in
            if c.key(key, is: "user_id") {
              user = try PredictExchange.optionalString(&c)
            } else if c.key(key, is: "app_id") {
              app = try PredictExchange.optionalString(&c)
            } else {
              try c.skipValue()
            }
          }
        } else {
          try c.skipValue()
        }
      }
      self.inputs = inputs
      self.user = user.flatMap { $0.isEmpty ? nil : $0 }
      self.app = app.flatMap { $0.isEmpty ? nil : $0 }
    }
  }

  static func optionalString(_ c: inout JSONCursor) throws(DecodeError) -> String? {
    if c.peek() == UInt8(ascii: "\"") { return try c.string() }
    try c.skipValue()
    return nil
  }

  /// A status's code read as `rulec run` reads it (`OutputDecoder.decodeStatus`): a number, a string
  /// holding an integer or a name, `null` or no code (0); nil without a status or for a code that is
  /// none of these (the answer is then not collected, as when it failed).
  static func statusCode(_ c: inout JSONCursor) throws(DecodeError) -> ProtoJSON.StatusCode? {
    guard c.peek() == UInt8(ascii: "{") else {
      try c.skipValue()
      return nil
    }
    var code: ProtoJSON.StatusCode? = .number(0)
    try c.object { (c, key) throws(DecodeError) in
      guard c.key(key, is: "code") else { return try c.skipValue() }
      switch c.peek() ?? 0 {
      case UInt8(ascii: "\""):
        let text = try c.string()
        switch Array(text.utf8).withUnsafeBufferPointer(ProtoJSON.enumValue(quoted:)) {
        case .number(let n): code = .number(n)
        case .name: code = .name(text)
        case .invalid: code = nil
        }
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        let v = try c.number()
        code = v == v.rounded() && abs(v) < 1e9 ? .number(Int(v)) : nil
      default:
        code = try c.literal() == nil ? .number(0) : nil
      }
    }
    return code
  }
}
