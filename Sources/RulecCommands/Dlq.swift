import ArgumentParser
import Foundation
import RulesDiagnostics
import RulesQueue

/// `rulec dlq`: the inputs a destination rejected for good, kept with the reply's reason.
public struct Dlq: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "dlq", abstract: "List, retry or drop dead letters in a collector's state folder or PostgreSQL queue.",
    subcommands: [List.self, Retry.self, Drop.self])

  public init() {}

  /// Options every `dlq` subcommand takes.
  public struct StateOptions: ParsableArguments {
    @Option(help: "The state folder of `rulec serve`.")
    var state = "./rulec-state"

    @Option(help: ArgumentHelp("The PostgreSQL queue of `rulec serve --queue` instead (the password from PGPASSWORD).", valueName: "postgres-url"))
    var queue: String?

    public init() {}

    /// Runs `body` on the queue, and closes it.
    func with<T>(_ body: (any QueueStore) async throws -> T) async throws -> T {
      if let queue {
        let store = try await PostgresQueueStore(settings: PostgresQueueStore.Settings(url: queue))
        do {
          let value = try await body(store)
          await store.close()
          return value
        } catch {
          await store.close()
          throw error
        }
      }
      guard FileManager.default.fileExists(atPath: (state as NSString).appendingPathComponent("queue.sqlite")) else {
        throw ValidationError("no queue in \(state)")
      }
      return try await body(try SQLiteQueueStore(directory: state))
    }
  }

  /// `rulec dlq list`.
  public struct List: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(abstract: "List dead letters, oldest first.")
    @OptionGroup var options: StateOptions
    @Option(help: "Output format: human or json.") var format: OutputFormat = .human
    @Option(help: "At most this many.") var limit = 1000
    public init() {}

    public func run() async throws {
      var out = StandardOutput()
      let letters = try await options.with { try await $0.deadLetters(limit: limit) }
      out.write(Dlq.render(letters, json: format == .json))
    }
  }

  /// `rulec dlq retry`.
  public struct Retry: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(abstract: "Put dead letters back in the queue.")
    @OptionGroup var options: StateOptions
    @Flag(help: "Every dead letter.") var all = false
    @Argument(help: "Destination input ids.") var ids: [String] = []
    public init() {}

    public func validate() throws {
      if all == !ids.isEmpty { throw ValidationError("name the ids to retry, or --all") }
    }

    public func run() async throws {
      let n = try await options.with { try await $0.retryDeadLetters(all ? nil : ids, now: Date().timeIntervalSince1970) }
      var out = StandardOutput()
      out.write("\(n) dead letter\(n == 1 ? "" : "s") queued again\n")
    }
  }

  /// `rulec dlq drop`.
  public struct Drop: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(abstract: "Delete dead letters for good.")
    @OptionGroup var options: StateOptions
    @Flag(help: "Every dead letter.") var all = false
    @Argument(help: "Destination input ids.") var ids: [String] = []
    public init() {}

    public func validate() throws {
      if all == !ids.isEmpty { throw ValidationError("name the ids to drop, or --all") }
    }

    public func run() async throws {
      let n = try await options.with { try await $0.dropDeadLetters(all ? nil : ids) }
      var out = StandardOutput()
      out.write("\(n) dead letter\(n == 1 ? "" : "s") dropped\n")
    }
  }

  /// Dead letters as a table or as JSON.
  public static func render(_ letters: [DeadLetter], json: Bool) -> String {
    let formatter = ISO8601DateFormatter()
    func when(_ t: Double) -> String { formatter.string(from: Date(timeIntervalSince1970: t)) }
    if json {
      return JSONValue.array(
        letters.map { d in
          .object([
            ("id", .string(d.item.id)), ("collector", .string(d.item.collector)),
            ("destination", .string("\(d.item.destinationUser)/\(d.item.destinationApp)")),
            ("attempts", .int(d.item.attempts)), ("failed_at", .string(when(d.failedAt))), ("reason", .string(d.reason)),
          ])
        }
      ).rendered() + "\n"
    }
    if letters.isEmpty { return "no dead letters\n" }
    return letters.map { d in
      "\(d.item.id)  \(d.item.collector) -> \(d.item.destinationUser)/\(d.item.destinationApp)  attempts \(d.item.attempts)  \(when(d.failedAt))\n  \(d.reason)\n"
    }.joined()
  }
}
