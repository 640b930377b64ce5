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

    /// The message of a `pending` file that `owner` is processing (see ``MissionCatalog/claim(key:owner:expecting:)``).
    public static func claimMessage(_ owner: ProcessIdentity) -> String { claimPrefix + owner.description }

    /// The process processing this file, when it is claimed.
    public var claimant: ProcessIdentity? {
        guard state == .pending, message.hasPrefix(Self.claimPrefix) else { return nil }
        return ProcessIdentity(String(message.dropFirst(Self.claimPrefix.count)))
    }

    private static let claimPrefix = "processing by "
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

/// Which mission files a query selects; nil fields select everything. The files come in one order, file time then
/// name, so that a page is the `limit` files after the last file of the page before (`after`): pages cover every file
/// exactly once, however large the mission.
public struct MissionFileQuery: Sendable, Hashable {
    public var mission: String
    public var instrument: String?
    public var level: String?
    public var descriptor: String?
    /// Inclusive bounds on the file time.
    public var startTime: SWxSOCTime?
    public var endTime: SWxSOCTime?
    /// Only files in this processing state.
    public var state: MissionFileStatus.State?
    /// Only files after this one in the order (file time, then name); it need not be cataloged.
    public var after: SWxSOCFileName?
    /// At most this many files (nil: all). A limit below zero is read as zero.
    public var limit: Int?

    public init(mission: String, instrument: String? = nil, level: String? = nil, descriptor: String? = nil,
                startTime: SWxSOCTime? = nil, endTime: SWxSOCTime? = nil, state: MissionFileStatus.State? = nil,
                after: SWxSOCFileName? = nil, limit: Int? = nil) {
        self.mission = mission
        self.instrument = instrument
        self.level = level
        self.descriptor = descriptor
        self.startTime = startTime
        self.endTime = endTime
        self.state = state
        self.after = after
        self.limit = limit
    }
}

/// A mission's files counted in the catalog: how many and how large, by instrument, level and processing state, and
/// how many were kept aside.
public struct MissionFileCounts: Sendable, Hashable {
    /// The files of one instrument and level in one state.
    public struct Group: Sendable, Hashable {
        public var instrument: String
        public var level: String
        public var state: MissionFileStatus.State
        /// Files in the group.
        public var files: Int
        /// Of them, files made from other files (with origins); the others were received.
        public var produced: Int
        /// Their total size.
        public var bytes: Int64

        public init(instrument: String, level: String, state: MissionFileStatus.State, files: Int, produced: Int, bytes: Int64) {
            self.instrument = instrument
            self.level = level
            self.state = state
            self.files = files
            self.produced = produced
            self.bytes = bytes
        }
    }

    /// Sorted by instrument, level and state; a group with no file is left out.
    public var groups: [Group]
    /// Files kept aside for the mission.
    public var rejected: Int

    public init(groups: [Group], rejected: Int) {
        self.groups = groups
        self.rejected = rejected
    }

    /// All the mission's cataloged files.
    public var files: Int { groups.reduce(0) { $0 + $1.files } }
    /// Their total size (saturating).
    public var bytes: Int64 {
        groups.reduce(0) { total, group in
            let (sum, overflow) = total.addingReportingOverflow(group.bytes)
            return overflow ? .max : sum
        }
    }

    /// The files in `state`.
    public func files(in state: MissionFileStatus.State) -> Int {
        groups.reduce(0) { $0 + ($1.state == state ? $1.files : 0) }
    }
}

/// The catalog of SWxSOC-mission files (HERMES, PADRE, ...): which files are stored, their processing status, their
/// lineage and the files kept aside. Kept apart from the IMAP catalog so that IMAP's tables, queries and answers stay
/// exactly as they are. Two implementations behave alike: ``SQLiteMissionCatalog`` (`missions.sqlite` in the data
/// center folder) and `PostgresMissionCatalog` (tables of the shared database, for replicas); `SDCAssembly` chooses.
public protocol MissionCatalog: Sendable {
    /// Catalogs a file with status `pending` (message `received`) and its origins. A file already cataloged under the
    /// same key or name is ``CatalogError/alreadyExists(key:)`` (of two concurrent commits exactly one succeeds); an
    /// origin that is not cataloged is ``CatalogError/notFound(key:)`` naming it, and nothing is cataloged.
    func commit(_ record: MissionFileRecord) async throws(CatalogError)

    /// Sets a file's processing status, counting the change in ``MissionFileStatus/reprocessedCount``; a nil
    /// `processingSeconds` keeps the last processing time. An unknown key is ``CatalogError/notFound(key:)``.
    func setStatus(key: String, _ state: MissionFileStatus.State, message: String, processingSeconds: Double?) async throws(CatalogError)

    /// Claims a `pending` file for processing by `owner`, atomically: its message becomes ``MissionFileStatus/claimMessage(_:)``
    /// only if it still is `expected` (the message the caller read), so that of several processes sharing the catalog
    /// exactly one processes each file. Returns whether this call claimed it. The change is not counted as a reprocess.
    func claim(key: String, owner: ProcessIdentity, expecting expected: String) async throws(CatalogError) -> Bool

    /// The file under `key` and its status, if cataloged.
    func file(forKey key: String) async throws(CatalogError) -> (record: MissionFileRecord, status: MissionFileStatus)?

    /// The files a query selects, oldest file time first (then by name), each with its status; origins sorted. The
    /// query's `after` and `limit` select one page, in SQL.
    func files(matching query: MissionFileQuery) async throws(CatalogError) -> [(record: MissionFileRecord, status: MissionFileStatus)]

    /// How many files a query selects, counted in SQL: its `limit` is ignored, its `after` is not.
    func count(matching query: MissionFileQuery) async throws(CatalogError) -> Int

    /// The files of `mission` and their bytes by instrument, level and state, and its files kept aside, counted in SQL.
    func counts(mission: String) async throws(CatalogError) -> MissionFileCounts

    /// The `limit` files of `mission` whose status changed last, newest change first (then by key, descending).
    func recentlyChanged(mission: String, limit: Int) async throws(CatalogError) -> [(record: MissionFileRecord, status: MissionFileStatus)]

    /// Records a file kept aside; a second record under the same key is ``CatalogError/alreadyExists(key:)``.
    func reject(_ file: RejectedFile) async throws(CatalogError)

    /// The files kept aside for `mission` (every mission when nil), newest first.
    func rejected(mission: String?) async throws(CatalogError) -> [RejectedFile]
}

extension MissionCatalog {
    /// The file under `key`, if cataloged.
    public func record(forKey key: String) async throws(CatalogError) -> MissionFileRecord? {
        try await file(forKey: key)?.record
    }

    /// The status of the file under `key`, if cataloged.
    public func status(forKey key: String) async throws(CatalogError) -> MissionFileStatus? {
        try await file(forKey: key)?.status
    }
}

/// What the two mission catalogs share: their statements (one table shape, in the SQL SQLite and PostgreSQL both
/// speak) and the one way a row becomes a record and a status.
package enum MissionCatalogSQL {
    /// The files and their status that `condition` selects, oldest file time first unless `order` says otherwise,
    /// at most `limit`. `originsAggregate` is the backend's expression joining the `origin_path`s of `l` with newlines.
    package static func selectFiles(_ condition: SQLQuery, originsAggregate: String, order: String = "f.file_time_ms, f.name",
                                    limit: Int? = nil) -> SQLQuery {
        var values = condition.values
        var limitClause = ""
        if let limit {
            limitClause = " LIMIT ?"
            values.append(.integer(Int64(max(limit, 0))))
        }
        return SQLQuery("""
            SELECT f.*, s.state, s.message, s.original_time, s.last_time, s.reprocessed_count, s.processing_seconds,
                   (SELECT \(originsAggregate) FROM mission_lineage l WHERE l.file_path = f.file_path) AS origins
            FROM mission_files f JOIN mission_status s ON s.file_path = f.file_path
            WHERE \(condition.sql) ORDER BY \(order)\(limitClause)
            """, values)
    }

    /// The page of files `query` selects, each with its status.
    package static func selectFiles(_ query: MissionFileQuery, originsAggregate: String) -> SQLQuery {
        selectFiles(condition(query), originsAggregate: originsAggregate, limit: query.limit)
    }

    /// The files of `mission` whose status changed last, newest first.
    package static func selectRecentlyChanged(mission: String, limit: Int, originsAggregate: String) -> SQLQuery {
        selectFiles(SQLQuery("f.mission = ?", [.text(mission)]), originsAggregate: originsAggregate,
                    order: "s.last_time DESC, f.file_path DESC", limit: limit)
    }

    /// How many files `query` selects (`total`), whatever its limit.
    package static func countFiles(_ query: MissionFileQuery) -> SQLQuery {
        let condition = condition(query)
        return SQLQuery("SELECT CAST(COUNT(*) AS BIGINT) AS total FROM mission_files f JOIN mission_status s ON s.file_path = f.file_path WHERE \(condition.sql)",
                        condition.values)
    }

    /// The files of `mission` by instrument, level and state: `files`, `produced` (with origins) and `bytes`.
    package static func countGroups(mission: String) -> SQLQuery {
        SQLQuery("""
            SELECT f.instrument, f.data_level, s.state, CAST(COUNT(*) AS BIGINT) AS files,
                   CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM mission_lineage l WHERE l.file_path = f.file_path) THEN 1 ELSE 0 END) AS BIGINT) AS produced,
                   CAST(SUM(f.size) AS BIGINT) AS bytes
            FROM mission_files f JOIN mission_status s ON s.file_path = f.file_path
            WHERE f.mission = ? GROUP BY f.instrument, f.data_level, s.state ORDER BY f.instrument, f.data_level, s.state
            """, [.text(mission)])
    }

    /// How many files are kept aside for `mission` (`total`).
    package static func countRejected(mission: String) -> SQLQuery {
        SQLQuery("SELECT CAST(COUNT(*) AS BIGINT) AS total FROM rejected_files WHERE mission = ?", [.text(mission)])
    }

    /// One row of ``countGroups(mission:)`` as a group; an unknown state is a damaged row.
    package static func group(instrument: String, level: String, state: String, files: Int64, produced: Int64,
                              bytes: Int64) throws(CatalogError) -> MissionFileCounts.Group {
        guard let known = MissionFileStatus.State(rawValue: state) else {
            throw .database("damaged mission_status row of \(instrument) \(level): unknown state '\(state)'")
        }
        return MissionFileCounts.Group(instrument: instrument, level: level, state: known, files: Int(files), produced: Int(produced),
                                       bytes: bytes)
    }

    /// The condition selecting one key.
    package static func key(_ key: String) -> SQLQuery { SQLQuery("f.file_path = ?", [.text(key)]) }

    /// The condition of a query: equality on (mission, instrument, level[, descriptor]) and a range on the file time,
    /// the order of the `mission_files_by_product` index.
    package static func condition(_ query: MissionFileQuery) -> SQLQuery {
        var conditions = ["f.mission = ?"]
        var values: [SQLValue] = [.text(query.mission)]
        if let instrument = query.instrument { conditions.append("f.instrument = ?"); values.append(.text(instrument)) }
        if let level = query.level { conditions.append("f.data_level = ?"); values.append(.text(level)) }
        if let descriptor = query.descriptor { conditions.append("f.descriptor = ?"); values.append(.text(descriptor)) }
        if let start = query.startTime { conditions.append("f.file_time_ms >= ?"); values.append(.integer(start.unixMilliseconds)) }
        if let end = query.endTime { conditions.append("f.file_time_ms <= ?"); values.append(.integer(end.unixMilliseconds)) }
        if let state = query.state { conditions.append("s.state = ?"); values.append(.text(state.rawValue)) }
        if let after = query.after {
            // The order's keyset: later file time, or the same time and a later name (both backends compare bytes).
            conditions.append("(f.file_time_ms > ? OR (f.file_time_ms = ? AND f.name > ?))")
            values += [.integer(after.time.unixMilliseconds), .integer(after.time.unixMilliseconds), .text(after.name)]
        }
        return SQLQuery(conditions.joined(separator: " AND "), values)
    }

    /// Whether a file is cataloged under the key or the name of `file`.
    package static func exists(_ file: SWxSOCFileName) -> SQLQuery {
        SQLQuery("SELECT 1 FROM mission_files WHERE file_path = ? OR name = ?", [.text(file.key), .text(file.name)])
    }

    /// Whether a file is cataloged under `key`.
    package static func exists(key: String) -> SQLQuery {
        SQLQuery("SELECT 1 FROM mission_files WHERE file_path = ?", [.text(key)])
    }

    /// Inserts the file row of `record`.
    package static func insertFile(_ record: MissionFileRecord) -> SQLQuery {
        let file = record.file
        return SQLQuery("""
            INSERT INTO mission_files (file_path, mission, instrument, data_level, descriptor, file_time_ms, name, size, sha256, ingestion_date)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(file.key), .text(file.mission), .text(file.instrument.name), .text(file.level), SQLValue(file.descriptor),
                  .integer(file.time.unixMilliseconds), .text(file.name), .integer(record.size), .text(record.sha256),
                  .integer(record.ingestionDate.secondsSince1970)])
    }

    /// Inserts the first status of `record`: `pending`, `received`, at its ingestion date.
    package static func insertStatus(_ record: MissionFileRecord) -> SQLQuery {
        let now = record.ingestionDate.secondsSince1970
        return SQLQuery("INSERT INTO mission_status (file_path, state, message, original_time, last_time) VALUES (?, 'pending', 'received', ?, ?)",
                        [.text(record.key), .integer(now), .integer(now)])
    }

    /// Records that `key` was made from `origin` (once).
    package static func insertOrigin(key: String, origin: String) -> SQLQuery {
        SQLQuery("INSERT INTO mission_lineage (file_path, origin_path) VALUES (?, ?) ON CONFLICT DO NOTHING", [.text(key), .text(origin)])
    }

    /// Claims a pending file whose message is still `expected` for `owner` (no row changed: not claimed).
    package static func claim(key: String, owner: ProcessIdentity, expecting expected: String, now: Int64) -> SQLQuery {
        SQLQuery("UPDATE mission_status SET message = ?, last_time = ? WHERE file_path = ? AND state = 'pending' AND message = ?",
                 [.text(MissionFileStatus.claimMessage(owner)), .integer(now), .text(key), .text(expected)])
    }

    /// Inserts a file kept aside.
    package static func insertRejected(_ file: RejectedFile) -> SQLQuery {
        SQLQuery("INSERT INTO rejected_files (file_path, name, mission, reason, received_at, size, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 [.text(file.key), .text(file.name), .text(file.mission), .text(file.reason), .integer(file.receivedAt.secondsSince1970),
                  .integer(file.size), .text(file.sha256)])
    }

    /// The files kept aside for `mission` (all when nil), newest first.
    package static func selectRejected(mission: String?) -> SQLQuery {
        if let mission {
            SQLQuery("SELECT * FROM rejected_files WHERE mission = ? ORDER BY received_at DESC, file_path", [.text(mission)])
        } else {
            SQLQuery("SELECT * FROM rejected_files ORDER BY received_at DESC, file_path")
        }
    }
}

/// One row of ``MissionCatalogSQL/selectFiles(_:originsAggregate:)`` as either backend reads it.
package struct MissionCatalogRow: Sendable {
    package var key, name, mission, sha256, state, message: String
    package var size, ingestionDate, originalTime, lastTime: Int64
    package var reprocessedCount: Int
    package var processingSeconds: Double?
    /// The origins joined with newlines; nil when there are none.
    package var origins: String?

    package init(key: String, name: String, mission: String, sha256: String, state: String, message: String, size: Int64,
                 ingestionDate: Int64, originalTime: Int64, lastTime: Int64, reprocessedCount: Int, processingSeconds: Double?,
                 origins: String?) {
        self.key = key
        self.name = name
        self.mission = mission
        self.sha256 = sha256
        self.state = state
        self.message = message
        self.size = size
        self.ingestionDate = ingestionDate
        self.originalTime = originalTime
        self.lastTime = lastTime
        self.reprocessedCount = reprocessedCount
        self.processingSeconds = processingSeconds
        self.origins = origins
    }

    /// The record and status, the name parsed back with its mission (a hosted one, else a built-in one). A name no
    /// mission accepts any more is ``CatalogError/invalidKey(key:reason:)``; an unknown state is a damaged row.
    package func decoded(missions: MissionSet) throws(CatalogError) -> (record: MissionFileRecord, status: MissionFileStatus) {
        guard let profile = missions.mission(named: mission) ?? MissionProfile.builtIn[mission] else {
            throw .invalidKey(key: key, reason: "its mission '\(mission)' is not hosted here (hosted: \(missions.names.joined(separator: ", ")))")
        }
        let parsed: MissionFileName
        do { parsed = try profile.parse(name) } catch {
            throw .invalidKey(key: key, reason: "\(name) is no longer a valid \(mission) file name: \(error.message)")
        }
        guard case .swxsoc(let file) = parsed else { throw .invalidKey(key: key, reason: "\(name) is not a \(mission) file name") }
        guard let fileState = MissionFileStatus.State(rawValue: state) else {
            throw .database("damaged mission_status row of \(key): unknown state '\(state)'")
        }
        let originKeys = origins.map { $0.split(separator: "\n").map(String.init).sorted() } ?? []
        let record = MissionFileRecord(file: file, size: size, sha256: sha256, ingestionDate: UTCTime(secondsSince1970: ingestionDate),
                                       origins: originKeys)
        let status = MissionFileStatus(state: fileState, message: message, originalTime: UTCTime(secondsSince1970: originalTime),
                                       lastTime: UTCTime(secondsSince1970: lastTime), reprocessedCount: reprocessedCount,
                                       processingSeconds: processingSeconds)
        return (record, status)
    }
}

/// The mission catalog in one SQLite database (`missions.sqlite` in the data center folder).
public final class SQLiteMissionCatalog: MissionCatalog {
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
        migrator.registerMigration("v2: rejected files by mission") { db in
            try db.execute(sql: "CREATE INDEX rejected_files_by_mission ON rejected_files (mission, received_at)")
        }
        migrator.registerMigration("v3: mission files in page order") { db in
            try db.execute(sql: "CREATE INDEX mission_files_by_time ON mission_files (mission, file_time_ms, name)")
        }
        return migrator
    }

    private func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(CatalogError) -> T {
        do { return try await pool.write(body) } catch { throw SQLiteCatalog.map(error) }
    }

    private func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(CatalogError) -> T {
        do { return try await pool.read(body) } catch { throw SQLiteCatalog.map(error) }
    }

    /// Runs `query` in `db`.
    private static func execute(_ query: SQLQuery, in db: Database) throws {
        try db.execute(sql: query.sql, arguments: query.statementArguments)
    }

    /// Whether `query` finds a row.
    private static func finds(_ query: SQLQuery, in db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: query.sql, arguments: query.statementArguments) == true
    }

    public func commit(_ record: MissionFileRecord) async throws(CatalogError) {
        try await write { db in
            // Writes are serialized: the check and the insert cannot interleave with another commit.
            if try Self.finds(MissionCatalogSQL.exists(record.file), in: db) { throw CatalogError.alreadyExists(key: record.key) }
            for origin in record.origins {
                if try !Self.finds(MissionCatalogSQL.exists(key: origin), in: db) { throw CatalogError.notFound(key: origin) }
            }
            try Self.execute(MissionCatalogSQL.insertFile(record), in: db)
            try Self.execute(MissionCatalogSQL.insertStatus(record), in: db)
            for origin in record.origins { try Self.execute(MissionCatalogSQL.insertOrigin(key: record.key, origin: origin), in: db) }
        }
    }

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

    public func claim(key: String, owner: ProcessIdentity, expecting expected: String) async throws(CatalogError) -> Bool {
        let update = MissionCatalogSQL.claim(key: key, owner: owner, expecting: expected, now: UTCTime.now.secondsSince1970)
        return try await write { db in
            try Self.execute(update, in: db)
            return db.changesCount == 1
        }
    }

    public func files(matching query: MissionFileQuery) async throws(CatalogError) -> [(record: MissionFileRecord, status: MissionFileStatus)] {
        try await files(MissionCatalogSQL.selectFiles(query, originsAggregate: Self.originsAggregate))
    }

    public func count(matching query: MissionFileQuery) async throws(CatalogError) -> Int {
        let count = MissionCatalogSQL.countFiles(query)
        return try await read { db in try Int.fetchOne(db, sql: count.sql, arguments: count.statementArguments) ?? 0 }
    }

    public func counts(mission: String) async throws(CatalogError) -> MissionFileCounts {
        let groups = MissionCatalogSQL.countGroups(mission: mission), rejected = MissionCatalogSQL.countRejected(mission: mission)
        return try await read { db in
            // One read transaction: the groups and the rejected count are of one moment.
            let found = try Row.fetchAll(db, sql: groups.sql, arguments: groups.statementArguments).map { row in
                try MissionCatalogSQL.group(instrument: row["instrument"], level: row["data_level"], state: row["state"], files: row["files"],
                                            produced: row["produced"], bytes: row["bytes"])
            }
            return MissionFileCounts(groups: found, rejected: try Int.fetchOne(db, sql: rejected.sql, arguments: rejected.statementArguments) ?? 0)
        }
    }

    public func recentlyChanged(mission: String, limit: Int) async throws(CatalogError) -> [(record: MissionFileRecord, status: MissionFileStatus)] {
        try await files(MissionCatalogSQL.selectRecentlyChanged(mission: mission, limit: limit, originsAggregate: Self.originsAggregate))
    }

    private static let originsAggregate = "group_concat(origin_path, char(10))"

    public func file(forKey key: String) async throws(CatalogError) -> (record: MissionFileRecord, status: MissionFileStatus)? {
        try await files(MissionCatalogSQL.selectFiles(MissionCatalogSQL.key(key), originsAggregate: Self.originsAggregate)).first
    }

    private func files(_ query: SQLQuery) async throws(CatalogError) -> [(record: MissionFileRecord, status: MissionFileStatus)] {
        let missions = missions
        // Names are parsed back on the database's reader thread, not on the cooperative pool.
        return try await read { db in
            try Row.fetchAll(db, sql: query.sql, arguments: query.statementArguments).map { row in
                try MissionCatalogRow(
                    key: row["file_path"], name: row["name"], mission: row["mission"], sha256: row["sha256"], state: row["state"],
                    message: row["message"], size: row["size"], ingestionDate: row["ingestion_date"], originalTime: row["original_time"],
                    lastTime: row["last_time"], reprocessedCount: row["reprocessed_count"], processingSeconds: row["processing_seconds"],
                    origins: row["origins"]
                ).decoded(missions: missions)
            }
        }
    }

    public func reject(_ file: RejectedFile) async throws(CatalogError) {
        try await write { db in
            if try Self.finds(SQLQuery("SELECT 1 FROM rejected_files WHERE file_path = ?", [.text(file.key)]), in: db) {
                throw CatalogError.alreadyExists(key: file.key)
            }
            try Self.execute(MissionCatalogSQL.insertRejected(file), in: db)
        }
    }

    public func rejected(mission: String?) async throws(CatalogError) -> [RejectedFile] {
        let query = MissionCatalogSQL.selectRejected(mission: mission)
        return try await read { db in
            try Row.fetchAll(db, sql: query.sql, arguments: query.statementArguments).map { row in
                RejectedFile(key: row["file_path"], name: row["name"], mission: row["mission"], reason: row["reason"],
                             receivedAt: UTCTime(secondsSince1970: row["received_at"]), size: row["size"], sha256: row["sha256"])
            }
        }
    }
}
