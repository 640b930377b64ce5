import Foundation
import PostgresNIO
import SDCCatalog
import SDCPostgres

/// The I-ALiRT store in the shared PostgreSQL database of a scaled-out data center, with the semantics of
/// ``SQLiteIALiRTStore``: every replica ingests into and serves from the same tables. Its migrations are recorded as
/// component `ialirt` in `schema_migrations`, under the database's migration lock.
public final class PostgresIALiRTStore: IALiRTStore {
    let database: SDCPostgres.PostgresDatabase

    /// Migrates the I-ALiRT tables of `database` and returns the store.
    public init(database: SDCPostgres.PostgresDatabase) async throws(PostgresDatabaseError) {
        self.database = database
        try await database.migrate(component: "ialirt", steps: Self.migrations)
    }

    /// Never edit a released migration; add one.
    static let migrations: [SDCPostgres.PostgresDatabase.MigrationStep] = [
        .init(version: 1, name: "packets, logs, real-time records", statements: [
            """
            CREATE TABLE ialirt_packets (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                file_name TEXT COLLATE "C" NOT NULL,
                file_time BIGINT NOT NULL,
                packet_base64 TEXT NOT NULL)
            """,
            "CREATE INDEX ialirt_packets_file ON ialirt_packets (file_name, id)",
            "CREATE INDEX ialirt_packets_time ON ialirt_packets (file_time)",
            """
            CREATE TABLE ialirt_logs (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name TEXT COLLATE "C" NOT NULL,
                body TEXT NOT NULL)
            """,
            "CREATE INDEX ialirt_logs_name ON ialirt_logs (name, id)",
            """
            CREATE TABLE ialirt_records (
                instrument TEXT COLLATE "C" NOT NULL,
                time_utc TEXT COLLATE "C" NOT NULL,
                met BIGINT NOT NULL,
                ttj2000ns BIGINT NOT NULL,
                fields TEXT NOT NULL,
                PRIMARY KEY (instrument, time_utc))
            """,
            "CREATE INDEX ialirt_records_time ON ialirt_records (time_utc)",
        ]),
        // The archive lists days; a DISTINCT over every record would scan them all.
        .init(version: 2, name: "the days that have records", statements: [
            "CREATE TABLE ialirt_days (day TEXT COLLATE \"C\" PRIMARY KEY)",
            "INSERT INTO ialirt_days (day) SELECT DISTINCT replace(substr(time_utc, 1, 10), '-', '') FROM ialirt_records",
        ]),
    ]

    private func rows(_ query: SQLQuery) async throws(IALiRTStoreError) -> [PostgresRandomAccessRow] {
        try await database.run(query, failure: IALiRTStoreError.database)
    }

    /// Reads the cells of rows, a cell that cannot be decoded being ``IALiRTStoreError/corruptRow(_:)``.
    private static func cells<T>(_ decode: () throws -> T) throws(IALiRTStoreError) -> T {
        do { return try decode() } catch { throw .corruptRow(SDCPostgres.PostgresDatabase.describe(error)) }
    }

    /// Rows per multi-row `INSERT` (each row binds at most 5 values; PostgreSQL allows 65,535 per statement).
    static let rowsPerStatement = 1000

    public func save(_ batch: IALiRTBatch) async throws(IALiRTStoreError) {
        let fileName = batch.packetFileName
        let fileTime = batch.packetFileTime
        var statements: [SQLQuery] = []
        for chunk in stride(from: 0, to: batch.packets.count, by: Self.rowsPerStatement) {
            let packets = batch.packets[chunk..<min(chunk + Self.rowsPerStatement, batch.packets.count)]
            statements.append(SQLQuery(
                "INSERT INTO ialirt_packets (file_name, file_time, packet_base64) VALUES "
                    + Array(repeating: "(?, ?, ?)", count: packets.count).joined(separator: ", "),
                packets.flatMap { [SQLValue.text(fileName), .integer(fileTime), .text(Data($0).base64EncodedString())] }))
        }
        statements.append(SQLQuery("INSERT INTO ialirt_logs (name, body) VALUES (?, ?)", [.text(batch.logName), .text(batch.logText)]))
        // One row per (instrument, time_utc) in a statement: ON CONFLICT cannot touch a row twice, and the last wins.
        var latest: [String: IALiRTRecord] = [:]
        var order: [String] = []
        for record in batch.records {
            let key = record.instrument + " " + record.timeUTC
            if latest.updateValue(record, forKey: key) == nil { order.append(key) }
        }
        let records = order.compactMap { latest[$0] }
        for chunk in stride(from: 0, to: records.count, by: Self.rowsPerStatement) {
            let slice = records[chunk..<min(chunk + Self.rowsPerStatement, records.count)]
            statements.append(SQLQuery(
                "INSERT INTO ialirt_records (instrument, time_utc, met, ttj2000ns, fields) VALUES "
                    + Array(repeating: "(?, ?, ?, ?, ?)", count: slice.count).joined(separator: ", ")
                    + " ON CONFLICT (instrument, time_utc) DO UPDATE SET met = excluded.met, ttj2000ns = excluded.ttj2000ns, fields = excluded.fields",
                slice.flatMap { [SQLValue.text($0.instrument), .text($0.timeUTC), .integer($0.met), .integer($0.ttj2000ns), .text($0.fieldsJSON)] }))
        }
        let days = batch.days
        if !days.isEmpty {
            statements.append(SQLQuery("INSERT INTO ialirt_days (day) VALUES " + Array(repeating: "(?)", count: days.count).joined(separator: ", ")
                                           + " ON CONFLICT (day) DO NOTHING", days.map(SQLValue.text)))
        }
        let all = statements
        try await database.inTransaction({ run in
            for statement in all { _ = try await run(statement) }
        }, failure: IALiRTStoreError.database)
    }

    public func records(instrument: String, start: String, end: String, limit: Int) async throws(IALiRTStoreError) -> [StoredIALiRTRecord] {
        let found = try await rows(SQLQuery("""
            SELECT instrument, time_utc, met, ttj2000ns, fields FROM ialirt_records
            WHERE instrument = ? AND time_utc BETWEEN ? AND ? ORDER BY time_utc LIMIT ?
            """, [.text(instrument), .text(start), .text(end), .integer(Int64(limit))]))
        return try Self.cells {
            try found.map { row in
                StoredIALiRTRecord(instrument: try row["instrument"].decode(String.self), timeUTC: try row["time_utc"].decode(String.self),
                                   met: try row["met"].decode(Int64.self), ttj2000ns: try row["ttj2000ns"].decode(Int64.self),
                                   fieldsJSON: try row["fields"].decode(String.self))
            }
        }
    }

    public func recordDays() async throws(IALiRTStoreError) -> [String] {
        let found = try await rows(SQLQuery("SELECT day FROM ialirt_days ORDER BY day"))
        return try Self.cells { try found.map { try $0["day"].decode(String.self) } }
    }

    public func logNames(prefix: String) async throws(IALiRTStoreError) -> [String] {
        let found = try await rows(SQLQuery("SELECT DISTINCT name FROM ialirt_logs WHERE starts_with(name, ?) ORDER BY name", [.text(prefix)]))
        return try Self.cells { try found.map { try $0["name"].decode(String.self) } }
    }

    public func log(named name: String) async throws(IALiRTStoreError) -> String? {
        let found = try await rows(SQLQuery("SELECT body FROM ialirt_logs WHERE name = ? ORDER BY id", [.text(name)]))
        let parts = try Self.cells { try found.map { try $0["body"].decode(String.self) } }
        return parts.isEmpty ? nil : parts.joined()
    }

    public func packetFileNames(prefix: String, times: ClosedRange<Int64>) async throws(IALiRTStoreError) -> [String] {
        let found = try await rows(SQLQuery("""
            SELECT DISTINCT file_name FROM ialirt_packets WHERE starts_with(file_name, ?) AND file_time BETWEEN ? AND ? ORDER BY file_name
            """, [.text(prefix), .integer(times.lowerBound), .integer(times.upperBound)]))
        return try Self.cells { try found.map { try $0["file_name"].decode(String.self) } }
    }

    public func packets(inFile name: String) async throws(IALiRTStoreError) -> [UInt8]? {
        let found = try await rows(SQLQuery("SELECT packet_base64 FROM ialirt_packets WHERE file_name = ? ORDER BY id", [.text(name)]))
        return try SQLiteIALiRTStore.concatenate(try Self.cells { try found.map { try $0["packet_base64"].decode(String.self) } }, file: name)
    }
}
