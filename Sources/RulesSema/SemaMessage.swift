import RulesDiagnostics

/// The checker's and the linter's messages (`RC3xxx`, `RC4xxx`), one static member per message.
public enum SemaMessage {
  private static func didYouMean(_ s: String?) -> String? { s.map { "did you mean '\($0)'?" } }

  public static func unknownName(_ name: String, suggestion: String?, help: String? = nil) -> DiagnosticMessage {
    DiagnosticMessage(.unknownName, "unknown name '\(name)'", help: didYouMean(suggestion) ?? help)
  }
  public static func unknownField(_ root: String, _ field: String, suggestion: String?, fields: [String])
    -> DiagnosticMessage
  {
    DiagnosticMessage(
      .unknownName, "'\(root)' has no field '\(field)'",
      help: didYouMean(suggestion) ?? "'\(root)' has \(fields.map { "'\($0)'" }.joined(separator: ", "))")
  }
  public static func unknownKind(_ name: String, suggestion: String?) -> DiagnosticMessage {
    DiagnosticMessage(
      .unknownName, "unknown input kind '\(name)'",
      help: didYouMean(suggestion) ?? "input kinds are image, video, text and audio")
  }
  public static func unknownOutputKind(_ name: String, suggestion: String?) -> DiagnosticMessage {
    DiagnosticMessage(
      .unknownName, "unknown output kind '\(name)' in 'collect_outputs'",
      help: didYouMean(suggestion) ?? "collect 'concepts', 'regions', or both with 'collect_outputs' alone")
  }
  public static func unknownFunction(_ name: String, suggestion: String?) -> DiagnosticMessage {
    DiagnosticMessage(.unknownFunction, "unknown function '\(name)'", help: didYouMean(suggestion))
  }
  public static func typeMismatch(_ text: String, help: String? = nil) -> DiagnosticMessage {
    DiagnosticMessage(.typeMismatch, text, help: help)
  }
  public static func wrongArguments(_ text: String, help: String? = nil) -> DiagnosticMessage {
    DiagnosticMessage(.wrongArguments, text, help: help)
  }
  public static func probabilityOutOfRange(_ value: String, quantity: String) -> DiagnosticMessage {
    DiagnosticMessage(
      .probabilityOutOfRange, "threshold \(value) is outside [0, 1], but '\(quantity)' is a probability",
      help: "write a fraction such as 0.6 or a percentage such as 60%")
  }
  public static func rateOutOfRange(_ text: String, help: String) -> DiagnosticMessage {
    DiagnosticMessage(.rateOutOfRange, "sampling rate \(text) is outside (0, 100%]", help: help)
  }
  public static func duplicateCollectorID(_ id: String) -> DiagnosticMessage {
    DiagnosticMessage(
      .duplicateCollectorID, "collector id '\(id)' is already used", help: "give each collector its own id")
  }
  public static func invalidID(_ what: String, _ id: String, help: String) -> DiagnosticMessage {
    DiagnosticMessage(.invalidID, "invalid \(what) '\(id)'", help: help)
  }
  public static func noStage(_ id: String) -> DiagnosticMessage {
    DiagnosticMessage(
      .noStage, "collector '\(id)' has neither a pre_queue nor a post_queue stage",
      help: "add a stage; 'pre_queue { sample 100% }' collects every input")
  }
  public static let inlineSecret = DiagnosticMessage(
    .inlineSecret, "the API key is written into the rule file",
    help: "reference it instead with 'key env NAME' or 'key file \"PATH\"', and rotate the exposed key")
  public static func missingClause(_ clause: String, collector: String, help: String) -> DiagnosticMessage {
    DiagnosticMessage(.missingClause, "collector '\(collector)' has no '\(clause)' clause", help: help)
  }
  public static func duplicateClause(_ clause: String) -> DiagnosticMessage {
    DiagnosticMessage(.duplicateClause, "'\(clause)' is given twice", help: "keep one '\(clause)' clause")
  }
  public static func mapCycle(_ path: [String]) -> DiagnosticMessage {
    DiagnosticMessage(
      .mapCycle, "concept map has a cycle: \(path.joined(separator: " -> "))",
      help: "map each source concept to a target that is not itself mapped")
  }
  public static func mapConflict(_ source: String, _ first: String, _ second: String) -> DiagnosticMessage {
    DiagnosticMessage(
      .mapConflict, "concept '\(source)' is mapped to both '\(first)' and '\(second)'",
      help: "a concept can be mapped to one target only")
  }
  public static func unknownConcept(_ name: String, suggestion: String?) -> DiagnosticMessage {
    DiagnosticMessage(
      .unknownConcept, "the source model has no concept '\(name)'",
      help: didYouMean(suggestion) ?? "check the name against the model's concept list")
  }
  public static func invalidRegex(_ problem: String) -> DiagnosticMessage {
    DiagnosticMessage(.invalidRegex, "invalid regular expression: \(problem)", help: "escape special characters with '\\\\'")
  }
  public static func notVisible(_ what: String, stage: String, help: String) -> DiagnosticMessage {
    DiagnosticMessage(.notVisibleInStage, "\(what) is not visible in \(stage)", help: help)
  }
  public static func invalidLimit(_ text: String) -> DiagnosticMessage {
    DiagnosticMessage(.invalidLimit, text, help: "use whole numbers of at least 1, as in 'limit 100 per 2 hours'")
  }
  public static func mapFile(_ text: String) -> DiagnosticMessage {
    DiagnosticMessage(
      .mapFile, text, help: "a map file is CSV with 'source, target' rows or YAML 'target: [sources]'")
  }
  public static func invalidRank(_ text: String) -> DiagnosticMessage {
    DiagnosticMessage(.invalidRank, "rank \(text) is not a whole number of at least 1", help: "top(concepts, 1) is the largest value")
  }

  public static func neverTrue(_ why: String) -> DiagnosticMessage {
    DiagnosticMessage(.neverTrue, "condition can never be true: \(why)")
  }
  public static func alwaysTrue(_ quantity: String) -> DiagnosticMessage {
    DiagnosticMessage(
      .alwaysTrue, "condition is always true whenever '\(quantity)' has a value",
      help: "check the thresholds; to test only that it exists, write exists(...) or count(...) > 0")
  }
  public static func collectsNothing(_ why: String) -> DiagnosticMessage {
    DiagnosticMessage(
      .collectsNothing, "this statement drops every input, so the stage can collect nothing: \(why)",
      help: "check the thresholds against the statements before it")
  }
  public static let unreachable = DiagnosticMessage(
    .unreachable, "statement is never reached", help: "remove it, or fix the statement that drops every input")
  public static func unusedMapEntry(_ target: String) -> DiagnosticMessage {
    DiagnosticMessage(
      .unusedMapEntry, "map target '\(target)' is never used by a rule",
      help: "remove the entry, or use 'concept(\(target))' in a rule")
  }
  public static func mapChain(_ target: String, _ next: String) -> DiagnosticMessage {
    DiagnosticMessage(
      .mapChain, "map target '\(target)' is itself mapped to '\(next)', but the map is applied once",
      help: "map the sources of '\(target)' straight to '\(next)'")
  }
  public static func noEffect(_ text: String) -> DiagnosticMessage {
    DiagnosticMessage(.noEffect, "statement has no effect: \(text)", help: "remove it")
  }
  public static let limitNotLast = DiagnosticMessage(
    .limitNotLast, "statements after 'limit' can drop inputs that already used its budget",
    help: "move 'limit' to the end of the stage")
  public static func probabilityEquality(_ quantity: String, _ op: String, _ value: Double) -> DiagnosticMessage {
    func show(_ d: Double) -> String { String(format: "%g", d) }
    let band = "\(quantity) >= \(show(max(0, value - 0.05))) and \(quantity) < \(show(min(1, value + 0.05)))"
    return DiagnosticMessage(
      .probabilityEquality, "'\(quantity) \(op) \(show(value))' compares a probability for exact equality",
      help: "model probabilities are floating point and almost never exactly \(show(value)): compare with < or >=, or test a band (\(band))")
  }
  public static func versionIDShape(_ text: String) -> DiagnosticMessage {
    DiagnosticMessage(
      .versionIDShape, "model version id '\(text)' is not 32 hexadecimal characters",
      help: "copy the version id from the model's page in Clarifai, or leave out 'version' to watch every version")
  }
  public static func collectsIntoSource(_ app: String) -> DiagnosticMessage {
    DiagnosticMessage(
      .collectsIntoSource, "the destination \(app) is the app the collector watches",
      help: "collect into an app of its own (a dataset app): inputs copied into the watched app mix training data with the traffic it came from")
  }
  public static func beyondVocabulary(_ text: String, help: String) -> DiagnosticMessage {
    DiagnosticMessage(.beyondVocabulary, text, help: help)
  }
  public static func conceptMappedAway(_ name: String, _ target: String) -> DiagnosticMessage {
    DiagnosticMessage(
      .conceptMappedAway, "'\(name)' is renamed to '\(target)' by the concept map before the rules see it",
      help: "write '\(target)': the rules see the concepts after the map")
  }
  public static let emptyFile = DiagnosticMessage(
    .emptyFile, "file defines no collectors", help: "add a 'collector ID { ... }' block")
}
