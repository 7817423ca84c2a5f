import Foundation
import GRDB
import RulesSource

/// The queue in one SQLite file under the state folder, in WAL mode with full synchronisation, so an
/// item written before the ingest request is answered survives a killed process or a power loss.
public final class SQLiteQueueStore: QueueStore {
  let pool: DatabasePool
  public let location: String
  /// Held by a store that forwards (`exclusive`), for as long as it is open.
  let lock: StateLock?

  /// Opens (creating if needed) `DIR/queue.sqlite`. An `exclusive` store (one that leases items: the
  /// forwarder of `serve`, `proxy` or `run --forward`) first takes the folder's `StateLock`, and
  /// throws `StateLock.Held` when another process has it; readers such as `rulec dlq` need none.
  public init(directory: String, exclusive: Bool = false) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    lock = exclusive ? try StateLock(directory: directory) : nil
    location = (directory as NSString).appendingPathComponent("queue.sqlite")
    var configuration = Configuration()
    configuration.busyMode = .timeout(10)
    configuration.prepareDatabase { db in
      try db.execute(sql: "PRAGMA synchronous = FULL")
    }
    pool = try DatabasePool(path: (directory as NSString).appendingPathComponent("queue.sqlite"), configuration: configuration)
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1") { db in
      try db.execute(
        sql: """
          CREATE TABLE rule_sets (
            version INTEGER PRIMARY KEY AUTOINCREMENT,
            digest TEXT NOT NULL,
            source TEXT NOT NULL,
            created_at REAL NOT NULL
          );
          CREATE TABLE items (
            id TEXT PRIMARY KEY,
            collector TEXT NOT NULL,
            destination_user TEXT NOT NULL,
            destination_app TEXT NOT NULL,
            rule_set INTEGER NOT NULL REFERENCES rule_sets(version),
            payload BLOB NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before REAL NOT NULL,
            leased_until REAL NOT NULL DEFAULT 0,
            enqueued_at REAL NOT NULL,
            last_error TEXT
          );
          CREATE INDEX items_due ON items(not_before, leased_until);
          CREATE INDEX rule_sets_digest ON rule_sets(digest);
          CREATE TABLE dead_letters (
            id TEXT PRIMARY KEY,
            collector TEXT NOT NULL,
            destination_user TEXT NOT NULL,
            destination_app TEXT NOT NULL,
            rule_set INTEGER NOT NULL,
            payload BLOB NOT NULL,
            attempts INTEGER NOT NULL,
            reason TEXT NOT NULL,
            failed_at REAL NOT NULL
          );
          """)
    }
    migrator.registerMigration("v2 delivered") { db in
      // Ids the destinations have, so that a second backfill over the same recording (a resume after
      // a crash) or an output posted twice queues nothing again. Kept `deliveredRetention` seconds.
      try db.execute(
        sql: """
          CREATE TABLE delivered (
            id TEXT PRIMARY KEY,
            collector TEXT NOT NULL,
            delivered_at REAL NOT NULL
          );
          CREATE INDEX delivered_at ON delivered(delivered_at);
          """)
    }
    try migrator.migrate(pool)
    let cutoff = Date().timeIntervalSince1970 - Self.deliveredRetention
    try pool.write { db in try db.execute(sql: "DELETE FROM delivered WHERE delivered_at < ?", arguments: [cutoff]) }
  }

  /// How long a delivered id is remembered: 30 days. An input accepted again after that is sent
  /// again, and the destination answers that it already has it.
  public static let deliveredRetention: Double = 30 * 86400

  /// Gives up the state folder's lock (an exclusive store), for a process that is done forwarding.
  public func releaseLock() { lock?.release() }

  /// The journal mode in force (`wal`), for tests and `rulec serve`'s start-up log.
  public func journalMode() throws -> String {
    try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
  }

  public func recordRuleSet(_ source: String) throws -> Int64 {
    let digest = String(format: "%016llx", Self.digest(source))
    return try pool.write { db in
      if let version = try Int64.fetchOne(db, sql: "SELECT version FROM rule_sets WHERE digest = ? AND source = ?", arguments: [digest, source]) {
        return version
      }
      try db.execute(
        sql: "INSERT INTO rule_sets (digest, source, created_at) VALUES (?, ?, ?)",
        arguments: [digest, source, Date().timeIntervalSince1970])
      return db.lastInsertedRowID
    }
  }

  static func digest(_ s: String) -> UInt64 { Bytes.fnv1a64(s.utf8) }

  public func ruleSet(_ version: Int64) throws -> String? {
    try pool.read { db in try String.fetchOne(db, sql: "SELECT source FROM rule_sets WHERE version = ?", arguments: [version]) }
  }

  @discardableResult
  public func enqueue(_ items: [QueuedItem], now: Double) throws -> Int {
    try enqueueEach(items, now: now).reduce(0) { $0 + ($1 ? 1 : 0) }
  }

  public func enqueueEach(_ items: [QueuedItem], now: Double) throws -> [Bool] {
    guard !items.isEmpty else { return [] }
    return try pool.write { db in try Self.insert(items, now: now, db) }
  }

  @discardableResult
  static func insert(_ items: [QueuedItem], now: Double, _ db: Database) throws -> [Bool] {
    guard !items.isEmpty else { return [] }
    var added: [Bool] = []
    added.reserveCapacity(items.count)
    let insert = try db.makeStatement(
      sql: """
        INSERT INTO items (id, collector, destination_user, destination_app, rule_set, payload, attempts, not_before, enqueued_at)
        SELECT ?, ?, ?, ?, ?, ?, 0, ?, ?
        WHERE NOT EXISTS (SELECT 1 FROM dead_letters WHERE id = ?) AND NOT EXISTS (SELECT 1 FROM delivered WHERE id = ?)
        ON CONFLICT(id) DO NOTHING
        """)
    for item in items {
      try insert.execute(arguments: [
        item.id, item.collector, item.destinationUser, item.destinationApp, item.ruleSet, Data(item.payload), now, now,
        item.id, item.id,
      ])
      added.append(db.changesCount > 0)
    }
    return added
  }

  static func item(_ row: Row) -> QueuedItem {
    QueuedItem(
      id: row["id"], collector: row["collector"], destinationUser: row["destination_user"],
      destinationApp: row["destination_app"], ruleSet: row["rule_set"], payload: [UInt8](row["payload"] as Data),
      attempts: row["attempts"], lastError: row["last_error"])
  }

  public func lease(limit: Int, now: Double, lease: Double) throws -> [QueuedItem] {
    try pool.write { db in
      let rows = try Row.fetchAll(
        db,
        sql: "SELECT * FROM items WHERE not_before <= ? AND leased_until <= ? ORDER BY enqueued_at, id LIMIT ?",
        arguments: [now, now, limit])
      let update = try db.makeStatement(sql: "UPDATE items SET leased_until = ? WHERE id = ?")
      for row in rows { try update.execute(arguments: [now + lease, row["id"] as String]) }
      return rows.map(Self.item)
    }
  }

  public func acknowledge(_ ids: [String]) throws {
    try acknowledge(ids, followedBy: [], now: 0)
  }

  public func acknowledge(_ ids: [String], followedBy items: [QueuedItem], now: Double) throws {
    guard !ids.isEmpty || !items.isEmpty else { return }
    try pool.write { db in
      let remember = try db.makeStatement(
        sql: "INSERT OR REPLACE INTO delivered (id, collector, delivered_at) SELECT id, collector, ? FROM items WHERE id = ?")
      let delete = try db.makeStatement(sql: "DELETE FROM items WHERE id = ?")
      let when = Date().timeIntervalSince1970
      for id in ids {
        try remember.execute(arguments: [when, id])
        try delete.execute(arguments: [id])
      }
      try Self.insert(items, now: now, db)
    }
  }

  public func discard(_ ids: [String]) throws {
    guard !ids.isEmpty else { return }
    try pool.write { db in
      let delete = try db.makeStatement(sql: "DELETE FROM items WHERE id = ?")
      for id in ids { try delete.execute(arguments: [id]) }
    }
  }

  public func reschedule(_ id: String, notBefore: Double, error: String) throws {
    try pool.write { db in
      try db.execute(
        sql: "UPDATE items SET not_before = ?, leased_until = 0, attempts = attempts + 1, last_error = ? WHERE id = ?",
        arguments: [notBefore, error, id])
    }
  }

  public func deadLetter(_ id: String, reason: String, now: Double) throws {
    try pool.write { db in
      try db.execute(
        sql: """
          INSERT OR REPLACE INTO dead_letters (id, collector, destination_user, destination_app, rule_set, payload, attempts, reason, failed_at)
          SELECT id, collector, destination_user, destination_app, rule_set, payload, attempts + 1, ?, ? FROM items WHERE id = ?
          """, arguments: [reason, now, id])
      try db.execute(sql: "DELETE FROM items WHERE id = ?", arguments: [id])
    }
  }

  public func releaseLeases() throws {
    try pool.write { db in try db.execute(sql: "UPDATE items SET leased_until = 0 WHERE leased_until > 0") }
  }

  public func resumeAll() throws {
    try pool.write { db in try db.execute(sql: "UPDATE items SET not_before = 0 WHERE not_before > 0") }
  }

  public func resume(collectors: Set<String>) throws {
    guard !collectors.isEmpty else { return }
    try pool.write { db in
      let update = try db.makeStatement(sql: "UPDATE items SET not_before = 0 WHERE collector = ? AND not_before > 0")
      for collector in collectors { try update.execute(arguments: [collector]) }
    }
  }

  public func resume(destinationUser: String, destinationApp: String, now: Double) throws {
    try pool.write { db in
      try db.execute(
        sql: """
          UPDATE items SET not_before = ? WHERE destination_user = ? AND destination_app = ? AND not_before > ?
            AND leased_until <= ? AND last_error IS NOT NULL AND last_error NOT LIKE 'collector paused%' AND last_error != 'no key'
          """, arguments: [now, destinationUser, destinationApp, now, now])
    }
  }

  public func pendingCollectors() throws -> Set<String> {
    try pool.read { db in Set(try String.fetchAll(db, sql: "SELECT DISTINCT collector FROM items")) }
  }

  public func depth() throws -> Int {
    try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM items") ?? 0 }
  }

  public func deadLetters(limit: Int) throws -> [DeadLetter] {
    try pool.read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM dead_letters ORDER BY failed_at, id LIMIT ?", arguments: [limit]).map { row in
        DeadLetter(item: Self.item(row), reason: row["reason"], failedAt: row["failed_at"])
      }
    }
  }

  @discardableResult
  public func retryDeadLetters(_ ids: [String]?, now: Double) throws -> Int {
    try pool.write { db in
      let filter = ids.map { "WHERE id IN (" + Array(repeating: "?", count: $0.count).joined(separator: ",") + ")" } ?? ""
      let arguments = StatementArguments(ids ?? [])
      try db.execute(
        sql: """
          INSERT OR IGNORE INTO items (id, collector, destination_user, destination_app, rule_set, payload, attempts, not_before, enqueued_at)
          SELECT id, collector, destination_user, destination_app, rule_set, payload, 0, \(now), \(now) FROM dead_letters \(filter)
          """, arguments: arguments)
      try db.execute(sql: "DELETE FROM dead_letters \(filter)", arguments: arguments)
      return db.changesCount
    }
  }

  @discardableResult
  public func dropDeadLetters(_ ids: [String]?) throws -> Int {
    try pool.write { db in
      let filter = ids.map { "WHERE id IN (" + Array(repeating: "?", count: $0.count).joined(separator: ",") + ")" } ?? ""
      try db.execute(sql: "DELETE FROM dead_letters \(filter)", arguments: StatementArguments(ids ?? []))
      return db.changesCount
    }
  }
}
