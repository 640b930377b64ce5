import Foundation
import SDCCore
import SDCIntegrity
import Testing

/// Archive packages: what is refused, and that a refused-only delivery leaves nothing behind.
struct ArchiveBuilderTests {
    @Test func aFileThatIsNotAnISTPCDFIsRefusedAndNothingIsRecorded() async throws {
        let t = try IntegrityFixture.filesystem()
        defer { t.remove() }
        try await t.ingest("imap_swapi_l1a_sci_20250101_v001.0001.cdf", Array("not a CDF".utf8), released: true)
        try await t.ingest("imap_swapi_l1a_sci_20250102_v001.0001.cdf", Array("embargoed".utf8))  // not released: not taken
        let ledger = try SQLiteDeliveryLedger(path: t.folder.appendingPathComponent("deliveries.sqlite").path)
        let builder = ArchiveBuilder(catalog: t.catalog, store: t.store, ledger: ledger)
        let bag = t.folder.appendingPathComponent("bag")
        let request = ArchiveRequest(instrument: .swapi, dataLevel: .l1a, from: try #require(FileDate(yyyymmdd: "20250101")),
                                     to: try #require(FileDate(yyyymmdd: "20250131")))
        let outcome = try await builder.build(request, into: bag)
        #expect(outcome.delivery == nil && outcome.bag == nil)
        #expect(outcome.refused.map(\.name) == ["imap_swapi_l1a_sci_20250101_v001.0001.cdf"])
        #expect(outcome.refused.first?.reasons.first?.hasPrefix("not a readable CDF") == true)
        #expect(!FileManager.default.fileExists(atPath: bag.path))
        #expect(try await ledger.deliveries(limit: 10).isEmpty)
        // Nothing released in range is an error naming the range.
        let empty = ArchiveRequest(instrument: .mag, dataLevel: .l1a, from: request.from, to: request.to)
        await #expect(throws: IntegrityError.self) { try await builder.build(empty, into: bag) }
    }

    @Test func aBagHasItsTagFilesAndManifests() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-bag-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var bag = try BagWriter(folder: folder)
        try FileManager.default.createDirectory(at: bag.dataFolder.appendingPathComponent("imap"), withIntermediateDirectories: true)
        try Data("hello\n".utf8).write(to: bag.dataFolder.appendingPathComponent("imap/a.cdf"))
        bag.add("imap/a.cdf", size: 6, sha256: "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")
        try bag.finish(info: [("Source-Organization", "test")], now: UTCTime(secondsSince1970: 1_750_000_000))
        let text = { (name: String) in try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) }
        #expect(try text("bagit.txt") == "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        #expect(try text("manifest-sha256.txt") == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  data/imap/a.cdf\n")
        #expect(try text("bag-info.txt") == "Source-Organization: test\nBagging-Date: 2025-06-15\nPayload-Oxum: 6.1\nBag-Size: 6 bytes\n")
        #expect(try text("tagmanifest-sha256.txt").split(separator: "\n").map { $0.split(separator: " ").last.map(String.init) }
                == ["bagit.txt", "bag-info.txt", "manifest-sha256.txt"])
        #expect(throws: IntegrityError.self) { try BagWriter(folder: folder) }  // not a new folder
    }
}
