import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SDCCatalog
import SDCCDF
import SDCCore
import Testing
@testable import SDCPortal

extension PortalFixture {
    /// Ingests `bytes` as the unreleased file `name`; returns its storage key.
    func ingest(_ name: String, bytes: [UInt8]) async throws -> String {
        let record = try await dataCenter.ingestor().ingest(try IMAPFileName.parse(name), body: [ByteBuffer(bytes: bytes)].async,
                                                           expectedLength: Int64(bytes.count), maximumSize: 1 << 30)
        return record.key
    }

    /// Ingests a CDF made by `write` as the unreleased file `name`; returns its storage key.
    func ingestCDF(_ name: String, write: (String) throws -> Void) async throws -> String {
        let path = root.appendingPathComponent("upload-\(UUID().uuidString).cdf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try write(path)
        return try await ingest(name, bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }
}

@Suite struct PortalHardeningTests {
    @Test func theRootURLRedirectsToThePortal() async throws {
        let fixture = try await PortalFixture()
        defer { fixture.remove() }
        try await fixture.application().test(.live) { client in
            for method in [HTTPRequest.Method.get, .head] {
                let root = try await client.execute(uri: "/", method: method)
                #expect(root.status == .found && root.headers[.location] == "/portal", "\(method)")
            }
            let portal = try await client.get("/portal")
            #expect(portal.status == .ok && portal.headers[.contentType] == "text/html; charset=utf-8")
            // The API answers clients with JSON as before, and unknown paths are still 404.
            let query = try await client.get("/query?table=ancillary&instrument=swapi")
            #expect(query.status == .ok && query.headers[.contentType] == "application/json")
            #expect(query.text.contains(PortalFixture.released))
            #expect(try await client.get("/no-such-route").status == .notFound)
        }
    }

    @Test func quicklooksOfHostileFilesAnswerAndTheServerStaysUp() async throws {
        let fixture = try await PortalFixture()
        defer { fixture.remove() }
        let start = QuicklookHostileDataTests.start
        // A stuck clock: 2,000 records at one time.
        let stuck = try await fixture.ingestCDF("imap_swapi_l1a_stuck_20250101_v001.cdf") { path in
            try QuicklookHostileDataTests.write(to: path, epoch: Array(repeating: start, count: 2_000),
                                                line: (0..<2_000).map { Double($0 % 7) }, spectrum: (0..<8_000).map { Double($0 % 5) })
        }
        let garbage = try await fixture.ingest("imap_swapi_l1a_garbage_20250101_v001.cdf", bytes: Array("not a CDF at all".utf8))
        // Cataloged, but with no object in the store.
        let missing = try IMAPFileName.parse("imap_swapi_l1a_missing_20250101_v001.cdf")
        try await fixture.dataCenter.catalog.insert([CatalogRecord(file: missing, size: 10, sha256: String(repeating: "0", count: 64),
                                                                   ingestionDate: .now)])
        try await fixture.application().test(.live) { client in
            let cookie = try await client.signIn(fixture.readKey)
            let page = try await client.get("/portal/quicklook/\(stuck)", cookie: cookie)
            #expect(page.status == .ok && page.text.contains(">2 plots (at most 24), 0 constants<"))
            #expect(page.text.contains("data-points=\"2000\"") && page.text.contains("data-points=\"8000\""))
            #expect(try await client.get("/portal/quicklook/\(garbage)", cookie: cookie).status == .unprocessableContent)
            #expect(try await client.get("/portal/quicklook/\(missing.key)", cookie: cookie).status == .notFound)
            #expect(try await client.get("/health/live").status == .ok)
        }
    }

    @Test func largeObjectsAreReadFromATemporaryCopyThatIsRemoved() async throws {
        let fixture = try await PortalFixture()
        defer { fixture.remove() }
        let sample = try await fixture.ingestCDF("imap_swapi_l1a_sample_20250101_v001.cdf") { try QuicklookTests.writeSample(to: $0) }
        let garbage = try await fixture.ingest("imap_swapi_l1a_garbage_20250101_v001.cdf", bytes: Array("not a CDF at all".utf8))
        let scratch = fixture.root.appendingPathComponent("scratch")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let application = fixture.application { portal in
            portal.cdfObjects.memoryLimit = 0
            portal.cdfObjects.temporaryRoot = scratch
        }
        try await application.test(.live) { client in
            let cookie = try await client.signIn(fixture.readKey)
            let page = try await client.get("/portal/quicklook/\(sample)", cookie: cookie)
            #expect(page.status == .ok && page.text.contains("data-points=\"90\""))
            #expect(try await client.get("/portal/quicklook/\(garbage)", cookie: cookie).status == .unprocessableContent)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }

    @Test func requestParametersAtInt64ExtremesAreAnsweredNotTrapped() async throws {
        let fixture = try await PortalFixture()
        defer { fixture.remove() }
        try await fixture.application().test(.live) { client in
            let admin = try await client.signIn(fixture.adminKey)
            let pages: [(String, HTTPResponse.Status)] = [
                ("/portal/search?page=9223372036854775807", .badRequest),
                ("/portal/search?page=-9223372036854775808", .badRequest),
                ("/portal/search?page=9223372036854775808", .badRequest),
                ("/portal/search?page=0", .badRequest),
                ("/portal/search?page=1000000", .ok),
                ("/portal/search?major_version=9223372036854775807", .badRequest),
                ("/portal/search?major_version=-9223372036854775808", .badRequest),
                ("/portal/search?start_date=9223372036854775807", .badRequest),
                ("/portal/search?end_date=-9223372036854775808", .badRequest),
                ("/portal/search?ingestion_start_date=9999-99-99", .badRequest),
                ("/portal/jobs/9223372036854775807", .notFound),
                ("/portal/jobs/-9223372036854775808", .notFound),
                ("/portal/jobs/9223372036854775808", .notFound),
                ("/portal/files/imap/swapi/l1a/9999/99/imap_swapi_l1a_sci_99999999_v999.cdf", .notFound),
                ("/portal/quicklook/imap/swapi/l1a/9999/99/imap_swapi_l1a_sci_99999999_v999.cdf", .notFound),
            ]
            for (uri, status) in pages {
                #expect(try await client.get(uri, cookie: admin).status == status, "\(uri)")
            }
            let revocations: [(String, HTTPResponse.Status)] = [
                ("9223372036854775807", .notFound), ("-9223372036854775808", .notFound), ("9223372036854775808", .badRequest),
            ]
            for (id, status) in revocations {
                let response = try await client.execute(uri: "/portal/keys/revoke", method: .post,
                                                        headers: [.cookie: admin, .contentType: "application/x-www-form-urlencoded"],
                                                        body: ByteBuffer(string: "id=\(id)"))
                #expect(response.status == status, "revoke \(id)")
            }
            #expect(try await client.get("/health/live").status == .ok)
        }
    }

    @Test func negativeByteCountsAreCountedAsNone() {
        let metrics = ServerMetrics()
        metrics.requestFinished(route: "/x", method: "GET", status: 200, duration: .zero, bytesIn: -5, bytesOut: Int.min)
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"sdc_http_request_bytes_total{route="/x",instance="\#(metrics.instance)"} 0"#))
        #expect(text.contains(#"sdc_http_response_bytes_total{route="/x",instance="\#(metrics.instance)"} 0"#))
    }
}
