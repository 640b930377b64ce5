import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import SDCCatalog
import SDCAlerts
import SDCCDF
import SDCCore
import SDCJobs
import SDCServer
import SDCStorage

/// The web portal under `/portal`: search, results, file pages with lineage and downloads, quicklook plots, the
/// operations dashboard, sign-in with an API key and, for admin keys, key management.
///
/// Visibility follows the API: anonymous visitors see released files only; a signed-in key sees unreleased ones.
///
/// The portal depends only on the catalog, job, store and key protocols, so that any backend behind them serves it.
public struct Portal: ServerExtension {
    let catalog: any FileCatalog & CatalogBrowsing
    let jobs: any JobStore
    let store: any ObjectStore
    let keys: any APIKeyStore
    let sessions: PortalSessions
    /// Stored CDFs opened for quicklooks, decoded and plotted on the processing pool.
    var cdfObjects: CDFObjects
    /// Rendered quicklooks, so that a second view costs a lookup.
    let quicklookCache = QuicklookCache()
    /// The alert store: the dashboard shows its active alerts and plots the products' recorded latencies (from the
    /// receipt of the Level 0 file each descends from).
    let alerts: (any AlertStore)?
    /// The latency requirement the dashboard draws, in hours.
    let latencyRequirementHours: Double
    /// The missions hosted beside IMAP and their catalog: a mission switcher in the header and per-mission search,
    /// dashboard and quicklooks; nil on an IMAP-only data center, whose pages are what they always were.
    let missions: PortalMissions?

    /// A portal over a data center's catalog, jobs, store, keys and sign-in sessions, and the `missions` hosted beside
    /// IMAP, if any. Stored objects are copied for quicklooks on `threadPool`; decoding and plotting run on
    /// ``ProcessingPool/shared``.
    public init(catalog: any FileCatalog & CatalogBrowsing, jobs: any JobStore, store: any ObjectStore, keys: any APIKeyStore,
                sessions: PortalSessions, alerts: (any AlertStore)? = nil, latencyRequirementSeconds: Int64 = 86_400,
                missions: PortalMissions? = nil, threadPool: NIOThreadPool = Portal.quicklookThreadPool) {
        self.catalog = catalog
        self.jobs = jobs
        self.store = store
        self.keys = keys
        self.sessions = sessions
        self.alerts = alerts
        self.missions = missions
        latencyRequirementHours = Double(latencyRequirementSeconds) / 3600
        cdfObjects = CDFObjects(store: store, threadPool: threadPool)
    }

    /// The threads quicklooks copy stored objects on, half the cores: apart from `NIOThreadPool.singleton`, on which
    /// the filesystem store reads downloads, so that large quicklooks never hold up downloads.
    public static let quicklookThreadPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(1, System.coreCount / 2))
        pool.start()
        return pool
    }()

    /// The portal's pages under `/portal`, and `/` redirecting there so that the server's own URL opens the portal.
    public func addRoutes(to router: Router<SDCRequestContext>) {
        router.get("/") { _, _ in redirect(to: "/portal", status: .found) }
        router.head("/") { _, _ in redirect(to: "/portal", status: .found) }
        let portal = router.group("portal")
        portal.get { request, _ in try await landing(request) }
        portal.get("search") { request, _ in try await search(request) }
        portal.get("files/**") { request, _ in try await filePage(request) }
        portal.get("download/**") { request, _ in try await download(request) }
        portal.get("quicklook/**") { request, _ in try await quicklook(request) }
        portal.get("compare/**") { request, _ in try await compare(request) }
        portal.get("dashboard") { request, _ in try await dashboard(request) }
        portal.get("coverage") { request, _ in try await coverage(request) }
        portal.get("browse") { request, _ in try await browse(request, path: []) }
        portal.get("browse/**") { request, _ in
            try await browse(request, path: request.uri.path.dropFirst("/portal/browse/".count).split(separator: "/").map(String.init))
        }
        portal.get("jobs/:id") { request, context in try await jobPage(request, id: context.parameters.get("id", as: Int64.self)) }
        portal.get("sign-in") { request, _ in try await page(request, title: "Sign in", body: SignInPage.body(error: nil)) }
        portal.post("sign-in") { request, _ in try await signIn(request) }
        portal.post("sign-out") { request, _ in try await signOut(request) }
        portal.get("keys") { request, _ in try await keysPage(request, created: nil) }
        portal.post("keys") { request, _ in try await createKey(request) }
        portal.post("keys/revoke") { request, _ in try await revokeKey(request) }
    }

    var searchScript: HTML {
        // Leaves empty fields out of the search URL, so links stay short and readable.
        """
        <script>document.getElementById('search-form').addEventListener('submit', function (event) {
          for (const field of event.target.elements) { if (field.name && !field.value) field.disabled = true; }
        });</script>
        """
    }

    // MARK: Pages

    /// `/portal`: the search form of the visitor's mission.
    func landing(_ request: Request) async throws -> Response {
        let visitor = try await visitor(of: request)
        if let mission = try missionPage(for: visitor) { return try await missionSearch(request, mission: mission, visitor: visitor) }
        return html(Layout.page(title: "Search data", visitor: visitor, body: SearchPage.form(nil) + searchScript + SearchPage.browseLinks))
    }

    func search(_ request: Request) async throws -> Response {
        let visitor = try await visitor(of: request)
        if let mission = try missionPage(for: visitor) { return try await missionSearch(request, mission: mission, visitor: visitor) }
        let search: SearchRequest
        let query: FileQuery
        do {
            // With missions hosted, `mission=imap` chose these pages; it is no search field.
            search = try SearchRequest(parameters: missions == nil ? request.queryPairs : request.queryPairs.filter { $0.0 != "mission" })
            query = try search.query(includeUnreleased: visitor.seesUnreleased)
        } catch {
            let body: HTML = "<p class=\"error\" id=\"search-error\">\(error.message)</p>\(SearchPage.form(nil))"
            return html(Layout.page(title: "Search data", visitor: visitor, body: body), status: .badRequest)
        }
        let page = try await catalog.page(of: query, order: search.order, descending: search.descending,
                                          offset: (search.page - 1) * SearchRequest.pageSize, limit: SearchRequest.pageSize)
        let body: HTML = "\(SearchPage.form(search))\(searchScript)<h2>Results</h2>\(SearchPage.results(page, search: search))"
        return html(Layout.page(title: "Search data", visitor: visitor, body: body))
    }

    func filePage(_ request: Request) async throws -> Response {
        let visitor = try await visitor(of: request)
        let record = try await visibleRecord(request, after: "files", visitor: visitor)
        var lineage = FileLineage()
        lineage.inputs = try await jobs.inputs(ofProduct: record.key)
        lineage.products = try await jobs.products(madeFrom: record.file.name)
        if let science = record.file.science {
            let candidates = try await jobs.jobs(matching: JobFilter(instrument: science.instrument, dataLevel: science.dataLevel,
                                                                     startDate: science.startDate, limit: 200))
            lineage.producingJobs = candidates.filter { $0.outputs.contains(record.key) }
        }
        // Lineage may name files this visitor may not see; show only visible ones.
        lineage.inputs = try await visibleNames(lineage.inputs, visitor: visitor)
        lineage.products = try await visibleNames(lineage.products, visitor: visitor)
        return html(Layout.page(title: record.file.name, visitor: visitor, body: FileDetailPage.body(record, lineage: lineage)))
    }

    func download(_ request: Request) async throws -> Response {
        let visitor = try await visitor(of: request)
        let record = try await visibleRecord(request, after: "download", visitor: visitor)
        let key = try ObjectKey(record.key)
        let body = try await store.read(key, range: nil)
        let headers: HTTPFields = [
            .contentType: "application/octet-stream", .contentLength: String(record.size),
            .contentDisposition: "attachment; filename=\"\(record.file.name)\"", .cacheControl: "no-store",
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: body))
    }

    func quicklook(_ request: Request) async throws -> Response {
        let visitor = try await visitor(of: request)
        if let missions, let key = request.uri.path.dropFirst("/portal/quicklook/".count).removingPercentEncoding,
           let mission = missions.mission(owningKey: key) {
            return try await missionQuicklook(request, mission: mission, key: key, visitor: visitor)
        }
        let record = try await visibleRecord(request, after: "quicklook", visitor: visitor)
        guard Quicklook.canPlot(record.file) else { throw PortalError.notFound("\(record.file.name) is not a CDF file: there is nothing to plot.") }
        let versions = try await otherVersions(of: record, visitor: visitor).map { (key: $0.key, name: $0.file.name) }
        let back: HTML = "<a href=\"/portal/files/\(record.key.percentEncoded(safe: "/"))\">Back to \(record.file.name)</a>"
        return try await quicklook(request, object: (record.key, record.file.name, record.sha256), back: back, versions: versions, visitor: visitor)
    }

    /// The quicklook page of a stored CDF (`object`), whichever catalog it was found in: plots rendered once per key,
    /// content digest and request; `back` links to where the visitor came from.
    func quicklook(_ request: Request, object: (key: String, name: String, sha256: String), back: HTML,
                   versions: [(key: String, name: String)], visitor: Visitor) async throws -> Response {
        let parameters = try QuicklookRequest(parameters: request.queryPairs)
        let cacheKey = "\(object.key)|\(object.sha256)|\(parameters.cacheKey)"
        let view: QuicklookView
        if let cached = quicklookCache.view(for: cacheKey) {
            view = cached
        } else {
            view = try await readCDF(key: object.key, name: object.name) { reader in try QuicklookPage.render(reader, request: parameters) }
            quicklookCache.store(view, for: cacheKey)
        }
        let summary: HTML = parameters.variables.isEmpty
            ? "\(view.plotted) plots (at most \(Quicklook.maximumPlots)), \(view.constants) constants"
            : "\(view.plotted) chosen variables"
        let body: HTML = """
            <p>\(back) · <span id="plot-summary">\(summary)</span></p>
            \(QuicklookPage.controls(key: object.key, view: view, request: parameters, versions: versions))
            <div id="figures">\(HTML(trusted: view.figures))</div>
            """
        return html(Layout.page(title: "Quicklook: \(object.name)", visitor: visitor, body: body))
    }

    func compare(_ request: Request) async throws -> Response {
        let visitor = try await visitor(of: request)
        let record = try await visibleRecord(request, after: "compare", visitor: visitor)
        guard let otherKey = request.queryPairs.last(where: { $0.0 == "with" })?.1, !otherKey.isEmpty else {
            throw PortalError.badRequest("Name the version to compare with: ?with=<storage key>.")
        }
        let other = try await visibleRecord(key: otherKey, visitor: visitor)
        guard Quicklook.canPlot(record.file), Quicklook.canPlot(other.file) else { throw PortalError.notFound("Only CDF files can be compared.") }
        let first = try await readCDF(key: record.key, name: record.file.name) { reader in try Quicklook.series(in: reader) }
        let second = try await readCDF(key: other.key, name: other.file.name) { reader in try Quicklook.series(in: reader) }
        let names = (record.file.science?.version.description ?? record.file.name, other.file.science?.version.description ?? other.file.name)
        let (figures, differing) = try await ProcessingPool.shared.run { QuicklookPage.comparison(first, second, names: names) }
        let body: HTML = """
            <p><a href="/portal/quicklook/\(record.key.percentEncoded(safe: "/"))">Back to the quicklook of \(record.file.name)</a></p>
            <p id="compare-summary">\(record.file.name) (solid) against \(other.file.name) (dashed): \(differing) variables differ.</p>
            \(HTML(trusted: figures))
            """
        return html(Layout.page(title: "Compare versions", visitor: visitor, body: body))
    }

    /// Decodes the CDF stored under `key` (the file `name`) on the processing pool, mapping its failures to portal errors.
    func readCDF<T: Sendable>(key: String, name: String, _ body: @escaping @Sendable (CDFReader) throws -> T) async throws -> T {
        do {
            return try await cdfObjects.withReader(of: try ObjectKey(key), body)
        } catch let error as CDFError {
            throw PortalError.unprocessable("\(name) could not be read as CDF: \(error)")
        } catch StorageError.notFound {
            throw PortalError.notFound("The object of \(name) is missing from the store.")
        }
    }

    /// Every version of the record's product (same instrument, level, descriptor and day) this visitor may see.
    func otherVersions(of record: CatalogRecord, visitor: Visitor) async throws -> [CatalogRecord] {
        guard let science = record.file.science else { return [] }
        var query = FileQuery(table: .science)
        query.instrument = science.instrument
        query.dataLevel = science.dataLevel
        query.descriptor = science.descriptor
        query.startDate = science.startDate
        query.endDate = science.startDate
        query.versions = .all
        query.includeUnreleased = visitor.seesUnreleased
        return try await catalog.page(of: query, order: .filePath, descending: false, offset: 0, limit: 50).records
            .filter { $0.file.science?.repointing == science.repointing }
    }

    func dashboard(_ request: Request) async throws -> Response {
        let visitor = try await visitor(of: request)
        if let mission = try missionPage(for: visitor) { return try await missionDashboard(mission: mission, visitor: visitor) }
        let windowText = request.queryPairs.last { $0.0 == "window" }?.1 ?? DashboardWindow.day.rawValue
        guard let window = DashboardWindow(rawValue: windowText) else {
            throw PortalError.badRequest("window '\(windowText)' is not 24h, 7d or 30d.")
        }
        let now = UTCTime.now
        // The jobs /metrics reads: counts by state and the newest finished jobs of each outcome, plus waiting and running ones.
        var plotted: [Job] = []
        for status in JobStatus.allCases { plotted += try await jobs.jobs(matching: JobFilter(status: status, limit: 500)) }
        let data = DashboardData(
            window: window, now: now,
            jobCounts: try await jobs.countsByStatus(),
            failures: plotted.filter { $0.status == .failed }.sorted { $0.id > $1.id }.prefix(10).map { $0 },
            recentJobs: try await jobs.jobs(matching: JobFilter(limit: 20)),
            waiting: try await jobs.waitingTriggers(limit: 50),
            alerts: try await alerts?.activeAlerts() ?? [],
            totals: try await catalog.totals(),
            ingest: try await catalog.ingestHistory(since: UTCTime(secondsSince1970: now.secondsSince1970 - max(window.seconds, 86_400))),
            jobs: plotted,
            latencies: try await alerts?.latencies(since: UTCTime(secondsSince1970: now.secondsSince1970 - window.seconds)) ?? [],
            latencyRequirementHours: latencyRequirementHours)
        return html(Layout.page(title: "Operations dashboard", visitor: visitor, body: DashboardPage.body(data)))
    }

    func coverage(_ request: Request) async throws -> Response {
        let visitor = try await visitor(of: request)
        let totals = try await catalog.totals().filter { $0.fileClass == FileClass.science.rawValue }
        let instruments = Array(Set(totals.map(\.instrument))).sorted()
        let coverage = try CoverageRequest(parameters: request.queryPairs, instruments: instruments) { instrument in
            totals.filter { $0.instrument == instrument }.compactMap { $0.latestStartDate.flatMap { FileDate(yyyymmdd: $0) } }.max()
        }
        let days = try await catalog.coverage(instrument: coverage.instrument, from: coverage.from, through: coverage.through,
                                              includeUnreleased: visitor.seesUnreleased)
        let body = CoveragePage.body(coverage, days: days, instruments: instruments, signedIn: visitor.seesUnreleased)
        return html(Layout.page(title: "Coverage: \(coverage.instrument)", visitor: visitor, body: body))
    }

    /// `/portal/browse[/imap[/instrument[/level[/year[/month]]]]]`.
    func browse(_ request: Request, path: [String]) async throws -> Response {
        let visitor = try await visitor(of: request)
        let parts = path.map { $0.removingPercentEncoding ?? $0 }
        guard parts.isEmpty || parts[0] == "imap" else { throw PortalError.notFound("There is no mission \(parts[0]) in this archive.") }
        if parts.count > 1, Instrument(rawValue: parts[1]) == nil { throw PortalError.notFound("There is no instrument \(parts[1]).") }
        if parts.count > 2, DataLevel(rawValue: parts[2]) == nil { throw PortalError.notFound("There is no data level \(parts[2]).") }
        switch parts.count {
        case 0, 1:
            return html(Layout.page(title: "Browse the archive", visitor: visitor, body: BrowsePage.root(try await catalog.totals())))
        case 2:
            let totals = try await catalog.totals().filter { $0.instrument == parts[1] }
            return html(Layout.page(title: "Browse: \(parts[1])", visitor: visitor, body: BrowsePage.root(totals)))
        case 3, 4:
            var months = try await catalog.months(instrument: parts[1], level: parts[2], includeUnreleased: visitor.seesUnreleased)
            if parts.count == 4 { months = months.filter { $0.month.hasPrefix(parts[3]) } }
            return html(Layout.page(title: "Browse: \(parts[1]) \(parts[2])", visitor: visitor,
                                    body: BrowsePage.level(instrument: parts[1], level: parts[2], months: months)))
        case 5:
            guard let year = Int(parts[3]), let month = Int(parts[4]), let first = FileDate(year: year, month: month, day: 1) else {
                throw PortalError.notFound("\(parts[3])/\(parts[4]) is not a year and month.")
            }
            let last = FileDate(ordinalDay: first.ordinal + FileDate.daysInMonth(month, year: year) - 1)
            let search = try SearchRequest(parameters: [("table", "science"), ("instrument", parts[1]), ("data_level", parts[2]),
                                                        ("start_date", first.description), ("end_date", last.description),
                                                        ("page", request.queryPairs.last { $0.0 == "page" }?.1 ?? "1")])
            let query = try search.query(includeUnreleased: visitor.seesUnreleased)
            let page = try await catalog.page(of: query, order: search.order, descending: search.descending,
                                              offset: (search.page - 1) * SearchRequest.pageSize, limit: SearchRequest.pageSize)
            let body = BrowsePage.breadcrumbs(Array(parts)) + SearchPage.results(page, search: search)
            return html(Layout.page(title: "Browse: \(parts[1]) \(parts[2]) \(parts[3])-\(parts[4])", visitor: visitor, body: body))
        default:
            throw PortalError.notFound("There is nothing at \(request.uri.path).")
        }
    }

    func jobPage(_ request: Request, id: Int64?) async throws -> Response {
        let visitor = try await visitor(of: request)
        guard let id, let job = try await jobs.job(id: id) else { throw PortalError.notFound("There is no such job.") }
        let files = JobPage.Files(inputs: try await visibleNames(job.inputNames, visitor: visitor),
                                  outputs: try await visibleNames(job.outputs, visitor: visitor),
                                  hidden: job.inputNames.count + job.outputs.count)
        return html(Layout.page(title: "Job #\(job.id)", visitor: visitor, body: JobPage.body(job, files: files)))
    }

    // MARK: Sign-in and keys

    func signIn(_ request: Request) async throws -> Response {
        try checkOrigin(request)
        let form = try await formPairs(request)
        let secret = form.last { $0.0 == "api_key" }?.1.trimmingCharacters(in: .whitespaces) ?? ""
        guard !secret.isEmpty, let key = try await keys.authenticate(secret: secret) else {
            let body = SignInPage.body(error: "That API key is unknown or has been revoked.")
            return html(Layout.page(title: "Sign in", visitor: .anonymous, body: body), status: .unauthorized)
        }
        let token = try await sessions.open(for: key)
        var response = redirect(to: "/portal")
        response.setCookie(SessionCookie.opening(token: token, lifetime: sessions.lifetime))
        return response
    }

    func signOut(_ request: Request) async throws -> Response {
        try checkOrigin(request)
        if let token = SessionCookie.token(of: request) { try await sessions.close(token) }
        var response = redirect(to: "/portal")
        response.setCookie(SessionCookie.clear)
        return response
    }

    func keysPage(_ request: Request, created: (secret: String, info: APIKeyInfo)?) async throws -> Response {
        let visitor = try await admin(request)
        let list = try await keys.listKeys()
        return html(Layout.page(title: "API keys", visitor: visitor, body: KeysPage.body(list, created: created)))
    }

    func createKey(_ request: Request) async throws -> Response {
        try checkOrigin(request)
        _ = try await admin(request)
        let form = try await formPairs(request)
        let name = form.last { $0.0 == "name" }?.1.trimmingCharacters(in: .whitespaces) ?? ""
        guard !name.isEmpty, name.count <= 100 else { throw PortalError.badRequest("A key needs a name of 1 to 100 characters.") }
        let scopeText = form.last { $0.0 == "scope" }?.1 ?? ""
        guard let scope = APIKeyScope(rawValue: scopeText) else { throw PortalError.badRequest("Scope '\(scopeText)' is not read, write or admin.") }
        let created = try await keys.createKey(name: name, scope: scope)
        return try await keysPage(request, created: created)
    }

    func revokeKey(_ request: Request) async throws -> Response {
        try checkOrigin(request)
        _ = try await admin(request)
        let form = try await formPairs(request)
        guard let id = form.last(where: { $0.0 == "id" })?.1, Int64(id) != nil else { throw PortalError.badRequest("No key id to revoke.") }
        do {
            _ = try await keys.revokeKey(id)
        } catch {
            guard case .unknownKey = error else { throw error }
            throw PortalError.notFound("There is no API key \(id).")
        }
        return redirect(to: "/portal/keys")
    }

    // MARK: Helpers

    /// The signed-in key of the request's session, re-checked against the key store (revoked keys sign out), and
    /// the mission chosen, when missions are hosted beside IMAP.
    func visitor(of request: Request) async throws -> Visitor {
        var visitor = Visitor.anonymous
        if let token = SessionCookie.token(of: request), let key = try await sessions.key(for: token) { visitor = Visitor(key: key) }
        if let missions { visitor.missions = try missions.choice(path: request.uri.path, query: request.queryPairs, key: visitor.key) }
        return visitor
    }

    func admin(_ request: Request) async throws -> Visitor {
        let visitor = try await visitor(of: request)
        guard visitor.key != nil else { throw PortalError.unauthorized }
        guard visitor.isAdmin else { throw PortalError.forbidden("Managing API keys needs a key with admin scope.") }
        return visitor
    }

    /// The record named by the path after `/portal/<route>/`, if this visitor may see it (404 otherwise, so that
    /// unreleased files are not revealed).
    func visibleRecord(_ request: Request, after route: String, visitor: Visitor) async throws -> CatalogRecord {
        let prefix = "/portal/\(route)/"
        guard request.uri.path.hasPrefix(prefix), let key = String(request.uri.path.dropFirst(prefix.count)).removingPercentEncoding,
              !key.isEmpty else { throw PortalError.notFound("No file given.") }
        return try await visibleRecord(key: key, visitor: visitor)
    }

    /// The record stored under `key`, if this visitor may see it.
    func visibleRecord(key: String, visitor: Visitor) async throws -> CatalogRecord {
        let record: CatalogRecord?
        do {
            record = try await catalog.record(forKey: key)
        } catch {
            guard case .invalidKey = error else { throw error }
            record = nil
        }
        guard let record, record.released || visitor.seesUnreleased || record.file.fileClass == .spice else {
            throw PortalError.notFound("There is no file \(key)\(visitor.seesUnreleased ? "" : " among released data (sign in to see unreleased files)").")
        }
        return record
    }

    func visibleNames(_ names: [String], visitor: Visitor) async throws -> [String] {
        guard !visitor.seesUnreleased else { return names }
        var visible: [String] = []
        for name in names {
            guard let file = try? IMAPFileName.parse(String(name.split(separator: "/").last ?? "")),
                  let record = try await catalog.record(forKey: file.key), record.released else { continue }
            visible.append(name)
        }
        return visible
    }

    /// Form posts must come from the portal itself (SameSite=Lax already keeps the cookie off cross-site posts).
    func checkOrigin(_ request: Request) throws {
        guard let origin = request.headers[.origin], origin != "null" else { return }
        let originHost = URLComponents(string: origin).flatMap { components in
            components.host.map { host in components.port.map { "\(host):\($0)" } ?? host }
        }
        guard let host = request.head.authority, originHost == host else {
            throw PortalError.forbidden("Cross-site form posts are refused.")
        }
    }

    func formPairs(_ request: Request) async throws -> [(String, String)] {
        let body = try await request.body.collect(upTo: 64 * 1024)
        return String(buffer: body).formDecodedPairs
    }

    /// A page whose body does not depend on who is looking.
    func page(_ request: Request, title: String, body: HTML) async throws -> Response {
        let visitor = try await visitor(of: request)
        return html(Layout.page(title: title, visitor: visitor, body: body))
    }

    func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A redirect, `303 See Other` unless `status` says otherwise.
    func redirect(to location: String, status: HTTPResponse.Status = .seeOther) -> Response {
        Response(status: status, headers: [.location: location, .cacheControl: "no-store"])
    }
}

extension Request {
    /// The query string's name-value pairs, decoded, in order.
    var queryPairs: [(String, String)] { (uri.query ?? "").formDecodedPairs }
}

extension HTML {
    static func + (lhs: HTML, rhs: HTML) -> HTML { "\(lhs)\(rhs)" }
}

extension Error {
    /// The message of a portal-facing error.
    fileprivate var message: String { (self as? QueryParameterError)?.message ?? String(describing: self) }
}

/// A portal error shown as an HTML page with its status.
enum PortalError: Error, HTTPResponseError {
    case notFound(String)
    case badRequest(String)
    case unauthorized
    case forbidden(String)
    case unprocessable(String)

    var status: HTTPResponse.Status {
        switch self {
        case .notFound: .notFound
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .unprocessable: .unprocessableContent
        }
    }

    var text: String {
        switch self {
        case .notFound(let message), .badRequest(let message), .forbidden(let message), .unprocessable(let message): message
        case .unauthorized: "Sign in first."
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let signIn: HTML = self == .unauthorized ? " <a href=\"/portal/sign-in\">Sign in</a>" : ""
        let body: HTML = "<p class=\"error\" id=\"error\">\(text)\(signIn)</p><p><a href=\"/portal\">Back to search</a></p>"
        let page = Layout.page(title: status.reasonPhrase, visitor: .anonymous, body: body)
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
    }
}

extension PortalError: Equatable {}
