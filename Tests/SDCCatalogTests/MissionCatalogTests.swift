import Foundation
import GRDB
import Testing
@testable import SDCCatalog
import SDCCore
@testable import SDCPostgres

/// Mission catalogs on one database, as replicas see it: two `SQLiteMissionCatalog`s on one file, or two
/// `PostgresMissionCatalog`s on one scratch database through two connection pools. Removed afterwards.
final class TemporaryMissionCatalogs: Sendable {
    static let missions = try! MissionSet([.imap, .hermes, .padre])

    let folder: URL
    /// Two catalogs on the same database.
    let first: any MissionCatalog
    let second: any MissionCatalog
    /// Set for the SQLite backend.
    let sqlite: SQLiteMissionCatalog?
    /// The pools of the PostgreSQL backend (the scratch database first).
    let postgres: [PostgresDatabase]

    private init(backend: TestBackend) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-mission-catalog-\(UUID().uuidString)")
        switch backend {
        case .sqlite:
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let path = folder.appendingPathComponent("missions.sqlite").path
            let first = try SQLiteMissionCatalog(path: path, missions: Self.missions)
            (self.first, second, sqlite, postgres) = (first, try SQLiteMissionCatalog(path: path, missions: Self.missions), first, [])
        case .postgres:
            let url = try #require(TestBackend.databaseURL, "\(TestBackend.skipMessage)")
            let scratch = try await PostgresDatabase.scratch(from: url)
            var components = try #require(URLComponents(string: url))
            components.path = "/" + scratch.location.database
            let other = try await PostgresDatabase.connect(url: try #require(components.string))
            // Both replicas start at once: the migration lock lets one migrate, the other finds the tables.
            async let first = PostgresMissionCatalog(database: scratch, missions: Self.missions)
            async let second = PostgresMissionCatalog(database: other, missions: Self.missions)
            (self.first, self.second, sqlite, postgres) = (try await first, try await second, nil, [scratch, other])
        }
    }

    /// Runs `body` on new catalogs of `backend`, then removes their database.
    static func with(_ backend: TestBackend, _ body: (TemporaryMissionCatalogs) async throws -> Void) async throws {
        let t = try await TemporaryMissionCatalogs(backend: backend)
        do { try await body(t) } catch {
            try? await t.remove()
            throw error
        }
        try await t.remove()
    }

    private func remove() async throws {
        try? FileManager.default.removeItem(at: folder)
        for database in postgres.dropFirst() { await database.close() }
        try await postgres.first?.dropScratch()
    }

    /// A third catalog on the same database, of other hosted missions (a replica configured differently).
    func another(missions: MissionSet) async throws -> any MissionCatalog {
        if let sqlite { return try SQLiteMissionCatalog(path: sqlite.path, missions: missions) }
        return try await PostgresMissionCatalog(database: try #require(postgres.last), missions: missions)
    }

    /// Runs statements on the catalogs' database.
    func execute(_ statements: [String]) async throws {
        if let sqlite {
            try await sqlite.pool.write { db in for statement in statements { try db.execute(sql: statement) } }
            return
        }
        for statement in statements { _ = try await #require(postgres.first).rows(SQLQuery(statement)) }
    }

    /// The query plan of `query`: SQLite's `EXPLAIN QUERY PLAN` details or PostgreSQL's `EXPLAIN`.
    func plan(_ query: SQLQuery) async throws -> String {
        if let sqlite {
            return try await sqlite.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + query.sql, arguments: query.statementArguments)
                    .map { row -> String in row["detail"] }.joined(separator: "\n")
            }
        }
        return try await #require(postgres.first).rows(SQLQuery("EXPLAIN " + query.sql, query.values))
            .map { try $0[0].decode(String.self) }.joined(separator: "\n")
    }
}

/// A record of a mission file name (which must be valid), ingested at `ingested` seconds.
func missionRecord(_ name: String, mission: MissionProfile = .hermes, size: Int64 = 100, ingested: Int64 = 1_750_000_000,
                   origins: [String] = []) throws -> MissionFileRecord {
    guard case .swxsoc(let file) = try mission.parse(name) else { throw NamingError(name: name, message: "not a \(mission.name) file name") }
    return MissionFileRecord(file: file, size: size, sha256: String(repeating: "ab", count: 32), ingestionDate: UTCTime(secondsSince1970: ingested),
                             origins: origins)
}

/// One behaviour, two backends: the mission catalog on a real SQLite file and on the real PostgreSQL server.
@Suite struct MissionCatalogTests {
    let l0 = "hermes_EEA_l0_2024042-000000_v0.bin"
    let l1 = "hermes_eea_l1_20240211T000000_v0.1.0.cdf"
    let l1Burst = "hermes_eea_l1_burst_20240211T000000_v0.1.0.cdf"
    let nemisis = "hermes_nem_l1_20240211T120000_v0.1.0.cdf"
    let l2 = "hermes_eea_l2_20240212T000000_v0.1.0.cdf"

    @Test(arguments: TestBackend.available) func filesAreFoundByProductAndTimeWithTheirOriginsAndStatus(_ backend: TestBackend) async throws {
        try await TemporaryMissionCatalogs.with(backend) { t in
            let catalog = t.first
            let raw = try missionRecord(l0)
            try await catalog.commit(raw)
            let processed = try missionRecord(l1, ingested: 1_750_000_100, origins: [raw.key])
            try await catalog.commit(processed)
            let burst = try missionRecord(l1Burst, origins: [raw.key])
            try await catalog.commit(burst)
            try await catalog.commit(try missionRecord(nemisis))
            let final = try missionRecord(l2, origins: [processed.key, burst.key])
            try await catalog.commit(final)
            try await catalog.commit(try missionRecord("padre_meddea_l1_20240211T000000_v0.1.0.fits", mission: .padre))

            let found = try await catalog.record(forKey: processed.key)
            #expect(found == processed)
            let status = try #require(try await catalog.status(forKey: processed.key))
            #expect(status.state == .pending && status.message == "received" && status.reprocessedCount == 0 && status.processingSeconds == nil)
            #expect(status.originalTime == UTCTime(secondsSince1970: 1_750_000_100) && status.lastTime == status.originalTime)
            let missing = try await catalog.record(forKey: "hermes/eea/l1/unknown/2024/02/11/nothing.cdf")
            #expect(missing == nil)
            // Origins come back sorted, whatever order they were given in.
            let l2Record = try await catalog.record(forKey: final.key)
            #expect(l2Record?.origins == [processed.key, burst.key].sorted())

            func names(_ query: MissionFileQuery) async throws -> [String] {
                try await catalog.files(matching: query).map(\.record.file.name)
            }
            // Oldest file time first, then by name; one mission only.
            #expect(try await names(MissionFileQuery(mission: "hermes")) == [l0, l1, l1Burst, nemisis, l2])
            #expect(try await names(MissionFileQuery(mission: "padre")) == ["padre_meddea_l1_20240211T000000_v0.1.0.fits"])
            #expect(try await names(MissionFileQuery(mission: "hermes", instrument: "eea", level: "l1")) == [l1, l1Burst])
            #expect(try await names(MissionFileQuery(mission: "hermes", level: "l1", descriptor: "burst")) == [l1Burst])
            // Inclusive time bounds, to the millisecond.
            let noon = try #require(SWxSOCTime(iso: "2024-02-11T12:00:00"))
            #expect(try await names(MissionFileQuery(mission: "hermes", startTime: noon)) == [nemisis, l2])
            #expect(try await names(MissionFileQuery(mission: "hermes", instrument: "eea", endTime: noon)) == [l0, l1, l1Burst])
            let justAfterNoon = try #require(SWxSOCTime(iso: "2024-02-11T12:00:00.001"))
            #expect(try await names(MissionFileQuery(mission: "hermes", startTime: justAfterNoon)) == [l2])
            #expect(try await names(MissionFileQuery(mission: "hermes", instrument: "merit")).isEmpty)
        }
    }

    @Test(arguments: TestBackend.available) func statusChangesAreCountedAndKeepTheLastProcessingTime(_ backend: TestBackend) async throws {
        try await TemporaryMissionCatalogs.with(backend) { t in
            let raw = try missionRecord(l0, ingested: 1000)
            try await t.first.commit(raw)
            try await t.first.setStatus(key: raw.key, .success, message: "produced x", processingSeconds: 1.2345678901234567)
            let succeeded = try #require(try await t.first.status(forKey: raw.key))
            #expect(succeeded.state == .success && succeeded.message == "produced x" && succeeded.reprocessedCount == 1)
            #expect(succeeded.processingSeconds == 1.2345678901234567)
            #expect(succeeded.originalTime == UTCTime(secondsSince1970: 1000) && succeeded.lastTime > succeeded.originalTime)
            try await t.first.setStatus(key: raw.key, .failed, message: "damaged L0", processingSeconds: nil)
            let failed = try #require(try await t.first.status(forKey: raw.key))
            #expect(failed.state == .failed && failed.message == "damaged L0" && failed.reprocessedCount == 2)
            #expect(failed.processingSeconds == 1.2345678901234567)
            try await t.first.setStatus(key: raw.key, .success, message: "again", processingSeconds: 2e-5)
            let again = try await t.first.status(forKey: raw.key)
            #expect(again?.processingSeconds == 2e-5)

            await #expect(throws: CatalogError.notFound(key: "hermes/eea/l0/nothing.bin")) {
                try await t.first.setStatus(key: "hermes/eea/l0/nothing.bin", .success, message: "", processingSeconds: nil)
            }
        }
    }

    @Test(arguments: TestBackend.available) func aDuplicateOrAnOrphanIsRefusedAndCatalogsNothing(_ backend: TestBackend) async throws {
        try await TemporaryMissionCatalogs.with(backend) { t in
            let raw = try missionRecord(l0)
            try await t.first.commit(raw)
            // Another size and checksum, same name: refused, the first record stays.
            await #expect(throws: CatalogError.alreadyExists(key: raw.key)) { try await t.first.commit(try missionRecord(l0, size: 7)) }
            let kept = try await t.first.record(forKey: raw.key)
            #expect(kept?.size == 100)
            // An origin that is not cataloged: refused, naming it; the file is not half-cataloged.
            let unknown = "hermes/eea/l0/2024/02/10/hermes_EEA_l0_2024041-000000_v0.bin"
            let orphan = try missionRecord(l1, origins: [raw.key, unknown])
            await #expect(throws: CatalogError.notFound(key: unknown)) { try await t.first.commit(orphan) }
            let none = try await t.first.record(forKey: orphan.key)
            #expect(none == nil)
            let statuses = try await t.first.status(forKey: orphan.key)
            #expect(statuses == nil)
            // The same file with a known origin is accepted afterwards.
            try await t.first.commit(try missionRecord(l1, origins: [raw.key]))
            #expect(try await t.first.files(matching: MissionFileQuery(mission: "hermes")).count == 2)
        }
    }

    @Test(arguments: TestBackend.available) func rejectedFilesAreKeptPerMissionNewestFirst(_ backend: TestBackend) async throws {
        try await TemporaryMissionCatalogs.with(backend) { t in
            func rejected(_ mission: String, _ name: String, at seconds: Int64) -> RejectedFile {
                RejectedFile(key: "rejected/\(mission)/\(seconds)-\(name)", name: name, mission: mission, reason: "\(name) is not a \(mission) file name",
                             receivedAt: UTCTime(secondsSince1970: seconds), size: 3, sha256: String(repeating: "cd", count: 32))
            }
            let older = rejected("hermes", "hermes_XYZ_l0_2024042-000000_v0.bin", at: 100)
            let newer = rejected("hermes", "notes.txt", at: 200)
            let padre = rejected("padre", "padre_abc_l0_2024042-000000_v0.bin", at: 150)
            for file in [older, padre, newer] { try await t.first.reject(file) }
            await #expect(throws: CatalogError.alreadyExists(key: older.key)) { try await t.second.reject(older) }
            let hermes = try await t.second.rejected(mission: "hermes")
            #expect(hermes == [newer, older])
            let all = try await t.second.rejected(mission: nil)
            #expect(all == [newer, padre, older])
            let imap = try await t.second.rejected(mission: "imap")
            #expect(imap.isEmpty)
        }
    }

    /// A configured mission's names are parsed back with the hosted missions; a catalog that does not host it says
    /// so, naming the key, instead of dropping or misreading the row.
    @Test(arguments: TestBackend.available) func configuredMissionsAreReadBackOnlyWhereTheyAreHosted(_ backend: TestBackend) async throws {
        try await TemporaryMissionCatalogs.with(backend) { t in
            let reach = try MissionProfile(name: "reach", grammar: .swxsoc, instruments: [try MissionInstrument(name: "rad")], levels: ["l0", "l1"],
                                           fileExtension: "cdf")
            let hosting = try await t.another(missions: try MissionSet([.imap, reach]))
            let record = try missionRecord("reach_rad_l1_20250101T000000_v1.0.0.cdf", mission: reach)
            try await hosting.commit(record)
            let read = try await hosting.files(matching: MissionFileQuery(mission: "reach")).map(\.record)
            #expect(read == [record])
            let reason = "its mission 'reach' is not hosted here (hosted: imap, hermes, padre)"
            await #expect(throws: CatalogError.invalidKey(key: record.key, reason: reason)) {
                _ = try await t.first.files(matching: MissionFileQuery(mission: "reach"))
            }
        }
    }

    /// Two replicas on one database see each other's files and statuses, and of many concurrent commits of one file
    /// through both, exactly one succeeds.
    @Test(arguments: TestBackend.available) func twoCatalogsOnOneDatabaseShareFilesAndAdmitADuplicateOnce(_ backend: TestBackend) async throws {
        try await TemporaryMissionCatalogs.with(backend) { t in
            let raw = try missionRecord(l0)
            try await t.first.commit(raw)
            let seen = try await t.second.record(forKey: raw.key)
            #expect(seen == raw)
            try await t.second.setStatus(key: raw.key, .success, message: "produced l1", processingSeconds: 0.5)
            let status = try await t.first.status(forKey: raw.key)
            #expect(status?.state == .success && status?.processingSeconds == 0.5)

            let processed = try missionRecord(l1, origins: [raw.key])
            let catalogs = [t.first, t.second]
            let admitted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for attempt in 0..<16 {
                    group.addTask {
                        do { try await catalogs[attempt % 2].commit(processed) } catch CatalogError.alreadyExists { return false }
                        return true
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(admitted == 1)
            for catalog in catalogs {
                let rows = try await catalog.files(matching: MissionFileQuery(mission: "hermes", level: "l1"))
                #expect(rows.map(\.record) == [processed])
                #expect(rows.map(\.status.reprocessedCount) == [0])
            }
        }
    }

    /// Of many concurrent claims of one pending file through two catalogs on one database, exactly one succeeds; the
    /// claim names its process and is not counted as a reprocess; a claim expecting another message, or of a file that
    /// is no longer pending, changes nothing.
    @Test(arguments: TestBackend.available) func aPendingFileIsClaimedOnce(_ backend: TestBackend) async throws {
        try await TemporaryMissionCatalogs.with(backend) { t in
            let raw = try missionRecord(l0)
            try await t.first.commit(raw)
            let catalogs = [t.first, t.second]
            let claimed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for attempt in 0..<16 {
                    group.addTask {
                        try await catalogs[attempt % 2].claim(key: raw.key, owner: ProcessIdentity(host: "replica", pid: Int32(attempt + 1)),
                                                              expecting: "received")
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(claimed == 1)
            let status = try #require(try await t.second.status(forKey: raw.key))
            #expect(status.state == .pending && status.claimant?.host == "replica" && status.reprocessedCount == 0)
            let again = try await t.first.claim(key: raw.key, owner: .current, expecting: "received")
            #expect(!again)
            try await t.first.setStatus(key: raw.key, .success, message: "done", processingSeconds: nil)
            let finished = try await t.second.claim(key: raw.key, owner: .current, expecting: "done")
            #expect(!finished)
            let unknown = try await t.second.claim(key: "hermes/nothing", owner: .current, expecting: "received")
            #expect(!unknown)
        }
    }

    /// Limits, pages, the state filter, counts and the latest status changes are answered in SQL and agree with a
    /// full scan.
    @Test(arguments: TestBackend.available) func pagesCoverEveryFileOnceAndCountsEqualAFullScan(_ backend: TestBackend) async throws {
        try await TemporaryMissionCatalogs.with(backend) { t in
            let catalog = t.first
            // Four instruments, L0 and L1, six times; several files share a file time, so that names order them.
            var keys: [String] = []
            for (index, day) in (10...15).enumerated() {
                let raw = try missionRecord("hermes_EEA_l0_20240\(day + 30)-000000_v0.bin", size: Int64(100 + index))
                try await catalog.commit(raw)
                keys.append(raw.key)
                for instrument in ["eea", "nem", "spn", "mrt"] {
                    let record = try missionRecord("hermes_\(instrument)_l1_202402\(day)T000000_v0.1.0.cdf", size: Int64(1000 * index + 7),
                                                   origins: instrument == "eea" ? [raw.key] : [])
                    try await catalog.commit(record)
                    keys.append(record.key)
                }
            }
            try await catalog.commit(try missionRecord("padre_meddea_l1_20240211T000000_v0.1.0.fits", mission: .padre))
            for (index, key) in keys.enumerated() where index % 3 != 0 {
                try await catalog.setStatus(key: key, index % 3 == 1 ? .success : .failed, message: "step \(index)", processingSeconds: nil)
            }
            try await catalog.reject(RejectedFile(key: "rejected/hermes/x", name: "x", mission: "hermes", reason: "r", receivedAt: .now,
                                                  size: 1, sha256: ""))
            try await catalog.reject(RejectedFile(key: "rejected/padre/y", name: "y", mission: "padre", reason: "r", receivedAt: .now,
                                                  size: 1, sha256: ""))
            let all = try await catalog.files(matching: MissionFileQuery(mission: "hermes"))
            #expect(all.count == 30)

            // Pages of 7 after the last file of the page before: every file once, in the full scan's order.
            for filter in [MissionFileQuery(mission: "hermes"), MissionFileQuery(mission: "hermes", level: "l1", state: .success)] {
                let expected = all.filter { row in
                    (filter.level.map { row.record.file.level == $0 } ?? true) && (filter.state.map { row.status.state == $0 } ?? true)
                }.map(\.record.file.name)
                var paged: [String] = []
                var query = filter
                query.limit = 7
                while true {
                    let page = try await catalog.files(matching: query)
                    let remaining = try await catalog.count(matching: query)
                    #expect(remaining == expected.count - paged.count)
                    #expect(page.count == min(7, remaining))
                    guard let last = page.last else { break }
                    paged += page.map(\.record.file.name)
                    query.after = last.record.file
                }
                #expect(paged == expected)
                let total = try await catalog.count(matching: filter)
                #expect(total == expected.count)
            }
            let none = try await catalog.files(matching: MissionFileQuery(mission: "hermes", limit: 0))
            #expect(none.isEmpty)
            // A cursor need not be cataloged: the files after its place in the order.
            let noon = try missionRecord("hermes_eea_l1_20240212T120000_v0.1.0.cdf").file
            let afterNoon = try await catalog.files(matching: MissionFileQuery(mission: "hermes", after: noon))
            #expect(afterNoon.map(\.record.key) == all.filter { $0.record.file.time > noon.time }.map(\.record.key))

            // The counts equal the full scan's.
            let counts = try await catalog.counts(mission: "hermes")
            var scanned: [String: MissionFileCounts.Group] = [:]
            for row in all {
                let file = row.record.file, id = "\(file.instrument.name) \(file.level) \(row.status.state.rawValue)"
                var group = scanned[id] ?? MissionFileCounts.Group(instrument: file.instrument.name, level: file.level, state: row.status.state,
                                                                   files: 0, produced: 0, bytes: 0)
                group.files += 1
                group.produced += row.record.origins.isEmpty ? 0 : 1
                group.bytes += row.record.size
                scanned[id] = group
            }
            #expect(Set(counts.groups) == Set(scanned.values) && counts.groups.count == scanned.count)
            #expect(counts.groups == counts.groups.sorted { ($0.instrument, $0.level, $0.state.rawValue) < ($1.instrument, $1.level, $1.state.rawValue) })
            #expect(counts.files == 30 && counts.bytes == all.reduce(0) { $0 + $1.record.size } && counts.rejected == 1)
            #expect(counts.files(in: .failed) == all.filter { $0.status.state == .failed }.count)
            let empty = try await catalog.counts(mission: "reach")
            #expect(empty == MissionFileCounts(groups: [], rejected: 0))

            // The latest status changes: newest first, then by key, descending.
            let recent = try await catalog.recentlyChanged(mission: "hermes", limit: 12)
            let newest = all.sorted { ($0.status.lastTime, $0.record.key) > ($1.status.lastTime, $1.record.key) }.prefix(12)
            #expect(recent.map(\.record.key) == newest.map(\.record.key))
        }
    }

    /// A product query (mission, instrument, level, time range) reads `mission_files_by_product`, and a page of the
    /// whole mission `mission_files_by_time`, on a catalog of 20,000 files, on both backends.
    @Test(arguments: TestBackend.available) func productQueriesUseTheProductIndex(_ backend: TestBackend) async throws {
        try await TemporaryMissionCatalogs.with(backend) { t in
            // Four instruments, three levels, one file a minute: rows in both tables, then fresh statistics.
            let series = backend == .sqlite
                ? "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < 19999)"
                : "WITH s(n) AS (SELECT generate_series(0, 19999))"
            try await t.execute([
                """
                \(series) INSERT INTO mission_files (file_path, mission, instrument, data_level, descriptor, file_time_ms, name, size, sha256, ingestion_date)
                SELECT 'bulk/' || n, 'hermes', (CASE n % 4 WHEN 0 THEN 'eea' WHEN 1 THEN 'nemisis' WHEN 2 THEN 'merit' ELSE 'spani' END),
                       (CASE n / 4 % 3 WHEN 0 THEN 'l0' WHEN 1 THEN 'l1' ELSE 'ql' END), NULL, 1700000000000 + n * 60000, 'bulk-' || n, 1, '', 0
                FROM s
                """,
                "INSERT INTO mission_status (file_path, state, message, original_time, last_time) SELECT file_path, 'pending', 'received', 0, 0 FROM mission_files",
                "ANALYZE",
            ])
            let start = SWxSOCTime(unixMilliseconds: 1_700_000_000_000 + 600_000_000)
            let end = SWxSOCTime(unixMilliseconds: 1_700_000_000_000 + 660_000_000)
            let query = MissionFileQuery(mission: "hermes", instrument: "eea", level: "l1", startTime: start, endTime: end)
            let plan = try await t.plan(MissionCatalogSQL.selectFiles(MissionCatalogSQL.condition(query), originsAggregate: "NULL"))
            #expect(plan.contains("mission_files_by_product"), "\(plan)")
            // A page of the whole mission reads the files in page order, not all of them sorted.
            let cursor = try missionRecord("hermes_eea_l1_20231201T000000_v0.1.0.cdf").file
            let page = try await t.plan(MissionCatalogSQL.selectFiles(MissionFileQuery(mission: "hermes", after: cursor, limit: 500),
                                                                      originsAggregate: "NULL"))
            #expect(page.contains("mission_files_by_time"), "\(page)")
        }
    }
}
