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

  /// One JSON line: `{"id", "data": {<media>, "metadata": {..., "rulec": provenance}}, "dataset_ids"}`.
  public static func json(collector: CheckedCollector, event: Event, id: String, inclusionProbability: Double) -> String {
    func q(_ s: String?) -> String {
      guard let s else { return "null" }
      var out = ""
      JSONValue.quote(s, into: &out)
      return out
    }
    let provenance =
      "{\"collector\":\(q(collector.id)),\"source_input_id\":\(q(event.inputID)),"
      + "\"source_output_id\":\(q(event.outputID)),\"model_id\":\(q(event.modelID)),"
      + "\"model_version_id\":\(q(event.modelVersion)),\"inclusion_probability\":\(number(inclusionProbability))}"
    var data = "{"
    if let kind = event.inputKind, let media = event.mediaJSON {
      data += "\(q(kind.rawValue)):\(media),"
    }
    data += "\"metadata\":" + merge(metadata: event.metadataJSON, provenance: provenance) + "}"
    let datasets = "[" + collector.datasetIDs.map { q($0) }.joined(separator: ",") + "]"
    return "{\"id\":\(q(id)),\"data\":\(data),\"dataset_ids\":\(datasets)}"
  }

  static func number(_ d: Double) -> String {
    d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
  }

  /// Adds `"rulec": provenance` to the original metadata object's JSON, replacing an existing `rulec` key.
  static func merge(metadata: String?, provenance: String) -> String {
    guard let metadata, let close = metadata.lastIndex(of: "}") else { return "{\"rulec\":\(provenance)}" }
    if metadata.contains("\"rulec\""),
      let object = try? JSONSerialization.jsonObject(with: Data(metadata.utf8)) as? [String: Any]
    {
      var copy = object
      copy.removeValue(forKey: "rulec")
      let rest = (try? JSONSerialization.data(withJSONObject: copy, options: [.sortedKeys, .withoutEscapingSlashes]))
        .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
      return merge(metadata: rest, provenance: provenance)
    }
    let body = metadata[metadata.index(after: metadata.firstIndex(of: "{")!)..<close]
    let empty = body.allSatisfy { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
    return "{" + (empty ? "" : body + ",") + "\"rulec\":" + provenance + "}"
  }
}

