import Foundation
import GRDB
import SDCCore
import SDCJobs

/// The I-ALiRT store in a SQLite file of its own (`ialirt.sqlite` in the data center folder), with its own migrations.
/// Packets are kept as base64 text, as in ``PostgresIALiRTStore``.
public final class SQLiteIALiRTStore: IALiRTStore {
    let pool: DatabasePool

    /// Opens (creating and migrating it if needed) the store at `path`.
    public init(path: String) throws(IALiRTStoreError) {
        do {
            pool = try openMigratedPool(path: path, migrator: Self.migrator)
        } catch {
            throw .database("cannot open \(path): \(error)")
        }
    }

    /// Never edit a released migration; add one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("ialirt v1: packets, logs, real-time records") { db in
            try db.execute(sql: """
                CREATE TABLE ialirt_packets (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    file_name TEXT NOT NULL,
                    file_time INTEGER NOT NULL,
                    packet_base64 TEXT NOT NULL
                );
                CREATE INDEX ialirt_packets_file ON ialirt_packets (file_name, id);
                CREATE INDEX ialirt_packets_time ON ialirt_packets (file_time);
                CREATE TABLE ialirt_logs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    body TEXT NOT NULL
                );
                CREATE INDEX ialirt_logs_name ON ialirt_logs (name, id);
                CREATE TABLE ialirt_records (
                    instrument TEXT NOT NULL,
                    time_utc TEXT NOT NULL,
                    met INTEGER NOT NULL,
                    ttj2000ns INTEGER NOT NULL,
                    fields TEXT NOT NULL,
                    PRIMARY KEY (instrument, time_utc)
                );
                CREATE INDEX ialirt_records_time ON ialirt_records (time_utc);
                """)
        }
        migrator.registerMigration("ialirt v2: the days that have records") { db in
            // The archive lists days; a DISTINCT over every record would scan them all.
            try db.execute(sql: """
                CREATE TABLE ialirt_days (day TEXT PRIMARY KEY);
                INSERT INTO ialirt_days (day) SELECT DISTINCT replace(substr(time_utc, 1, 10), '-', '') FROM ialirt_records;
                """)
        }
        return migrator
    }

    private func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(IALiRTStoreError) -> T {
        try await pool.write(body, failure: IALiRTStoreError.database)
    }

    private func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(IALiRTStoreError) -> T {
        try await pool.read(body, failure: IALiRTStoreError.database)
    }

    public func save(_ batch: IALiRTBatch) async throws(IALiRTStoreError) {
        let fileName = batch.packetFileName
        let fileTime = batch.packetFileTime
        try await write { db in
            // One prepared statement per table, run once per row.
            let packets = try db.cachedStatement(sql: "INSERT INTO ialirt_packets (file_name, file_time, packet_base64) VALUES (?, ?, ?)")
            for packet in batch.packets {
                try packets.execute(arguments: [fileName, fileTime, Data(packet).base64EncodedString()])
            }
            try db.execute(sql: "INSERT INTO ialirt_logs (name, body) VALUES (?, ?)", arguments: [batch.logName, batch.logText])
            let records = try db.cachedStatement(sql: """
                INSERT INTO ialirt_records (instrument, time_utc, met, ttj2000ns, fields) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (instrument, time_utc) DO UPDATE SET met = excluded.met, ttj2000ns = excluded.ttj2000ns, fields = excluded.fields
                """)
            for record in batch.records {
                try records.execute(arguments: [record.instrument, record.timeUTC, record.met, record.ttj2000ns, record.fieldsJSON])
            }
            for day in batch.days {
                try db.execute(sql: "INSERT INTO ialirt_days (day) VALUES (?) ON CONFLICT (day) DO NOTHING", arguments: [day])
            }
        }
    }

    public func records(instrument: String, start: String, end: String, limit: Int) async throws(IALiRTStoreError) -> [StoredIALiRTRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT instrument, time_utc, met, ttj2000ns, fields FROM ialirt_records
                WHERE instrument = ? AND time_utc BETWEEN ? AND ? ORDER BY time_utc LIMIT ?
                """, arguments: [instrument, start, end, limit]).map { row in
                StoredIALiRTRecord(instrument: row["instrument"], timeUTC: row["time_utc"], met: row["met"], ttj2000ns: row["ttj2000ns"],
                                   fieldsJSON: row["fields"])
            }
        }
    }

    public func recordDays() async throws(IALiRTStoreError) -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT day FROM ialirt_days ORDER BY day")
        }
    }

    public func logNames(prefix: String) async throws(IALiRTStoreError) -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT name FROM ialirt_logs WHERE substr(name, 1, ?) = ? ORDER BY name",
                                arguments: [prefix.count, prefix])
        }
    }

    public func log(named name: String) async throws(IALiRTStoreError) -> String? {
        let parts = try await read { db in
            try String.fetchAll(db, sql: "SELECT body FROM ialirt_logs WHERE name = ? ORDER BY id", arguments: [name])
        }
        return parts.isEmpty ? nil : parts.joined()
    }

    public func packetFileNames(prefix: String, times: ClosedRange<Int64>) async throws(IALiRTStoreError) -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: """
                SELECT DISTINCT file_name FROM ialirt_packets
                WHERE substr(file_name, 1, ?) = ? AND file_time BETWEEN ? AND ? ORDER BY file_name
                """, arguments: [prefix.count, prefix, times.lowerBound, times.upperBound])
        }
    }

    public func packets(inFile name: String) async throws(IALiRTStoreError) -> [UInt8]? {
        let rows = try await read { db in
            try String.fetchAll(db, sql: "SELECT packet_base64 FROM ialirt_packets WHERE file_name = ? ORDER BY id", arguments: [name])
        }
        return try Self.concatenate(rows, file: name)
    }

    /// The packets of a file from their base64 rows.
    static func concatenate(_ rows: [String], file: String) throws(IALiRTStoreError) -> [UInt8]? {
        guard !rows.isEmpty else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(rows.count * IALiRTPacket.length)
        for row in rows {
            guard let packet = Data(base64Encoded: row) else { throw .corruptRow("a packet of \(file) is not base64") }
            bytes += packet
        }
        return bytes
    }
}
