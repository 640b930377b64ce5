import PostgresNIO
import SDCCatalog
import SDCCore

/// The mission catalog in PostgreSQL, for many replicas on one database: the tables and behaviour of
/// ``SQLiteMissionCatalog`` (the statements are shared, see `MissionCatalogSQL`), so that a file sorted, processed or
/// kept aside by one replica is seen by every other.
///
/// Concurrency is correct by construction: a file's primary key and its unique name refuse a second commit (of two
/// concurrent commits of one file exactly one succeeds, the other is ``CatalogError/alreadyExists(key:)``), and a
/// commit's rows are written in one transaction.
public final class PostgresMissionCatalog: MissionCatalog {
    let database: PostgresDatabase
    /// The missions whose names the rows hold, to parse them back.
    let missions: MissionSet

    /// Migrates the mission tables of `database` (under the migration lock) and returns the catalog of `missions`.
    public init(database: PostgresDatabase, missions: MissionSet) async throws(PostgresDatabaseError) {
        self.database = database
        self.missions = missions
        try await database.migrate(component: "missions", Self.migrations)
    }

    /// Never edit a released migration; add one.
    static let migrations: [PostgresDatabase.Migration] = [
        PostgresDatabase.Migration(version: 1, name: "mission files, status, lineage, rejected files", statements: [
            """
            CREATE TABLE mission_files (
                file_path TEXT COLLATE "C" PRIMARY KEY,
                mission TEXT COLLATE "C" NOT NULL,
                instrument TEXT COLLATE "C" NOT NULL,
                data_level TEXT COLLATE "C" NOT NULL,
                descriptor TEXT COLLATE "C",
                file_time_ms BIGINT NOT NULL,
                name TEXT COLLATE "C" NOT NULL UNIQUE,
                size BIGINT NOT NULL,
                sha256 TEXT NOT NULL,
                ingestion_date BIGINT NOT NULL)
            """,
            "CREATE INDEX mission_files_by_product ON mission_files (mission, instrument, data_level, file_time_ms)",
            """
            CREATE TABLE mission_status (
                file_path TEXT COLLATE "C" PRIMARY KEY REFERENCES mission_files (file_path),
                state TEXT NOT NULL CHECK (state IN ('pending', 'success', 'failed')),
                message TEXT NOT NULL,
                original_time BIGINT NOT NULL,
                last_time BIGINT NOT NULL,
                reprocessed_count BIGINT NOT NULL DEFAULT 0,
                processing_seconds DOUBLE PRECISION)
            """,
            """
            CREATE TABLE mission_lineage (
                file_path TEXT COLLATE "C" NOT NULL REFERENCES mission_files (file_path),
                origin_path TEXT COLLATE "C" NOT NULL REFERENCES mission_files (file_path),
                PRIMARY KEY (file_path, origin_path))
            """,
            """
            CREATE TABLE rejected_files (
                file_path TEXT COLLATE "C" PRIMARY KEY,
                name TEXT NOT NULL,
                mission TEXT COLLATE "C" NOT NULL,
                reason TEXT NOT NULL,
                received_at BIGINT NOT NULL,
                size BIGINT NOT NULL,
                sha256 TEXT NOT NULL)
            """,
            "CREATE INDEX rejected_files_by_mission ON rejected_files (mission, received_at)",
        ]),
        PostgresDatabase.Migration(version: 2, name: "mission files in page order", statements: [
            "CREATE INDEX mission_files_by_time ON mission_files (mission, file_time_ms, name)",
        ]),
    ]

    private func rows(_ query: SQLQuery) async throws(CatalogError) -> [PostgresRandomAccessRow] {
        try await database.rows(query, failure: CatalogError.database)
    }

    /// `insert` made to insert nothing when its row breaks a unique constraint (waiting for a concurrent insert of
    /// the same row to end), and to return the key of the row it inserts: no row back means "already there".
    private static func unlessPresent(_ insert: SQLQuery) -> SQLQuery {
        SQLQuery(insert.sql + " ON CONFLICT DO NOTHING RETURNING file_path", insert.values)
    }

    public func commit(_ record: MissionFileRecord) async throws(CatalogError) {
        let insert = Self.unlessPresent(MissionCatalogSQL.insertFile(record))
        try await database.transaction({ transaction in
            for origin in record.origins {
                if try await transaction.rows(MissionCatalogSQL.exists(key: origin)).isEmpty { throw CatalogError.notFound(key: origin) }
            }
            // A concurrent insert of the same key or name is waited for; once it commits, this one inserts nothing.
            if try await transaction.rows(insert).isEmpty { throw CatalogError.alreadyExists(key: record.key) }
            try await transaction.rows(MissionCatalogSQL.insertStatus(record))
            for origin in record.origins { try await transaction.rows(MissionCatalogSQL.insertOrigin(key: record.key, origin: origin)) }
        }, failure: CatalogError.database)
    }

    public func setStatus(key: String, _ state: MissionFileStatus.State, message: String, processingSeconds: Double?) async throws(CatalogError) {
        // The statement values have no floating-point case: the seconds travel as their shortest round-tripping text,
        // which PostgreSQL reads back to the same double.
        let updated = try await rows(SQLQuery("""
            UPDATE mission_status SET state = ?, message = ?, last_time = ?, reprocessed_count = reprocessed_count + 1,
                processing_seconds = COALESCE(CAST(? AS DOUBLE PRECISION), processing_seconds)
            WHERE file_path = ? RETURNING file_path
            """, [.text(state.rawValue), .text(message), .integer(UTCTime.now.secondsSince1970), SQLValue(processingSeconds.map { "\($0)" }),
                  .text(key)]))
        if updated.isEmpty { throw .notFound(key: key) }
    }

    public func claim(key: String, owner: ProcessIdentity, expecting expected: String) async throws(CatalogError) -> Bool {
        let update = MissionCatalogSQL.claim(key: key, owner: owner, expecting: expected, now: UTCTime.now.secondsSince1970)
        // Row locking makes a concurrent claim wait and then re-check the message: at most one succeeds.
        return try await !rows(SQLQuery(update.sql + " RETURNING file_path", update.values)).isEmpty
    }

    public func files(matching query: MissionFileQuery) async throws(CatalogError) -> [(record: MissionFileRecord, status: MissionFileStatus)] {
        try await files(MissionCatalogSQL.selectFiles(query, originsAggregate: Self.originsAggregate))
    }

    public func count(matching query: MissionFileQuery) async throws(CatalogError) -> Int {
        try await total(MissionCatalogSQL.countFiles(query))
    }

    public func counts(mission: String) async throws(CatalogError) -> MissionFileCounts {
        var groups: [MissionFileCounts.Group] = []
        for row in try await rows(MissionCatalogSQL.countGroups(mission: mission)) {
            func cell<T: PostgresDecodable>(_ column: String) throws(CatalogError) -> T { try PostgresCatalog.cell(row, column, in: "mission_files") }
            groups.append(try MissionCatalogSQL.group(instrument: try cell("instrument"), level: try cell("data_level"), state: try cell("state"),
                                                      files: try cell("files"), produced: try cell("produced"), bytes: try cell("bytes")))
        }
        return MissionFileCounts(groups: groups, rejected: try await total(MissionCatalogSQL.countRejected(mission: mission)))
    }

    public func recentlyChanged(mission: String, limit: Int) async throws(CatalogError) -> [(record: MissionFileRecord, status: MissionFileStatus)] {
        try await files(MissionCatalogSQL.selectRecentlyChanged(mission: mission, limit: limit, originsAggregate: Self.originsAggregate))
    }

    private static let originsAggregate = "string_agg(origin_path, chr(10) ORDER BY origin_path)"

    /// The `total` column of a one-row count.
    private func total(_ query: SQLQuery) async throws(CatalogError) -> Int {
        guard let row = try await rows(query).first else { return 0 }
        let total: Int64 = try PostgresCatalog.cell(row, "total", in: "mission_files")
        return Int(total)
    }

    public func file(forKey key: String) async throws(CatalogError) -> (record: MissionFileRecord, status: MissionFileStatus)? {
        try await files(MissionCatalogSQL.selectFiles(MissionCatalogSQL.key(key), originsAggregate: Self.originsAggregate)).first
    }

    private func files(_ query: SQLQuery) async throws(CatalogError) -> [(record: MissionFileRecord, status: MissionFileStatus)] {
        let found = try await rows(query)
        var files: [(record: MissionFileRecord, status: MissionFileStatus)] = []
        files.reserveCapacity(found.count)
        for row in found {
            func cell<T: PostgresDecodable>(_ column: String) throws(CatalogError) -> T { try PostgresCatalog.cell(row, column, in: "mission_files") }
            let fetched = MissionCatalogRow(
                key: try cell("file_path"), name: try cell("name"), mission: try cell("mission"), sha256: try cell("sha256"),
                state: try cell("state"), message: try cell("message"), size: try cell("size"), ingestionDate: try cell("ingestion_date"),
                originalTime: try cell("original_time"), lastTime: try cell("last_time"), reprocessedCount: try cell("reprocessed_count"),
                processingSeconds: try cell("processing_seconds"), origins: try cell("origins"))
            files.append(try fetched.decoded(missions: missions))
        }
        return files
    }

    public func reject(_ file: RejectedFile) async throws(CatalogError) {
        if try await rows(Self.unlessPresent(MissionCatalogSQL.insertRejected(file))).isEmpty { throw .alreadyExists(key: file.key) }
    }

    public func rejected(mission: String?) async throws(CatalogError) -> [RejectedFile] {
        var files: [RejectedFile] = []
        for row in try await rows(MissionCatalogSQL.selectRejected(mission: mission)) {
            func cell<T: PostgresDecodable>(_ column: String) throws(CatalogError) -> T { try PostgresCatalog.cell(row, column, in: "rejected_files") }
            files.append(RejectedFile(key: try cell("file_path"), name: try cell("name"), mission: try cell("mission"), reason: try cell("reason"),
                                      receivedAt: UTCTime(secondsSince1970: try cell("received_at")), size: try cell("size"),
                                      sha256: try cell("sha256")))
        }
        return files
    }
}
