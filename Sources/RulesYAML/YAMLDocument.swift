import RulesDiagnostics
import RulesSource
import Yams

/// A YAML file read for another front end (the YAML form of rule tests): its document, composed by
/// Yams, with what the rule files' YAML front end does for locating nodes and reporting wrong
/// shapes, under the same codes (`RC2xxx`).
public struct YAMLDocument {
  let front: YAMLFrontEnd
  /// The document's root; nil when the file is empty or cannot be read (its error reported).
  public let root: Node?

  public init(_ file: SourceFile, sink: DiagnosticSink) {
    front = YAMLFrontEnd(file: file, sink: sink)
    root = front.compose()
  }

  /// Where a node lies in the file (for a scalar, its text as written when that is exact).
  public func range(_ node: Node) -> SourceRange { front.range(node) }

  /// A mapping's entries, each key one of `known` (RC2003 for another, RC2004 when not a mapping).
  public func fields(_ node: Node, _ context: String, known: [String]) -> [(key: String, keyNode: Node, value: Node)]? {
    front.fields(node, context, known: known)
  }

  /// A list's items (RC2004 when not a list).
  public func sequence(_ node: Node, _ what: String) -> [Node]? { front.sequence(node, what) }

  /// How a node is named in a message.
  public func describe(_ node: Node) -> String { front.describe(node) }

  public func emit(_ message: DiagnosticMessage, _ node: Node) { front.emit(message, node) }
}
