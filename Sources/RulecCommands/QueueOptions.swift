import ArgumentParser
import RulesQueue
import RulesServe

/// Where `serve` and `proxy` keep the accepted inputs: the state folder's SQLite file (one process),
/// or a PostgreSQL queue shared by several processes.
struct QueueOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "A PostgreSQL queue shared by several processes, instead of the state folder's SQLite file.",
      discussion: "postgres://USER@HOST:PORT/DATABASE[?sslmode=disable|prefer|require]; the password comes from PGPASSWORD.",
      valueName: "postgres-url"))
  var queue: String?

  @Option(help: "Seconds a leased item belongs to this process before another may send it (a killed process's items wait this long).")
  var lease: Double = 60

  func validate() throws {
    guard lease >= 1, lease <= 86400 else { throw ValidationError("--lease takes 1 to 86400 seconds") }
  }

  /// Sets the queue in the server's configuration; an address that cannot be read stops the command
  /// (exit 2), saying why without repeating it (it may hold a password).
  func apply(to configuration: inout CollectorServer.Configuration, err: inout some TextOutputStream) throws {
    configuration.lease = lease
    guard let queue else { return }
    do {
      configuration.queue = try PostgresQueueStore.Settings(url: queue)
    } catch {
      err.write("rulec: \(error)\n")
      throw ExitCode(2)
    }
  }
}
