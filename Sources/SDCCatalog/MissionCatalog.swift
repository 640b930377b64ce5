import Foundation
import GRDB
import SDCCore

/// A file of a SWxSOC-style mission (HERMES, PADRE, ...) that the data center holds, with its processing status and
/// lineage (swxsoc's MetaTracker `science_file`, `status` and `status_origin_association`, `swxsoc.md` §7).
public struct MissionFileRecord: Sendable, Hashable {
    /// The parsed name.
    public var file: SWxSOCFileName
    public var size: Int64
    /// Lowercase hex SHA-256 of the content.
    public var sha256: String
    public var ingestionDate: UTCTime
    /// The storage keys of the files this one was made from (empty for arrivals).
    public var origins: [String]

    public init(file: SWxSOCFileName, size: Int64, sha256: String, ingestionDate: UTCTime, origins: [String] = []) {
        self.file = file
        self.size = size
        self.sha256 = sha256
        self.ingestionDate = ingestionDate
        self.origins = origins
    }

    public var key: String { file.key }
}

/// The processing status of a mission file, as MetaTracker keeps it.
public struct MissionFileStatus: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Waiting to be processed (or nothing processes its instrument or level).
        case pending
        /// Its instrument package processed it.
        case success
        /// Its instrument package failed or produced nothing.
        case failed
    }

    public var state: State
    public var message: String
    public var originalTime: UTCTime
    public var lastTime: UTCTime
    /// How many times the status changed after the first.
    public var reprocessedCount: Int
    /// Seconds the last processing took.
    public var processingSeconds: Double?
}

/// A file kept aside because no hosted mission or instrument accepts its name: never lost, with the reason.
public struct RejectedFile: Error, Sendable, Hashable {
    /// The storage key it is kept under (`rejected/<mission or unknown>/<YYYYMMDDTHHMMSS>-<name>`).
    public var key: String
    public var name: String
    /// The mission the upload was addressed to.
    public var mission: String
    public var reason: String
    public var receivedAt: UTCTime
    public var size: Int64
    public var sha256: String

    public init(key: String, name: String, mission: String, reason: String, receivedAt: UTCTime, size: Int64, sha256: String) {
        self.key = key
        self.name = name
        self.mission = mission
        self.reason = reason
        self.receivedAt = receivedAt
        self.size = size
        self.sha256 = sha256
    }
}

/// Which mission files a query selects; nil fields select everything.
public struct MissionFileQuery: Sendable, Hashable {
    public var mission: String
    public var instrument: String?
    public var level: String?
    public var descriptor: String?
    /// Inclusive bounds on the file time.
    public var startTime: SWxSOCTime?
    public var endTime: SWxSOCTime?

    public init(mission: String, instrument: String? = nil, level: String? = nil, descriptor: String? = nil,
                startTime: SWxSOCTime? = nil, endTime: SWxSOCTime? = nil) {
        self.mission = mission
        self.instrument = instrument
        self.level = level
        self.descriptor = descriptor
        self.startTime = startTime
        self.endTime = endTime
    }
}

/// The catalog of SWxSOC-mission files: one SQLite database (`missions.sqlite` in the data center folder), apart from
/// the IMAP catalog so that IMAP's tables, queries and answers stay exactly as they are.
public final class SQLiteMissionCatalog: Sendable {
    let pool: DatabasePool
    /// The missions whose names the rows hold, to parse them back.
    let missions: MissionSet
    public let path: String

    /// Opens (creating if needed) and migrates the database at `path`.
    public init(path: String, missions: MissionSet) throws(CatalogError) {
        self.path = path
        self.missions = missions
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Self.migrator.migrate(pool)
        } catch {
            throw .database("cannot open \(path): \(error)")
        }
    }

    /// Versioned schema migrations; never edit a registered migration, add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: mission files, status, lineage, rejected files") { db in
            try db.execute(sql: """
                CREATE TABLE mission_files (
                    file_path TEXT PRIMARY KEY NOT NULL,
                    mission TEXT NOT NULL,
                    instrument TEXT NOT NULL,
                    data_level TEXT NOT NULL,
                    descriptor TEXT,
                    file_time_ms INTEGER NOT NULL,
                    name TEXT NOT NULL UNIQUE,
                    size INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,
                    ingestion_date INTEGER NOT NULL
                );
                CREATE INDEX mission_files_by_product ON mission_files (mission, instrument, data_level, file_time_ms);
                CREATE TABLE mission_status (
                    file_path TEXT PRIMARY KEY NOT NULL REFERENCES mission_files (file_path),
                    state TEXT NOT NULL CHECK (state IN ('pending', 'success', 'failed')),
                    message TEXT NOT NULL,
                    original_time INTEGER NOT NULL,
                    last_time INTEGER NOT NULL,
                    reprocessed_count INTEGER NOT NULL DEFAULT 0,
                    processing_seconds REAL
                );
                CREATE TABLE mission_lineage (
                    file_path TEXT NOT NULL REFERENCES mission_files (file_path),
                    origin_path TEXT NOT NULL REFERENCES mission_files (file_path),
                    PRIMARY KEY (file_path, origin_path)
                );
                CREATE TABLE rejected_files (
                    file_path TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    mission TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    received_at INTEGER NOT NULL,
                    size INTEGER NOT NULL,
                    sha256 TEXT NOT NULL
                );
                """)
        }
        return migrator
    }

    private func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(CatalogError) -> T {
        do { return try await pool.write(body) } catch { throw SQLiteCatalog.map(error) }
    }

    private func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(CatalogError) -> T {
        do { return try await pool.read(body) } catch { throw SQLiteCatalog.map(error) }
    }

    /// Catalogs a file with status `pending` and its origins; a second file under the same key is refused.
    public func commit(_ record: MissionFileRecord) async throws(CatalogError) {
        let file = record.file
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM mission_files WHERE file_path = ? OR name = ?", arguments: [file.key, file.name]) == true {
                throw CatalogError.alreadyExists(key: file.key)
            }
            try db.execute(sql: """
                INSERT INTO mission_files (file_path, mission, instrument, data_level, descriptor, file_time_ms, name, size, sha256, ingestion_date)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [file.key, file.mission, file.instrument.name, file.level, file.descriptor, file.time.unixMilliseconds,
                                 file.name, record.size, record.sha256, record.ingestionDate.secondsSince1970])
            let now = record.ingestionDate.secondsSince1970
            try db.execute(sql: "INSERT INTO mission_status (file_path, state, message, original_time, last_time) VALUES (?, 'pending', 'received', ?, ?)",
                           arguments: [file.key, now, now])
            for origin in record.origins {
                try db.execute(sql: "INSERT OR IGNORE INTO mission_lineage (file_path, origin_path) VALUES (?, ?)", arguments: [file.key, origin])
            }
        }
    }

    /// Sets a file's processing status (counting the change in `reprocessed_count`).
    public func setStatus(key: String, _ state: MissionFileStatus.State, message: String, processingSeconds: Double?) async throws(CatalogError) {
        let now = UTCTime.now.secondsSince1970
        let changed = try await write { db in
            try db.execute(sql: """
                UPDATE mission_status SET state = ?, message = ?, last_time = ?, reprocessed_count = reprocessed_count + 1,
                    processing_seconds = COALESCE(?, processing_seconds)
                WHERE file_path = ?
                """, arguments: [state.rawValue, message, now, processingSeconds, key])
            return db.changesCount
        }
        if changed == 0 { throw .notFound(key: key) }
    }

    /// The file under `key`, if cataloged.
    public func record(forKey key: String) async throws(CatalogError) -> MissionFileRecord? {
        try await files(where: "f.file_path = ?", arguments: [key]).first?.record
    }

    /// The file's status.
    public func status(forKey key: String) async throws(CatalogError) -> MissionFileStatus? {
        try await files(where: "f.file_path = ?", arguments: [key]).first?.status
    }

    /// The files a query selects, oldest file time first, each with its status.
    public func files(matching query: MissionFileQuery) async throws(CatalogError) -> [(record: MissionFileRecord, status: MissionFileStatus)] {
        var conditions = ["f.mission = ?"]
        var arguments: [any DatabaseValueConvertible & Sendable] = [query.mission]
        if let instrument = query.instrument { conditions.append("f.instrument = ?"); arguments.append(instrument) }
        if let level = query.level { conditions.append("f.data_level = ?"); arguments.append(level) }
        if let descriptor = query.descriptor { conditions.append("f.descriptor = ?"); arguments.append(descriptor) }
        if let start = query.startTime { conditions.append("f.file_time_ms >= ?"); arguments.append(start.unixMilliseconds) }
        if let end = query.endTime { conditions.append("f.file_time_ms <= ?"); arguments.append(end.unixMilliseconds) }
        return try await files(where: conditions.joined(separator: " AND "), arguments: arguments)
    }

    private func files(where condition: String, arguments: [any DatabaseValueConvertible & Sendable]) async throws(CatalogError)
        -> [(record: MissionFileRecord, status: MissionFileStatus)] {
        struct Fetched: Sendable {
            var name, mission, key, sha256, state, message: String
            var size, ingestionDate, originalTime, lastTime: Int64
            var reprocessedCount: Int
            var processingSeconds: Double?
            var origins: String?
        }
        let rows = try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT f.*, s.state, s.message, s.original_time, s.last_time, s.reprocessed_count, s.processing_seconds,
                       (SELECT group_concat(origin_path, char(10)) FROM mission_lineage l WHERE l.file_path = f.file_path) AS origins
                FROM mission_files f JOIN mission_status s ON s.file_path = f.file_path
                WHERE \(condition) ORDER BY f.file_time_ms, f.name
                """, arguments: StatementArguments(arguments.map { $0 as any DatabaseValueConvertible })).map { row in
                Fetched(name: row["name"], mission: row["mission"], key: row["file_path"], sha256: row["sha256"], state: row["state"],
                        message: row["message"], size: row["size"], ingestionDate: row["ingestion_date"], originalTime: row["original_time"],
                        lastTime: row["last_time"], reprocessedCount: row["reprocessed_count"], processingSeconds: row["processing_seconds"],
                        origins: row["origins"])
            }
        }
        return try rows.map { row throws(CatalogError) in
            guard let mission = missions.mission(named: row.mission) ?? MissionProfile.builtIn[row.mission],
                  case .swxsoc(let file)? = try? mission.parse(row.name) else {
                throw .invalidKey(key: row.key, reason: "\(row.name) is no longer a valid \(row.mission) file name")
            }
            let origins = row.origins.map { $0.split(separator: "\n").map(String.init) } ?? []
            let record = MissionFileRecord(file: file, size: row.size, sha256: row.sha256,
                                           ingestionDate: UTCTime(secondsSince1970: row.ingestionDate), origins: origins)
            let status = MissionFileStatus(state: MissionFileStatus.State(rawValue: row.state) ?? .pending, message: row.message,
                                           originalTime: UTCTime(secondsSince1970: row.originalTime),
                                           lastTime: UTCTime(secondsSince1970: row.lastTime),
                                           reprocessedCount: row.reprocessedCount, processingSeconds: row.processingSeconds)
            return (record, status)
        }
    }

    /// Records a file kept aside.
    public func reject(_ file: RejectedFile) async throws(CatalogError) {
        try await write { db in
            try db.execute(sql: "INSERT INTO rejected_files (file_path, name, mission, reason, received_at, size, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [file.key, file.name, file.mission, file.reason, file.receivedAt.secondsSince1970, file.size, file.sha256])
        }
    }

    /// The files kept aside for `mission` (every mission when nil), newest first.
    public func rejected(mission: String?) async throws(CatalogError) -> [RejectedFile] {
        try await read { db in
            let rows = if let mission {
                try Row.fetchAll(db, sql: "SELECT * FROM rejected_files WHERE mission = ? ORDER BY received_at DESC, file_path", arguments: [mission])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM rejected_files ORDER BY received_at DESC, file_path")
            }
            return rows.map { row in
                RejectedFile(key: row["file_path"], name: row["name"], mission: row["mission"], reason: row["reason"],
                             receivedAt: UTCTime(secondsSince1970: row["received_at"]), size: row["size"], sha256: row["sha256"])
            }
        }
    }
}
