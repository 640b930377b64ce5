import Foundation
import GRDB
import Testing
@testable import SDCCatalog
import SDCCore

/// A catalog in a fresh SQLite file, removed afterwards.
final class TemporaryCatalog {
    let directory: URL
    let catalog: SQLiteCatalog

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        catalog = try SQLiteCatalog(path: directory.appendingPathComponent("catalog.sqlite").path)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

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

    @Test func defaultReturnsEveryMinorOfTheNewestMajorPerSeries() async throws {
        let t = try TemporaryCatalog()
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

    @Test func latestReturnsOnlyTheNewestVersion() async throws {
        let t = try TemporaryCatalog()
        try await t.add(Self.series)
        #expect(try await t.names([("instrument", "hi"), ("latest", "true")]) == [
            "imap_hi_l1c_45sensor-pset_20250415-repoint00012_v001.0001.cdf",
            "imap_hi_l1c_45sensor-pset_20250415-repoint00013_v001.0000.cdf",
        ])
        #expect(try await t.names([("instrument", "swe"), ("data_level", "l1a"), ("version", "latest")]) == [
            "imap_swe_l1a_sci_20240105_v002.0000.cdf", "imap_swe_l1a_sci_20240106_v001.0000.cdf",
        ])
    }

    @Test func majorVersionLiftsTheLatestRestriction() async throws {
        let t = try TemporaryCatalog()
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

    @Test func datesFilterOnStartDateAndIngestionDay() async throws {
        let t = try TemporaryCatalog()
        try await t.add(["imap_swe_l1a_sci_20240105_v001.0000.cdf"], ingested: "20250101")
        try await t.add(["imap_swe_l1a_sci_20240106_v001.0000.cdf"], ingested: "20250103")
        try await t.add(["imap_swe_l1a_sci_20240107_v001.0000.cdf"], ingested: "20250105")
        #expect(try await t.names([("start_date", "20240106")]).count == 2)
        #expect(try await t.names([("end_date", "20240106")]).count == 2)
        #expect(try await t.names([("start_date", "20240106"), ("end_date", "20240106")]) == ["imap_swe_l1a_sci_20240106_v001.0000.cdf"])
        #expect(try await t.names([("ingestion_start_date", "20250103"), ("ingestion_end_date", "20250103")]) == ["imap_swe_l1a_sci_20240106_v001.0000.cdf"])
        #expect(try await t.names([("ingestion_end_date", "20250102")]) == ["imap_swe_l1a_sci_20240105_v001.0000.cdf"])
    }

    @Test func anonymousCallersSeeOnlyReleasedFiles() async throws {
        let t = try TemporaryCatalog()
        try await t.add(["imap_swe_l1a_sci_20240105_v001.0000.cdf"])
        try await t.add(["imap_swe_l1a_sci_20240106_v001.0000.cdf"], released: true)
        #expect(try await t.names([("instrument", "swe")], authenticated: false) == ["imap_swe_l1a_sci_20240106_v001.0000.cdf"])
        #expect(try await t.names([("instrument", "swe")]).count == 2)
        let changed = try await t.catalog.setReleased(true, keys: ["imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0000.cdf"])
        #expect(changed == 1)
        #expect(try await t.names([("instrument", "swe")], authenticated: false).count == 2)
    }

    @Test func ancillaryTableFiltersAndDefaultsToReleased() async throws {
        let t = try TemporaryCatalog()
        try await t.add(["imap_mag_l1b-cal_20250101_v001.cdf", "imap_mag_l1b-cal_20250101_20250201_v002.cdf",
                         "imap_swapi_lut-notes_20250301_v001.csv", "imap_swe_l1a_sci_20240105_v001.0000.cdf"])
        #expect(try await t.names([("table", "ancillary"), ("instrument", "mag")], authenticated: false) == [
            "imap_mag_l1b-cal_20250101_20250201_v002.cdf", "imap_mag_l1b-cal_20250101_v001.cdf",
        ])
        #expect(try await t.names([("table", "ancillary"), ("version", "v002")]) == ["imap_mag_l1b-cal_20250101_20250201_v002.cdf"])
        #expect(try await t.names([("table", "ancillary"), ("extension", "csv")]) == ["imap_swapi_lut-notes_20250301_v001.csv"])
    }

    @Test func spiceQueriesByTypeCoverageAndLatest() async throws {
        let t = try TemporaryCatalog()
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
    @Test func reservationsBlockDuplicatesUntilCommittedOrCancelled() async throws {
        let t = try TemporaryCatalog()
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

    @Test func staleReservationsAreTakenOver() async throws {
        let t = try TemporaryCatalog()
        let file = try IMAPFileName.parse("imap_mag_l1b-cal_20250101_v001.cdf")
        func startedAt() async throws -> Int64? {
            try await t.catalog.pool.read { db in
                try Int64.fetchOne(db, sql: "SELECT started_at FROM pending_uploads WHERE file_path = ?", arguments: [file.key])
            }
        }
        // An upload that started two hours ago and never finished (its process died).
        let twoHoursAgo = UTCTime.now.secondsSince1970 - 7200
        try await t.catalog.pool.write { db in
            try db.execute(sql: "INSERT INTO pending_uploads (file_path, started_at) VALUES (?, ?)", arguments: [file.key, twoHoursAgo])
        }
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

    @Test func migratedDatabaseUsesWAL() async throws {
        let t = try TemporaryCatalog()
        let mode = try await t.catalog.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        // Reopening an existing database applies no migration twice.
        _ = try SQLiteCatalog(path: t.catalog.path)
    }
}

struct APIKeyTests {
    @Test func keysAreStoredOnlyAsHashes() async throws {
        let t = try TemporaryCatalog()
        let (secret, info) = try await t.catalog.createKey(name: "swe team", scope: .write)
        #expect(secret.hasPrefix("sdc_") && secret.count == 47)
        #expect(try await t.catalog.authenticate(secret: secret)?.id == info.id)
        #expect(try await t.catalog.authenticate(secret: secret + "x") == nil)
        let storedSecrets = try await t.catalog.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM api_keys WHERE key_hash = ? OR key_prefix = ?", arguments: [secret, secret])
        }
        #expect(storedSecrets == 0)
        // In WAL mode a fresh row sits in `-wal`, not in the main file: look through every file of the database. A
        // plaintext written the same way is found there, so the search would catch a stored key.
        let canary = "plaintext-canary-\(UUID().uuidString)"
        try await t.catalog.pool.write { db in
            try db.execute(sql: "CREATE TABLE canary (value TEXT)")
            try db.execute(sql: "INSERT INTO canary (value) VALUES (?)", arguments: [canary])
        }
        let files = try databaseFiles(of: t)
        #expect(files.contains { $0.hasSuffix("-wal") })
        #expect(try files.contains { try Data(contentsOf: URL(fileURLWithPath: $0)).range(of: Data(canary.utf8)) != nil })
        for file in files {
            #expect(try Data(contentsOf: URL(fileURLWithPath: file)).range(of: Data(secret.utf8)) == nil, "\(file) holds the key")
        }
    }

    /// The paths of every file the catalog's database is made of: the main file, `-wal` and `-shm`.
    func databaseFiles(of t: TemporaryCatalog) throws -> [String] {
        let name = URL(fileURLWithPath: t.catalog.path).lastPathComponent
        return try FileManager.default.contentsOfDirectory(atPath: t.directory.path)
            .filter { $0.hasPrefix(name) }
            .map { t.directory.appendingPathComponent($0).path }
    }

    @Test func revokedKeysNoLongerAuthenticate() async throws {
        let t = try TemporaryCatalog()
        let (secret, info) = try await t.catalog.createKey(name: "ops", scope: .admin)
        let revoked = try await t.catalog.revokeKey(info.prefix)
        #expect(revoked.isRevoked)
        #expect(try await t.catalog.authenticate(secret: secret) == nil)
        await #expect(throws: APIKeyError.unknownKey("nope")) { try await t.catalog.revokeKey("nope") }
        #expect(try await t.catalog.listKeys().map(\.name) == ["ops"])
    }

    @Test func scopesAreOrdered() {
        #expect(APIKeyScope.read < .write && APIKeyScope.write < .admin)
    }
}
