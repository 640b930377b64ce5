import Foundation
import Hummingbird
import SDCCatalog
import SDCCore
import SDCServer

/// The missions a data center hosts beside IMAP (HERMES, PADRE, ...), as the portal shows them: a mission switcher in
/// every page's header, and for a SWxSOC-style mission its own search, dashboard and quicklooks over the mission
/// catalog. Who may see what follows the `/missions/<m>/` API: every visitor reads a mission's files unless signed
/// in with a key limited to other missions (the routes' own `MissionRoutes.checkAccess`), and the files kept aside
/// are listed to write keys only.
public struct PortalMissions: Sendable {
    /// The hosted missions, IMAP among them or not.
    public let missions: MissionSet
    let catalog: any MissionCatalog
    /// Files listed on one search page.
    let pageSize: Int

    /// The portal's view of `missions`, whose SWxSOC files `catalog` holds; a search lists `pageSize` files a page
    /// (at least one).
    public init(missions: MissionSet, catalog: any MissionCatalog, pageSize: Int = 500) {
        self.missions = missions
        self.catalog = catalog
        self.pageSize = max(pageSize, 1)
    }

    /// The hosted SWxSOC-style mission called `name`.
    func swxsoc(named name: String) -> MissionProfile? {
        missions.mission(named: name).flatMap { $0.grammar == .swxsoc ? $0 : nil }
    }

    /// The hosted SWxSOC-style mission whose storage keys start like `key` (`hermes/eea/l1/...`).
    func mission(owningKey key: String) -> MissionProfile? {
        key.split(separator: "/", maxSplits: 1).first.flatMap { swxsoc(named: String($0)) }
    }

    /// Refuses a key limited to other missions with the mission routes' own check (403).
    func checkAccess(_ mission: MissionProfile, key: APIKeyInfo?) throws(PortalError) {
        do { try MissionRoutes.checkAccess(key: key, mission: mission.name) } catch { throw .forbidden(error.message) }
    }

    /// The switcher of a page at `path`: the mission of `?mission=`, else of a mission file's quicklook, else IMAP
    /// (or, for a key that cannot reach IMAP, the first mission it can).
    func choice(path: String, query: [(String, String)], key: APIKeyInfo?) throws(PortalError) -> MissionChoice {
        let reachable = missions.names.filter { key?.allows(mission: $0) ?? true }
        let fallback = missions.hostsIMAP && reachable.contains("imap") ? "imap" : reachable.first ?? missions.names.first ?? "imap"
        var current = fallback
        if let requested = query.last(where: { $0.0 == "mission" })?.1, !requested.isEmpty {
            guard missions.mission(named: requested) != nil else {
                throw .notFound("Mission '\(requested)' is not hosted here: hosted missions are \(missions.names.joined(separator: ", ")).")
            }
            current = requested
        } else if path.hasPrefix("/portal/quicklook/"), let mission = mission(owningKey: String(path.dropFirst("/portal/quicklook/".count))) {
            current = mission.name
        }
        return MissionChoice(choices: reachable.contains(current) ? reachable : reachable + [current], current: current,
                             defaultMission: fallback, action: path.hasPrefix("/portal/dashboard") ? "/portal/dashboard" : "/portal")
    }
}

/// The mission switcher of a page: a form that GETs `?mission=`, so that it works without scripts.
struct MissionChoice: Sendable, Equatable {
    /// The missions the visitor may choose, in the data center's order.
    let choices: [String]
    /// The mission the page shows.
    let current: String
    /// The mission shown when none is chosen.
    let defaultMission: String
    /// Where the form goes: the dashboard from the dashboard, else the search page.
    let action: String

    /// `path` showing the current mission: with `?mission=` unless it is the default.
    func link(_ path: String) -> String {
        current == defaultMission ? path : "\(path)?mission=\(current.percentEncoded())"
    }

    static func switcher(_ choice: MissionChoice) -> HTML {
        let options = choice.choices.map { name -> HTML in
            "<option value=\"\(name)\"\(HTML(trusted: name == choice.current ? " selected" : ""))>\(name.uppercased())</option>"
        }
        return """
            <form method="get" action="\(choice.action)" class="mission-switcher" id="mission-switcher">\
            <label for="mission-select">Mission</label> <select name="mission" id="mission-select">\(options)</select> \
            <button type="submit" id="mission-button">Show</button></form>
            """
    }

    /// Added to the layout's stylesheet when missions are hosted.
    static let stylesheet = """
        .mission-switcher{display:flex;align-items:center;gap:.4rem;margin:0}.mission-switcher label{font-weight:600}
        .mission-switcher select,.mission-switcher button{font:inherit}td.status-success{color:#116329}td.status-pending{color:#57606a}
        td.time{white-space:nowrap}.status-message{display:inline-block;max-width:24rem;overflow-wrap:anywhere;font-weight:400}
        """
}

/// The search of a SWxSOC mission's files: the `/missions/<m>/query` filters, plus the processing status and the page
/// (`after`: the name of the last file of the page before).
struct MissionSearch: Sendable {
    var instrument = "", level = "", descriptor = "", status = "", startDate = "", endDate = ""
    /// The filters and the page's start (`after`).
    var query: MissionFileQuery

    init(parameters: [(String, String)], mission: MissionProfile) throws(PortalError) {
        query = MissionFileQuery(mission: mission.name)
        for (name, value) in parameters where !value.isEmpty {
            switch name {
            case "mission": continue
            case "after":
                guard case .swxsoc(let file)? = try? mission.parse(value) else {
                    throw .badRequest("after '\(value)' is not a \(mission.name) file name: the next-page link carries the last file shown.")
                }
                query.after = file
            case "instrument":
                guard let known = mission.instrument(named: value) else {
                    throw .badRequest("instrument '\(value)' is not a \(mission.name) instrument: expected one of \(mission.instruments.map(\.name).joined(separator: ", ")).")
                }
                instrument = known.name
                query.instrument = known.name
            case "level":
                guard mission.levels.contains(value) else {
                    throw .badRequest("level '\(value)' is not a \(mission.name) level: expected one of \(mission.levels.joined(separator: ", ")).")
                }
                level = value
                query.level = value
            case "descriptor":
                descriptor = value
                query.descriptor = value
            case "status":
                guard let known = MissionFileStatus.State(rawValue: value) else {
                    throw .badRequest("status '\(value)' is not pending, success or failed.")
                }
                status = value
                query.state = known
            case "start_date", "end_date":
                guard let day = SWxSOCTime(iso: value), !value.contains("T") else {
                    throw .badRequest("\(name) '\(value)' is not a date: expected YYYY-MM-DD.")
                }
                if name == "start_date" {
                    startDate = value
                    query.startTime = day
                } else {
                    endDate = value
                    query.endTime = SWxSOCTime(unixMilliseconds: day.unixMilliseconds + 86_400_000 - 1)
                }
            default:
                throw .badRequest("\(name) is not a search field: expected instrument, level, descriptor, status, start_date, end_date or after.")
            }
        }
    }
}

extension MissionSearch {
    /// The search page of these filters, starting after the file named `after` (from the first file when nil).
    func link(after: String?) -> String {
        let filters = [("mission", query.mission), ("instrument", instrument), ("level", level), ("descriptor", descriptor),
                       ("status", status), ("start_date", startDate), ("end_date", endDate), ("after", after ?? "")]
        return "/portal/search?" + URLText.query(filters.filter { !$0.1.isEmpty })
    }
}

/// One page of a mission search: its files, where it lies among all the files the filters select, and the link to
/// the next page.
struct MissionResultsPage {
    var rows: [(record: MissionFileRecord, status: MissionFileStatus)]
    /// Files the filters select, on every page.
    var total: Int
    /// Files before this page.
    var before: Int
    /// The first page's link, when this is not the first page.
    var first: String?
    /// The next page's link, when there are files after this page.
    var next: String?
}

enum MissionPages {
    /// Processing status changes listed on the dashboard.
    static let recentChanges = 20

    static func title(_ mission: MissionProfile) -> String { mission.name.uppercased() }

    static func searchForm(_ mission: MissionProfile, _ search: MissionSearch?) -> HTML {
        func options(_ values: [String], selected: String) -> HTML {
            let choices = values.map { value -> HTML in
                "<option value=\"\(value)\"\(HTML(trusted: value == selected ? " selected" : ""))>\(value)</option>"
            }
            return "<option value=\"\">any</option>\(choices)"
        }
        return """
            <form class="search" method="get" action="/portal/search" id="search-form">
            <input type="hidden" name="mission" value="\(mission.name)">
            <label>Instrument <select name="instrument" id="instrument">\(options(mission.instruments.map(\.name), selected: search?.instrument ?? ""))</select></label>
            <label>Level <select name="level" id="level">\(options(mission.levels, selected: search?.level ?? ""))</select></label>
            <label>Descriptor <input name="descriptor" id="descriptor" value="\(search?.descriptor ?? "")"></label>
            <label>Status <select name="status" id="status">\(options(MissionFileStatus.State.allCases.map(\.rawValue), selected: search?.status ?? ""))</select></label>
            <label>Time from <input type="date" name="start_date" id="start_date" value="\(search?.startDate ?? "")"></label>
            <label>Time to <input type="date" name="end_date" id="end_date" value="\(search?.endDate ?? "")"></label>
            <div><button type="submit" id="search-button">Search</button></div>
            </form>
            """
    }

    static func downloadPath(_ mission: String, key: String) -> String { "/missions/\(mission)/download/\(key.percentEncoded(safe: "/"))" }

    static func results(_ mission: MissionProfile, page: MissionResultsPage) -> HTML {
        let firstLink: HTML = page.first.map { "<a href=\"\($0)\" id=\"first-page\">First page</a>" } ?? ""
        guard !page.rows.isEmpty else {
            if page.total == 0 { return #"<p id="no-results">No files match.</p>"# }
            return "<p id=\"no-results\">No files after this one (\(page.total) files match).</p><p class=\"pages\">\(firstLink)</p>"
        }
        let body = page.rows.map { row -> HTML in
            let file = row.record.file
            let origins = row.record.origins.map { origin -> HTML in
                "<li><a href=\"\(downloadPath(mission.name, key: origin))\">\(origin.split(separator: "/").last.map(String.init) ?? origin)</a></li>"
            }
            let quicklook: HTML = file.fileExtension == "cdf"
                ? " <a href=\"/portal/quicklook/\(row.record.key.percentEncoded(safe: "/"))\" class=\"quicklook-link\">quicklook</a>" : ""
            let seconds: HTML = row.status.processingSeconds.map { " (\(String(format: "%.2f", $0)) s)" } ?? ""
            return """
                <tr class="mission-file" data-level="\(file.level)"><td>\(file.name)</td><td>\(file.instrument.name)</td><td>\(file.level)</td>\
                <td>\(file.mode ?? "")</td><td>\(file.descriptor ?? "")</td><td class="time">\(file.time.isot)</td><td>\(file.version?.text ?? "")</td>\
                <td class="status-\(row.status.state.rawValue)">\(row.status.state.rawValue)\(seconds)<br><span class="muted status-message">\(row.status.message)</span></td>\
                <td><ul class="inline-list">\(origins)</ul></td><td class="num">\(Format.bytes(row.record.size))</td>\
                <td><a href="\(downloadPath(mission.name, key: row.record.key))" class="download-link" download>download</a>\(quicklook)</td></tr>
                """
        }
        let count: HTML = page.first == nil && page.next == nil
            ? "\(page.rows.count) file\(page.rows.count == 1 ? "" : "s")"
            : "Files \(page.before + 1)–\(page.before + page.rows.count) of \(page.total)"
        let nextLink: HTML = page.next.map { "<a href=\"\($0)\" id=\"next-page\" rel=\"next\">Next page</a>" } ?? ""
        let links: HTML = page.first == nil && page.next == nil ? "" : "<p class=\"pages\">\(firstLink) \(nextLink)</p>"
        return """
            <p id="result-count">\(count)</p>
            <div class="scroll"><table id="results"><caption class="visually-hidden">\(title(mission)) files</caption><thead><tr>\
            <th scope="col">File</th><th scope="col">Instrument</th><th scope="col">Level</th><th scope="col">Mode</th>\
            <th scope="col">Descriptor</th><th scope="col">Time (UTC)</th><th scope="col">Version</th><th scope="col">Status</th>\
            <th scope="col">Made from</th><th scope="col">Size</th><th scope="col">Links</th></tr></thead>
            <tbody>\(body)</tbody></table></div>\(links)
            """
    }

    /// Files by instrument and level and what the flow did with them, processing status, and (for write keys) the
    /// files kept aside.
    /// `counts` and `recent` (the latest status changes) come from the catalog's aggregates; `rejected` is listed
    /// when `showRejected`.
    static func dashboard(_ mission: MissionProfile, counts fileCounts: MissionFileCounts,
                          recent changes: [(record: MissionFileRecord, status: MissionFileStatus)],
                          rejected: [RejectedFile], showRejected: Bool) -> HTML {
        struct Counts { var received = 0, produced = 0, pending = 0, processed = 0, failed = 0 }
        var counts: [String: [String: Counts]] = [:]
        for group in fileCounts.groups {
            var entry = counts[group.instrument, default: [:]][group.level, default: Counts()]
            entry.received += group.files - group.produced
            entry.produced += group.produced
            switch group.state {
            case .pending: entry.pending += group.files
            case .success: entry.processed += group.files
            case .failed: entry.failed += group.files
            }
            counts[group.instrument, default: [:]][group.level] = entry
        }
        var table: [HTML] = []
        for instrument in mission.instruments.map(\.name) {
            guard let levels = counts[instrument] else { continue }
            for level in mission.levels {
                guard let entry = levels[level] else { continue }
                let search = "/portal/search?" + URLText.query([("mission", mission.name), ("instrument", instrument), ("level", level)])
                table.append("""
                    <tr id="counts-\(instrument)-\(level)"><th scope="row"><a href="\(search)">\(instrument) \(level)</a></th>\
                    <td class="num">\(entry.received)</td><td class="num">\(entry.produced)</td><td class="num">\(entry.pending)</td>\
                    <td class="num">\(entry.processed)</td><td class="num">\(entry.failed)</td></tr>
                    """)
            }
        }
        let countsTable: HTML = table.isEmpty ? "<p class=\"muted\" id=\"no-files\">No \(title(mission)) files yet.</p>" : """
            <div class="scroll"><table id="mission-counts"><thead><tr><th scope="col">Instrument and level</th><th scope="col">Received</th>\
            <th scope="col">Produced</th><th scope="col">Pending</th><th scope="col">Processed</th><th scope="col">Failed</th></tr></thead>
            <tbody>\(table)</tbody></table></div>
            """
        let recent = changes.map { row -> HTML in
            """
            <tr><td>\(row.record.file.name)</td><td class="status-\(row.status.state.rawValue)">\(row.status.state.rawValue)</td>\
            <td><span class="status-message">\(row.status.message)</span></td><td class="num">\(row.status.processingSeconds.map { String(format: "%.2f s", $0) } ?? "")</td>\
            <td>\(row.status.lastTime.iso8601)</td></tr>
            """
        }
        let status: HTML = recent.isEmpty ? "<p class=\"muted\">Nothing processed yet.</p>" : """
            <div class="scroll"><table id="mission-status"><thead><tr><th scope="col">File</th><th scope="col">Status</th>\
            <th scope="col">Message</th><th scope="col">Took</th><th scope="col">Changed (UTC)</th></tr></thead>
            <tbody>\(recent)</tbody></table></div>
            """
        let rejectedList: HTML
        if !showRejected {
            rejectedList = "<p class=\"muted\" id=\"rejected-hidden\">\(fileCounts.rejected) files kept aside; sign in with a write key to see them.</p>"
        } else if rejected.isEmpty {
            rejectedList = "<p class=\"muted\" id=\"no-rejected\">No file kept aside.</p>"
        } else {
            let items = rejected.map { file -> HTML in
                "<tr><td>\(file.name)</td><td>\(file.reason)</td><td>\(file.receivedAt.iso8601)</td><td class=\"num\">\(Format.bytes(file.size))</td><td>\(file.key)</td></tr>"
            }
            rejectedList = """
                <div class="scroll"><table id="rejected"><thead><tr><th scope="col">Name</th><th scope="col">Reason</th>\
                <th scope="col">Received (UTC)</th><th scope="col">Size</th><th scope="col">Kept as</th></tr></thead>
                <tbody>\(items)</tbody></table></div>
                """
        }
        return """
            <section aria-labelledby="now-heading"><h2 id="now-heading">Now</h2><div class="tiles">
            <p class="tile" id="mission-files">\(fileCounts.files) files, \(Format.bytes(fileCounts.bytes)) stored</p>
            <p class="tile">Pending <strong id="mission-pending">\(fileCounts.files(in: .pending))</strong></p>
            <p class="tile">Failed <strong id="mission-failed">\(fileCounts.files(in: .failed))</strong></p>
            <p class="tile">Kept aside <strong id="mission-rejected">\(fileCounts.rejected)</strong></p>
            </div></section>
            <section aria-labelledby="counts-heading"><h2 id="counts-heading">Files by instrument and level</h2>\(countsTable)</section>
            <section aria-labelledby="status-heading"><h2 id="status-heading">Processing status</h2>\(status)</section>
            <section aria-labelledby="rejected-heading"><h2 id="rejected-heading">Files kept aside</h2>\(rejectedList)</section>
            """
    }
}

extension Portal {
    /// The SWxSOC-style mission whose pages the visitor chose, if any (nil: IMAP's pages); a key limited to other
    /// missions is refused.
    func missionPage(for visitor: Visitor) throws(PortalError) -> MissionProfile? {
        guard let missions, let choice = visitor.missions, let mission = missions.swxsoc(named: choice.current) else { return nil }
        try missions.checkAccess(mission, key: visitor.key)
        return mission
    }

    /// `/portal` and `/portal/search` for a SWxSOC mission: the filters and the files they select.
    func missionSearch(_ request: Request, mission: MissionProfile, visitor: Visitor) async throws -> Response {
        guard let missions else { throw PortalError.notFound("No missions are hosted beside IMAP.") }
        let title = "Search \(MissionPages.title(mission)) data"
        let search: MissionSearch
        do {
            search = try MissionSearch(parameters: request.queryPairs, mission: mission)
        } catch {
            let body: HTML = "<p class=\"error\" id=\"search-error\">\(error.text)</p>\(MissionPages.searchForm(mission, nil))"
            return html(Layout.page(title: title, visitor: visitor, body: body), status: .badRequest)
        }
        // One page in SQL, and the counts that place it among all the files the filters select.
        var filters = search.query
        filters.after = nil
        let total = try await missions.catalog.count(matching: filters)
        let remaining = search.query.after == nil ? total : try await missions.catalog.count(matching: search.query)
        var query = search.query
        query.limit = missions.pageSize
        let rows = try await missions.catalog.files(matching: query)
        let page = MissionResultsPage(rows: rows, total: total, before: max(total - remaining, 0),
                                      first: search.query.after == nil ? nil : search.link(after: nil),
                                      next: rows.count < remaining ? rows.last.map { search.link(after: $0.record.file.name) } : nil)
        let body: HTML = "\(MissionPages.searchForm(mission, search))\(searchScript)<h2>Files</h2>\(MissionPages.results(mission, page: page))"
        return html(Layout.page(title: title, visitor: visitor, body: body))
    }

    /// `/portal/dashboard` for a SWxSOC mission.
    func missionDashboard(mission: MissionProfile, visitor: Visitor) async throws -> Response {
        guard let missions else { throw PortalError.notFound("No missions are hosted beside IMAP.") }
        let counts = try await missions.catalog.counts(mission: mission.name)
        let recent = try await missions.catalog.recentlyChanged(mission: mission.name, limit: MissionPages.recentChanges)
        let showRejected = (visitor.key?.scope ?? .read) >= .write
        let rejected = showRejected ? try await missions.catalog.rejected(mission: mission.name) : []
        let body = MissionPages.dashboard(mission, counts: counts, recent: recent, rejected: rejected, showRejected: showRejected)
        return html(Layout.page(title: "\(MissionPages.title(mission)) dashboard", visitor: visitor, body: body))
    }

    /// The quicklook of a mission's CDF, found by its storage key in the mission catalog.
    func missionQuicklook(_ request: Request, mission: MissionProfile, key: String, visitor: Visitor) async throws -> Response {
        guard let missions else { throw PortalError.notFound("No missions are hosted beside IMAP.") }
        try missions.checkAccess(mission, key: visitor.key)
        guard let record = try await missions.catalog.record(forKey: key) else {
            throw PortalError.notFound("There is no \(MissionPages.title(mission)) file \(key).")
        }
        guard record.file.fileExtension == "cdf" else { throw PortalError.notFound("\(record.file.name) is not a CDF file: there is nothing to plot.") }
        let file = record.file
        let search = "/portal/search?" + URLText.query([("mission", mission.name), ("instrument", file.instrument.name), ("level", file.level)])
        let back: HTML = "<a href=\"\(search)\" id=\"back-to-files\">Back to \(MissionPages.title(mission)) \(file.instrument.name) \(file.level) files</a>"
        return try await quicklook(request, object: (record.key, file.name, record.sha256), back: back, versions: [], visitor: visitor)
    }
}
