import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SDCCatalog
import SDCCore
import SDCAssembly
import SDCIngest
import SDCJobs
import SDCServer
import Testing
@testable import SDCPortal

/// A data center in a temporary folder with keys of every scope, served with the portal and `/metrics`.
struct PortalFixture {
    let root: URL
    let dataCenter: DataCenter
    let metrics = ServerMetrics(instance: "portal-test")
    let readKey: String
    let adminKey: String

    static let released = "imap_swapi_lut-notes_20250101_v001.csv"
    static let unreleased = "imap_swapi_l1a_sci_20250101_v001.cdf"

    init() async throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-portal-\(UUID().uuidString)")
        dataCenter = try DataCenter(root: root)
        readKey = try await dataCenter.catalog.createKey(name: "reader", scope: .read).secret
        adminKey = try await dataCenter.catalog.createKey(name: "operator <admin>", scope: .admin).secret
        let ingestor = dataCenter.ingestor(listeners: [IngestMetricsListener(metrics: metrics)])
        for name in [Self.released, Self.unreleased] {
            let bytes = ByteBuffer(string: "content of \(name)")
            _ = try await ingestor.ingest(try IMAPFileName.parse(name), body: [bytes].async, expectedLength: Int64(bytes.readableBytes),
                                          maximumSize: 1 << 20)
        }
    }

    /// The server; `configure` adjusts the portal first.
    func application(configure: (inout Portal) -> Void = { _ in }) -> some ApplicationProtocol {
        var configuration = ServerConfiguration()
        configuration.port = 0
        var portal = Portal(catalog: dataCenter.catalog, jobs: dataCenter.jobs, store: dataCenter.store, keys: dataCenter.catalog,
                            sessions: PortalSessions(store: dataCenter.catalog))
        configure(&portal)
        let server = DataCenterServer(
            configuration: configuration, ingestor: dataCenter.ingestor(), keys: dataCenter.catalog, requestLog: dataCenter.catalog,
            extensions: [MetricsEndpoint(metrics: metrics, catalog: dataCenter.catalog, jobs: dataCenter.jobs, leases: dataCenter.catalog), portal])
        return server.application()
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

extension Array where Element: Sendable {
    /// The elements as an async sequence, for request bodies.
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}

extension TestClientProtocol {
    /// Signs in with `key`; returns the `Cookie` header value of the session.
    func signIn(_ key: String) async throws -> String {
        let response = try await execute(uri: "/portal/sign-in", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                         body: ByteBuffer(string: "api_key=\(key)"))
        #expect(response.status == .seeOther)
        let setCookie = try #require(response.headers[.setCookie])
        #expect(setCookie.hasPrefix("sdc_session=") && setCookie.contains("; HttpOnly") && setCookie.contains("; SameSite=Lax"))
        #expect(setCookie.contains("; Max-Age=28800") && setCookie.contains("; Path=/portal"))
        let cookie = String(setCookie.prefix { $0 != ";" })
        let token = cookie.dropFirst("sdc_session=".count)
        #expect(token.count == 64 && token.allSatisfy { $0.isHexDigit && !$0.isUppercase })  // 256 random bits
        return cookie
    }

    func get(_ uri: String, cookie: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let cookie { headers[.cookie] = cookie }
        return try await execute(uri: uri, method: .get, headers: headers)
    }
}

@Suite struct PortalServerTests {
    @Test func anonymousVisitorsSeeReleasedFilesOnlyAndSignedInVisitorsSeeAll() async throws {
        let fixture = try await PortalFixture()
        defer { fixture.remove() }
        try await fixture.application().test(.live) { client in
            let anonymous = try await client.get("/portal/search?table=science&instrument=swapi")
            #expect(anonymous.status == .ok)
            #expect(!anonymous.text.contains(PortalFixture.unreleased))
            let ancillary = try await client.get("/portal/search?table=ancillary")
            #expect(ancillary.text.contains(PortalFixture.released))
            let hiddenKey = "imap/swapi/l1a/2025/01/\(PortalFixture.unreleased)"
            #expect(try await client.get("/portal/files/\(hiddenKey)").status == .notFound)
            #expect(try await client.get("/portal/download/\(hiddenKey)").status == .notFound)

            let cookie = try await client.signIn(fixture.readKey)
            let signedIn = try await client.get("/portal/search?table=science&instrument=swapi", cookie: cookie)
            #expect(signedIn.text.contains(PortalFixture.unreleased))
            #expect(signedIn.text.contains("Signed in as reader (read)"))
            let filePage = try await client.get("/portal/files/\(hiddenKey)", cookie: cookie)
            #expect(filePage.status == .ok)
            let record = try #require(try await fixture.dataCenter.catalog.record(forKey: hiddenKey))
            #expect(filePage.text.contains(record.sha256))
            let download = try await client.get("/portal/download/\(hiddenKey)", cookie: cookie)
            #expect(download.text == "content of \(PortalFixture.unreleased)")

            // The session cookie is found among others, as browsers send them.
            let amongOthers = try await client.get("/portal/search?table=science", cookie: "theme=dark; \(cookie); lang=en")
            #expect(amongOthers.text.contains(PortalFixture.unreleased))
            let signOut = try await client.execute(uri: "/portal/sign-out", method: .post, headers: [.cookie: cookie])
            let cleared = try #require(signOut.headers[.setCookie])
            #expect(cleared.hasPrefix("sdc_session=;") && cleared.contains("; Max-Age=0") && cleared.contains("; Path=/portal"))
            #expect(cleared.contains("; HttpOnly") && cleared.contains("; SameSite=Lax"))
            #expect(!(try await client.get("/portal/search?table=science", cookie: cookie)).text.contains(PortalFixture.unreleased))
        }
    }

    @Test func badKeysAndBadSearchesAreRefusedWithEscapedMessages() async throws {
        let fixture = try await PortalFixture()
        defer { fixture.remove() }
        try await fixture.application().test(.live) { client in
            let refused = try await client.execute(uri: "/portal/sign-in", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                                   body: ByteBuffer(string: "api_key=sdc_wrong"))
            #expect(refused.status == .unauthorized && refused.headers[.setCookie] == nil)
            let injected = try await client.get("/portal/search?instrument=%3Cscript%3Ealert(1)%3C/script%3E")
            #expect(injected.status == .badRequest)
            #expect(injected.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !injected.text.contains("<script>alert(1)"))
            let reflected = try await client.get("/portal/search?descriptor=%22%3E%3Cb%3E")
            #expect(reflected.status == .ok && reflected.text.contains("value=\"&quot;&gt;&lt;b&gt;\""))
            let crossSite = try await client.execute(uri: "/portal/sign-in", method: .post,
                                                     headers: [.contentType: "application/x-www-form-urlencoded", .origin: "https://evil.example"],
                                                     body: ByteBuffer(string: "api_key=\(fixture.readKey)"))
            #expect(crossSite.status == .forbidden)
        }
    }

    @Test func onlyAdminsManageKeysAndRevokedKeysEndTheirSessions() async throws {
        let fixture = try await PortalFixture()
        defer { fixture.remove() }
        try await fixture.application().test(.live) { client in
            #expect(try await client.get("/portal/keys").status == .unauthorized)
            let reader = try await client.signIn(fixture.readKey)
            #expect(try await client.get("/portal/keys", cookie: reader).status == .forbidden)
            let admin = try await client.signIn(fixture.adminKey)
            let page = try await client.get("/portal/keys", cookie: admin)
            #expect(page.status == .ok && page.text.contains("operator &lt;admin&gt;"))
            let created = try await client.execute(uri: "/portal/keys", method: .post,
                                                   headers: [.cookie: admin, .contentType: "application/x-www-form-urlencoded"],
                                                   body: ByteBuffer(string: "name=robot&scope=write"))
            let secret = try #require(created.text.firstMatch(of: #/<code id="new-key-secret">(sdc_[A-Za-z0-9_-]+)</code>/#)?.output.1)
            let info = try #require(try await fixture.dataCenter.catalog.authenticate(secret: String(secret)))
            #expect(info.name == "robot" && info.scope == .write)
            let readerID = try #require(try await fixture.dataCenter.catalog.authenticate(secret: fixture.readKey)).id
            let revoked = try await client.execute(uri: "/portal/keys/revoke", method: .post,
                                                   headers: [.cookie: admin, .contentType: "application/x-www-form-urlencoded"],
                                                   body: ByteBuffer(string: "id=\(readerID)"))
            #expect(revoked.status == .seeOther)
            let afterRevocation = try await client.get("/portal/search?table=science", cookie: reader)
            #expect(afterRevocation.text.contains("Sign in") && !afterRevocation.text.contains(PortalFixture.unreleased))
        }
    }

    @Test func resultsArePagedAndSortedInSQL() async throws {
        let fixture = try await PortalFixture()
        defer { fixture.remove() }
        let records = try (1...120).map { day in
            let date = (0..<day).reduce(FileDate(year: 2025, month: 1, day: 1)!) { date, _ in date.nextDay }
            return CatalogRecord(file: try IMAPFileName.parse("imap_mag_l1b_norm-mago_\(date)_v001.cdf"), size: Int64(day),
                                 sha256: String(repeating: "0", count: 64), ingestionDate: .now, released: true)
        }
        try await fixture.dataCenter.catalog.insert(records)
        let page = try await fixture.dataCenter.catalog.page(of: FileQuery(parameters: [("instrument", "mag")]), order: .size,
                                                             descending: true, offset: 100, limit: 50)
        #expect(page.total == 120 && page.isTotalExact)
        #expect(page.records.map(\.size) == Array((1...20).reversed()).map(Int64.init))
        let capped = try await fixture.dataCenter.catalog.page(of: FileQuery(parameters: [("instrument", "mag")]), order: .filePath,
                                                               descending: false, offset: 0, limit: 5, countLimit: 100)
        #expect(capped.total == 100 && !capped.isTotalExact && capped.records.count == 5)
        try await fixture.application().test(.live) { client in
            let third = try await client.get("/portal/search?instrument=mag&sort=size&desc=1&page=3")
            #expect(third.text.contains("Files 101–120 of 120"))
            #expect(third.text.contains("id=\"previous-page\"") && !third.text.contains("id=\"next-page\""))
            #expect(try await client.get("/portal/search?sort=nonsense").status == .badRequest)
        }
    }

    @Test func metricsCountRequestsIngestsAndCatalogSize() async throws {
        let fixture = try await PortalFixture()
        defer { fixture.remove() }
        try await fixture.application().test(.live) { client in
            for _ in 0..<3 { _ = try await client.get("/portal/dashboard") }
            _ = try await client.get("/portal/files/imap/nothing/here.cdf")
            let text = try await client.get("/metrics").text
            #expect(text.contains(#"sdc_http_requests_total{route="/portal/dashboard",method="GET",status="200",instance="portal-test"} 3"#))
            #expect(text.contains(#"sdc_http_requests_total{route="/portal/files/**",method="GET",status="404",instance="portal-test"} 1"#))
            #expect(text.contains(#"sdc_ingest_files_total{instrument="swapi",level="l1a",class="science",instance="portal-test"} 1"#))
            #expect(text.contains(#"sdc_catalog_files{class="ancillary"} 1"#))
            #expect(text.contains(#"sdc_pipeline_queue_depth 0"#))
            #expect(text.contains("sdc_http_request_duration_seconds_bucket{route=\"/portal/dashboard\""))
            // Another replica holds the `metrics` lease: this one exports only its own metrics, so that summing the
            // database's gauges over replicas counts them once.
            _ = try await fixture.dataCenter.catalog.holdLease("metrics", holder: "another replica", seconds: 3600,
                                                               now: UTCTime(secondsSince1970: UTCTime.now.secondsSince1970 + 120))
            let other = try await client.get("/metrics").text
            #expect(other.contains(#"instance="portal-test""#))
            #expect(!other.contains("sdc_catalog_files") && !other.contains("sdc_pipeline_queue_depth"))
            let dashboard = try await client.get("/portal/dashboard").text
            #expect(dashboard.contains("2 files"))
        }
    }
}
