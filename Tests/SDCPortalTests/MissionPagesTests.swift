import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SDCCatalog
import SDCCDF
import SDCCore
import SDCServer
import SDCStorage
import Testing
@testable import SDCPortal

/// A portal hosting IMAP and HERMES: a HERMES L0 file processed into an L1 CDF (a real CDF in the store, cataloged
/// with its origin in a real `missions.sqlite`), the L1 failed, one file kept aside, and keys limited to missions.
struct MissionPortalFixture {
    let base: PortalFixture
    let missions: PortalMissions
    let writeKey: String
    let imapOnlyKey: String
    let hermesOnlyKey: String

    static let l0 = "hermes_EEA_l0_2024042-000000_v0.bin"
    static let l1 = "hermes_eea_l1_20240211T000000_v0.1.0.cdf"
    static let rejectedName = "hermes_XYZ_l0_2024042-000000_v0.bin"

    /// A search lists `pageSize` files a page.
    init(pageSize: Int = 500) async throws {
        base = try await PortalFixture()
        let set = try MissionSet([.imap, .hermes])
        let catalog = try SQLiteMissionCatalog(path: base.root.appendingPathComponent("missions.sqlite").path, missions: set)
        missions = PortalMissions(missions: set, catalog: catalog, pageSize: pageSize)
        let keys = base.dataCenter.catalog
        writeKey = try await keys.createKey(name: "writer", scope: .write).secret
        let imapOnly = try await keys.createKey(name: "imap reader", scope: .read)
        _ = try await keys.limitKey(String(imapOnly.info.id), toMissions: ["imap"])
        imapOnlyKey = imapOnly.secret
        let hermesOnly = try await keys.createKey(name: "hermes reader", scope: .read)
        _ = try await keys.limitKey(String(hermesOnly.info.id), toMissions: ["hermes"])
        hermesOnlyKey = hermesOnly.secret

        let l0 = try Self.parse(Self.l0)
        let l1 = try Self.parse(Self.l1)
        let path = base.root.appendingPathComponent("l1.cdf").path
        try QuicklookTests.writeSample(to: path, records: 50)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        for (file, content) in [(l0, [UInt8](repeating: 7, count: 300)), (l1, bytes)] {
            _ = try await base.dataCenter.store.put(try ObjectKey(file.key), body: [ByteBuffer(bytes: content)].async,
                                                    expectedLength: Int64(content.count), maximumSize: 1 << 24)
        }
        try await catalog.commit(MissionFileRecord(file: l0, size: 300, sha256: String(repeating: "a", count: 64), ingestionDate: .now))
        try await catalog.commit(MissionFileRecord(file: l1, size: Int64(bytes.count), sha256: String(repeating: "b", count: 64),
                                                   ingestionDate: .now, origins: [l0.key]))
        try await catalog.setStatus(key: l0.key, .success, message: "made \(Self.l1)", processingSeconds: 0.25)
        try await catalog.setStatus(key: l1.key, .failed, message: "could not process further", processingSeconds: nil)
        try await catalog.reject(RejectedFile(key: "rejected/hermes/20240211T000000-\(Self.rejectedName)", name: Self.rejectedName,
                                              mission: "hermes", reason: "no hermes instrument found in <XYZ>", receivedAt: .now,
                                              size: 14, sha256: String(repeating: "c", count: 64)))
    }

    static func parse(_ name: String) throws -> SWxSOCFileName {
        guard case .swxsoc(let file) = try MissionProfile.hermes.parse(name) else { throw NotAHERMESName(name: name) }
        return file
    }

    var l0Key: String { get throws { try Self.parse(Self.l0).key } }
    var l1Key: String { get throws { try Self.parse(Self.l1).key } }

    func application() -> some ApplicationProtocol {
        var configuration = ServerConfiguration()
        configuration.port = 0
        let dataCenter = base.dataCenter
        let portal = Portal(catalog: dataCenter.catalog, jobs: dataCenter.jobs, store: dataCenter.store, keys: dataCenter.catalog,
                            sessions: PortalSessions(store: dataCenter.catalog), missions: missions)
        return DataCenterServer(configuration: configuration, ingestor: dataCenter.ingestor(), keys: dataCenter.catalog,
                                requestLog: dataCenter.catalog, extensions: [portal]).application()
    }
}

struct NotAHERMESName: Error {
    let name: String
}

@Suite struct MissionPagesTests {
    @Test func imapOnlyPagesHaveNoSwitcherAndKeepTheirLinks() async throws {
        let fixture = try await PortalFixture()
        defer { fixture.remove() }
        try await fixture.application().test(.live) { client in
            for path in ["/portal", "/portal/dashboard", "/portal/search?table=ancillary"] {
                let page = try await client.get(path)
                #expect(page.status == .ok)
                #expect(!page.text.contains("mission-switcher") && !page.text.contains("?mission="), "\(path)")
                #expect(page.text.contains("<style>\(Layout.stylesheet)</style>"))
                #expect(page.text.contains(#"<a href="/portal">Search</a>"#) && page.text.contains(#"<a href="/portal/dashboard">Dashboard</a>"#))
            }
            // `mission` is no search field of an IMAP-only portal, as before.
            #expect(try await client.get("/portal/search?mission=hermes").status == .badRequest)
        }
    }

    @Test func switcherChoosesTheMissionAndTheChoiceCarriesAcrossPages() async throws {
        let fixture = try await MissionPortalFixture()
        defer { fixture.base.remove() }
        try await fixture.application().test(.live) { client in
            let imap = try await client.get("/portal")
            #expect(imap.status == .ok && imap.text.contains("<h1>Search data</h1>"))
            #expect(imap.text.contains(#"<form method="get" action="/portal" class="mission-switcher" id="mission-switcher">"#))
            #expect(imap.text.contains(#"<label for="mission-select">Mission</label>"#))
            #expect(imap.text.contains(#"<option value="imap" selected>IMAP</option><option value="hermes">HERMES</option>"#))

            let hermes = try await client.get("/portal?mission=hermes")
            #expect(hermes.status == .ok && hermes.text.contains("<h1>Search HERMES data</h1>"))
            #expect(hermes.text.contains(#"<option value="hermes" selected>HERMES</option>"#))
            #expect(hermes.text.contains(#"<a href="/portal?mission=hermes">Search</a>"#))
            #expect(hermes.text.contains(#"<a href="/portal/dashboard?mission=hermes">Dashboard</a>"#))
            // The dashboard's switcher stays on the dashboard.
            let dashboard = try await client.get("/portal/dashboard?mission=hermes")
            #expect(dashboard.text.contains(#"action="/portal/dashboard" class="mission-switcher""#))
            #expect(dashboard.text.contains(#"<a href="/portal?mission=hermes">Search</a>"#))
            // Choosing IMAP again: its search, with `mission` taken as the choice, not as a search field.
            let back = try await client.get("/portal/search?mission=imap&table=ancillary")
            #expect(back.status == .ok && back.text.contains(PortalFixture.released))
            #expect(back.text.contains(#"<a href="/portal">Search</a>"#))
            let unknown = try await client.get("/portal?mission=mars")
            #expect(unknown.status == .notFound && unknown.text.contains("Mission &#39;mars&#39; is not hosted here: hosted missions are imap, hermes."))
        }
    }

    @Test func missionSearchListsFilesWithStatusOriginsAndLinks() async throws {
        let fixture = try await MissionPortalFixture()
        defer { fixture.base.remove() }
        let l0Key = try fixture.l0Key, l1Key = try fixture.l1Key
        try await fixture.application().test(.live) { client in
            let all = try await client.get("/portal/search?mission=hermes")
            #expect(all.status == .ok && all.text.contains(#"<p id="result-count">2 files</p>"#))
            #expect(all.text.contains(MissionPortalFixture.l0) && all.text.contains(MissionPortalFixture.l1))
            #expect(all.text.contains("href=\"/missions/hermes/download/\(l0Key)\" class=\"download-link\""))
            #expect(all.text.contains("href=\"/portal/quicklook/\(l1Key)\" class=\"quicklook-link\""))
            #expect(!all.text.contains("href=\"/portal/quicklook/\(l0Key)\""))
            #expect(all.text.contains("<td class=\"status-success\">success (0.25 s)<br><span class=\"muted status-message\">made \(MissionPortalFixture.l1)</span></td>"))
            // The L1's origin links to the L0's download.
            #expect(all.text.contains("<ul class=\"inline-list\"><li><a href=\"/missions/hermes/download/\(l0Key)\">\(MissionPortalFixture.l0)</a></li></ul>"))
            #expect(all.text.contains("<td class=\"time\">2024-02-11T00:00:00.000</td><td>0.1.0</td>"))

            let l1 = try await client.get("/portal/search?mission=hermes&instrument=eea&level=l1&start_date=2024-02-11&end_date=2024-02-11")
            #expect(l1.text.contains(#"<p id="result-count">1 file</p>"#) && l1.text.contains(MissionPortalFixture.l1))
            #expect(l1.text.contains(#"<option value="l1" selected>l1</option>"#))
            let failed = try await client.get("/portal/search?mission=hermes&status=failed")
            #expect(failed.text.contains("1 file") && failed.text.contains(MissionPortalFixture.l1) && !failed.text.contains("made \(MissionPortalFixture.l1)"))
            let before = try await client.get("/portal/search?mission=hermes&end_date=2024-02-10")
            #expect(before.text.contains(#"<p id="no-results">No files match.</p>"#))
            let bad = try await client.get("/portal/search?mission=hermes&instrument=%3Cb%3E")
            #expect(bad.status == .badRequest && bad.text.contains("instrument &#39;&lt;b&gt;&#39; is not a hermes instrument: expected one of eea, nemisis, merit, spani."))
            #expect(try await client.get("/portal/search?mission=hermes&table=science").status == .badRequest)
        }
    }

    @Test func missionSearchListsAPageWithItsPlaceAndTheNextPageLink() async throws {
        let fixture = try await MissionPortalFixture(pageSize: 1)
        defer { fixture.base.remove() }
        /// The unescaped `href` of the link with `id`.
        @Sendable func link(_ id: String, in text: String) throws -> String? {
            let pattern = try Regex("<a href=\"([^\"]*)\" id=\"\(id)\"")
            return text.firstMatch(of: pattern).flatMap { $0.output[1].substring }.map { $0.replacingOccurrences(of: "&amp;", with: "&") }
        }
        try await fixture.application().test(.live) { client in
            let first = try await client.get("/portal/search?mission=hermes&instrument=eea")
            #expect(first.status == .ok && first.text.contains(#"<p id="result-count">Files 1–1 of 2</p>"#))
            #expect(first.text.contains(MissionPortalFixture.l0) && !first.text.contains(">\(MissionPortalFixture.l1)<"))
            #expect(try link("first-page", in: first.text) == nil)
            let next = try #require(try link("next-page", in: first.text))
            #expect(next == "/portal/search?mission=hermes&instrument=eea&after=\(MissionPortalFixture.l0)")
            let second = try await client.get(next)
            #expect(second.status == .ok && second.text.contains(#"<p id="result-count">Files 2–2 of 2</p>"#))
            #expect(second.text.contains(">\(MissionPortalFixture.l1)<") && !second.text.contains("<td>\(MissionPortalFixture.l0)</td>"))
            #expect(try link("next-page", in: second.text) == nil)
            #expect(try link("first-page", in: second.text) == "/portal/search?mission=hermes&instrument=eea")
            // After the last file: nothing, with the way back.
            let past = try await client.get("/portal/search?mission=hermes&after=\(MissionPortalFixture.l1)")
            #expect(past.status == .ok && past.text.contains("No files after this one (2 files match)."))
            // The status filter is applied before the page is cut: one failed file, one page.
            let failed = try await client.get("/portal/search?mission=hermes&status=failed")
            let failedNext = try link("next-page", in: failed.text)
            #expect(failed.text.contains(#"<p id="result-count">1 file</p>"#) && failedNext == nil)
            let bad = try await client.get("/portal/search?mission=hermes&after=imap_mag_l1a_norm-mago_20240211_v001.cdf")
            #expect(bad.status == .badRequest && bad.text.contains("is not a hermes file name"))
        }
    }

    @Test func missionDashboardCountsByInstrumentLevelAndOutcomeAndShowsRejectedToWriteKeys() async throws {
        let fixture = try await MissionPortalFixture()
        defer { fixture.base.remove() }
        try await fixture.application().test(.live) { client in
            let anonymous = try await client.get("/portal/dashboard?mission=hermes")
            #expect(anonymous.status == .ok && anonymous.text.contains("<h1>HERMES dashboard</h1>"))
            // instrument and level: received, produced, pending, processed, failed.
            #expect(anonymous.text.contains(#"<td class="num">1</td><td class="num">0</td><td class="num">0</td><td class="num">1</td><td class="num">0</td></tr>"#))
            #expect(anonymous.text.contains(#"<tr id="counts-eea-l1">"#))
            #expect(anonymous.text.contains(#"<td class="num">0</td><td class="num">1</td><td class="num">0</td><td class="num">0</td><td class="num">1</td></tr>"#))
            #expect(anonymous.text.contains(#"<strong id="mission-failed">1</strong>"#) && anonymous.text.contains(#"<strong id="mission-rejected">1</strong>"#))
            #expect(anonymous.text.contains("could not process further"))
            #expect(anonymous.text.contains(#"<p class="tile" id="mission-files">2 files, "#))
            // The latest status changes: both files, newest change first (the L1's, made last; in the same second, the
            // greater key first, the L1's again).
            let changes = try #require(anonymous.text.firstRange(of: #"<table id="mission-status">"#))
            let l1Row = try #require(anonymous.text.range(of: "<tr><td>\(MissionPortalFixture.l1)</td>", range: changes.upperBound..<anonymous.text.endIndex))
            let l0Row = try #require(anonymous.text.range(of: "<tr><td>\(MissionPortalFixture.l0)</td>", range: changes.upperBound..<anonymous.text.endIndex))
            #expect(l1Row.lowerBound < l0Row.lowerBound)
            #expect(anonymous.text.contains(#"id="rejected-hidden""#) && !anonymous.text.contains(MissionPortalFixture.rejectedName))
            let reader = try await client.signIn(fixture.base.readKey)
            #expect(!(try await client.get("/portal/dashboard?mission=hermes", cookie: reader)).text.contains(MissionPortalFixture.rejectedName))
            let writer = try await client.signIn(fixture.writeKey)
            let signedIn = try await client.get("/portal/dashboard?mission=hermes", cookie: writer)
            #expect(signedIn.text.contains("<td>\(MissionPortalFixture.rejectedName)</td><td>no hermes instrument found in &lt;XYZ&gt;</td>"))
            // IMAP's dashboard is unchanged beside it.
            #expect(try await client.get("/portal/dashboard").text.contains(#"id="job-states""#))
        }
    }

    @Test func keysLimitedToMissionsReachOnlyThoseMissions() async throws {
        let fixture = try await MissionPortalFixture()
        defer { fixture.base.remove() }
        let l1Key = try fixture.l1Key
        try await fixture.application().test(.live) { client in
            let imapOnly = try await client.signIn(fixture.imapOnlyKey)
            let refused = try await client.get("/portal?mission=hermes", cookie: imapOnly)
            #expect(refused.status == .forbidden && refused.text.contains("Your API key is limited to imap and cannot reach hermes."))
            #expect(try await client.get("/portal/quicklook/\(l1Key)", cookie: imapOnly).status == .forbidden)
            #expect(try await client.get("/portal/dashboard?mission=hermes", cookie: imapOnly).status == .forbidden)
            let imapPage = try await client.get("/portal/search?table=science&instrument=swapi", cookie: imapOnly)
            #expect(imapPage.text.contains(PortalFixture.unreleased) && !imapPage.text.contains(#"<option value="hermes""#))

            // A HERMES-only key starts on HERMES and sees IMAP as anonymous visitors do (the API refuses it IMAP).
            let hermesOnly = try await client.signIn(fixture.hermesOnlyKey)
            let landing = try await client.get("/portal", cookie: hermesOnly)
            #expect(landing.text.contains("<h1>Search HERMES data</h1>") && landing.text.contains(#"<a href="/portal">Search</a>"#))
            let imap = try await client.get("/portal/search?mission=imap&table=science&instrument=swapi", cookie: hermesOnly)
            #expect(imap.status == .ok && !imap.text.contains(PortalFixture.unreleased))
            // Anonymous visitors read mission files, as the API lets them.
            #expect(try await client.get("/portal/search?mission=hermes").text.contains(MissionPortalFixture.l1))
        }
    }

    @Test func quicklookOfAMissionCDFIsFoundThroughTheMissionCatalog() async throws {
        let fixture = try await MissionPortalFixture()
        defer { fixture.base.remove() }
        let l0Key = try fixture.l0Key, l1Key = try fixture.l1Key
        try await fixture.application().test(.live) { client in
            let page = try await client.get("/portal/quicklook/\(l1Key)")
            #expect(page.status == .ok && page.text.contains("<h1>Quicklook: \(MissionPortalFixture.l1)</h1>"))
            #expect(page.text.contains("data-points=\"45\""))  // 50 records, every tenth is fill
            #expect(page.text.contains(#"<option value="hermes" selected>HERMES</option>"#))
            #expect(page.text.contains(#"href="/portal/search?mission=hermes&amp;instrument=eea&amp;level=l1" id="back-to-files""#))
            let chosen = try await client.get("/portal/quicklook/\(l1Key)?var=counts")
            #expect(chosen.status == .ok && chosen.text.contains("1 chosen variables"))
            let raw = try await client.get("/portal/quicklook/\(l0Key)")
            #expect(raw.status == .notFound && raw.text.contains("is not a CDF file"))
            let missing = try await client.get("/portal/quicklook/hermes/eea/l1/2024/02/12/hermes_eea_l1_20240212T000000_v0.1.0.cdf")
            #expect(missing.status == .notFound && missing.text.contains("There is no HERMES file"))
        }
    }
}
