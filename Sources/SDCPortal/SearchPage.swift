import Foundation
import SDCCatalog
import SDCCore

/// The portal's search: the `/query` filters as a form, plus paging, sorting and which versions to show.
struct SearchRequest: Sendable {
    /// Which versions of each series are listed.
    enum Versions: String, Sendable, CaseIterable {
        case all, latest, newestMajor = "newest-major"

        var label: String {
            switch self {
            case .all: "every version"
            case .latest: "latest version only"
            case .newestMajor: "newest major version"
            }
        }

        var selection: VersionSelection {
            switch self {
            case .all: .all
            case .latest: .newest
            case .newestMajor: .newestMajor
            }
        }
    }

    static let pageSize = 50
    /// Search fields passed to ``FileQuery/init(parameters:)`` as they are.
    static let queryFields = ["table", "instrument", "data_level", "descriptor", "start_date", "end_date",
                              "ingestion_start_date", "ingestion_end_date", "major_version"]

    /// The non-empty search fields, as given.
    var fields: [(String, String)] = []
    var versions = Versions.all
    var order = FileSortOrder.filePath
    var descending = false
    /// 1-based.
    var page = 1

    init(parameters: [(String, String)]) throws(QueryParameterError) {
        for (name, value) in parameters where !value.isEmpty {
            switch name {
            case _ where Self.queryFields.contains(name):
                // Date inputs send YYYY-MM-DD; the catalog's dates are YYYYMMDD.
                fields.append((name, name.hasSuffix("date") ? value.replacingOccurrences(of: "-", with: "") : value))
            case "versions":
                guard let versions = Versions(rawValue: value) else { throw QueryParameterError("versions '\(value)' is not valid: expected all, latest or newest-major") }
                self.versions = versions
            case "sort":
                guard let order = FileSortOrder(rawValue: value) else {
                    throw QueryParameterError("sort '\(value)' is not valid: expected one of \(FileSortOrder.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                self.order = order
            case "desc": descending = value == "1"
            case "page":
                guard let page = Int(value), page >= 1, page <= 1_000_000 else { throw QueryParameterError("page '\(value)' is not valid: expected a number from 1") }
                self.page = page
            default:
                throw QueryParameterError("\(name) is not a search field")
            }
        }
    }

    func query(includeUnreleased: Bool) throws(QueryParameterError) -> FileQuery {
        var query = try FileQuery(parameters: fields)
        if query.majorVersion == nil { query.versions = versions.selection }
        query.includeUnreleased = includeUnreleased
        return query
    }

    func value(_ name: String) -> String { fields.last { $0.0 == name }?.1 ?? "" }

    /// The link to this search with some parameters changed.
    func link(sort: FileSortOrder? = nil, descending: Bool? = nil, page: Int? = nil) -> String {
        var items = fields
        items.append(("versions", versions.rawValue))
        items.append(("sort", (sort ?? order).rawValue))
        if descending ?? self.descending { items.append(("desc", "1")) }
        items.append(("page", String(page ?? self.page)))
        return "/portal/search?" + URLText.query(items)
    }
}

enum SearchPage {
    static func form(_ search: SearchRequest?) -> HTML {
        /// `<option>`s, after an empty "any" choice when `any` is given.
        func options(_ values: [String], selected: String, any: String?) -> HTML {
            var html: HTML = any.map { "<option value=\"\">\($0)</option>" } ?? ""
            for value in values {
                html = "\(html)<option value=\"\(value)\"\(HTML(trusted: value == selected ? " selected" : ""))>\(value)</option>"
            }
            return html
        }
        func value(_ name: String) -> String { search?.value(name) ?? "" }
        func isoDate(_ name: String) -> String {
            let text = value(name)
            guard let date = FileDate(lenient: text) else { return text }
            return date.isoDate
        }
        let tables = QueryTable.allCases.map(\.rawValue)
        let table = value("table").isEmpty ? "science" : value("table")
        var versionOptions: HTML = ""
        for versions in SearchRequest.Versions.allCases {
            let selected = HTML(trusted: versions == (search?.versions ?? .all) ? " selected" : "")
            versionOptions = "\(versionOptions)<option value=\"\(versions.rawValue)\"\(selected)>\(versions.label)</option>"
        }
        return """
            <form class="search" method="get" action="/portal/search" id="search-form">
            <label>Table <select name="table" id="table">\(options(tables, selected: table, any: nil))</select></label>
            <label>Instrument <select name="instrument" id="instrument">\(options(Instrument.allCases.map(\.rawValue), selected: value("instrument"), any: "any"))</select></label>
            <label>Level <select name="data_level" id="data_level">\(options(DataLevel.allCases.map(\.rawValue), selected: value("data_level"), any: "any"))</select></label>
            <label>Descriptor <input name="descriptor" id="descriptor" value="\(value("descriptor"))"></label>
            <label>Start date from <input type="date" name="start_date" id="start_date" value="\(isoDate("start_date"))"></label>
            <label>Start date to <input type="date" name="end_date" id="end_date" value="\(isoDate("end_date"))"></label>
            <label>Ingested from <input type="date" name="ingestion_start_date" id="ingestion_start_date" value="\(isoDate("ingestion_start_date"))"></label>
            <label>Ingested to <input type="date" name="ingestion_end_date" id="ingestion_end_date" value="\(isoDate("ingestion_end_date"))"></label>
            <label>Versions <select name="versions" id="versions">\(versionOptions)</select></label>
            <label>Major version <input type="number" min="0" max="999" name="major_version" id="major_version" value="\(value("major_version"))"></label>
            <div><button type="submit" id="search-button">Search</button></div>
            </form>
            """
    }

    /// One link per table, listing all of it.
    static var browseLinks: HTML {
        let links = QueryTable.allCases.map { table -> HTML in
            "<li><a href=\"/portal/search?table=\(table.rawValue)\" class=\"browse\">\(table.rawValue)</a></li>"
        }
        return """
            <nav id="browse" aria-label="Browse by table">Browse every file of a table: <ul class="inline-list">\(links)</ul></nav>
            <p id="browse-archive"><a href="/portal/browse">Browse the archive by instrument, level, year and month</a> · \
            <a href="/portal/coverage">Coverage timeline of each instrument</a></p>
            """
    }

    static func results(_ page: FilePage, search: SearchRequest) -> HTML {
        guard !page.records.isEmpty else {
            return #"<p id="no-results">No files match.</p>"#
        }
        func header(_ title: String, _ order: FileSortOrder) -> HTML {
            let active = search.order == order
            let arrow = active ? (search.descending ? " ▼" : " ▲") : ""
            let link = search.link(sort: order, descending: active ? !search.descending : false, page: 1)
            return "<th><a href=\"\(link)\" class=\"sort\">\(title)\(arrow)</a></th>"
        }
        var rows: [HTML] = []
        rows.reserveCapacity(page.records.count)
        for record in page.records {
            let fields = Columns(record.file)
            rows.append("""
                <tr><td><a href="/portal/files/\(record.key.percentEncoded(safe: "/"))" class="file-link">\(record.file.name)</a></td>\
                <td>\(fields.instrument)</td><td>\(fields.level)</td><td>\(fields.descriptor)</td><td>\(fields.startDate)</td>\
                <td>\(fields.version)</td><td class="num">\(Format.bytes(record.size))</td><td>\(record.ingestionDate.compact)</td>\
                <td>\(record.released ? "yes" : "no")</td>\
                <td><a href="/portal/download/\(record.key.percentEncoded(safe: "/"))" class="download-link" download>download</a></td></tr>
                """)
        }
        let first = (search.page - 1) * SearchRequest.pageSize
        let totalText = page.isTotalExact ? "\(page.total)" : "more than \(page.total - 1)"
        let lastPage = max(1, (page.total + SearchRequest.pageSize - 1) / SearchRequest.pageSize)
        let previous: HTML = search.page > 1 ? "<a href=\"\(search.link(page: search.page - 1))\" id=\"previous-page\">← previous</a>" : ""
        let hasNext = first + page.records.count < page.total
        let next: HTML = hasNext ? "<a href=\"\(search.link(page: search.page + 1))\" id=\"next-page\">next →</a>" : ""
        let pageText = page.isTotalExact ? "page \(search.page) of \(lastPage)" : "page \(search.page)"
        return """
            <p id="result-count">Files \(first + 1)–\(first + page.records.count) of \(totalText)</p>
            <table id="results"><thead><tr>\(header("File", .filePath))<th>Instrument</th><th>Level</th><th>Descriptor</th>\
            \(header("Start date", .startDate))<th>Version</th>\(header("Size", .size))\(header("Ingested", .ingestionDate))\
            <th>Released</th><th></th></tr></thead>
            <tbody>\(rows)</tbody></table>
            <p class="pager">\(previous)<span>\(pageText)</span>\(next)</p>
            """
    }

    /// The table columns of a file name, whatever its class.
    struct Columns {
        var instrument = "", level = "", descriptor = "", startDate = "", version = ""

        init(_ file: IMAPFileName) {
            if let science = file.science {
                instrument = science.instrument.rawValue
                level = science.dataLevel.rawValue
                descriptor = science.descriptor
                startDate = science.startDate.isoDate
                version = science.version.description
            } else if let ancillary = file.ancillary {
                instrument = ancillary.instrument.rawValue
                descriptor = ancillary.descriptor
                startDate = ancillary.startDate.isoDate
                version = ancillary.version.description
            }
        }
    }
}
