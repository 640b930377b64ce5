import PostgresNIO
import SDCAlerts
import SDCCatalog
import SDCCore

/// The alert state of a scaled-out data center in PostgreSQL, with the semantics of ``SQLiteAlertStore``, shared by
/// every replica: two replicas raising the same condition at once are settled by the partial unique index on active
/// conditions (the second finds the first's row and only updates it), so it is notified once.
public final class PostgresAlertStore: AlertStore {
    let database: PostgresDatabase

    /// Migrates the alert tables of `database` (under the migration lock) and returns the store.
    public init(database: PostgresDatabase) async throws(PostgresDatabaseError) {
        self.database = database
        try await database.migrate(component: "alerts", Self.migrations)
    }

    /// Never edit a released migration; add one.
    static let migrations: [PostgresDatabase.Migration] = [
        PostgresDatabase.Migration(version: 1, name: "conditions, outbox, latency, awaited inputs", statements: [
            """
            CREATE TABLE alerts (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                rule TEXT COLLATE "C" NOT NULL,
                subject TEXT COLLATE "C" NOT NULL,
                severity TEXT NOT NULL,
                summary TEXT NOT NULL,
                raised_at BIGINT NOT NULL,
                last_seen_at BIGINT NOT NULL,
                resolved_at BIGINT)
            """,
            "CREATE UNIQUE INDEX alerts_active ON alerts (rule, subject) WHERE resolved_at IS NULL",
            "CREATE INDEX alerts_resolved ON alerts (resolved_at)",
            """
            CREATE TABLE alert_outbox (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                alert_id BIGINT NOT NULL REFERENCES alerts (id),
                transition TEXT NOT NULL,
                created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE product_latency (
                key TEXT COLLATE "C" PRIMARY KEY,
                instrument TEXT NOT NULL,
                level TEXT NOT NULL,
                descriptor TEXT NOT NULL,
                source_name TEXT NOT NULL,
                received_at BIGINT NOT NULL,
                available_at BIGINT NOT NULL)
            """,
            "CREATE INDEX product_latency_available ON product_latency (available_at)",
            """
            CREATE TABLE awaited_inputs (
                name TEXT COLLATE "C" PRIMARY KEY,
                instrument TEXT NOT NULL,
                received_at BIGINT NOT NULL)
            """,
        ]),
    ]

    @discardableResult
    private func rows(_ query: SQLQuery) async throws(AlertStoreError) -> [PostgresRandomAccessRow] {
        try await database.rows(query, failure: AlertStoreError.database)
    }

    public func raise(_ condition: AlertCondition, at now: UTCTime) async throws(AlertStoreError) -> Alert? {
        let values: [SQLValue] = [.text(condition.rule), .text(condition.subject), .text(condition.severity.rawValue), .text(condition.summary),
                                  .integer(now.secondsSince1970)]
        return try await database.transaction({ transaction in
            // The insert waits for a concurrent one of the same condition and then does nothing; the update sees its row.
            let inserted = try await transaction.rows(SQLQuery("""
                INSERT INTO alerts (rule, subject, severity, summary, raised_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (rule, subject) WHERE resolved_at IS NULL DO NOTHING RETURNING id
                """, values + [.integer(now.secondsSince1970)]))
            guard let row = inserted.first else {
                try await transaction.rows(SQLQuery("""
                    UPDATE alerts SET last_seen_at = ?, summary = ?, severity = ? WHERE rule = ? AND subject = ? AND resolved_at IS NULL
                    """, [.integer(now.secondsSince1970), .text(condition.summary), .text(condition.severity.rawValue), .text(condition.rule),
                          .text(condition.subject)]))
                return nil
            }
            let id = try row["id"].decode(Int64.self)
            try await transaction.rows(SQLQuery("INSERT INTO alert_outbox (alert_id, transition, created_at) VALUES (?, ?, ?)",
                                                [.integer(id), .text(AlertTransition.firing.rawValue), .integer(now.secondsSince1970)]))
            return Alert(id: id, condition: condition, raisedAt: now, lastSeenAt: now, resolvedAt: nil)
        }, failure: AlertStoreError.database)
    }

    public func clear(rule: String, subject: String, at now: UTCTime) async throws(AlertStoreError) -> Alert? {
        try await database.transaction({ transaction in
            let updated = try await transaction.rows(SQLQuery("""
                UPDATE alerts SET resolved_at = ? WHERE rule = ? AND subject = ? AND resolved_at IS NULL RETURNING *
                """, [.integer(now.secondsSince1970), .text(rule), .text(subject)]))
            guard let row = updated.first else { return nil }
            let alert = try Self.alert(row)
            try await transaction.rows(SQLQuery("INSERT INTO alert_outbox (alert_id, transition, created_at) VALUES (?, ?, ?)",
                                                [.integer(alert.id), .text(AlertTransition.resolved.rawValue), .integer(now.secondsSince1970)]))
            return alert
        }, failure: AlertStoreError.database)
    }

    public func activeAlerts() async throws(AlertStoreError) -> [Alert] {
        let found = try await rows(SQLQuery("SELECT * FROM alerts WHERE resolved_at IS NULL ORDER BY raised_at, id"))
        var alerts: [Alert] = []
        for row in found { alerts.append(try Self.alert(row)) }
        return AlertOrder.active(alerts)
    }

    public func resolvedAlerts(limit: Int) async throws(AlertStoreError) -> [Alert] {
        let found = try await rows(SQLQuery("SELECT * FROM alerts WHERE resolved_at IS NOT NULL ORDER BY resolved_at DESC, id DESC LIMIT ?",
                                            [.integer(Int64(limit))]))
        var alerts: [Alert] = []
        for row in found { alerts.append(try Self.alert(row)) }
        return alerts
    }

    public func pendingNotifications(limit: Int) async throws(AlertStoreError) -> [AlertNotification] {
        let found = try await rows(SQLQuery("""
            SELECT o.id AS outbox_id, o.transition, o.created_at, a.* FROM alert_outbox o JOIN alerts a ON a.id = o.alert_id
            ORDER BY o.id LIMIT ?
            """, [.integer(Int64(limit))]))
        var notifications: [AlertNotification] = []
        for row in found {
            let alert = try Self.alert(row)
            notifications.append(try Self.cells("alert_outbox", id: "of alert \(alert.id)") {
                let id = try row["outbox_id"].decode(Int64.self)
                let text = try row["transition"].decode(String.self)
                guard let transition = AlertTransition(rawValue: text) else {
                    throw AlertStoreError.corruptRow(table: "alert_outbox", id: "\(id)", reason: "unknown transition '\(text)'")
                }
                return AlertNotification(id: id, alert: alert, transition: transition,
                                         createdAt: UTCTime(secondsSince1970: try row["created_at"].decode(Int64.self)))
            })
        }
        return notifications
    }

    public func finishNotification(id: Int64, at now: UTCTime) async throws(AlertStoreError) {
        try await rows(SQLQuery("DELETE FROM alert_outbox WHERE id = ?", [.integer(id)]))
    }

    public func recordLatency(_ latency: ProductLatency) async throws(AlertStoreError) -> Bool {
        !(try await rows(SQLQuery("""
            INSERT INTO product_latency (key, instrument, level, descriptor, source_name, received_at, available_at)
            VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING key
            """, [.text(latency.key), .text(latency.instrument), .text(latency.level), .text(latency.descriptor), .text(latency.sourceName),
                  .integer(latency.receivedAt.secondsSince1970), .integer(latency.availableAt.secondsSince1970)]))).isEmpty
    }

    public func hasLatency(key: String) async throws(AlertStoreError) -> Bool {
        !(try await rows(SQLQuery("SELECT 1 FROM product_latency WHERE key = ?", [.text(key)]))).isEmpty
    }

    public func latencies(since: UTCTime) async throws(AlertStoreError) -> [ProductLatency] {
        let found = try await rows(SQLQuery("SELECT * FROM product_latency WHERE available_at >= ? ORDER BY available_at",
                                            [.integer(since.secondsSince1970)]))
        var latencies: [ProductLatency] = []
        for row in found {
            latencies.append(try Self.cells("product_latency", id: "?") {
                func text(_ column: String) throws -> String { try row[column].decode(String.self) }
                return ProductLatency(key: try text("key"), instrument: try text("instrument"), level: try text("level"),
                                      descriptor: try text("descriptor"), sourceName: try text("source_name"),
                                      receivedAt: UTCTime(secondsSince1970: try row["received_at"].decode(Int64.self)),
                                      availableAt: UTCTime(secondsSince1970: try row["available_at"].decode(Int64.self)))
            })
        }
        return latencies
    }

    public func expectProducts(of input: AwaitedInput) async throws(AlertStoreError) {
        try await rows(SQLQuery("INSERT INTO awaited_inputs (name, instrument, received_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                                [.text(input.name), .text(input.instrument), .integer(input.receivedAt.secondsSince1970)]))
    }

    public func awaitedInputs(limit: Int) async throws(AlertStoreError) -> [AwaitedInput] {
        let found = try await rows(SQLQuery("SELECT * FROM awaited_inputs ORDER BY received_at, name LIMIT ?", [.integer(Int64(limit))]))
        var inputs: [AwaitedInput] = []
        for row in found {
            inputs.append(try Self.cells("awaited_inputs", id: "?") {
                AwaitedInput(name: try row["name"].decode(String.self), instrument: try row["instrument"].decode(String.self),
                             receivedAt: UTCTime(secondsSince1970: try row["received_at"].decode(Int64.self)))
            })
        }
        return inputs
    }

    public func settle(name: String) async throws(AlertStoreError) {
        try await rows(SQLQuery("DELETE FROM awaited_inputs WHERE name = ?", [.text(name)]))
    }

    /// Runs `decode`, a cell that cannot be read being ``AlertStoreError/corruptRow(table:id:reason:)``.
    private static func cells<T>(_ table: String, id: String, _ decode: () throws -> T) throws(AlertStoreError) -> T {
        do { return try decode() } catch let error as AlertStoreError { throw error } catch {
            throw .corruptRow(table: table, id: id, reason: PostgresDatabase.reason(error))
        }
    }

    static func alert(_ row: PostgresRandomAccessRow) throws(AlertStoreError) -> Alert {
        let id = try cells("alerts", id: "?") { try row["id"].decode(Int64.self) }
        return try cells("alerts", id: "\(id)") {
            func text(_ column: String) throws -> String { try row[column].decode(String.self) }
            let severityText = try text("severity")
            guard let severity = AlertSeverity(rawValue: severityText) else {
                throw AlertStoreError.corruptRow(table: "alerts", id: "\(id)", reason: "unknown severity '\(severityText)'")
            }
            return Alert(id: id, condition: AlertCondition(rule: try text("rule"), subject: try text("subject"), severity: severity,
                                                           summary: try text("summary")),
                         raisedAt: UTCTime(secondsSince1970: try row["raised_at"].decode(Int64.self)),
                         lastSeenAt: UTCTime(secondsSince1970: try row["last_seen_at"].decode(Int64.self)),
                         resolvedAt: try row["resolved_at"].decode(Int64?.self).map { UTCTime(secondsSince1970: $0) })
        }
    }
}
