import Foundation

/// What completion knows beyond the language, read from a recording (JSON Lines of Clarifai
/// outputs or PostModelOutputs responses, in either spelling): the metadata keys seen at each path
/// of `input.data.metadata`, and the concepts the model predicted (names and ids).
///
/// Only the first `lineLimit` lines are read (a recording can hold millions; its vocabulary settles
/// early), and a line that is not JSON is passed over: completion is a hint, not a check.
struct CompletionVocabulary {
  /// A metadata object's keys, and under each key what was seen inside it.
  final class Node {
    var children: [String: Node] = [:]
  }

  let metadata = Node()
  var concepts: Set<String> = []
  static let lineLimit = 20_000

  /// Reads a recording; false if the file cannot be read.
  @discardableResult
  mutating func read(recording path: String) -> Bool {
    guard let handle = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? handle.close() }
    // 64 MiB at most, whole lines only.
    guard let data = try? handle.read(upToCount: 64 << 20) else { return false }
    var lines = 0
    for line in data.split(separator: 10, omittingEmptySubsequences: true) {
      lines += 1
      if lines > Self.lineLimit { break }
      guard let value = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
      if let outputs = value["outputs"] as? [[String: Any]] {
        for output in outputs { add(output: output) }
      } else {
        add(output: value)
      }
    }
    return true
  }

  mutating func add(output: [String: Any]) {
    if let metadata = ((output["input"] as? [String: Any])?["data"] as? [String: Any])?["metadata"] as? [String: Any] {
      Self.add(metadata, to: self.metadata, depth: 0)
    }
    guard let data = output["data"] as? [String: Any] else { return }
    var lists: [[[String: Any]]] = [data["concepts"] as? [[String: Any]] ?? []]
    for region in data["regions"] as? [[String: Any]] ?? [] {
      lists.append(((region["data"] as? [String: Any])?["concepts"] as? [[String: Any]]) ?? [])
    }
    for frame in data["frames"] as? [[String: Any]] ?? [] {
      lists.append(((frame["data"] as? [String: Any])?["concepts"] as? [[String: Any]]) ?? [])
    }
    for list in lists {
      for concept in list {
        if let name = concept["name"] as? String, !name.isEmpty { concepts.insert(name) }
        if let id = concept["id"] as? String, !id.isEmpty { concepts.insert(id) }
      }
    }
  }

  /// Nested objects are walked 16 levels deep at most (the rules' paths are short).
  static func add(_ object: [String: Any], to node: Node, depth: Int) {
    guard depth < 16 else { return }
    for (key, value) in object {
      let child = node.children[key] ?? Node()
      node.children[key] = child
      if let inner = value as? [String: Any] { add(inner, to: child, depth: depth + 1) }
    }
  }

  /// The keys seen under a metadata path (`[]` is the top of `metadata`), sorted.
  func keys(under path: [String]) -> [String] {
    var node = metadata
    for segment in path {
      guard let next = node.children[segment] else { return [] }
      node = next
    }
    return node.children.keys.sorted()
  }
}
