import RulesSource
import RulesSyntax

/// The result of checking: every collector whose definition is complete, with names resolved.
///
/// Later stages (the bytecode compiler, the runner) start from here; statements stay as syntax
/// trees, already type-checked, so their source ranges remain available for reports.
public struct CheckedProgram: Sendable {
  public var collectors: [CheckedCollector]

  public init(collectors: [CheckedCollector]) { self.collectors = collectors }
}

/// One collector, resolved.
public struct CheckedCollector: Sendable {
  public var id: String
  public var description: String
  public var file: SourceFile
  public var range: SourceRange
  public var source: SourcePattern
  public var destinationUser: String
  public var destinationApp: String
  public var datasetIDs: [String]
  public var key: KeySource
  public var conceptMap: ConceptMap?
  public var preQueue: [Statement]?
  public var postQueue: [Statement]?
}

/// Which model's outputs a collector watches; `nil` parts (written `*`) match anything.
public struct SourcePattern: Sendable, Hashable {
  public var user: String?
  public var app: String?
  public var model: String?
  public var version: String?
  /// Empty means every caller.
  public var caller: String?

  public init(user: String?, app: String?, model: String?, version: String?, caller: String?) {
    self.user = user
    self.app = app
    self.model = model
    self.version = version
    self.caller = caller
  }

  /// Whether an output of this model matches.
  public func matches(user u: String, app a: String, model m: String, version v: String?) -> Bool {
    (user == nil || user == u) && (app == nil || app == a) && (model == nil || model == m)
      && (version == nil || version == v)
  }
}

/// Where the post-inputs key is read from when the collector starts; never the key itself.
public enum KeySource: Sendable, Hashable {
  case environment(String)
  case file(String)
}

/// The knowledge-graph mapping of source concepts (by name or id) onto target concepts.
public struct ConceptMap: Sendable {
  /// Source concept name or id → target concept.
  public var targetOf: [String: String]
  /// Whether concepts that no entry maps are hidden after mapping.
  public var dropUnmapped: Bool

  public var targets: Set<String> { Set(targetOf.values) }
}
