import Foundation
import GRDB
import SDCPostgres
import Testing
@testable import SDCIALiRT

/// Runs `body` on a new store of `backend` (a SQLite file in a new folder, or a scratch PostgreSQL database), then
/// removes it.
func withIALiRTStore(_ backend: TestBackend, _ body: (any IALiRTStore) async throws -> Void) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-ialirt-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var scratch: SDCPostgres.PostgresDatabase?
    let store: any IALiRTStore
    switch backend {
    case .sqlite:
        store = try SQLiteIALiRTStore(path: folder.appendingPathComponent("ialirt.sqlite").path)
    case .postgres:
        let url = try #require(TestBackend.databaseURL, "\(TestBackend.skipMessage)")
        let database = try await SDCPostgres.PostgresDatabase.scratch(from: url)
        scratch = database
        store = try await PostgresIALiRTStore(database: database)
    }
    do { try await body(store) } catch {
        try await scratch?.dropScratch()
        throw error
    }
    try await scratch?.dropScratch()
}

struct IALiRTStoreTests {
    static func batch(_ bytes: [UInt8], receivedAt: Int64, instance: Int = 1) throws -> IALiRTBatch {
        let decoded = try IALiRTDecoding.decode(bytes)
        return IALiRTBatch(instance: instance, receivedAt: receivedAt, source: "test", packets: decoded.packets, records: decoded.records,
                           skipped: decoded.skipped)
    }

    @Test(arguments: TestBackend.available) func keepsPacketsLogsAndRecords(_ backend: TestBackend) async throws {
        try await withIALiRTStore(backend) { store in
            let first = try Self.batch(PacketBuilder.stream(from: 500_000_000, count: 3), receivedAt: 1_762_304_400_000_042)
            try await store.save(first)
            // The same second again (a packet received twice), then the next seconds: one record per (instrument, time).
            let second = try Self.batch(PacketBuilder.stream(from: 500_000_002, count: 3), receivedAt: 1_762_304_401_500_000)
            try await store.save(second)

            let mag = try await store.records(instrument: "mag", start: "2025-11-05T00:53:17", end: "2025-11-05T00:53:21", limit: 100)
            #expect(mag.map(\.timeUTC) == ["2025-11-05T00:53:17", "2025-11-05T00:53:18", "2025-11-05T00:53:19", "2025-11-05T00:53:20", "2025-11-05T00:53:21"])
            // The later arrival replaced the record of 00:53:19 (MAG_DATA 1000 + 0 of the second stream).
            #expect(mag[2].fields?.last?.value == 1000)
            #expect(mag[1].fields?.last?.value == 1001)
            let limited = try await store.records(instrument: "mag", start: "2025-11-05T00:00:00", end: "2025-11-05T23:59:59", limit: 2)
            #expect(limited.count == 2)
            let none = try await store.records(instrument: "mag", start: "2025-11-06T00:00:00", end: "2025-11-06T23:59:59", limit: 10)
            #expect(none.isEmpty)
            #expect(try await store.recordDays() == ["20251105"])

            #expect(try await store.logNames(prefix: "flight_iois_1.log.2025-309") == [
                "flight_iois_1.log.2025-309T01_00_00.000042", "flight_iois_1.log.2025-309T01_00_01.500000",
            ])
            #expect(try await store.logNames(prefix: "flight_iois_2.log.2025-309").isEmpty)
            let log = try await store.log(named: "flight_iois_1.log.2025-309T01_00_00.000042")
            #expect(log?.hasPrefix("2025/309-01:00:00.000 received 3 I-ALiRT packets (APID 478) from test") == true)
            #expect(try await store.log(named: "flight_iois_1.log.2025-309T01_00_00.000043") == nil)

            let files = try await store.packetFileNames(prefix: "iois_1_packets_2025_309", times: Int64.min...Int64.max)
            #expect(files == ["iois_1_packets_2025_309_00_53_17.bin", "iois_1_packets_2025_309_00_53_19.bin"])
            let later = try await store.packetFileNames(prefix: "iois_1_packets_", times: 1_762_304_000 - 3 + 1...Int64.max)
            #expect(later == ["iois_1_packets_2025_309_00_53_19.bin"])
            #expect(try await store.packets(inFile: "iois_1_packets_2025_309_00_53_17.bin") == PacketBuilder.stream(from: 500_000_000, count: 3))
            #expect(try await store.packets(inFile: "iois_1_packets_2025_309_00_53_18.bin") == nil)
        }
    }

    /// A store made before the days table lists the days of its records once migrated.
    @Test func migrationToVersion2ListsTheDaysOfExistingRecords() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-ialirt-migrate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("ialirt.sqlite").path
        do {
            let pool = try DatabasePool(path: path)
            try SQLiteIALiRTStore.migrator.migrate(pool, upTo: "ialirt v1: packets, logs, real-time records")
            try await pool.write { db in
                for time in ["2025-11-05T23:59:59", "2025-11-06T00:00:00", "2025-11-06T00:00:01"] {
                    try db.execute(sql: "INSERT INTO ialirt_records (instrument, time_utc, met, ttj2000ns, fields) VALUES ('mag', ?, 0, 0, '{}')",
                                   arguments: [time])
                }
            }
        }
        let store = try SQLiteIALiRTStore(path: path)
        #expect(try await store.recordDays() == ["20251105", "20251106"])
    }
}
