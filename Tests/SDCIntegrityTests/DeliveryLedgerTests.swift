import Foundation
import SDCCatalog
import SDCCore
import SDCIntegrity
import SDCPostgres
import Testing

/// A delivery ledger and a catalog in a fresh SQLite folder or PostgreSQL database, removed afterwards.
private func withLedger(_ backend: TestBackend, _ body: (any DeliveryLedger, any FileCatalog) async throws -> Void) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-deliveries-\(UUID().uuidString)")
    var scratch: PostgresDatabase?
    let ledger: any DeliveryLedger
    let catalog: any FileCatalog
    switch backend {
    case .sqlite:
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        ledger = try SQLiteDeliveryLedger(path: folder.appendingPathComponent("deliveries.sqlite").path)
        catalog = try SQLiteCatalog(path: folder.appendingPathComponent("catalog.sqlite").path)
    case .postgres:
        let url = try #require(TestBackend.databaseURL, "\(TestBackend.skipMessage)")
        let database = try await PostgresDatabase.scratch(from: url)
        scratch = database
        ledger = try await PostgresDeliveryLedger(database: database)
        catalog = try await PostgresCatalog(database: database)
    }
    defer { try? FileManager.default.removeItem(at: folder) }
    do { try await body(ledger, catalog) } catch {
        try await scratch?.dropScratch()
        throw error
    }
    try await scratch?.dropScratch()
}

private func record(_ name: String, released: Bool = true) throws -> CatalogRecord {
    CatalogRecord(file: try IMAPFileName.parse(name), size: 10, sha256: String(repeating: "a", count: 64),
                  ingestionDate: UTCTime(secondsSince1970: 1_750_000_000), released: released)
}

private func delivered(_ name: String) throws -> DeliveredFile {
    DeliveredFile(name: name, key: try IMAPFileName.parse(name).key, size: 10, sha256: String(repeating: "a", count: 64))
}

struct DeliveryLedgerTests {
    @Test(arguments: TestBackend.available) func deliveriesAreRecordedWithTheirFiles(_ backend: TestBackend) async throws {
        try await withLedger(backend) { ledger, _ in
            let first = try await ledger.record(Delivery(
                package: "swapi-l1a-1", createdAt: UTCTime(secondsSince1970: 1_750_000_000), instrument: .swapi, dataLevel: .l1a,
                from: try #require(FileDate(yyyymmdd: "20250101")), to: try #require(FileDate(yyyymmdd: "20250131")),
                files: [try delivered("imap_swapi_l1a_hk_20250101_v001.0001.cdf"), try delivered("imap_swapi_l1a_sci_20250101_v001.0001.cdf")]))
            let second = try await ledger.record(Delivery(
                package: "mag-l1a-1", createdAt: UTCTime(secondsSince1970: 1_750_000_100), instrument: .mag, dataLevel: .l1a,
                from: try #require(FileDate(yyyymmdd: "20250101")), to: try #require(FileDate(yyyymmdd: "20250101")),
                files: [try delivered("imap_mag_l1a_norm-raw_20250101_v001.0001.cdf")]))
            #expect(first.id > 0 && second.id > first.id)
            let listed = try await ledger.deliveries(limit: 10)
            #expect(listed.map(\.package) == ["mag-l1a-1", "swapi-l1a-1"])
            #expect(listed.last == first)
            let swapi = try await ledger.deliveredFiles(instrument: .swapi, dataLevel: nil)
            #expect(swapi.map(\.file.name) == ["imap_swapi_l1a_hk_20250101_v001.0001.cdf", "imap_swapi_l1a_sci_20250101_v001.0001.cdf"])
            #expect(swapi.allSatisfy { $0.delivery == first.id && $0.at == first.createdAt })
            #expect(try await ledger.deliveredFiles(instrument: .mag, dataLevel: .l1b).isEmpty)
            #expect(try await ledger.deliveredFiles(instrument: nil, dataLevel: nil).count == 3)
        }
    }

    @Test(arguments: TestBackend.available) func aNewerReleasedVersionOfADeliveredProductIsOwed(_ backend: TestBackend) async throws {
        try await withLedger(backend) { ledger, catalog in
            try await catalog.insert([
                try record("imap_swapi_l1a_sci_20250101_v001.0001.cdf"), try record("imap_swapi_l1a_sci_20250101_v001.0002.cdf"),
                try record("imap_swapi_l1a_sci_20250102_v001.0001.cdf"),
                try record("imap_swapi_l1a_sci_20250103_v001.0001.cdf"), try record("imap_swapi_l1a_sci_20250103_v002.0000.cdf", released: false),
                try record("imap_swapi_l1a_sci_20250104_v001.0001.cdf"),  // never delivered: not a re-delivery
            ])
            let delivery = try await ledger.record(Delivery(
                package: "swapi-l1a-1", createdAt: UTCTime(secondsSince1970: 1_750_000_000), instrument: .swapi, dataLevel: .l1a,
                from: try #require(FileDate(yyyymmdd: "20250101")), to: try #require(FileDate(yyyymmdd: "20250103")),
                files: try ["20250101", "20250102", "20250103"].map { try delivered("imap_swapi_l1a_sci_\($0)_v001.0001.cdf") }))
            let pending = try await ledger.pendingRedeliveries(catalog: catalog, instrument: .swapi)
            // 20250101 has a newer released version; 20250102 has none; 20250103's newer one is not released.
            #expect(pending.map(\.record.file.name) == ["imap_swapi_l1a_sci_20250101_v001.0002.cdf"])
            #expect(pending.first?.delivered.name == "imap_swapi_l1a_sci_20250101_v001.0001.cdf" && pending.first?.deliveryID == delivery.id)
            // Delivering the new version settles it.
            _ = try await ledger.record(Delivery(
                package: "swapi-l1a-2", createdAt: UTCTime(secondsSince1970: 1_750_000_500), instrument: .swapi, dataLevel: .l1a,
                from: try #require(FileDate(yyyymmdd: "20250101")), to: try #require(FileDate(yyyymmdd: "20250101")),
                files: [try delivered("imap_swapi_l1a_sci_20250101_v001.0002.cdf")]))
            #expect(try await ledger.pendingRedeliveries(catalog: catalog).isEmpty)
        }
    }
}
