import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SDCCore
import SDCJobs
import SDCServer
import Testing
@testable import SDCPortal

@Suite struct AlgorithmsPageTests {
    /// The portal of `fixture` with the algorithms pages beside it, as `sdc serve` serves them.
    func application(_ fixture: PortalFixture) -> some ApplicationProtocol {
        var configuration = ServerConfiguration()
        configuration.port = 0
        let portal = Portal(catalog: fixture.dataCenter.catalog, jobs: fixture.dataCenter.jobs, store: fixture.dataCenter.store,
                            keys: fixture.dataCenter.catalog, sessions: PortalSessions(store: fixture.dataCenter.catalog))
        let server = DataCenterServer(configuration: configuration, ingestor: fixture.dataCenter.ingestor(), keys: fixture.dataCenter.catalog,
                                      requestLog: fixture.dataCenter.catalog,
                                      extensions: [portal, AlgorithmsPages(portal: portal, algorithms: fixture.dataCenter.algorithms)])
        return server.application()
    }

    @Test func theInstalledAlgorithmsAndTheProductsEachMakesAreListed() async throws {
        let fixture = try await PortalFixture()
        defer { fixture.remove() }
        try await application(fixture).test(.live) { client in
            let empty = try await client.get("/portal/algorithms")
            #expect(empty.status == .ok && empty.text.contains("id=\"no-algorithms\""))
            #expect(empty.text.contains("<a href=\"/portal/algorithms\">Algorithms</a>"))  // in the navigation

            let algorithms = fixture.dataCenter.algorithms
            let digest = "sha256:" + String(repeating: "ab", count: 32)
            _ = try await algorithms.register(InstalledAlgorithm(
                name: "imap-processing", version: "1.0.40", spec: "imap-processing==1.0.40", digest: digest, python: "3.11.7",
                freeze: "imap-processing==1.0.40\n", entryPoints: ["imap_cli"], installedAt: UTCTime(secondsSince1970: 1_750_000_000),
                installedOn: "node-<1>"))
            try await algorithms.setProducts([ProductNode("swapi", "l1", "hk"), ProductNode("mag", "l1a", "all")], name: "imap-processing", version: nil)
            let page = try await client.get("/portal/algorithms")
            #expect(page.status == .ok)
            #expect(page.text.contains("id=\"algorithm-imap-processing-1.0.40\""))
            #expect(page.text.contains("<code title=\"\(digest)\">\(digest.prefix(19))</code>"))
            #expect(page.text.contains("<a href=\"/portal/search?instrument=swapi&amp;data_level=l1&amp;descriptor=hk\">swapi l1 hk</a>"))
            #expect(page.text.contains("<a href=\"/portal/search?instrument=mag&amp;data_level=l1a\">mag l1a all</a>"))
            #expect(page.text.contains("node-&lt;1&gt;") && !page.text.contains("node-<1>"))

            // The same list for programs: what a remote worker reads to install the algorithm a job runs.
            let json = try await client.get("/portal/algorithms.json")
            #expect(json.status == .ok && json.headers[.contentType] == "application/json")
            let listed = try InstalledAlgorithm.list(wire: Data(json.text.utf8))
            #expect(listed.count == 1 && listed[0].digest == digest && listed[0].spec == "imap-processing==1.0.40")
            #expect(listed[0].products == [ProductNode("mag", "l1a", "all"), ProductNode("swapi", "l1", "hk")])
        }
    }
}
