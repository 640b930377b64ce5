import Foundation
import NIOCore
import SDCAssembly
import SDCCatalog
import SDCCore
import SDCIngest
import Testing

/// Two SWAPI days and one MAG day, all embargoed, in a temporary data center.
struct ReleaseFixture {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-release-\(UUID().uuidString)")
    let dataCenter: DataCenter
    static let day1 = "imap/swapi/l1a/2025/01/imap_swapi_l1a_sci_20250101_v001.0001.cdf"
    static let day2 = "imap/swapi/l1a/2025/01/imap_swapi_l1a_sci_20250102_v001.0001.cdf"
    static let mag = "imap/mag/l1a/2025/01/imap_mag_l1a_norm_20250101_v001.0001.cdf"

    init() async throws {
        dataCenter = try DataCenter(root: root)
        for key in [Self.day1, Self.day2, Self.mag] { _ = try await ingest(String(key.split(separator: "/").last!), "product") }
    }

    func ingest(_ name: String, _ text: String) async throws -> CatalogRecord {
        try await dataCenter.ingestor().ingest(try IMAPFileName.parse(name), body: [ByteBuffer(string: text)].async,
                                               expectedLength: Int64(text.utf8.count), maximumSize: 1 << 20, released: false)
    }

    func released(_ key: String) async throws -> Bool { try #require(try await dataCenter.catalog.record(forKey: key)).released }

    func apply(_ type: ReleaseType, manifest name: String, listing lines: [String]) async throws -> Releaser.Outcome {
        let manifest = try IMAPFileName.parse(name)
        _ = try await ingest(name, lines.joined(separator: "\n") + "\n")
        return try await Releaser(catalog: dataCenter.catalog, store: dataCenter.store).apply(type, manifest: manifest)
    }
}

extension Array where Element: Sendable {
    /// The elements as an async sequence (an upload body).
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}

struct ReleaserTests {
    @Test func aReleaseManifestReleasesItsInstrumentsDaysExceptWhatAWithholdManifestLists() async throws {
        let t = try await ReleaseFixture()
        defer { try? FileManager.default.removeItem(at: t.root) }
        let withheld = try await t.apply(.release, manifest: "imap_swapi_withhold-a_20250101_20250102_v001.txt",
                                         listing: ["# kept back", "imap_swapi_l1a_sci_20250102_v001.0001.cdf", "imap_swapi_l1a_sci_20250109_v001.0001.cdf"])
        #expect(withheld.changed == [ReleaseFixture.day1] && withheld.withheld == [ReleaseFixture.day2])
        #expect(withheld.unknown == ["imap_swapi_l1a_sci_20250109_v001.0001.cdf"])
        let (day1, day2, mag) = (try await t.released(ReleaseFixture.day1), try await t.released(ReleaseFixture.day2),
                                 try await t.released(ReleaseFixture.mag))
        #expect(day1 && !day2 && !mag)  // MAG is another instrument
    }

    @Test func earlyReleaseAndUnreleaseActOnTheListedFilesOnly() async throws {
        let t = try await ReleaseFixture()
        defer { try? FileManager.default.removeItem(at: t.root) }
        let early = try await t.apply(.earlyRelease, manifest: "imap_swapi_early_20250102_v001.txt",
                                      listing: ["imap/swapi/l1a/2025/01/imap_swapi_l1a_sci_20250102_v001.0001.cdf"])
        let day1 = try await t.released(ReleaseFixture.day1)
        #expect(early.changed == [ReleaseFixture.day2] && !day1)
        let again = try await t.apply(.earlyRelease, manifest: "imap_swapi_early_20250102_v002.txt",
                                      listing: ["imap_swapi_l1a_sci_20250102_v001.0001.cdf"])
        #expect(again.changed.isEmpty)  // already released: nothing changes
        let unrelease = try await t.apply(.unrelease, manifest: "imap_swapi_recall_20250102_v001.txt",
                                          listing: ["imap_swapi_l1a_sci_20250102_v001.0001.cdf"])
        let day2 = try await t.released(ReleaseFixture.day2)
        #expect(unrelease.changed == [ReleaseFixture.day2] && !day2)
    }

    @Test func aFileThatIsNotAManifestIsRefused() async throws {
        let t = try await ReleaseFixture()
        defer { try? FileManager.default.removeItem(at: t.root) }
        let notManifest = try IMAPFileName.parse("imap_swapi_l1a_sci_20250101_v001.0001.cdf")
        await #expect(throws: Releaser.Failure.self) {
            try await Releaser(catalog: t.dataCenter.catalog, store: t.dataCenter.store).apply(.release, manifest: notManifest)
        }
    }
}
