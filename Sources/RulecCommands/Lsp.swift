import ArgumentParser
import Foundation
import RulesEditor
import RulesSema

/// `rulec lsp`: a language server for editors, over standard input and output.
public struct Lsp: ParsableCommand {
  public static let configuration = CommandConfiguration(
    abstract: "Run the language server for editors (the Language Server Protocol over stdio).",
    discussion: "Diagnostics as you type, formatting, document symbols, hover, completion and go to definition for .rule, .yaml and .ruletest files. An editor may set `concepts` and `recording` (paths) in initializationOptions or in the `rulec` section of its settings.")

  @Option(help: "The source model's concepts (as for rulec check): one name or id per line, or a JSON array.")
  var concepts: String?

  @Option(help: "A recording (JSON Lines of outputs) whose metadata paths and concepts completion offers; an editor may also set it.")
  var recording: String?

  public init() {}

  public func run() throws {
    var options = CheckOptions()
    if let concepts {
      guard let data = FileManager.default.contents(atPath: concepts), let text = String(data: data, encoding: .utf8) else {
        throw ValidationError("cannot read concepts file: \(concepts)")
      }
      options.concepts = try ConceptCatalog.parse(text)
    }
    let server = LanguageServer(options: options, recording: recording) { bytes in _ = Run.writeAll(STDOUT_FILENO, bytes) }
    let status = server.run(input: FileHandle.standardInput)
    if status != 0 { throw ExitCode(status) }
  }
}
