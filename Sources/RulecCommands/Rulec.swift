import ArgumentParser

/// The `rulec` command: its subcommands live in this library so tests can run them in-process.
public struct Rulec: AsyncParsableCommand {
  public static let version = "0.1.0"

  public static let configuration = CommandConfiguration(
    commandName: "rulec",
    abstract: "The rules engine behind ML collectors: check, run, test, diff, serve, proxy, compile, format and explain collector rules.",
    version: version,
    subcommands: [Check.self, Run.self, Test.self, Diff.self, Serve.self, Proxy.self, Compile.self, Fmt.self, Explain.self, Dlq.self, Lsp.self])

  public init() {}
}
