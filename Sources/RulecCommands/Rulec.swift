import ArgumentParser

/// The `rulec` command: its subcommands live in this library so tests can run them in-process.
public struct Rulec: ParsableCommand {
  public static let version = "0.1.0"

  public static let configuration = CommandConfiguration(
    commandName: "rulec",
    abstract: "The rules engine behind ML collectors: check, format and explain collector rule files.",
    version: version,
    subcommands: [Check.self, Run.self, Compile.self, Fmt.self, Explain.self, Dlq.self])

  public init() {}
}
