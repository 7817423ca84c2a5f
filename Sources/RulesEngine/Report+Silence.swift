import RulesEvents
import RulesSema

/// What a run that collected little or nothing says about why: the models its outputs came from
/// and the sources its collectors watch, so a misspelt source or a recording of another model is
/// plain at once (a zero is never silent).
extension RunReport {
  /// The model of outputs that reached no collector, and how many.
  public struct SkippedModel: Sendable, Equatable {
    public var user: String?
    public var app: String?
    public var model: String?
    public var count: Int

    /// `user/app/model`, with `?` for what the output did not say.
    public var path: String { "\(user ?? "?")/\(app ?? "?")/\(model ?? "?")" }
  }

  /// Distinct models kept in `skippedModels`; outputs of further models are counted in
  /// `skippedModel` alone.
  public static let skippedModelListLimit = 16

  /// Counts an output that reached no collector, by its model. No `String` is made: the model's
  /// strings are compared with those already listed (the scanner hands out the same ones).
  mutating func recordSkippedByModel(_ event: UnsafePointer<Event>) {
    skippedModel += 1
    for k in skippedModels.indices
    where skippedModels[k].model == event.pointee.modelID && skippedModels[k].app == event.pointee.modelApp
      && skippedModels[k].user == event.pointee.modelUser
    {
      skippedModels[k].count += 1
      return
    }
    guard skippedModels.count < Self.skippedModelListLimit else { return }
    skippedModels.append(
      SkippedModel(user: event.pointee.modelUser, app: event.pointee.modelApp, model: event.pointee.modelID, count: 1))
  }

  /// Successful outputs: those that were offered to the collectors' routes.
  public var successfulEvents: Int { events - skippedStatus }

  /// Whether outputs were read yet none reached any collector.
  public var reachedNoCollector: Bool { successfulEvents > 0 && skippedModel == successfulEvents }

  /// What the run should say it did not do: nothing read, nothing reaching a collector, or most
  /// outputs reaching none. Empty for a run that did what it was asked.
  public var warnings: [String] {
    var out: [String] = []
    if events == 0 && lines > badLineCount {
      out.append("no model output was read (\(lines) line\(lines == 1 ? "" : "s"), none an output)")
    } else if events > 0 && successfulEvents == 0 {
      out.append("every output (\(events)) had a status other than success, so none was offered to a collector")
    } else if reachedNoCollector {
      out.append("no output reached any collector: \(skippedModelsText); the collectors watch \(sourcesText)")
    } else if skippedModel * 2 > successfulEvents {
      out.append(
        "\(skippedModel) of \(successfulEvents) outputs reached no collector: \(skippedModelsText); the collectors watch \(sourcesText)")
    }
    return out
  }

  var skippedModelsText: String {
    let listed = skippedModels.map { "\($0.path) (\($0.count))" }.joined(separator: ", ")
    let unlisted = skippedModel - skippedModels.reduce(0) { $0 + $1.count }
    return "outputs of " + listed + (unlisted > 0 ? " and \(unlisted) of other models" : "")
  }

  /// The collectors' sources and ids, as a warning names them.
  public var sourcesText: String {
    collectors.isEmpty ? "nothing (no collector)" : collectors.map { "\($0.source) (\($0.id))" }.joined(separator: ", ")
  }
}
