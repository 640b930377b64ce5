import Foundation
import GRDB
import NIOPosix
import SDCCore

/// The embedded catalog: one SQLite database in WAL mode (readers never wait for the writer), durable through power
/// loss (`synchronous = FULL`: every commit is fsynced before it returns), with the writes of concurrent uploads
/// committed in groups (``GroupCommit``) so that they share their fsyncs.
///
/// Holds the file tables (science, quicklook, dependency, ancillary, release, SPICE), upload reservations, API keys
/// and the reprocess/release request log. Schema changes are versioned migrations (``CatalogSchema``).
public final class SQLiteCatalog: Sendable {
    let pool: DatabasePool
    let groupCommit: GroupCommit
    let keyCache = KeyCache()
    let queryShapes = StatementShapes()
    /// The database file.
    public let path: String

    /// Opens (creating if needed) and migrates the database at `path`.
    public init(path: String) throws(CatalogError) {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // Set on the one writer connection, after GRDB has set up WAL mode (which sets `synchronous = NORMAL`).
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            groupCommit = GroupCommit(pool: pool)
            try CatalogSchema.migrator.migrate(pool)
        } catch {
            throw .database("cannot open \(path): \(error)")
        }
    }

    /// Threads that run catalog reads. A read runs GRDB's blocking `read` on one of them: one trip off the cooperative
    /// pool and back, where GRDB's asynchronous read switches threads three times (its pool's waiting queue, the
    /// reader's queue, back). Fewer threads than GRDB's readers (5), so a read never waits for a reader connection.
    static let readThreads: NIOThreadPool = {
        let threads = NIOThreadPool(numberOfThreads: 4)
        threads.start()
        return threads
    }()

    /// Runs a read on ``readThreads`` in a transaction of its own, mapping database errors to ``CatalogError``.
    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(CatalogError) -> T {
        let pool = pool
        do { return try await Self.readThreads.runIfActive { try pool.read(body) } } catch { throw Self.map(error) }
    }

    /// Runs a read of a single statement on ``readThreads``, mapping database errors to ``CatalogError``. SQLite runs
    /// a lone statement in a consistent snapshot of its own, so it needs no transaction around it (which would cost
    /// a `BEGIN` and a `COMMIT` per read).
    func readStatement<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(CatalogError) -> T {
        let pool = pool
        do { return try await Self.readThreads.runIfActive { try pool.unsafeRead(body) } } catch { throw Self.map(error) }
    }

    /// Runs a write transaction, mapping database errors to ``CatalogError``.
    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(CatalogError) -> T {
        do { return try await pool.write(body) } catch { throw Self.map(error) }
    }

    /// Runs a small write in the next group commit (see ``GroupCommit``), mapping database errors to ``CatalogError``.
    func groupWrite<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(CatalogError) -> T {
        do { return try await groupCommit.write(body) } catch { throw Self.map(error) }
    }

    static func map(_ error: any Error) -> CatalogError {
        if let error = error as? CatalogError { return error }
        return .database(String(describing: error))
    }
}

// MARK: - Files

extension SQLiteCatalog: FileCatalog {
    public func reserve(_ file: IMAPFileName, staleAfter: Int64, owner: ProcessIdentity) async throws(CatalogError) {
        let key = file.key
        let table = CatalogSchema.table(for: file.fileClass)
        let now = UTCTime.now.secondsSince1970
        try await groupWrite { db in
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM \(table) WHERE file_path = ?"), arguments: [key]) == true {
                throw CatalogError.alreadyExists(key: key)
            }
            if let started = try Int64.fetchOne(db.cachedStatement(sql: "SELECT started_at FROM pending_uploads WHERE file_path = ?"), arguments: [key]),
               now - started < staleAfter {
                throw CatalogError.alreadyExists(key: key)
            }
            try db.execute(sql: "INSERT OR REPLACE INTO pending_uploads (file_path, started_at, owner) VALUES (?, ?, ?)",
                           arguments: [key, now, owner.description])
        }
    }

    public func commit(_ record: CatalogRecord) async throws(CatalogError) {
        try await groupWrite { db in
            try CatalogSchema.insert(record, into: db)
            try db.cachedStatement(sql: "DELETE FROM pending_uploads WHERE file_path = ?").execute(arguments: [record.key])
        }
    }

    public func cancelReservation(key: String) async throws(CatalogError) {
        try await groupWrite { db in
            try db.execute(sql: "DELETE FROM pending_uploads WHERE file_path = ?", arguments: [key])
        }
    }

    public func reservations() async throws(CatalogError) -> [Reservation] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT file_path, started_at, owner FROM pending_uploads ORDER BY started_at").map { row in
                Reservation(key: row["file_path"], startedAt: UTCTime(secondsSince1970: row["started_at"]),
                            owner: (row["owner"] as String?).flatMap(ProcessIdentity.init))
            }
        }
    }

    public func insert(_ records: [CatalogRecord]) async throws(CatalogError) {
        try await write { db in
            for record in records { try CatalogSchema.insert(record, into: db) }
        }
    }

    public func record(forKey key: String) async throws(CatalogError) -> CatalogRecord? {
        let basename = String(key.split(separator: "/").last ?? "")
        let file: IMAPFileName
        do { file = try IMAPFileName.parse(basename) } catch { throw .invalidKey(key: key, reason: error.message) }
        let table = CatalogSchema.table(for: file.fileClass)
        return try await readStatement { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM \(table) WHERE file_path = ?"), arguments: [key]).map(CatalogSchema.record)
        }
    }

    public func files(matching query: FileQuery) async throws(CatalogError) -> [CatalogRecord] {
        let (sql, arguments) = FileQuerySQL.build(query)
        let shapes = queryShapes
        return try await readStatement { db in try Row.fetchAll(shapes.statement(sql, in: db), arguments: arguments).map(CatalogSchema.record) }
    }

    public func kernels(matching query: SPICEQuery) async throws(CatalogError) -> [CatalogRecord] {
        let (sql, arguments) = FileQuerySQL.build(query)
        let shapes = queryShapes
        return try await readStatement { db in try Row.fetchAll(shapes.statement(sql, in: db), arguments: arguments).map(CatalogSchema.record) }
    }

    public func setReleased(_ released: Bool, keys: [String]) async throws(CatalogError) -> Int {
        var byTable: [String: [String]] = [:]
        for key in keys {
            guard let file = try? IMAPFileName.parse(String(key.split(separator: "/").last ?? "")) else { continue }
            byTable[CatalogSchema.table(for: file.fileClass), default: []].append(key)
        }
        let groups = byTable
        return try await write { db in
            var changed = 0
            for (table, keys) in groups {
                for key in keys {
                    try db.execute(sql: "UPDATE \(table) SET released = ? WHERE file_path = ? AND released <> ?",
                                   arguments: [released, key, released])
                    changed += db.changesCount
                }
            }
            return changed
        }
    }

    public func counts() async throws(CatalogError) -> [FileClass: Int] {
        try await read { db in
            var counts: [FileClass: Int] = [:]
            for fileClass in FileClass.allCases {
                let table = CatalogSchema.table(for: fileClass)
                counts[fileClass] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
            }
            return counts
        }
    }
}

// MARK: - API keys

extension SQLiteCatalog: APIKeyStore {
    public func createKey(name: String, scope: APIKeyScope) async throws(APIKeyError) -> (secret: String, info: APIKeyInfo) {
        let secret = APIKeySecret.generate()
        let now = UTCTime.now
        let prefix = APIKeySecret.prefix(of: secret)
        let hash = APIKeySecret.hash(secret)
        do {
            let id = try await pool.write { db in
                try db.execute(sql: "INSERT INTO api_keys (name, scope, key_hash, key_prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [name, scope.rawValue, hash, prefix, now.secondsSince1970])
                return db.lastInsertedRowID
            }
            return (secret, APIKeyInfo(id: id, name: name, scope: scope, prefix: prefix, createdAt: now, revokedAt: nil))
        } catch {
            throw .database(String(describing: error))
        }
    }

    /// Valid keys are remembered for a second (``KeyCache``): a key revoked here stops working at once, one revoked by
    /// another process within that second.
    public func authenticate(secret: String) async throws(APIKeyError) -> APIKeyInfo? {
        let hash = APIKeySecret.hash(secret)
        let cached = keyCache.key(forHash: hash)
        if let info = cached.info { return info }
        let found: APIKeyInfo?
        do {
            found = try await readStatement { db in
                try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL"), arguments: [hash])
                    .map(Self.keyInfo)
            }
        } catch .database(let message) {
            throw .database(message)
        } catch {
            throw .database(error.description)
        }
        if let found { keyCache.remember(found, hash: hash, generation: cached.generation) }
        return found
    }

    public func listKeys() async throws(APIKeyError) -> [APIKeyInfo] {
        do {
            return try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY id").map(Self.keyInfo) }
        } catch {
            throw .database(String(describing: error))
        }
    }

    public func revokeKey(_ reference: String) async throws(APIKeyError) -> APIKeyInfo {
        let now = UTCTime.now.secondsSince1970
        let found: APIKeyInfo?
        do {
            found = try await pool.write { db in
                let row = try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE CAST(id AS TEXT) = ? OR key_prefix = ?",
                                           arguments: [reference, reference])
                guard let row else { return nil }
                try db.execute(sql: "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                               arguments: [now, row["id"] as Int64])
                return try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [row["id"] as Int64]).map(Self.keyInfo)
            }
        } catch {
            throw .database(String(describing: error))
        }
        keyCache.removeAll()
        guard let found else { throw .unknownKey(reference) }
        return found
    }

    public func limitKey(_ reference: String, toMissions missions: [String]?) async throws(APIKeyError) -> APIKeyInfo {
        let found: APIKeyInfo?
        do {
            found = try await pool.write { db in
                try db.execute(sql: "UPDATE api_keys SET missions = ? WHERE CAST(id AS TEXT) = ? OR key_prefix = ?",
                               arguments: [APIKeyInfo.missionsColumn(missions), reference, reference])
                return try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE CAST(id AS TEXT) = ? OR key_prefix = ?",
                                        arguments: [reference, reference]).map(Self.keyInfo)
            }
        } catch {
            throw .database(String(describing: error))
        }
        keyCache.removeAll()
        guard let found else { throw .unknownKey(reference) }
        return found
    }

    static func keyInfo(_ row: Row) -> APIKeyInfo {
        APIKeyInfo(id: row["id"], name: row["name"], scope: APIKeyScope(rawValue: row["scope"]) ?? .read,
                   prefix: row["key_prefix"], createdAt: UTCTime(secondsSince1970: row["created_at"]),
                   revokedAt: (row["revoked_at"] as Int64?).map(UTCTime.init(secondsSince1970:)),
                   missions: APIKeyInfo.missions(fromColumn: row["missions"]))
    }
}

// MARK: - Request log

extension SQLiteCatalog: RequestLog {
    public func record(_ request: ReprocessRequest) async throws(CatalogError) -> ReprocessRequest {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO reprocess_requests (received_at, requested_by, start_date, end_date, instrument, data_level, descriptor, status)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [request.receivedAt.secondsSince1970, request.requestedBy, request.startDate.description,
                                 request.endDate.description, request.instrument?.rawValue, request.dataLevel?.rawValue,
                                 request.descriptor, request.status])
            var stored = request
            stored.id = db.lastInsertedRowID
            return stored
        }
    }

    public func record(_ request: ReleaseRequest) async throws(CatalogError) -> ReleaseRequest {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO release_requests (received_at, requested_by, release_type, manifest_key, status) VALUES (?, ?, ?, ?, ?)
                """, arguments: [request.receivedAt.secondsSince1970, request.requestedBy, request.releaseType.rawValue,
                                 request.manifestKey, request.status])
            var stored = request
            stored.id = db.lastInsertedRowID
            return stored
        }
    }

    public func reprocessRequests() async throws(CatalogError) -> [ReprocessRequest] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM reprocess_requests ORDER BY id").map { row in
                ReprocessRequest(id: row["id"], receivedAt: UTCTime(secondsSince1970: row["received_at"]), requestedBy: row["requested_by"],
                                 startDate: FileDate(yyyymmdd: row["start_date"] as String)!, endDate: FileDate(yyyymmdd: row["end_date"] as String)!,
                                 instrument: (row["instrument"] as String?).flatMap(Instrument.init(rawValue:)),
                                 dataLevel: (row["data_level"] as String?).flatMap(DataLevel.init(rawValue:)),
                                 descriptor: row["descriptor"], status: row["status"])
            }
        }
    }

    public func releaseRequests() async throws(CatalogError) -> [ReleaseRequest] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM release_requests ORDER BY id").map { row in
                ReleaseRequest(id: row["id"], receivedAt: UTCTime(secondsSince1970: row["received_at"]), requestedBy: row["requested_by"],
                               releaseType: ReleaseType(rawValue: row["release_type"]) ?? .release, manifestKey: row["manifest_key"],
                               status: row["status"])
            }
        }
    }
}
