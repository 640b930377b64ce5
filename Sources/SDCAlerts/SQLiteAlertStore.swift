import Foundation
import GRDB
import SDCCore
import SDCJobs

/// The alert state of an embedded data center in a SQLite database (`alerts.sqlite` in its folder): its own tables
/// and migrations. Every process on the folder shares it (WAL; writers wait up to 10 s for each other).
public final class SQLiteAlertStore: AlertStore {
    let pool: DatabasePool

    public init(path: String) throws(AlertStoreError) {
        do {
            pool = try openMigratedPool(path: path, migrator: Self.migrator)
        } catch {
            throw .database("cannot open \(path): \(error)")
        }
    }

    /// Never edit a released migration; add one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("alerts v1: conditions, outbox, latency, awaited inputs") { db in
            try db.execute(sql: """
                CREATE TABLE alerts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    rule TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    raised_at INTEGER NOT NULL,
                    last_seen_at INTEGER NOT NULL,
                    resolved_at INTEGER
                );
                CREATE UNIQUE INDEX alerts_active ON alerts (rule, subject) WHERE resolved_at IS NULL;
                CREATE INDEX alerts_resolved ON alerts (resolved_at);
                CREATE TABLE alert_outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    alert_id INTEGER NOT NULL REFERENCES alerts (id),
                    transition TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE product_latency (
                    key TEXT PRIMARY KEY,
                    instrument TEXT NOT NULL,
                    level TEXT NOT NULL,
                    descriptor TEXT NOT NULL,
                    source_name TEXT NOT NULL,
                    received_at INTEGER NOT NULL,
                    available_at INTEGER NOT NULL
                );
                CREATE INDEX product_latency_available ON product_latency (available_at);
                CREATE TABLE awaited_inputs (
                    name TEXT PRIMARY KEY,
                    instrument TEXT NOT NULL,
                    received_at INTEGER NOT NULL
                );
                """)
        }
        return migrator
    }

    private func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(AlertStoreError) -> T {
        try await pool.write(body, failure: AlertStoreError.database)
    }

    private func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(AlertStoreError) -> T {
        try await pool.read(body, failure: AlertStoreError.database)
    }

    public func raise(_ condition: AlertCondition, at now: UTCTime) async throws(AlertStoreError) -> Alert? {
        try await write { db in
            try db.execute(sql: """
                UPDATE alerts SET last_seen_at = ?, summary = ?, severity = ? WHERE rule = ? AND subject = ? AND resolved_at IS NULL
                """, arguments: [now.secondsSince1970, condition.summary, condition.severity.rawValue, condition.rule, condition.subject])
            if db.changesCount > 0 { return nil }
            try db.execute(sql: """
                INSERT INTO alerts (rule, subject, severity, summary, raised_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [condition.rule, condition.subject, condition.severity.rawValue, condition.summary,
                                 now.secondsSince1970, now.secondsSince1970])
            let id = db.lastInsertedRowID
            try db.execute(sql: "INSERT INTO alert_outbox (alert_id, transition, created_at) VALUES (?, ?, ?)",
                           arguments: [id, AlertTransition.firing.rawValue, now.secondsSince1970])
            return Alert(id: id, condition: condition, raisedAt: now, lastSeenAt: now, resolvedAt: nil)
        }
    }

    public func clear(rule: String, subject: String, at now: UTCTime) async throws(AlertStoreError) -> Alert? {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM alerts WHERE rule = ? AND subject = ? AND resolved_at IS NULL",
                                             arguments: [rule, subject]) else { return nil }
            var alert = try Self.alert(row)
            try db.execute(sql: "UPDATE alerts SET resolved_at = ? WHERE id = ?", arguments: [now.secondsSince1970, alert.id])
            try db.execute(sql: "INSERT INTO alert_outbox (alert_id, transition, created_at) VALUES (?, ?, ?)",
                           arguments: [alert.id, AlertTransition.resolved.rawValue, now.secondsSince1970])
            alert.resolvedAt = now
            return alert
        }
    }

    public func activeAlerts() async throws(AlertStoreError) -> [Alert] {
        let alerts = try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alerts WHERE resolved_at IS NULL ORDER BY raised_at, id").map(Self.alert)
        }
        return AlertOrder.active(alerts)
    }

    public func resolvedAlerts(limit: Int) async throws(AlertStoreError) -> [Alert] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alerts WHERE resolved_at IS NOT NULL ORDER BY resolved_at DESC, id DESC LIMIT ?",
                             arguments: [limit]).map(Self.alert)
        }
    }

    public func pendingNotifications(limit: Int) async throws(AlertStoreError) -> [AlertNotification] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT o.id AS outbox_id, o.transition, o.created_at, a.* FROM alert_outbox o JOIN alerts a ON a.id = o.alert_id
                ORDER BY o.id LIMIT ?
                """, arguments: [limit]).map { row in
                let id: Int64 = row["outbox_id"]
                let text: String = row["transition"]
                guard let transition = AlertTransition(rawValue: text) else {
                    throw AlertStoreError.corruptRow(table: "alert_outbox", id: "\(id)", reason: "unknown transition '\(text)'")
                }
                return AlertNotification(id: id, alert: try Self.alert(row), transition: transition,
                                         createdAt: UTCTime(secondsSince1970: row["created_at"]))
            }
        }
    }

    public func finishNotification(id: Int64, at now: UTCTime) async throws(AlertStoreError) {
        try await write { db in try db.execute(sql: "DELETE FROM alert_outbox WHERE id = ?", arguments: [id]) }
    }

    public func recordLatency(_ latency: ProductLatency) async throws(AlertStoreError) -> Bool {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO product_latency (key, instrument, level, descriptor, source_name, received_at, available_at)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING
                """, arguments: [latency.key, latency.instrument, latency.level, latency.descriptor, latency.sourceName,
                                 latency.receivedAt.secondsSince1970, latency.availableAt.secondsSince1970])
            return db.changesCount > 0
        }
    }

    public func hasLatency(key: String) async throws(AlertStoreError) -> Bool {
        try await read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM product_latency WHERE key = ?", arguments: [key]) ?? false }
    }

    public func latencies(since: UTCTime) async throws(AlertStoreError) -> [ProductLatency] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM product_latency WHERE available_at >= ? ORDER BY available_at",
                             arguments: [since.secondsSince1970]).map { row in
                ProductLatency(key: row["key"], instrument: row["instrument"], level: row["level"], descriptor: row["descriptor"],
                               sourceName: row["source_name"], receivedAt: UTCTime(secondsSince1970: row["received_at"]),
                               availableAt: UTCTime(secondsSince1970: row["available_at"]))
            }
        }
    }

    public func expectProducts(of input: AwaitedInput) async throws(AlertStoreError) {
        try await write { db in
            try db.execute(sql: "INSERT INTO awaited_inputs (name, instrument, received_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                           arguments: [input.name, input.instrument, input.receivedAt.secondsSince1970])
        }
    }

    public func awaitedInputs(limit: Int) async throws(AlertStoreError) -> [AwaitedInput] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM awaited_inputs ORDER BY received_at, name LIMIT ?", arguments: [limit]).map { row in
                AwaitedInput(name: row["name"], instrument: row["instrument"], receivedAt: UTCTime(secondsSince1970: row["received_at"]))
            }
        }
    }

    public func settle(name: String) async throws(AlertStoreError) {
        try await write { db in try db.execute(sql: "DELETE FROM awaited_inputs WHERE name = ?", arguments: [name]) }
    }

    static func alert(_ row: Row) throws -> Alert {
        let id: Int64 = row["id"]
        let severityText: String = row["severity"]
        guard let severity = AlertSeverity(rawValue: severityText) else {
            throw AlertStoreError.corruptRow(table: "alerts", id: "\(id)", reason: "unknown severity '\(severityText)'")
        }
        let resolved: Int64? = row["resolved_at"]
        return Alert(id: id, condition: AlertCondition(rule: row["rule"], subject: row["subject"], severity: severity, summary: row["summary"]),
                     raisedAt: UTCTime(secondsSince1970: row["raised_at"]), lastSeenAt: UTCTime(secondsSince1970: row["last_seen_at"]),
                     resolvedAt: resolved.map { UTCTime(secondsSince1970: $0) })
    }
}

/// The order alerts are listed in, the same for every store.
package enum AlertOrder {
    /// Most severe first, then oldest first.
    package static func active(_ alerts: [Alert]) -> [Alert] {
        alerts.sorted { ($1.condition.severity, $0.raisedAt.secondsSince1970, $0.id) < ($0.condition.severity, $1.raisedAt.secondsSince1970, $1.id) }
    }
}
