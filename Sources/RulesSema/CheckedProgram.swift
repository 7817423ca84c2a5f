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
  /// What of the model's output is copied onto the collected input (`collect_outputs`); empty
  /// when the clause is absent.
  public var collectOutputs: CollectedOutputs = []
}

/// The parts of a prediction `collect_outputs` copies onto the collected input, as Clarifai's
/// collectors wrote "the outputs of the original predict call as annotations".
public struct CollectedOutputs: OptionSet, Sendable, Hashable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }
  /// The output's concepts become the item's `data.concepts`.
  public static let concepts = CollectedOutputs(rawValue: 1)
  /// The output's regions become annotations of the input, posted once the input exists.
  public static let regions = CollectedOutputs(rawValue: 2)
  public static let all: CollectedOutputs = [.concepts, .regions]

  /// The kinds by name, as the clause and YAML write them.
  public static let names: [(String, CollectedOutputs)] = [("concepts", .concepts), ("regions", .regions)]
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

  /// The source as a rule file writes it, `*` for what it leaves open.
  public var text: String {
    var path = "\(user ?? "*")/\(app ?? "*")/\(model ?? "*")"
    if let version { path += " version \(version)" }
    if let caller { path += " caller \(caller)" }
    return path
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
