import Foundation
import RulesDiagnostics
import RulesEvents
import RulesSema

/// The PostInputs item an accepted input becomes, exactly as it would be sent to the destination.
public enum ForwardItem {
  /// A deterministic destination input id in `[a-z0-9_-]{1,48}`, derived from the collector id and the
  /// source input id, so replays and retries are idempotent: up to 15 characters of each, for people,
  /// then 16 hex digits of FNV-1a 64 over both, for uniqueness.
  public static func destinationID(collector: String, input: String) -> String {
    func clean(_ s: String) -> String {
      var out = ""
      for b in s.utf8.prefix(15) {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"),
          UInt8(ascii: "-"):
          out.unicodeScalars.append(UnicodeScalar(b))
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): out.unicodeScalars.append(UnicodeScalar(b + 32))
        default: out += "-"
        }
      }
      return out
    }
    let hash = Sampling.fnv1a64(Array(collector.utf8) + [0] + Array(input.utf8))
    let hex = String(hash, radix: 16)
    return clean(collector) + "-" + clean(input) + "-" + String(repeating: "0", count: 16 - hex.count) + hex
  }

  /// Appends one JSON line to `out`:
  /// `{"id", "data": {<media>, "metadata": {..., "rulec": provenance}}, "dataset_ids"}`.
  /// The media and metadata are copied from the line as they were written.
  public static func write(
    into out: inout [UInt8], collector: CheckedCollector, event: Event, line: UnsafeBufferPointer<UInt8>, id: String,
    inclusionProbability: Double
  ) {
    func raw(_ s: String) { out.append(contentsOf: s.utf8) }
    func q(_ s: String?) {
      guard let s else { return raw("null") }
      var quoted = ""
      JSONValue.quote(s, into: &quoted)
      raw(quoted)
    }
    func slice(_ r: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: line[r]) }
    raw("{\"id\":")
    q(id)
    raw(",\"data\":{")
    if let kind = event.inputKind, let media = event.mediaRange {
      q(kind.rawValue)
      raw(":")
      out.append(contentsOf: slice(media))
      raw(",")
    }
    raw("\"metadata\":")
    var provenance = "{\"collector\":"
    JSONValue.quote(collector.id, into: &provenance)
    provenance += ",\"source_input_id\":" + quoted(event.inputID)
    provenance += ",\"source_output_id\":" + quoted(event.outputID)
    provenance += ",\"model_id\":" + quoted(event.modelID)
    provenance += ",\"model_version_id\":" + quoted(event.modelVersion)
    provenance += ",\"inclusion_probability\":" + number(inclusionProbability) + "}"
    merge(metadata: event.metadataRange.map(slice), provenance: provenance, into: &out)
    raw("},\"dataset_ids\":[")
    for (i, d) in collector.datasetIDs.enumerated() {
      if i > 0 { raw(",") }
      q(d)
    }
    raw("]}\n")
  }

  /// Whether `needle` occurs in `haystack` (a plain scan: it runs only over metadata that is forwarded).
  static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
    guard haystack.count >= needle.count, let first = needle.first else { return false }
    var i = 0
    while i + needle.count <= haystack.count {
      if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
      i += 1
    }
    return false
  }

  static func quoted(_ s: String?) -> String {
    guard let s else { return "null" }
    var out = ""
    JSONValue.quote(s, into: &out)
    return out
  }

  static func number(_ d: Double) -> String {
    d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
  }

  /// Appends the original metadata object with `"rulec": provenance` added (replacing an existing
  /// top-level `rulec` key, which needs a real parse; the plain case splices bytes).
  static func merge(metadata: UnsafeBufferPointer<UInt8>?, provenance: String, into out: inout [UInt8]) {
    guard let metadata, let open = metadata.firstIndex(of: UInt8(ascii: "{")),
      let close = metadata.lastIndex(of: UInt8(ascii: "}")), open < close
    else {
      out.append(contentsOf: "{\"rulec\":\(provenance)}".utf8)
      return
    }
    let needle = Array("\"rulec\"".utf8)
    if contains(metadata, needle),
      var object = try? JSONSerialization.jsonObject(with: Data(metadata)) as? [String: Any]
    {
      object.removeValue(forKey: "rulec")
      let rest = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
      let bytes = [UInt8](rest)
      if bytes.count <= 2 {
        out.append(contentsOf: "{\"rulec\":\(provenance)}".utf8)
      } else {
        out.append(contentsOf: bytes[..<(bytes.count - 1)])
        out.append(contentsOf: ",\"rulec\":\(provenance)}".utf8)
      }
      return
    }
    let body = metadata[(open + 1)..<close]
    let empty = body.allSatisfy { $0 == 32 || $0 == 10 || $0 == 9 || $0 == 13 }
    out.append(UInt8(ascii: "{"))
    if !empty {
      out.append(contentsOf: body)
      out.append(UInt8(ascii: ","))
    }
    out.append(contentsOf: "\"rulec\":\(provenance)}".utf8)
  }
}
