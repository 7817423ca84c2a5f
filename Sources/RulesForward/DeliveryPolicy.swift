import Foundation

/// What to do with one input after a PostInputs attempt.
public enum Delivery: Sendable, Equatable {
  /// The destination has it (including "already exists": an earlier attempt got through).
  case delivered
  /// Try again later; `after` is the server's `Retry-After` in seconds, if it gave one.
  case retry(reason: String, after: Double?)
  /// The key cannot post to this app (invalid, unknown or lacking the PostInputs scope): stop this
  /// collector and keep its items until its key is fixed and the rules reloaded.
  case pause(reason: String)
  /// The destination rejects this input for good; keep it with the reason.
  case deadLetter(reason: String)
  /// The batch was refused as a whole for a reason that may be one input's fault: send its inputs
  /// one by one to find out which.
  case split(reason: String)
}

/// How replies of `POST /v2/users/{user}/apps/{app}/inputs` are read (the table in
/// ../shared/reference/clarifai-formats.md, section 3), how batches are formed, and how long to wait
/// between attempts.
public enum DeliveryPolicy {
  /// PostInputs takes at most 128 inputs a request, and a video input alone.
  public static let maxBatch = 128

  // MARK: Status codes

  /// Clarifai status names that may come instead of numbers.
  static let names: [String: Int] = [
    "SUCCESS": 10000, "MIXED_STATUS": 10010, "FAILURE": 10020, "TRY_AGAIN": 10030,
    "CONN_CREDENTIALS_INVALID": 11002, "CONN_EXCEED_HOURLY_LIMIT": 11003, "CONN_EXCEED_MONTHLY_LIMIT": 11004,
    "CONN_THROTTLED": 11005, "CONN_EXCEEDS_LIMITS": 11006, "CONN_INSUFFICIENT_SCOPES": 11007,
    "CONN_KEY_INVALID": 11008, "CONN_KEY_NOT_FOUND": 11009, "CONN_BAD_REQUEST_FORMAT": 11100,
    "CONN_DOES_NOT_EXIST": 11101, "CONN_INVALID_REQUEST": 11102, "INPUT_SUCCESS": 30000, "INPUT_PENDING": 30001,
    "INPUT_DOWNLOAD_PENDING": 30001, "INPUT_FAILED": 30002, "INPUT_IN_PROGRESS": 30003, "INPUT_DUPLICATE": 30100,
    "INPUT_INVALID_ARGUMENT": 30104, "INPUT_OVER_LIMIT": 30105, "INPUT_INVALID_URL": 30106,
    "INPUT_INVALID_REQUEST": 39999, "DATABASE_DUPLICATE_KEY": 40010, "RPC_REQUEST_QUEUE_FULL": 40030,
    "RPC_SERVER_UNAVAILABLE": 40031, "RPC_REQUEST_TIMEOUT": 40032,
  ]

  /// A status code written as a number or as its name.
  public static func code(_ value: Any?) -> Int? {
    if let n = value as? Int { return n }
    if let d = value as? Double, d == d.rounded() { return Int(d) }
    if let s = value as? String { return Int(s) ?? names[s] }
    return nil
  }

  /// What one status code means for the input (or batch) it describes.
  public static func meaning(of code: Int, description: String) -> Delivery {
    let reason = "\(code) \(description)".trimmingCharacters(in: .whitespaces)
    switch code {
    case 10000, 30000, 30001, 30003: return .delivered
    case 30100, 40010: return .delivered  // already there: an earlier attempt got through
    case 11002, 11007, 11008, 11009: return .pause(reason: reason)
    case 10030, 11003, 11005, 11006, 40030, 40031, 40032, 98000...99999: return .retry(reason: reason, after: nil)
    case 11004: return .pause(reason: reason)  // the monthly quota: nothing to do until it resets
    case 11100, 11101, 11102: return .split(reason: reason)
    case 30002, 30104, 30105, 30106, 39999: return .deadLetter(reason: reason)
    default: return .retry(reason: reason, after: nil)
    }
  }

  // MARK: Replies

  /// The outcome of each input of a batch from the HTTP status, the `Retry-After` header and the
  /// reply body. Inputs the reply does not mention share the batch's outcome.
  /// `listKey` names the reply's list of per-item statuses: `inputs` for PostInputs, `annotations`
  /// for PostAnnotations.
  public static func read(
    httpStatus: Int, retryAfter: String?, body: [UInt8], ids: [String], listKey: String = "inputs", location: String? = nil,
    now: Date = Date()
  ) -> [Delivery] {
    let after = retryAfter.flatMap { parseRetryAfter($0, now: now) }
    if (300..<400).contains(httpStatus) {
      // Clarifai's API does not redirect: the base URL is wrong (or something sits in between).
      // Inputs are not re-sent elsewhere (without their key); the collector waits for a fix.
      let target = location.map { " to \($0)" } ?? ""
      return Array(repeating: .pause(reason: "HTTP \(httpStatus) redirect\(target), not followed: check --api-base"), count: ids.count)
    }
    let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    let status = json?["status"] as? [String: Any]
    let batchCode = code(status?["code"])
    let description = (status?["description"] as? String) ?? ""
    func all(_ d: Delivery) -> [Delivery] { Array(repeating: d, count: ids.count) }

    if httpStatus == 429 { return all(.retry(reason: "HTTP 429 " + description, after: after)) }
    if httpStatus == 401 || httpStatus == 403 {
      let reason = batchCode.map { "\($0) \(description)".trimmingCharacters(in: .whitespaces) } ?? "HTTP \(httpStatus)"
      return all(.pause(reason: reason))
    }
    guard let batchCode else {
      return all(.retry(reason: "HTTP \(httpStatus) without a Clarifai status", after: after))
    }
    switch batchCode {
    case 10000 where (200..<300).contains(httpStatus):
      return all(.delivered)
    case 10010, 10020:
      // Mixed or failed: read each input's own status, matched by id.
      var byID: [String: Delivery] = [:]
      for input in (json?[listKey] as? [[String: Any]]) ?? [] {
        guard let id = input["id"] as? String else { continue }
        let s = input["status"] as? [String: Any]
        if let c = code(s?["code"]) {
          var d = meaning(of: c, description: (s?["description"] as? String) ?? "")
          if case .split(let r) = d { d = .deadLetter(reason: r) }  // one input's own rejection
          byID[id] = d
        }
      }
      let fallback = meaning(of: batchCode, description: description)
      return ids.map { byID[$0] ?? (batchCode == 10010 ? .retry(reason: "not in the mixed reply", after: after) : fallback) }
    default:
      var d = meaning(of: batchCode, description: description)
      if case .retry(let r, nil) = d { d = .retry(reason: r, after: after) }
      if case .split(let r) = d, ids.count == 1 { d = .deadLetter(reason: r) }
      if httpStatus >= 500, case .delivered = d { d = .retry(reason: "HTTP \(httpStatus)", after: after) }
      return all(d)
    }
  }

  /// `Retry-After` as seconds from now: a number of seconds or an HTTP date.
  public static func parseRetryAfter(_ value: String, now: Date) -> Double? {
    let trimmed = value.trimmingCharacters(in: .whitespaces)
    if let seconds = Double(trimmed), seconds >= 0 { return seconds }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
    guard let date = formatter.date(from: trimmed) else { return nil }
    return max(0, date.timeIntervalSince(now))
  }

  // MARK: Backoff

  /// The longest wait between attempts. With full jitter, a queue of many items probes a failing
  /// destination every few seconds; at 5 minutes, the last items of a long outage arrived 8–10
  /// minutes after the destination was back.
  public static let maxBackoff: Double = 60

  /// Seconds to wait before attempt `attempts + 1`: exponential from 1 s, capped at `maxBackoff`,
  /// with full jitter (uniform in [0, cap]) so retries from many inputs spread out; never less than
  /// `Retry-After`. Once a request to the destination succeeds, its waiting items are due at once
  /// (`Forwarder`), so batches fill up again.
  public static func backoff(attempts: Int, retryAfter: Double?, random: Double) -> Double {
    let cap = min(maxBackoff, pow(2, Double(min(attempts, 16))))
    let jittered = cap * min(max(random, 0), 1)
    return max(retryAfter ?? 0, jittered)
  }

  // MARK: Batches

  /// Whether a PostInputs item holds a video (which travels alone).
  public static func isVideo(_ payload: [UInt8]) -> Bool {
    // Items are written as {"id":"…","data":{"video":…
    guard let data = payload.firstRange(of: Array("\"data\":{".utf8)) else { return false }
    return payload[data.upperBound...].starts(with: Array("\"video\"".utf8))
  }

  /// The request body for a batch of PostInputs items: ids clash as errors (`SKIP`), never renamed.
  /// Regions an item carries (`collect_outputs`) are left out: they become an annotation once the
  /// input exists.
  public static func body(_ items: [[UInt8]]) -> [UInt8] {
    var out = Array("{\"inputs\":[".utf8)
    for (i, item) in items.enumerated() {
      if i > 0 { out.append(UInt8(ascii: ",")) }
      if let split = splitRegions(item) {
        out.append(contentsOf: trimmed(split.input[...]))
      } else {
        out.append(contentsOf: trimmed(item[...]))
      }
    }
    out.append(contentsOf: "],\"input_id_conflict_resolution\":\"SKIP\"}".utf8)
    return out
  }

  static func trimmed(_ item: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    var item = item
    while item.last == 10 || item.last == 13 { item = item.dropLast() }
    return item
  }

  // MARK: Collected regions

  /// An item with the regions `collect_outputs` copied, split into the PostInputs item without them
  /// and the regions' JSON array; nil when the item carries no regions. The engine writes them as
  /// the last member of `data` (`…"metadata":{…},"regions":[…]},"dataset_ids":[…]}`): in JSON the
  /// bytes `,"` cannot occur inside a string (a quote in a string is escaped), so the last
  /// `,"regions":[` before `},"dataset_ids":[` is that member, and no region holds a `regions` key.
  public static func splitRegions(_ item: [UInt8]) -> (input: [UInt8], regions: ArraySlice<UInt8>)? {
    let tail = Array(#"},"dataset_ids":["#.utf8)
    let marker = Array(#","regions":["#.utf8)
    guard let dataEnd = lastRange(of: tail, in: item[...]),
      let start = lastRange(of: marker, in: item[..<dataEnd.lowerBound]),
      item[dataEnd.lowerBound - 1] == UInt8(ascii: "]")
    else { return nil }
    let regions = item[(start.upperBound - 1)..<dataEnd.lowerBound]
    return (Array(item[..<start.lowerBound]) + item[dataEnd.lowerBound...], regions)
  }

  static func lastRange(of pattern: [UInt8], in bytes: ArraySlice<UInt8>) -> Range<Int>? {
    guard bytes.count >= pattern.count else { return nil }
    var i = bytes.endIndex - pattern.count
    while i >= bytes.startIndex {
      if bytes[i] == pattern[0] && bytes[i..<(i + pattern.count)].elementsEqual(pattern) { return i..<(i + pattern.count) }
      i -= 1
    }
    return nil
  }

  /// The annotation of an input's collected regions, for PostAnnotations: its id is the input's
  /// (deterministic, so a repeated attempt is recognised as a duplicate), and it holds every region.
  public static func annotation(inputID: String, regions: ArraySlice<UInt8>) -> [UInt8] {
    var out = Array(#"{"id":"\#(inputID)","input_id":"\#(inputID)","data":{"regions":"#.utf8)
    out.append(contentsOf: regions)
    out.append(contentsOf: "}}".utf8)
    return out
  }

  /// The request body for a batch of annotations items (`POST /v2/users/{user}/apps/{app}/annotations`).
  public static func annotationsBody(_ items: [[UInt8]]) -> [UInt8] {
    var out = Array(#"{"annotations":["#.utf8)
    for (i, item) in items.enumerated() {
      if i > 0 { out.append(UInt8(ascii: ",")) }
      out.append(contentsOf: trimmed(item[...]))
    }
    out.append(contentsOf: "]}".utf8)
    return out
  }
}
