import Foundation
import RulesSource

/// A rule test file (`*.ruletest`, Grammar.md §13): the rules it tests and its cases, each an
/// ordered list of events with the outcome expected of each collector.
public struct TestFile: Sendable {
  public var source: SourceFile
  /// The rules every case tests unless it names its own (a file or folder, relative to this file).
  public var rules: Located<String>?
  public var cases: [TestCase]
}

/// A value with where it was written.
public struct Located<Value: Sendable>: Sendable {
  public var value: Value
  public var range: SourceRange

  public init(_ value: Value, _ range: SourceRange) {
    self.value = value
    self.range = range
  }
}

/// One `test "name" { ... }`.
public struct TestCase: Sendable {
  public var name: String
  /// The name's string, for diagnostics and reports.
  public var range: SourceRange
  public var rules: Located<String>?
  public var steps: [TestStep]
}

/// One event and what each named collector must make of it (collectors not named are not checked).
public struct TestStep: Sendable {
  public enum Event: Sendable {
    /// An output or a PostModelOutputs response written in the test, as JSON (either spelling).
    case inline([UInt8])
    /// `"FILE:LINE"`: a line of a recording, relative to the test file.
    case recording(path: String, line: Int)
  }

  public var event: Event
  /// The `event` statement.
  public var range: SourceRange
  public var expectations: [Expectation]
}

/// `expect COLLECTOR OUTCOME`.
public struct Expectation: Sendable {
  public enum Outcome: Sendable, Equatable {
    /// Accepted, with the item fields written (each optional).
    case accepted(ItemFields)
    /// Dropped, optionally in a given stage and at a given statement: its line in the rule file, or
    /// text of it (`by "margin(concepts)"`), which stays true when lines move.
    case dropped(stage: Stage?, line: Int?, by: String? = nil)
    /// The collector does not see the output: another model, or an unsuccessful status.
    case ignored
    /// The collector had already accepted the input (dedupe), so no statement ran.
    case repeated
  }

  public enum Stage: String, Sendable {
    case preQueue = "pre_queue"
    case postQueue = "post_queue"
  }

  /// Fields of the PostInputs item an accepted input must have.
  public struct ItemFields: Sendable, Equatable {
    public var id: String?
    public var inclusionProbability: Double?
    public var datasetIDs: [String]?

    public init(id: String? = nil, inclusionProbability: Double? = nil, datasetIDs: [String]? = nil) {
      self.id = id
      self.inclusionProbability = inclusionProbability
      self.datasetIDs = datasetIDs
    }
  }

  public var collector: Located<String>
  public var outcome: Outcome
  /// The whole statement.
  public var range: SourceRange
  /// The `at line N` number, for a caret when no statement is there.
  public var lineRange: SourceRange?
}

extension Expectation.Outcome: CustomStringConvertible {
  public var description: String {
    switch self {
    case .accepted(let f):
      var text = "accepted"
      if let id = f.id { text += " id \(Self.quote(id))" }
      if let p = f.inclusionProbability { text += " inclusion_probability \(Self.number(p))" }
      if let d = f.datasetIDs { text += " dataset_ids [" + d.map(Self.quote).joined(separator: ", ") + "]" }
      return text
    case .dropped(let stage, let line, let by):
      var text = "dropped"
      if let stage { text += " in \(stage.rawValue)" }
      if let line { text += " at line \(line)" }
      if let by { text += " by \(Self.quote(by))" }
      return text
    case .ignored: return "ignored"
    case .repeated: return "repeated"
    }
  }

  static func quote(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }

  static func number(_ d: Double) -> String {
    d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
  }
}
