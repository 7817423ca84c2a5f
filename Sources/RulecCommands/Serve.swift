import RulesLoader
import ArgumentParser
import Foundation
import RulesSema
import RulesServe

/// `rulec serve`: the live collector.
public struct Serve: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    abstract: "Run collectors live: ingest prediction events over HTTP, queue accepted inputs durably, forward them.",
    discussion: """
      POST /v1/events takes one output, a PostModelOutputs response, or JSON Lines of them, and answers
      202 with counts once the accepted inputs are on disk (outputs that reached no collector are counted
      in reached_no_collector, and when none of a request's did, a warning names their models and the
      collectors' sources; 400 names a malformed line; 413 for bodies over
      the limit; 401 without the bearer token when --ingest-token-env is set). GET /healthz answers ok.
      SIGTERM or SIGINT stops ingest, finishes requests in flight and exits 0.
      """)

  @Argument(help: "A rule file, a YAML file or a folder.")
  var rules: String

  @Option(help: "Address to listen on (HOST:PORT; port 0 picks a free one).")
  var listen = "127.0.0.1:8080"

  @Option(help: "The state folder: the queue and the dead letters.")
  var state = "./rulec-state"

  @OptionGroup(title: "Queue")
  var queueOptions: QueueOptions

  @Option(help: "Clarifai's API base URL.")
  var apiBase = "https://api.clarifai.com"

  @Option(help: "Environment variable holding the bearer token ingest requests must carry.")
  var ingestTokenEnv: String?

  @OptionGroup(title: "Connections")
  var connections: ConnectionOptions

  @Option(help: "Largest request body in bytes.")
  var maxBody = 64 << 20

  @Option(help: "Also read events as JSON Lines from this file; '-' for standard input (to pipe a log).")
  var events: String?

  public init() {}

  public func run() async throws {
    var err = StandardError()
    let program: CheckedProgram
    switch RuleLoader.loadForUse(rules, err: &err) {
    case .success(let p): program = p
    case .failure(let status): throw ExitCode(status.code)
    }
    let parts = listen.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, let port = Int(parts[1]), (0...65535).contains(port) else {
      throw ValidationError("--listen takes HOST:PORT, such as 127.0.0.1:8080")
    }
    var configuration = CollectorServer.Configuration()
    configuration.host = String(parts[0])
    configuration.port = port
    configuration.state = state
    try queueOptions.apply(to: &configuration, err: &err)
    configuration.apiBase = apiBase
    configuration.maxBody = maxBody
    if let name = ingestTokenEnv {
      guard let token = ProcessInfo.processInfo.environment[name], !token.isEmpty else {
        err.write("rulec: environment variable \(name) (the ingest token) is not set\n")
        throw ExitCode(2)
      }
      configuration.ingestToken = token
    }
    connections.apply(to: &configuration)
    let server = try await openCollectorServer(configuration, rules: rules, program: program, err: &err)
    let host = configuration.host
    if let events {
      guard events == "-" else { throw ValidationError("--events takes '-' (standard input)") }
      server.ingestStandardInput()
    }
    try await server.run { port in
      writeText(STDERR_FILENO, "rulec: listening on \(host):\(port)\n")
    }
  }
}
