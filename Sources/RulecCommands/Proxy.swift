import ArgumentParser
import Foundation
import NIOCore
import RulesLoader
import RulesSema
import RulesServe

/// `rulec proxy`: sits in Clarifai's call path, as the retired Collectors feature did.
public struct Proxy: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    abstract: "Sit in Clarifai's call path: pass every call through and collect from PostModelOutputs answers.",
    discussion: """
      Point a client's Clarifai base URL at the proxy (the Python SDK's JSON channel takes base_url; REST
      clients take any URL). Every request is sent to --upstream with its headers, and the answer comes
      back unchanged. The outputs of a successful PostModelOutputs answer are then offered to the
      collectors, with the caller (the user of the call's credential, asked of Clarifai once per
      credential) and the caller's own inputs; what they accept goes through rulec serve's durable
      queue to the destination. A failure of the rules, the queue or the disk never fails the call: it
      is counted in GET /metrics and logged. --record DIR appends every output seen to rotating JSON
      Lines files for `rulec run --events DIR/*`. SIGHUP or a rule file edit reloads the rules.
      """)

  @Argument(help: "A rule file, a YAML file or a folder.")
  var rules: String

  @Option(help: "Address to listen on (HOST:PORT; port 0 picks a free one).")
  var listen = "127.0.0.1:8080"

  @Option(help: "Clarifai's API base URL, where calls are passed.")
  var upstream = "https://api.clarifai.com"

  @Option(help: "The state folder: the queue and the dead letters.")
  var state = "./rulec-state"

  @Option(help: "Where accepted inputs are posted (default: the upstream).")
  var apiBase: String?

  @Option(help: "Record every output seen in rotating JSON Lines files in this folder.")
  var record: String?

  @Flag(help: "Compress recorded files with gzip.")
  var recordGzip = false

  @Option(help: "Start a new recording file past this many bytes.")
  var recordMaxBytes = 256 << 20

  @Option(help: "Seconds to wait for the upstream's answer.")
  var upstreamTimeout = 600

  @OptionGroup(title: "Queue")
  var queueOptions: QueueOptions

  @OptionGroup(title: "Connections")
  var connections: ConnectionOptions

  @Option(help: "Largest request body in bytes.")
  var maxBody = 512 << 20

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
    let base = upstream.hasSuffix("/") ? String(upstream.dropLast()) : upstream
    guard let url = URL(string: base), url.scheme == "http" || url.scheme == "https", url.host != nil else {
      throw ValidationError("--upstream takes an http or https URL, such as https://api.clarifai.com")
    }
    var configuration = CollectorServer.Configuration()
    configuration.host = String(parts[0])
    configuration.port = port
    configuration.state = state
    try queueOptions.apply(to: &configuration, err: &err)
    configuration.apiBase = apiBase ?? base
    configuration.maxBody = maxBody
    configuration.upstream = base
    configuration.upstreamTimeout = .seconds(Int64(upstreamTimeout))
    if let record {
      var options = OutputRecorder.Options(directory: record)
      options.gzip = recordGzip
      options.maxBytes = recordMaxBytes
      configuration.record = options
    }
    connections.apply(to: &configuration)
    let server = try await openCollectorServer(configuration, rules: rules, program: program, err: &err)
    let host = configuration.host
    try await server.run { port in
      writeText(STDERR_FILENO, "rulec: proxying \(base) on \(host):\(port)\n")
    }
  }
}
