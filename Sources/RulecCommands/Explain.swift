import ArgumentParser
import RulesDiagnostics
import RulesSema
import RulesSource

/// `rulec explain CODE`: the long explanation of a diagnostic code.
public struct Explain: ParsableCommand {
  public static let configuration = CommandConfiguration(
    abstract: "Explain a diagnostic code, with a bad and a good example.")

  @Argument(help: "A code such as RC3001, or its name such as unknown-name.")
  var code: String

  public init() {}

  public func run() throws {
    var out = StandardOutput()
    var err = StandardError()
    let status = Explain.execute(code: code, out: &out, err: &err)
    if status != 0 { throw ExitCode(status) }
  }

  public static func execute(code: String, out: inout some TextOutputStream, err: inout some TextOutputStream) -> Int32 {
    guard let c = DiagnosticCode.find(code) else {
      let suggestion = Spelling.suggestion(for: code.uppercased(), among: DiagnosticCode.all.map(\.id))
        ?? Spelling.suggestion(for: code.lowercased(), among: DiagnosticCode.all.map(\.name))
      err.write("rulec: unknown diagnostic code '\(code)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? "") + "\n")
      return 2
    }
    out.write(render(c))
    return 0
  }

  /// The explanation as printed.
  public static func render(_ c: DiagnosticCode) -> String {
    var text = "\(c.id) \(c.name) (\(c.severity.rawValue)): \(c.summary)\n\n\(c.explanation)\n"
    func indent(_ s: String) -> String {
      s.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "    " + $0 }.joined(separator: "\n")
    }
    if !c.bad.isEmpty { text += "\nBad:\n\n" + indent(c.bad) }
    if !c.good.isEmpty { text += "\nGood:\n\n" + indent(c.good) }
    return text
  }
}
