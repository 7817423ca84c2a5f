import ArgumentParser
import NIOCore
import RulesServe

/// How `serve` and `proxy` treat slow, idle and greedy clients, and how long they take to stop.
struct ConnectionOptions: ParsableArguments {
  @Option(help: "Close a connection idle for this many seconds.")
  var idleTimeout = 60.0

  @Option(help: "Close a connection whose request head has not arrived this many seconds after it opened.")
  var headerTimeout = 10.0

  @Option(help: "Close a connection whose request body has not all arrived this many seconds after its head.")
  var bodyTimeout = 300.0

  @Option(help: "Connections held at once; more wait to be accepted.")
  var maxConnections = 4096

  @Option(help: "Bytes of memory for request bodies being handled at once (an ingest body counts four times its size, what it takes once decoded); past it a request gets 503 with Retry-After.")
  var maxBodyMemory = 256 << 20

  @Option(help: "At shutdown (SIGTERM, SIGINT), seconds the forwarding requests in flight get to finish before they are cut; their items then stay queued for the next start.")
  var shutdownGrace = 10.0

  func validate() throws {
    guard idleTimeout > 0, headerTimeout > 0, bodyTimeout > 0 else { throw ValidationError("timeouts are a number of seconds above 0") }
    guard shutdownGrace >= 0 else { throw ValidationError("--shutdown-grace is a number of seconds, 0 or more") }
    guard maxConnections >= 1, maxBodyMemory >= 1 else { throw ValidationError("--max-connections and --max-body-memory are at least 1") }
  }

  func apply(to configuration: inout CollectorServer.Configuration) {
    configuration.idleTimeout = .nanoseconds(Int64(idleTimeout * 1e9))
    configuration.headerTimeout = .nanoseconds(Int64(headerTimeout * 1e9))
    configuration.bodyTimeout = .nanoseconds(Int64(bodyTimeout * 1e9))
    configuration.maxConnections = maxConnections
    configuration.bodyMemory = maxBodyMemory
    configuration.shutdownGrace = .nanoseconds(Int64(shutdownGrace * 1e9))
  }
}
