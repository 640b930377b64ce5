import PostgresNIO
import SDCCatalog
import SDCCore

/// The catalog in PostgreSQL, for many replicas on one database: the same tables, queries and behaviour as
/// ``SQLiteCatalog`` (the file tables, upload reservations, API keys stored as SHA-256, and the request log).
///
/// Concurrency is correct by construction: a reservation is one `INSERT ... ON CONFLICT` that takes over only a stale
/// one, and a file's primary key refuses a second commit of the same name.
public final class PostgresCatalog: Sendable {
    let database: PostgresDatabase

    /// Migrates the catalog tables of `database` (under the migration lock) and returns the catalog.
    public init(database: PostgresDatabase) async throws(PostgresDatabaseError) {
        self.database = database
        try await database.migrate(component: PostgresCatalogSchema.component, PostgresCatalogSchema.migrations)
    }

    /// Runs `query`, mapping failures to ``CatalogError``.
    private func rows(_ query: SQLQuery) async throws(CatalogError) -> [PostgresRandomAccessRow] {
        try await database.rows(query, failure: CatalogError.database)
    }

    /// Runs `body` in a transaction, mapping failures other than ``CatalogError`` to ``CatalogError/database(_:)``.
    private func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresDatabase.Transaction) async throws -> T) async throws(CatalogError) -> T {
        try await database.transaction(body, failure: CatalogError.database)
    }

    /// Reads a cell, a damaged one being ``CatalogError/database(_:)`` naming the table and column.
    static func cell<T: PostgresDecodable>(_ row: PostgresRandomAccessRow, _ column: String, in table: String) throws(CatalogError) -> T {
        do { return try row[column].decode(T.self) } catch {
            throw .database("damaged \(table) row: \(PostgresDatabase.reason(error))")
        }
    }

    /// Rebuilds a record from a row of any file table (the columns derived from the name are re-derived).
    static func record(_ row: PostgresRandomAccessRow) throws(CatalogError) -> CatalogRecord {
        let table = "file"
        let key: String = try cell(row, "file_path", in: table)
        let crid: String? = row.contains("crid") ? try cell(row, "crid", in: table) : nil
        return CatalogRecord(
            file: try IMAPFileName.parse(key: key), size: try cell(row, "size", in: table), sha256: try cell(row, "sha256", in: table),
            ingestionDate: UTCTime(secondsSince1970: try cell(row, "ingestion_date", in: table)),
            released: try cell(row, "released", in: table) as Bool, crid: crid)
    }

    static func records(_ rows: [PostgresRandomAccessRow]) throws(CatalogError) -> [CatalogRecord] {
        var records: [CatalogRecord] = []
        records.reserveCapacity(rows.count)
        for row in rows { records.append(try record(row)) }
        return records
    }

    /// Inserts a record; an existing key is ``CatalogError/alreadyExists(key:)``.
    static func insert(_ record: CatalogRecord, in transaction: PostgresDatabase.Transaction) async throws {
        do {
            try await transaction.rows(CatalogSchema.insertion(record))
        } catch where PostgresDatabase.isUniqueViolation(error) {
            throw CatalogError.alreadyExists(key: record.key)
        }
    }
}

// MARK: - Files

extension PostgresCatalog: FileCatalog {
    /// One statement claims the key: it inserts the reservation, or takes over one older than `staleAfter`, and
    /// otherwise returns nothing. The file is looked for after the claim, so an upload committed meanwhile is seen.
    public func reserve(_ file: IMAPFileName, staleAfter: Int64, owner: ProcessIdentity) async throws(CatalogError) {
        let key = file.key
        let table = CatalogSchema.table(for: file.fileClass)
        let now = UTCTime.now.secondsSince1970
        let (staleBefore, overflow) = now.subtractingReportingOverflow(staleAfter)
        let claim = SQLQuery("""
            INSERT INTO pending_uploads (file_path, started_at, owner) VALUES (?, ?, ?)
            ON CONFLICT (file_path) DO UPDATE SET started_at = excluded.started_at, owner = excluded.owner
                WHERE pending_uploads.started_at <= ?
            RETURNING file_path
            """, [.text(key), .integer(now), .text(owner.description), .integer(overflow ? .min : staleBefore)])
        let exists = SQLQuery("SELECT 1 FROM \(table) WHERE file_path = ?", [.text(key)])
        try await transaction { transaction in
            guard try await !transaction.rows(claim).isEmpty, try await transaction.rows(exists).isEmpty else {
                throw CatalogError.alreadyExists(key: key)
            }
        }
    }

    public func commit(_ record: CatalogRecord) async throws(CatalogError) {
        try await transaction { transaction in
            try await Self.insert(record, in: transaction)
            try await transaction.rows(SQLQuery("DELETE FROM pending_uploads WHERE file_path = ?", [.text(record.key)]))
        }
    }

    public func cancelReservation(key: String) async throws(CatalogError) {
        _ = try await rows(SQLQuery("DELETE FROM pending_uploads WHERE file_path = ?", [.text(key)]))
    }

    public func reservations() async throws(CatalogError) -> [Reservation] {
        let table = "pending_uploads"
        var reservations: [Reservation] = []
        for row in try await rows(SQLQuery("SELECT file_path, started_at, owner FROM pending_uploads ORDER BY started_at, file_path")) {
            let owner: String? = try Self.cell(row, "owner", in: table)
            reservations.append(Reservation(
                key: try Self.cell(row, "file_path", in: table), startedAt: UTCTime(secondsSince1970: try Self.cell(row, "started_at", in: table)),
                owner: owner.flatMap(ProcessIdentity.init)))
        }
        return reservations
    }

    public func insert(_ records: [CatalogRecord]) async throws(CatalogError) {
        try await transaction { transaction in
            for record in records { try await Self.insert(record, in: transaction) }
        }
    }

    public func record(forKey key: String) async throws(CatalogError) -> CatalogRecord? {
        let table = CatalogSchema.table(for: try IMAPFileName.parse(key: key).fileClass)
        return try await rows(SQLQuery("SELECT * FROM \(table) WHERE file_path = ?", [.text(key)])).first.map(Self.record)
    }

    public func files(matching query: FileQuery) async throws(CatalogError) -> [CatalogRecord] {
        try Self.records(try await rows(FileQuerySQL.select(query)))
    }

    public func kernels(matching query: SPICEQuery) async throws(CatalogError) -> [CatalogRecord] {
        try Self.records(try await rows(FileQuerySQL.select(query)))
    }

    /// Keys whose names are not valid are skipped, as no file can be stored under them.
    public func setReleased(_ released: Bool, keys: [String]) async throws(CatalogError) -> Int {
        var byTable: [String: [String]] = [:]
        for key in keys {
            guard let file = try? IMAPFileName.parse(key: key) else { continue }
            byTable[CatalogSchema.table(for: file.fileClass), default: []].append(key)
        }
        let updates = byTable.flatMap { table, keys in
            keys.map { SQLQuery("UPDATE \(table) SET released = ? WHERE file_path = ? AND released <> ? RETURNING file_path",
                                [.boolean(released), .text($0), .boolean(released)]) }
        }
        return try await transaction { transaction in
            var changed = 0
            for update in updates { changed += try await transaction.rows(update).count }
            return changed
        }
    }

    public func counts() async throws(CatalogError) -> [FileClass: Int] {
        let union = FileClass.allCases.map { "SELECT '\($0.rawValue)' AS class, COUNT(*) AS n FROM \(CatalogSchema.table(for: $0))" }
            .joined(separator: " UNION ALL ")
        var counts: [FileClass: Int] = [:]
        for row in try await rows(SQLQuery(union)) {
            let name: String = try Self.cell(row, "class", in: "count")
            guard let fileClass = FileClass(rawValue: name) else { throw .database("unexpected file class '\(name)' in counts") }
            counts[fileClass] = Int(try Self.cell(row, "n", in: "count") as Int64)
        }
        return counts
    }
}

// MARK: - Browsing

extension PostgresCatalog: CatalogBrowsing {
    public func page(of query: FileQuery, order: FileSortOrder, descending: Bool, offset: Int, limit: Int,
                     countLimit: Int) async throws(CatalogError) -> FilePage {
        let (page, count) = FileQuerySQL.page(of: query, order: order, descending: descending, offset: offset, limit: limit,
                                              countLimit: countLimit)
        let records = try Self.records(try await rows(page))
        let total: Int64 = try await rows(count).first.map { row throws(CatalogError) in try Self.cell(row, "count", in: "count") } ?? 0
        return FilePage(records: records, total: Int(total), countLimit: countLimit)
    }

    /// Counted over the science-shaped and ancillary tables.
    public func usage(now: UTCTime) async throws(CatalogError) -> CatalogUsage {
        var instruments: [CatalogUsage.Instrument] = []
        for row in try await rows(FileQuerySQL.usage(now: now)) {
            let cells = try decodeUsage(row)
            instruments.append(CatalogUsage.Instrument(
                instrument: cells.0, files: Int(cells.1), bytes: cells.2 ?? 0, latestStartDate: cells.3,
                latestIngestion: cells.4.map(UTCTime.init(secondsSince1970:)), ingestedLastDay: Int(cells.5 ?? 0)))
        }
        return CatalogUsage(instruments: instruments)
    }

    private func decodeUsage(_ row: PostgresRandomAccessRow) throws(CatalogError) -> (String, Int64, Int64?, String?, Int64?, Int64?) {
        do {
            return (try row[0].decode(String.self), try row[1].decode(Int64.self), try row[2].decode(Int64?.self),
                    try row[3].decode(String?.self), try row[4].decode(Int64?.self), try row[5].decode(Int64?.self))
        } catch {
            throw .database("damaged usage row: \(PostgresDatabase.reason(error))")
        }
    }
}

// MARK: - API keys

extension PostgresCatalog: APIKeyStore {
    /// Runs `query`, mapping failures to ``APIKeyError``.
    private func keyRows(_ query: SQLQuery) async throws(APIKeyError) -> [APIKeyInfo] {
        do {
            return try await database.rows(query).map(Self.keyInfo)
        } catch let error as CatalogError {
            throw .database(error.description)
        } catch {
            throw .database(PostgresDatabase.reason(error))
        }
    }

    public func createKey(name: String, scope: APIKeyScope) async throws(APIKeyError) -> (secret: String, info: APIKeyInfo) {
        let secret = APIKeySecret.generate()
        let rows = try await keyRows(SQLQuery(
            "INSERT INTO api_keys (name, scope, key_hash, key_prefix, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *",
            [.text(name), .text(scope.rawValue), .text(APIKeySecret.hash(secret)), .text(APIKeySecret.prefix(of: secret)),
             .integer(UTCTime.now.secondsSince1970)]))
        guard let info = rows.first else { throw .database("creating a key returned no row") }
        return (secret, info)
    }

    public func authenticate(secret: String) async throws(APIKeyError) -> APIKeyInfo? {
        try await keyRows(SQLQuery("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
                                   [.text(APIKeySecret.hash(secret))])).first
    }

    public func listKeys() async throws(APIKeyError) -> [APIKeyInfo] {
        try await keyRows(SQLQuery("SELECT * FROM api_keys ORDER BY id"))
    }

    public func revokeKey(_ reference: String) async throws(APIKeyError) -> APIKeyInfo {
        let revoked = try await keyRows(SQLQuery("""
            UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?)
            WHERE id = (SELECT id FROM api_keys WHERE CAST(id AS TEXT) = ? OR key_prefix = ? ORDER BY id LIMIT 1)
            RETURNING *
            """, [.integer(UTCTime.now.secondsSince1970), .text(reference), .text(reference)]))
        guard let info = revoked.first else { throw .unknownKey(reference) }
        return info
    }

    public func limitKey(_ reference: String, toMissions missions: [String]?) async throws(APIKeyError) -> APIKeyInfo {
        let limited = try await keyRows(SQLQuery("""
            UPDATE api_keys SET missions = ?
            WHERE id = (SELECT id FROM api_keys WHERE CAST(id AS TEXT) = ? OR key_prefix = ? ORDER BY id LIMIT 1)
            RETURNING *
            """, [APIKeyInfo.missionsColumn(missions).map(SQLValue.text) ?? .null, .text(reference), .text(reference)]))
        guard let info = limited.first else { throw .unknownKey(reference) }
        return info
    }

    static func keyInfo(_ row: PostgresRandomAccessRow) throws(CatalogError) -> APIKeyInfo {
        let table = "api_keys"
        let scopeText: String = try cell(row, "scope", in: table)
        guard let scope = APIKeyScope(rawValue: scopeText) else { throw .database("damaged api_keys row: unknown scope '\(scopeText)'") }
        let revokedAt: Int64? = try cell(row, "revoked_at", in: table)
        return APIKeyInfo(id: try cell(row, "id", in: table), name: try cell(row, "name", in: table), scope: scope,
                          prefix: try cell(row, "key_prefix", in: table), createdAt: UTCTime(secondsSince1970: try cell(row, "created_at", in: table)),
                          revokedAt: revokedAt.map(UTCTime.init(secondsSince1970:)),
                          missions: APIKeyInfo.missions(fromColumn: try cell(row, "missions", in: table)))
    }
}

// MARK: - Request log

extension PostgresCatalog: RequestLog {
    public func record(_ request: ReprocessRequest) async throws(CatalogError) -> ReprocessRequest {
        let rows = try await rows(SQLQuery("""
            INSERT INTO reprocess_requests (received_at, requested_by, start_date, end_date, instrument, data_level, descriptor, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """, [.integer(request.receivedAt.secondsSince1970), .text(request.requestedBy), .text(request.startDate.description),
                  .text(request.endDate.description), SQLValue(request.instrument?.rawValue), SQLValue(request.dataLevel?.rawValue),
                  SQLValue(request.descriptor), .text(request.status)]))
        var stored = request
        stored.id = try Self.insertedID(rows, in: "reprocess_requests")
        return stored
    }

    public func record(_ request: ReleaseRequest) async throws(CatalogError) -> ReleaseRequest {
        let rows = try await rows(SQLQuery("""
            INSERT INTO release_requests (received_at, requested_by, release_type, manifest_key, status) VALUES (?, ?, ?, ?, ?) RETURNING id
            """, [.integer(request.receivedAt.secondsSince1970), .text(request.requestedBy), .text(request.releaseType.rawValue),
                  .text(request.manifestKey), .text(request.status)]))
        var stored = request
        stored.id = try Self.insertedID(rows, in: "release_requests")
        return stored
    }

    public func reprocessRequests() async throws(CatalogError) -> [ReprocessRequest] {
        let table = "reprocess_requests"
        var requests: [ReprocessRequest] = []
        for row in try await rows(SQLQuery("SELECT * FROM reprocess_requests ORDER BY id")) {
            let id: Int64 = try Self.cell(row, "id", in: table)
            func date(_ column: String) throws(CatalogError) -> FileDate {
                let text: String = try Self.cell(row, column, in: table)
                guard let date = FileDate(yyyymmdd: text) else { throw .database("damaged \(table) row \(id): \(column) '\(text)' is not YYYYMMDD") }
                return date
            }
            let instrument: String? = try Self.cell(row, "instrument", in: table), level: String? = try Self.cell(row, "data_level", in: table)
            requests.append(ReprocessRequest(
                id: id, receivedAt: UTCTime(secondsSince1970: try Self.cell(row, "received_at", in: table)),
                requestedBy: try Self.cell(row, "requested_by", in: table), startDate: try date("start_date"), endDate: try date("end_date"),
                instrument: instrument.flatMap(Instrument.init(rawValue:)), dataLevel: level.flatMap(DataLevel.init(rawValue:)),
                descriptor: try Self.cell(row, "descriptor", in: table), status: try Self.cell(row, "status", in: table)))
        }
        return requests
    }

    public func releaseRequests() async throws(CatalogError) -> [ReleaseRequest] {
        let table = "release_requests"
        var requests: [ReleaseRequest] = []
        for row in try await rows(SQLQuery("SELECT * FROM release_requests ORDER BY id")) {
            let id: Int64 = try Self.cell(row, "id", in: table)
            let typeText: String = try Self.cell(row, "release_type", in: table)
            guard let type = ReleaseType(rawValue: typeText) else { throw .database("damaged \(table) row \(id): unknown release type '\(typeText)'") }
            requests.append(ReleaseRequest(
                id: id, receivedAt: UTCTime(secondsSince1970: try Self.cell(row, "received_at", in: table)),
                requestedBy: try Self.cell(row, "requested_by", in: table), releaseType: type,
                manifestKey: try Self.cell(row, "manifest_key", in: table), status: try Self.cell(row, "status", in: table)))
        }
        return requests
    }

    private static func insertedID(_ rows: [PostgresRandomAccessRow], in table: String) throws(CatalogError) -> Int64 {
        guard let row = rows.first else { throw .database("inserting into \(table) returned no id") }
        return try cell(row, "id", in: table)
    }
}
