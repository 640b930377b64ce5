import Foundation
import GRDB
import Testing
@testable import SDCCatalog
import SDCCore
@testable import SDCPostgres

struct PostgresAvailability {
    @Test(.disabled(if: TestBackend.databaseURL == nil, Comment(rawValue: TestBackend.skipMessage)))
    func catalogTestsRunAgainstPostgreSQL() {
        #expect(TestBackend.available.contains(.postgres))
    }
}

/// A catalog in a fresh SQLite file or PostgreSQL database, removed afterwards.
final class TemporaryCatalog: Sendable {
    let directory: URL
    let catalog: any FileCatalog & APIKeyStore & RequestLog & CatalogBrowsing & PortalSessionStore & LeaseStore
    /// Set for the SQLite backend.
    let sqlite: SQLiteCatalog?
    /// Set for the PostgreSQL backend.
    let postgres: PostgresDatabase?

    private init(backend: TestBackend) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-catalog-\(UUID().uuidString)")
        switch backend {
        case .sqlite:
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let sqlite = try SQLiteCatalog(path: directory.appendingPathComponent("catalog.sqlite").path)
            (catalog, self.sqlite, postgres) = (sqlite, sqlite, nil)
        case .postgres:
            let url = try #require(TestBackend.databaseURL, "\(TestBackend.skipMessage)")
            let database = try await PostgresDatabase.scratch(from: url)
            (catalog, sqlite, postgres) = (try await PostgresCatalog(database: database), nil, database)
        }
    }

    /// Runs `body` on a new catalog of `backend`, then removes the catalog.
    static func with(_ backend: TestBackend, _ body: (TemporaryCatalog) async throws -> Void) async throws {
        let t = try await TemporaryCatalog(backend: backend)
        do { try await body(t) } catch {
            try await t.remove()
            throw error
        }
        try await t.remove()
    }

    private func remove() async throws {
        try? FileManager.default.removeItem(at: directory)
        try await postgres?.dropScratch()
    }

    /// Runs a statement (`?` placeholders) on the catalog's database and returns the first column of its first row.
    @discardableResult
    func scalar(_ sql: String, _ values: [SQLValue] = []) async throws -> Int64? {
        let query = SQLQuery(sql, values)
        if let sqlite {
            return try await sqlite.pool.write { db in try Int64.fetchOne(db, sql: query.sql, arguments: query.statementArguments) }
        }
        let database = try #require(postgres)
        return try await database.rows(query).first?[0].decode(Int64?.self)
    }

    /// Catalogs files by name, ingested at `ingested` (YYYYMMDD) and released or not.
    func add(_ names: [String], ingested: String = "20250102", released: Bool? = nil) async throws {
        let time = UTCTime(date: FileDate(yyyymmdd: ingested)!)
        let records = try names.map {
            CatalogRecord(file: try IMAPFileName.parse($0), size: 10, sha256: String(repeating: "a", count: 64),
                          ingestionDate: time, released: released)
        }
        try await catalog.insert(records)
    }

    func names(_ parameters: [(String, String)], authenticated: Bool = true) async throws -> [String] {
        var query = try FileQuery(parameters: parameters)
        query.includeUnreleased = authenticated
        return try await catalog.files(matching: query).map(\.file.name)
    }
}

struct CatalogQueryTests {
    static let series = [
        "imap_swe_l1a_sci_20240105_v001.0001.cdf", "imap_swe_l1a_sci_20240105_v001.0002.cdf",
        "imap_swe_l1a_sci_20240105_v002.0000.cdf", "imap_swe_l1a_sci_20240106_v001.0000.cdf",
        "imap_swe_l1a_sci_20240106_v003.cdf", "imap_swe_l1b_sci_20240105_v001.0000.cdf",
        "imap_mag_l1a_norm-magi_20240105_v001.0000.cdf",
        "imap_hi_l1c_45sensor-pset_20250415-repoint00012_v001.0000.cdf",
        "imap_hi_l1c_45sensor-pset_20250415-repoint00012_v001.0001.cdf",
        "imap_hi_l1c_45sensor-pset_20250415-repoint00013_v001.0000.cdf",
    ]

    @Test(arguments: TestBackend.available) func defaultReturnsEveryMinorOfTheNewestMajorPerSeries(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            try await t.add(Self.series)
            #expect(try await t.names([("instrument", "swe"), ("data_level", "l1a")]) == [
                "imap_swe_l1a_sci_20240105_v002.0000.cdf", "imap_swe_l1a_sci_20240106_v001.0000.cdf",
            ])
            // A repointing is part of the series key.
            #expect(try await t.names([("instrument", "hi")]) == [
                "imap_hi_l1c_45sensor-pset_20250415-repoint00012_v001.0000.cdf",
                "imap_hi_l1c_45sensor-pset_20250415-repoint00012_v001.0001.cdf",
                "imap_hi_l1c_45sensor-pset_20250415-repoint00013_v001.0000.cdf",
            ])
        }
    }

    @Test(arguments: TestBackend.available) func latestReturnsOnlyTheNewestVersion(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            try await t.add(Self.series)
            #expect(try await t.names([("instrument", "hi"), ("latest", "true")]) == [
                "imap_hi_l1c_45sensor-pset_20250415-repoint00012_v001.0001.cdf",
                "imap_hi_l1c_45sensor-pset_20250415-repoint00013_v001.0000.cdf",
            ])
            #expect(try await t.names([("instrument", "swe"), ("data_level", "l1a"), ("version", "latest")]) == [
                "imap_swe_l1a_sci_20240105_v002.0000.cdf", "imap_swe_l1a_sci_20240106_v001.0000.cdf",
            ])
        }
    }

    @Test(arguments: TestBackend.available) func majorVersionLiftsTheLatestRestriction(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            try await t.add(Self.series)
            #expect(try await t.names([("instrument", "swe"), ("data_level", "l1a"), ("major_version", "1")]) == [
                "imap_swe_l1a_sci_20240105_v001.0001.cdf", "imap_swe_l1a_sci_20240105_v001.0002.cdf",
                "imap_swe_l1a_sci_20240106_v001.0000.cdf",
            ])
            #expect(try await t.names([("instrument", "swe"), ("version", "v001.0002")]) == ["imap_swe_l1a_sci_20240105_v001.0002.cdf"])
            // vXXX filters the minor version, then the latest-major rule applies.
            #expect(try await t.names([("instrument", "swe"), ("data_level", "l1a"), ("version", "v000")]) == [
                "imap_swe_l1a_sci_20240105_v002.0000.cdf", "imap_swe_l1a_sci_20240106_v001.0000.cdf",
            ])
        }
    }

    @Test(arguments: TestBackend.available) func datesFilterOnStartDateAndIngestionDay(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            try await t.add(["imap_swe_l1a_sci_20240105_v001.0000.cdf"], ingested: "20250101")
            try await t.add(["imap_swe_l1a_sci_20240106_v001.0000.cdf"], ingested: "20250103")
            try await t.add(["imap_swe_l1a_sci_20240107_v001.0000.cdf"], ingested: "20250105")
            #expect(try await t.names([("start_date", "20240106")]).count == 2)
            #expect(try await t.names([("end_date", "20240106")]).count == 2)
            #expect(try await t.names([("start_date", "20240106"), ("end_date", "20240106")]) == ["imap_swe_l1a_sci_20240106_v001.0000.cdf"])
            #expect(try await t.names([("ingestion_start_date", "20250103"), ("ingestion_end_date", "20250103")]) == ["imap_swe_l1a_sci_20240106_v001.0000.cdf"])
            #expect(try await t.names([("ingestion_end_date", "20250102")]) == ["imap_swe_l1a_sci_20240105_v001.0000.cdf"])
        }
    }

    @Test(arguments: TestBackend.available) func anonymousCallersSeeOnlyReleasedFiles(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            try await t.add(["imap_swe_l1a_sci_20240105_v001.0000.cdf"])
            try await t.add(["imap_swe_l1a_sci_20240106_v001.0000.cdf"], released: true)
            #expect(try await t.names([("instrument", "swe")], authenticated: false) == ["imap_swe_l1a_sci_20240106_v001.0000.cdf"])
            #expect(try await t.names([("instrument", "swe")]).count == 2)
            let changed = try await t.catalog.setReleased(true, keys: ["imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0000.cdf"])
            #expect(changed == 1)
            #expect(try await t.names([("instrument", "swe")], authenticated: false).count == 2)
        }
    }

    @Test(arguments: TestBackend.available) func ancillaryTableFiltersAndDefaultsToReleased(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            try await t.add(["imap_mag_l1b-cal_20250101_v001.cdf", "imap_mag_l1b-cal_20250101_20250201_v002.cdf",
                             "imap_swapi_lut-notes_20250301_v001.csv", "imap_swe_l1a_sci_20240105_v001.0000.cdf"])
            #expect(try await t.names([("table", "ancillary"), ("instrument", "mag")], authenticated: false) == [
                "imap_mag_l1b-cal_20250101_20250201_v002.cdf", "imap_mag_l1b-cal_20250101_v001.cdf",
            ])
            #expect(try await t.names([("table", "ancillary"), ("version", "v002")]) == ["imap_mag_l1b-cal_20250101_20250201_v002.cdf"])
            #expect(try await t.names([("table", "ancillary"), ("extension", "csv")]) == ["imap_swapi_lut-notes_20250301_v001.csv"])
        }
    }

    @Test(arguments: TestBackend.available) func spiceQueriesByTypeCoverageAndLatest(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            try await t.add(["imap_2025_118_2025_120_01.ah.bc", "imap_2025_118_2025_120_02.ah.bc", "imap_2025_121_2025_122_01.ah.bc",
                             "naif0012.tls", "imap_pred_od025_20260303_20260414_v01.bsp"])
            func kernels(_ parameters: [(String, String)]) async throws -> [String] {
                try await t.catalog.kernels(matching: try SPICEQuery(parameters: parameters)).map(\.file.name)
            }
            #expect(try await kernels([("type", "attitude_history")]).count == 3)
            #expect(try await kernels([("type", "attitude_history"), ("latest", "true")]) == [
                "imap_2025_118_2025_120_02.ah.bc", "imap_2025_121_2025_122_01.ah.bc",
            ])
            #expect(try await kernels([("type", "attitude_history"), ("start_date", "20250501")]) == ["imap_2025_121_2025_122_01.ah.bc"])
            #expect(try await kernels([("type", "leapseconds"), ("start_date", "20300101")]) == ["naif0012.tls"])
            let error = #expect(throws: QueryParameterError.self) { try SPICEQuery(parameters: [("type", "nope")]) }
            #expect(error?.message.contains("not a SPICE kernel type") == true)
        }
    }

    @Test func invalidParametersAreExplained() {
        let unknown = #expect(throws: QueryParameterError.self) { try FileQuery(parameters: [("colour", "red")]) }
        #expect(unknown?.message.hasPrefix("colour is not a valid query parameter for science table. Valid query parameters are: ['table'") == true)
        let version = #expect(throws: QueryParameterError.self) { try FileQuery(parameters: [("version", "1.2")]) }
        #expect(version?.message == "Invalid 'version' value. Use format 'vMMM.mmmm' or 'vXXX'.")
        #expect(throws: QueryParameterError.self) { try FileQuery(parameters: [("instrument", "foo")]) }
        #expect(throws: QueryParameterError.self) { try FileQuery(parameters: [("start_date", "2024-01-01")]) }
        #expect(throws: QueryParameterError.self) { try FileQuery(parameters: [("table", "ancillary"), ("data_level", "l1a")]) }
        #expect(try! FileQuery(parameters: [("repointing", "12")]).repointing == 12)
    }
}

struct CatalogIngestTests {
    @Test(arguments: TestBackend.available) func reservationsBlockDuplicatesUntilCommittedOrCancelled(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            let file = try IMAPFileName.parse("imap_swe_l1a_sci_20240105_v001.0000.cdf")
            try await t.catalog.reserve(file, staleAfter: 3600)
            await #expect(throws: CatalogError.alreadyExists(key: file.key)) { try await t.catalog.reserve(file, staleAfter: 3600) }
            #expect(try await t.catalog.reservedKeys() == [file.key])
            try await t.catalog.cancelReservation(key: file.key)
            try await t.catalog.reserve(file, staleAfter: 3600)
            try await t.catalog.commit(CatalogRecord(file: file, size: 3, sha256: "abc", ingestionDate: .now))
            #expect(try await t.catalog.reservedKeys().isEmpty)
            await #expect(throws: CatalogError.alreadyExists(key: file.key)) { try await t.catalog.reserve(file, staleAfter: 3600) }
            let stored = try #require(try await t.catalog.record(forKey: file.key))
            #expect(stored.size == 3 && stored.sha256 == "abc" && !stored.released)
        }
    }

    @Test(arguments: TestBackend.available) func staleReservationsAreTakenOver(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            let file = try IMAPFileName.parse("imap_mag_l1b-cal_20250101_v001.cdf")
            func startedAt() async throws -> Int64? {
                try await t.scalar("SELECT started_at FROM pending_uploads WHERE file_path = ?", [.text(file.key)])
            }
            // An upload that started two hours ago and never finished (its process died).
            let twoHoursAgo = UTCTime.now.secondsSince1970 - 7200
            try await t.scalar("INSERT INTO pending_uploads (file_path, started_at) VALUES (?, ?)", [.text(file.key), .integer(twoHoursAgo)])
            // Younger than the three hours a reservation lives here: it is still in flight, and is not taken over.
            await #expect(throws: CatalogError.alreadyExists(key: file.key)) { try await t.catalog.reserve(file, staleAfter: 3 * 3600) }
            #expect(try await startedAt() == twoHoursAgo)
            // Older than the hour a reservation lives here: it is taken over, and the key is reserved afresh.
            try await t.catalog.reserve(file, staleAfter: 3600)
            let renewed = try #require(try await startedAt())
            #expect(renewed >= UTCTime.now.secondsSince1970 - 60)
            #expect(try await t.catalog.reservedKeys() == [file.key])
            // The new reservation is fresh in turn: a second upload of the same name is refused.
            await #expect(throws: CatalogError.alreadyExists(key: file.key)) { try await t.catalog.reserve(file, staleAfter: 3600) }
        }
    }

    @Test func migratedDatabaseUsesWAL() async throws {
        try await TemporaryCatalog.with(.sqlite) { t in
            let sqlite = try #require(t.sqlite)
            let mode = try await sqlite.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
            #expect(mode == "wal")
            // Reopening an existing database applies no migration twice.
            _ = try SQLiteCatalog(path: sqlite.path)
        }
    }

    @Test(.disabled(if: TestBackend.databaseURL == nil, Comment(rawValue: TestBackend.skipMessage)))
    func replicasStartingTogetherMigrateOnce() async throws {
        try await TemporaryCatalog.with(.postgres) { t in
            let database = try #require(t.postgres)
            // Four more replicas start at once on the migrated database, and one on its own scratch database.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try await PostgresCatalog(database: database) } }
                try await group.waitForAll()
            }
            #expect(try await t.scalar("SELECT COUNT(*) FROM schema_migrations WHERE component = 'catalog'") == Int64(PostgresCatalogSchema.migrations.count))
            try await t.add(["imap_swe_l1a_sci_20240105_v001.0000.cdf"])
            #expect(try await t.names([("instrument", "swe")]).count == 1)
        }
    }

    @Test(arguments: TestBackend.available) func concurrentReservationsOfOneKeyAdmitOne(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            let file = try IMAPFileName.parse("imap_swe_l1a_sci_20240105_v001.0000.cdf")
            let admitted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        do { try await t.catalog.reserve(file, staleAfter: 3600) } catch CatalogError.alreadyExists { return false }
                        return true
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(admitted == 1)
            #expect(try await t.catalog.reservedKeys() == [file.key])
        }
    }

    @Test func anUnreachableDatabaseIsNamedWithTheReason() async throws {
        // Port 1 on loopback: nothing listens there.
        let error = await #expect(throws: PostgresDatabaseError.self) {
            _ = try await PostgresDatabase.connect(url: "postgres://sdc@127.0.0.1:1/mission")
        }
        let message = try #require(error).description
        #expect(message.hasPrefix("cannot reach the PostgreSQL database 'mission' at 127.0.0.1:1: "))
        #expect(message.lowercased().contains("refused"), "\(message)")
        let invalid = await #expect(throws: PostgresDatabaseError.self) { _ = try await PostgresDatabase.connect(url: "mysql://x@y/z") }
        #expect(invalid?.description.hasPrefix("invalid database URL 'mysql://x@y/z'") == true)
    }
}

struct APIKeyTests {
    @Test(arguments: TestBackend.available) func keysAreStoredOnlyAsHashes(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            let (secret, info) = try await t.catalog.createKey(name: "swe team", scope: .write)
            #expect(secret.hasPrefix("sdc_") && secret.count == 47)
            #expect(try await t.catalog.authenticate(secret: secret)?.id == info.id)
            #expect(try await t.catalog.authenticate(secret: secret + "x") == nil)
            #expect(try await t.scalar("SELECT COUNT(*) FROM api_keys WHERE key_hash = ? OR key_prefix = ? OR name = ?",
                                       [.text(secret), .text(secret), .text(secret)]) == 0)
            #expect(try await t.scalar("SELECT COUNT(*) FROM api_keys WHERE key_hash = ?", [.text(APIKeySecret.hash(secret))]) == 1)
            guard let sqlite = t.sqlite else { return }
            // In WAL mode a fresh row sits in `-wal`, not in the main file: look through every file of the database. A
            // plaintext written the same way is found there, so the search would catch a stored key.
            let canary = "plaintext-canary-\(UUID().uuidString)"
            try await sqlite.pool.write { db in
                try db.execute(sql: "CREATE TABLE canary (value TEXT)")
                try db.execute(sql: "INSERT INTO canary (value) VALUES (?)", arguments: [canary])
            }
            let files = try databaseFiles(of: sqlite, in: t.directory)
            #expect(files.contains { $0.hasSuffix("-wal") })
            #expect(try files.contains { try Data(contentsOf: URL(fileURLWithPath: $0)).range(of: Data(canary.utf8)) != nil })
            for file in files {
                #expect(try Data(contentsOf: URL(fileURLWithPath: file)).range(of: Data(secret.utf8)) == nil, "\(file) holds the key")
            }
        }
    }

    /// The paths of every file the catalog's database is made of: the main file, `-wal` and `-shm`.
    func databaseFiles(of catalog: SQLiteCatalog, in directory: URL) throws -> [String] {
        let name = URL(fileURLWithPath: catalog.path).lastPathComponent
        return try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix(name) }
            .map { directory.appendingPathComponent($0).path }
    }

    @Test(arguments: TestBackend.available) func revokedKeysNoLongerAuthenticate(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            let (secret, info) = try await t.catalog.createKey(name: "ops", scope: .admin)
            let revoked = try await t.catalog.revokeKey(info.prefix)
            #expect(revoked.isRevoked)
            #expect(try await t.catalog.authenticate(secret: secret) == nil)
            await #expect(throws: APIKeyError.unknownKey("nope")) { try await t.catalog.revokeKey("nope") }
            #expect(try await t.catalog.listKeys().map(\.name) == ["ops"])
        }
    }

    @Test func scopesAreOrdered() {
        #expect(APIKeyScope.read < .write && APIKeyScope.write < .admin)
    }
}
