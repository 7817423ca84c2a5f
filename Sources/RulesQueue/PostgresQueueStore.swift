import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The queue in PostgreSQL, shared by any number of `rulec serve` processes (`--queue postgres://…`).
///
/// The tables are SQLite's (`SQLiteQueueStore`) with a `rulec_` prefix, plus `rulec_rate` for the
/// rate limits. What differs, because several processes use them at once:
/// - a lease takes rows with `FOR UPDATE SKIP LOCKED`, so two forwarders never hand out the same due
///   item, and neither waits for the other;
/// - leases found at start are not released: they belong to live processes. A killed process's
///   items come back when their lease ends (`Forwarder.lease`);
/// - each request to a destination reserves its slot in `rulec_rate`, so the rate limit holds over
///   all processes together;
/// - every call gives up after `timeout` (the server or the network is gone) and throws
///   `PostgresQueueStore.Unavailable`; ingest answers 503 then, and the next call reconnects.
///
/// Times are the callers' clocks (seconds since the epoch), as with SQLite: the machines sharing a
/// queue keep their clocks in step (NTP), since a lease ends at the leasing machine's time.
public final class PostgresQueueStore: QueueStore {
  /// Where the server is, read from `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…]`.
  public struct Settings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    /// From the address or `PGPASSWORD`; never written anywhere.
    public var password: String?
    public var database: String
    /// `disable`, `prefer` (the default) or `require`.
    public var sslMode: String

    /// The address without its password, for logs and errors.
    public var redacted: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// Reads an address; the password may also come from `PGPASSWORD` (better: it stays out of
    /// process listings).
    public init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
      guard let parts = URLComponents(string: url), let scheme = parts.scheme, ["postgres", "postgresql"].contains(scheme) else {
        throw BadAddress(reason: "takes postgres://USER@HOST:PORT/DATABASE")
      }
      guard let host = parts.host, !host.isEmpty else { throw BadAddress(reason: "names no host") }
      guard let user = parts.user, !user.isEmpty else { throw BadAddress(reason: "names no user (postgres://USER@HOST/DATABASE)") }
      let database = String(parts.path.drop { $0 == "/" })
      guard !database.isEmpty else { throw BadAddress(reason: "names no database (postgres://USER@HOST/DATABASE)") }
      self.host = host
      self.port = parts.port ?? 5432
      self.user = user.removingPercentEncoding ?? user
      self.password = parts.password.map { $0.removingPercentEncoding ?? $0 } ?? environment["PGPASSWORD"]
      self.database = database.removingPercentEncoding ?? database
      sslMode = "prefer"
      for item in parts.queryItems ?? [] {
        switch item.name {
        case "sslmode":
          guard let mode = item.value, ["disable", "prefer", "require"].contains(mode) else {
            throw BadAddress(reason: "sslmode takes disable, prefer or require")
          }
          sslMode = mode
        default:
          throw BadAddress(reason: "has an unknown parameter '\(item.name)' (only sslmode is read)")
        }
      }
    }
  }

  /// An address that cannot be read; says why without repeating the address (it may hold a password).
  public struct BadAddress: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "the --queue address \(reason)" }
  }

  /// The server did not answer in time, or refused: the operation did not happen (or, for a write
  /// cut off mid-commit, may have: every write is idempotent by item id).
  public struct Unavailable: Error, CustomStringConvertible {
    public var description: String
  }

  public let settings: Settings
  public var location: String { settings.redacted }
  public var isShared: Bool { true }
  /// How long one call may take before it counts as the server being gone.
  public let timeout: Duration
  let client: PostgresClient
  let running: Task<Void, Never>
  let logger: Logger

  /// Connects, and creates the tables if they are missing (one process at a time, under an advisory
  /// lock, so several processes can start together).
  public init(settings: Settings, timeout: Duration = .seconds(5)) async throws {
    self.settings = settings
    self.timeout = timeout
    var logger = Logger(label: "rulec.postgres")
    logger.logLevel = .critical
    self.logger = logger
    let tls: PostgresClient.Configuration.TLS
    switch settings.sslMode {
    case "disable": tls = .disable
    case "require": tls = .require(.makeClientConfiguration())
    default: tls = .prefer(.makeClientConfiguration())
    }
    var configuration = PostgresClient.Configuration(
      host: settings.host, port: settings.port, username: settings.user, password: settings.password, database: settings.database,
      tls: tls)
    configuration.options.connectTimeout = timeout
    configuration.options.maximumConnections = 8
    let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    self.client = client
    running = Task { await client.run() }
    do {
      try await migrate()
    } catch {
      running.cancel()
      throw error
    }
  }

  /// Stops the connections.
  public func close() async {
    running.cancel()
    _ = await running.result
  }

  deinit { running.cancel() }

  static let migrationLock: Int64 = 0x7275_6C65_6351  // "rulecQ"

  static let schema: [String] = [
    """
    CREATE TABLE IF NOT EXISTS rulec_rule_sets (
      version BIGSERIAL PRIMARY KEY,
      digest BYTEA NOT NULL UNIQUE,
      source TEXT NOT NULL,
      created_at DOUBLE PRECISION NOT NULL)
    """,
    """
    CREATE TABLE IF NOT EXISTS rulec_items (
      id TEXT COLLATE "C" PRIMARY KEY,
      collector TEXT NOT NULL,
      destination_user TEXT NOT NULL,
      destination_app TEXT NOT NULL,
      rule_set BIGINT NOT NULL REFERENCES rulec_rule_sets(version),
      payload BYTEA NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      not_before DOUBLE PRECISION NOT NULL,
      leased_until DOUBLE PRECISION NOT NULL DEFAULT 0,
      enqueued_at DOUBLE PRECISION NOT NULL,
      last_error TEXT)
    """,
    "CREATE INDEX IF NOT EXISTS rulec_items_order ON rulec_items (enqueued_at, id)",
    "CREATE INDEX IF NOT EXISTS rulec_items_collector ON rulec_items (collector)",
    """
    CREATE TABLE IF NOT EXISTS rulec_dead_letters (
      id TEXT PRIMARY KEY,
      collector TEXT NOT NULL,
      destination_user TEXT NOT NULL,
      destination_app TEXT NOT NULL,
      rule_set BIGINT NOT NULL,
      payload BYTEA NOT NULL,
      attempts INTEGER NOT NULL,
      reason TEXT NOT NULL,
      failed_at DOUBLE PRECISION NOT NULL)
    """,
    """
    CREATE TABLE IF NOT EXISTS rulec_delivered (
      id TEXT PRIMARY KEY,
      collector TEXT NOT NULL,
      delivered_at DOUBLE PRECISION NOT NULL)
    """,
    "CREATE INDEX IF NOT EXISTS rulec_delivered_at ON rulec_delivered (delivered_at)",
    "CREATE TABLE IF NOT EXISTS rulec_rate (destination TEXT PRIMARY KEY, next_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rulec_paused (collector TEXT PRIMARY KEY, reason TEXT NOT NULL, paused_at DOUBLE PRECISION NOT NULL)",
  ]

  func migrate() async throws {
    let cutoff = Date().timeIntervalSince1970 - SQLiteQueueStore.deliveredRetention
    try await call { client, logger in
      try await client.withTransaction(logger: logger) { connection in
        try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
        for statement in Self.schema { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
        try await connection.query("DELETE FROM rulec_delivered WHERE delivered_at < \(cutoff)", logger: logger)
      }
    }
  }

  /// Runs one operation against the server, giving up after `timeout`.
  @discardableResult
  func call<T: Sendable>(_ operation: @escaping @Sendable (PostgresClient, Logger) async throws -> T) async throws -> T {
    let (client, logger, timeout, location) = (self.client, self.logger, self.timeout, settings.redacted)
    return try await withThrowingTaskGroup(of: T?.self) { group in
      group.addTask { try await operation(client, logger) }
      group.addTask {
        try await Task.sleep(for: timeout)
        return nil
      }
      defer { group.cancelAll() }
      do {
        guard let first = try await group.next(), let value = first else {
          throw Unavailable(description: "the queue at \(location) did not answer within \(timeout)")
        }
        return value
      } catch let error as Unavailable {
        throw error
      } catch {
        throw Unavailable(description: "the queue at \(location) failed: \(Self.describe(error))")
      }
    }
  }

  /// A PostgreSQL error as a person reads it (PostgresNIO's own text hides the server's message).
  static func describe(_ error: Error) -> String {
    if let error = error as? PSQLError {
      if let message = error.serverInfo?[.message] {
        return "\(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
      }
      return "\(error.code)"
    }
    if let error = error as? PostgresTransactionError {
      return describe(error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError ?? error)
    }
    return String(describing: error)
  }

  // MARK: Rule sets

  public func recordRuleSet(_ source: String) async throws -> Int64 {
    let now = Date().timeIntervalSince1970
    return try await call { client, logger in
      try await client.query(
        """
        INSERT INTO rulec_rule_sets (digest, source, created_at) VALUES (sha256(convert_to(\(source), 'UTF8')), \(source), \(now))
        ON CONFLICT (digest) DO NOTHING
        """, logger: logger)
      let rows = try await client.query(
        "SELECT version FROM rulec_rule_sets WHERE digest = sha256(convert_to(\(source), 'UTF8'))", logger: logger)
      for try await version in rows.decode(Int64.self) { return version }
      throw Unavailable(description: "the rule set was not recorded")
    }
  }

  public func ruleSet(_ version: Int64) async throws -> String? {
    try await call { client, logger in
      for try await source in try await client.query("SELECT source FROM rulec_rule_sets WHERE version = \(version)", logger: logger)
        .decode(String.self)
      {
        return source
      }
      return nil
    }
  }

  // MARK: Items

  @discardableResult
  public func enqueue(_ items: [QueuedItem], now: Double) async throws -> Int {
    try await enqueueEach(items, now: now).reduce(0) { $0 + ($1 ? 1 : 0) }
  }

  /// One statement for the whole batch: the request's items are queued together or not at all.
  public func enqueueEach(_ items: [QueuedItem], now: Double) async throws -> [Bool] {
    guard !items.isEmpty else { return [] }
    let added = try await call { client, logger in
      try await client.withConnection { try await Self.insert(items, now: now, on: $0, logger: logger) }
    }
    var remaining = added
    return items.map { remaining.remove($0.id) != nil }
  }

  /// The ids of `items` that were added (not already queued, dead-lettered or delivered).
  static func insert(_ items: [QueuedItem], now: Double, on database: PostgresConnection, logger: Logger) async throws -> Set<String> {
    guard !items.isEmpty else { return [] }
    let query: PostgresQuery = """
      INSERT INTO rulec_items (id, collector, destination_user, destination_app, rule_set, payload, attempts, not_before, enqueued_at)
      SELECT u.id, u.collector, u.destination_user, u.destination_app, u.rule_set, u.payload, 0, \(now), \(now)
      FROM unnest(\(items.map(\.id))::text[], \(items.map(\.collector))::text[], \(items.map(\.destinationUser))::text[],
                  \(items.map(\.destinationApp))::text[], \(items.map(\.ruleSet))::int8[], \(items.map { ByteBuffer(bytes: $0.payload) })::bytea[])
        WITH ORDINALITY AS u(id, collector, destination_user, destination_app, rule_set, payload, position)
      WHERE NOT EXISTS (SELECT 1 FROM rulec_dead_letters d WHERE d.id = u.id)
        AND NOT EXISTS (SELECT 1 FROM rulec_delivered v WHERE v.id = u.id)
      ORDER BY u.position
      ON CONFLICT (id) DO NOTHING
      RETURNING id
      """
    var added = Set<String>()
    for try await id in try await database.query(query, logger: logger).decode(String.self) { added.insert(id) }
    return added
  }

  public func lease(limit: Int, now: Double, lease: Double) async throws -> [QueuedItem] {
    let until = now + lease
    let leased = try await call { client, logger in
      let rows = try await client.query(
        """
        WITH due AS (
          SELECT id FROM rulec_items WHERE not_before <= \(now) AND leased_until <= \(now)
          ORDER BY enqueued_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
        UPDATE rulec_items AS i SET leased_until = \(until) FROM due WHERE i.id = due.id
        RETURNING i.id, i.collector, i.destination_user, i.destination_app, i.rule_set, i.payload, i.attempts::int8, i.last_error,
          i.enqueued_at
        """, logger: logger)
      var out: [(Double, QueuedItem)] = []
      for try await (id, collector, user, app, ruleSet, payload, attempts, lastError, enqueuedAt) in rows.decode(
        (String, String, String, String, Int64, ByteBuffer, Int64, String?, Double).self)
      {
        let item = QueuedItem(
          id: id, collector: collector, destinationUser: user, destinationApp: app, ruleSet: ruleSet, payload: Array(buffer: payload),
          attempts: Int(attempts), lastError: lastError)
        out.append((enqueuedAt, item))
      }
      return out
    }
    // RETURNING keeps no order: the oldest go first, as from SQLite.
    return leased.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1.id < $1.1.id }.map(\.1)
  }

  public func acknowledge(_ ids: [String]) async throws {
    try await acknowledge(ids, followedBy: [], now: 0)
  }

  public func acknowledge(_ ids: [String], followedBy items: [QueuedItem], now: Double) async throws {
    guard !ids.isEmpty || !items.isEmpty else { return }
    let when = Date().timeIntervalSince1970
    let remember: PostgresQuery = """
      WITH gone AS (DELETE FROM rulec_items WHERE id = ANY(\(ids)) RETURNING id, collector)
      INSERT INTO rulec_delivered (id, collector, delivered_at) SELECT id, collector, \(when) FROM gone
      ON CONFLICT (id) DO UPDATE SET delivered_at = EXCLUDED.delivered_at
      """
    try await call { client, logger in
      if items.isEmpty {
        try await client.query(remember, logger: logger)
      } else {
        try await client.withTransaction(logger: logger) { connection in
          if !ids.isEmpty { try await connection.query(remember, logger: logger) }
          _ = try await Self.insert(items, now: now, on: connection, logger: logger)
        }
      }
    }
  }

  public func discard(_ ids: [String]) async throws {
    guard !ids.isEmpty else { return }
    try await call { client, logger in try await client.query("DELETE FROM rulec_items WHERE id = ANY(\(ids))", logger: logger) }
  }

  public func reschedule(_ id: String, notBefore: Double, error: String) async throws {
    try await call { client, logger in
      try await client.query(
        """
        UPDATE rulec_items SET not_before = \(notBefore), leased_until = 0, attempts = attempts + 1, last_error = \(error)
        WHERE id = \(id)
        """, logger: logger)
    }
  }

  public func deadLetter(_ id: String, reason: String, now: Double) async throws {
    try await call { client, logger in
      try await client.query(
        """
        WITH gone AS (DELETE FROM rulec_items WHERE id = \(id) RETURNING *)
        INSERT INTO rulec_dead_letters (id, collector, destination_user, destination_app, rule_set, payload, attempts, reason, failed_at)
        SELECT id, collector, destination_user, destination_app, rule_set, payload, attempts + 1, \(reason), \(now) FROM gone
        ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload, attempts = EXCLUDED.attempts, reason = EXCLUDED.reason,
          failed_at = EXCLUDED.failed_at
        """, logger: logger)
    }
  }

  /// Ends every lease, those of live processes too: for a queue no process is forwarding from
  /// (`rulec serve` never calls it on a shared store).
  public func releaseLeases() async throws {
    try await call { client, logger in try await client.query("UPDATE rulec_items SET leased_until = 0 WHERE leased_until > 0", logger: logger) }
  }

  public func resumeAll() async throws {
    try await call { client, logger in
      try await client.withTransaction(logger: logger) { connection in
        try await connection.query("DELETE FROM rulec_paused", logger: logger)
        try await connection.query("UPDATE rulec_items SET not_before = 0 WHERE not_before > 0", logger: logger)
      }
    }
  }

  public func resume(collectors: Set<String>) async throws {
    guard !collectors.isEmpty else { return }
    let names = Array(collectors)
    try await call { client, logger in
      try await client.withTransaction(logger: logger) { connection in
        try await connection.query("DELETE FROM rulec_paused WHERE collector = ANY(\(names))", logger: logger)
        try await connection.query(
          "UPDATE rulec_items SET not_before = 0 WHERE collector = ANY(\(names)) AND not_before > 0", logger: logger)
      }
    }
  }

  public func resume(destinationUser: String, destinationApp: String, now: Double) async throws {
    try await call { client, logger in
      try await client.query(
        """
        UPDATE rulec_items SET not_before = \(now) WHERE destination_user = \(destinationUser) AND destination_app = \(destinationApp)
          AND not_before > \(now) AND leased_until <= \(now) AND last_error IS NOT NULL
          AND last_error NOT LIKE 'collector paused%' AND last_error <> 'no key'
        """, logger: logger)
    }
  }

  public func pendingCollectors() async throws -> Set<String> {
    try await call { client, logger in
      var out = Set<String>()
      for try await name in try await client.query("SELECT DISTINCT collector FROM rulec_items", logger: logger).decode(String.self) {
        out.insert(name)
      }
      return out
    }
  }

  public func depth() async throws -> Int {
    try await call { client, logger in
      for try await n in try await client.query("SELECT count(*) FROM rulec_items", logger: logger).decode(Int64.self) { return Int(n) }
      return 0
    }
  }

  // MARK: Dead letters

  public func deadLetters(limit: Int) async throws -> [DeadLetter] {
    try await call { client, logger in
      var out: [DeadLetter] = []
      let rows = try await client.query(
        """
        SELECT id, collector, destination_user, destination_app, rule_set, payload, attempts::int8, reason, failed_at
        FROM rulec_dead_letters ORDER BY failed_at, id LIMIT \(limit)
        """, logger: logger)
      for try await (id, collector, user, app, ruleSet, payload, attempts, reason, failedAt) in rows.decode(
        (String, String, String, String, Int64, ByteBuffer, Int64, String, Double).self)
      {
        let item = QueuedItem(
          id: id, collector: collector, destinationUser: user, destinationApp: app, ruleSet: ruleSet, payload: Array(buffer: payload),
          attempts: Int(attempts))
        out.append(DeadLetter(item: item, reason: reason, failedAt: failedAt))
      }
      return out
    }
  }

  @discardableResult
  public func retryDeadLetters(_ ids: [String]?, now: Double) async throws -> Int {
    try await call { client, logger in
      var moved = 0
      let rows = try await client.query(
        """
        WITH gone AS (DELETE FROM rulec_dead_letters WHERE \(ids == nil) OR id = ANY(\(ids ?? [])) RETURNING *),
        queued AS (
          INSERT INTO rulec_items (id, collector, destination_user, destination_app, rule_set, payload, attempts, not_before, enqueued_at)
          SELECT id, collector, destination_user, destination_app, rule_set, payload, 0, \(now), \(now) FROM gone
          ON CONFLICT (id) DO NOTHING RETURNING 1)
        SELECT count(*) FROM gone
        """, logger: logger)
      for try await n in rows.decode(Int64.self) { moved = Int(n) }
      return moved
    }
  }

  @discardableResult
  public func dropDeadLetters(_ ids: [String]?) async throws -> Int {
    try await call { client, logger in
      var dropped = 0
      let rows = try await client.query(
        """
        WITH gone AS (DELETE FROM rulec_dead_letters WHERE \(ids == nil) OR id = ANY(\(ids ?? [])) RETURNING 1)
        SELECT count(*) FROM gone
        """, logger: logger)
      for try await n in rows.decode(Int64.self) { dropped = Int(n) }
      return dropped
    }
  }

  // MARK: Paused collectors

  public func pausedCollectors() async throws -> [String: String]? {
    try await call { client, logger in
      var out: [String: String] = [:]
      for try await (collector, reason) in try await client.query("SELECT collector, reason FROM rulec_paused", logger: logger)
        .decode((String, String).self)
      {
        out[collector] = reason
      }
      return out
    }
  }

  public func pause(collector: String, reason: String, now: Double) async throws {
    try await call { client, logger in
      try await client.query(
        """
        INSERT INTO rulec_paused (collector, reason, paused_at) VALUES (\(collector), \(reason), \(now))
        ON CONFLICT (collector) DO UPDATE SET reason = EXCLUDED.reason, paused_at = EXCLUDED.paused_at
        """, logger: logger)
    }
  }

  // MARK: Rate limits

  public func reserveRequest(destination: String, now: Double, interval: Double) async throws -> Double? {
    try await call { client, logger in
      let rows = try await client.query(
        """
        INSERT INTO rulec_rate AS r (destination, next_at) VALUES (\(destination), \(now) + \(interval))
        ON CONFLICT (destination) DO UPDATE SET next_at = GREATEST(r.next_at, \(now)) + \(interval)
        RETURNING next_at - \(interval)
        """, logger: logger)
      for try await start in rows.decode(Double.self) { return start }
      return now
    }
  }
}
