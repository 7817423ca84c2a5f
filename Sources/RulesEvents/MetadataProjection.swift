/// The metadata paths the compiled rules read, as a trie, so the decoder captures those values and
/// skips the rest of `input.data.metadata` without building it.
public struct MetadataProjection: Sendable {
  final class Node: @unchecked Sendable {
    var children: [String: Node] = [:]
    var slot: Int?
  }

  let root = Node()
  public private(set) var paths: [[String]] = []

  public init() {}

  /// Adds a path (segments below `metadata`) and returns its slot; the same path gets the same slot.
  @discardableResult
  public mutating func slot(for path: [String]) -> Int {
    if let existing = paths.firstIndex(of: path) { return existing }
    var node = root
    for segment in path {
      if let next = node.children[segment] {
        node = next
      } else {
        let next = Node()
        node.children[segment] = next
        node = next
      }
    }
    node.slot = paths.count
    paths.append(path)
    return paths.count - 1
  }

  public var slotCount: Int { paths.count }
}
