import Foundation
import SDCCatalog
import SDCCore

/// What a coverage timeline shows: one instrument's science files per level and day over a date range.
struct CoverageRequest: Sendable {
    static let maximumDays = 366

    var instrument: String
    var from: FileDate
    var through: FileDate

    /// From the query (`instrument`, `from`, `to` as `YYYY-MM-DD`); without dates, the 90 days up to `latest`.
    init(parameters: [(String, String)], instruments: [String], latest: (String) -> FileDate?) throws(PortalError) {
        var instrument: String?
        var from: FileDate?, through: FileDate?
        for (name, value) in parameters where !value.isEmpty {
            switch name {
            case "instrument":
                guard Instrument(rawValue: value) != nil else { throw .badRequest("instrument '\(value)' is not an IMAP instrument.") }
                instrument = value
            case "from":
                guard let date = FileDate(yyyymmdd: value.replacingOccurrences(of: "-", with: "")) else { throw .badRequest("from '\(value)' is not a date: expected YYYY-MM-DD.") }
                from = date
            case "to":
                guard let date = FileDate(yyyymmdd: value.replacingOccurrences(of: "-", with: "")) else { throw .badRequest("to '\(value)' is not a date: expected YYYY-MM-DD.") }
                through = date
            default:
                throw .badRequest("\(name) is not a coverage parameter: expected instrument, from or to.")
            }
        }
        self.instrument = instrument ?? instruments.first ?? Instrument.allCases[0].rawValue
        let end = through ?? from.map { FileDate(ordinalDay: $0.ordinal + 89) } ?? latest(self.instrument) ?? UTCTime.now.date
        let start = from ?? FileDate(ordinalDay: end.ordinal - 89)
        guard start <= end else { throw .badRequest("The range ends (\(end.isoDate)) before it starts (\(start.isoDate)).") }
        guard end.ordinal - start.ordinal < Self.maximumDays else { throw .badRequest("Choose at most \(Self.maximumDays) days.") }
        self.from = start
        self.through = end
    }
}

enum CoveragePage {
    /// The state of one level on one day.
    enum Mark: String {
        case present, reprocessed, gap, none
    }

    /// Marks per level and day: days with files, reprocessed days (more than one version of a series), gaps (days
    /// without files between the level's first and last day with files in the range) and days outside that span.
    static func marks(_ days: [CoverageDay], from: FileDate, through: FileDate) -> [(level: String, marks: [(FileDate, Mark, CoverageDay?)])] {
        let levels = Array(Set(days.map(\.level))).sorted { (DataLevel(rawValue: $0)?.order ?? 99, $0) < (DataLevel(rawValue: $1)?.order ?? 99, $1) }
        return levels.map { level in
            let mine = Dictionary(days.filter { $0.level == level }.map { ($0.day, $0) }, uniquingKeysWith: { a, _ in a })
            let present = mine.keys.compactMap { FileDate(yyyymmdd: $0) }
            let first = present.min() ?? from, last = present.max() ?? through
            let marks = (from.ordinal...through.ordinal).map { ordinal -> (FileDate, Mark, CoverageDay?) in
                let date = FileDate(ordinalDay: ordinal)
                if let day = mine[date.description] { return (date, day.reprocessed ? .reprocessed : .present, day) }
                return (date, date > first && date < last ? .gap : .none, nil)
            }
            return (level, marks)
        }
    }

    static func body(_ request: CoverageRequest, days: [CoverageDay], instruments: [String], signedIn: Bool) -> HTML {
        let options = Instrument.allCases.map { instrument -> HTML in
            let selected = HTML(trusted: instrument.rawValue == request.instrument ? " selected" : "")
            let note = instruments.contains(instrument.rawValue) ? "" : " (no data)"
            return "<option value=\"\(instrument.rawValue)\"\(selected)>\(instrument.rawValue)\(note)</option>"
        }
        let form: HTML = """
            <form method="get" action="/portal/coverage" class="search" id="coverage-form">
            <label>Instrument <select name="instrument" id="coverage-instrument">\(options)</select></label>
            <label>From <input type="date" name="from" id="coverage-from" value="\(request.from.isoDate)"></label>
            <label>To <input type="date" name="to" id="coverage-to" value="\(request.through.isoDate)"></label>
            <div><button type="submit" id="coverage-button">Show coverage</button></div></form>
            """
        let levels = marks(days, from: request.from, through: request.through)
        guard !levels.isEmpty else {
            return form + "<p class=\"muted\" id=\"no-coverage\">No \(request.instrument) science files start between \(request.from.isoDate) and \(request.through.isoDate)\(signedIn ? "" : " among released data (sign in to see unreleased files)").</p>"
        }
        let dates = (request.from.ordinal...request.through.ordinal).map { FileDate(ordinalDay: $0) }
        let header = dates.map { date -> HTML in
            let label = date.day == 1 || date == dates[0] ? "\(date.isoDate.dropFirst(5))" : "\(date.day)"
            return "<th scope=\"col\" class=\"day-head\" title=\"\(date.isoDate)\"><span>\(label)</span></th>"
        }
        var summary: [HTML] = []
        let rows = levels.map { level -> HTML in
            let cells = level.marks.map { date, mark, day -> HTML in
                let search = "/portal/search?" + URLText.query([("table", "science"), ("instrument", request.instrument), ("data_level", level.level),
                                                                ("start_date", date.description), ("end_date", date.description)])
                switch mark {
                case .present, .reprocessed:
                    let files = day?.files ?? 0
                    let text = "\(date.isoDate) \(level.level): \(files) file\(files == 1 ? "" : "s")\(mark == .reprocessed ? ", reprocessed" : "")"
                    return "<td class=\"day \(mark.rawValue)\" data-day=\"\(date.description)\"><a href=\"\(search)\" aria-label=\"\(text)\" title=\"\(text)\">\(mark == .reprocessed ? "R" : "")</a></td>"
                case .gap:
                    return "<td class=\"day gap\" data-day=\"\(date.description)\" title=\"\(date.isoDate) \(level.level): gap, no file\"><span class=\"visually-hidden\">\(date.isoDate) gap</span>×</td>"
                case .none:
                    return "<td class=\"day none\" data-day=\"\(date.description)\"></td>"
                }
            }
            let gaps = level.marks.filter { $0.1 == .gap }.map(\.0.isoDate)
            let reprocessed = level.marks.filter { $0.1 == .reprocessed }.map(\.0.isoDate)
            let present = level.marks.filter { $0.1 == .present || $0.1 == .reprocessed }.count
            summary.append("""
                <li data-level="\(level.level)"><strong>\(level.level)</strong>: \(present) days with files; \
                <span class="gaps">gaps: \(gaps.isEmpty ? "none" : gaps.joined(separator: ", "))</span>; \
                <span class="reprocessed-days">reprocessed: \(reprocessed.isEmpty ? "none" : reprocessed.joined(separator: ", "))</span></li>
                """)
            return "<tr data-level=\"\(level.level)\"><th scope=\"row\"><a href=\"/portal/browse/imap/\(request.instrument)/\(level.level)\">\(level.level)</a></th>\(cells)</tr>"
        }
        return """
            \(form)
            <p class="legend-line"><span class="key present"></span> files <span class="key reprocessed">R</span> reprocessed (more than one version) \
            <span class="key gap">×</span> gap (no file between days with files) · select a day to list its files.</p>
            <div class="scroll coverage-scroll" tabindex="0" role="region" aria-label="Coverage timeline"><table class="coverage" id="coverage">
            <caption>\(request.instrument) science files per level and start date, \(request.from.isoDate) to \(request.through.isoDate)</caption>
            <thead><tr><th scope="col">Level</th>\(header)</tr></thead><tbody>\(rows)</tbody></table></div>
            <h2>Summary</h2><ul id="coverage-summary">\(summary)</ul>
            """
    }
}

/// The archive as its storage layout has it: mission / instrument / level / year / month, with file counts.
enum BrowsePage {
    static func breadcrumbs(_ parts: [String]) -> HTML {
        var links: [HTML] = ["<a href=\"/portal/browse\">archive</a>"]
        var path = "/portal/browse"
        for part in parts {
            path += "/" + part.percentEncoded()
            links.append("<a href=\"\(path)\">\(part)</a>")
        }
        return "<nav aria-label=\"Breadcrumb\" class=\"breadcrumbs\" id=\"breadcrumbs\">\(links.joinedHTML(" / "))</nav>"
    }

    /// The instruments with files, by level.
    static func root(_ totals: [CatalogTotal]) -> HTML {
        let science = totals.filter { $0.fileClass == FileClass.science.rawValue }
        let instruments = Array(Set(science.map(\.instrument))).sorted()
        guard !instruments.isEmpty else { return breadcrumbs([]) + "<p class=\"muted\" id=\"empty-archive\">No science files yet.</p>" }
        let items = instruments.map { instrument -> HTML in
            let rows = science.filter { $0.instrument == instrument }
            let files = rows.reduce(0) { $0 + $1.files }
            let levels = rows.sorted { (DataLevel(rawValue: $0.level)?.order ?? 99) < (DataLevel(rawValue: $1.level)?.order ?? 99) }.map { row -> HTML in
                "<li><a href=\"/portal/browse/imap/\(instrument)/\(row.level)\">\(row.level)</a> <span class=\"muted\">\(row.files) files</span></li>"
            }
            return """
                <li><a href="/portal/browse/imap/\(instrument)">\(instrument)</a> <span class="muted">\(files) files</span> · \
                <a href="/portal/coverage?instrument=\(instrument)">coverage</a><ul>\(levels)</ul></li>
                """
        }
        return breadcrumbs([]) + "<ul class=\"tree\" id=\"browse-tree\"><li>imap<ul>\(items)</ul></li></ul>"
    }

    /// One level's years and months.
    static func level(instrument: String, level: String, months: [CatalogMonth]) -> HTML {
        let years = Array(Set(months.map { String($0.month.prefix(4)) })).sorted()
        guard !years.isEmpty else { return breadcrumbs(["imap", instrument, level]) + "<p class=\"muted\">No files.</p>" }
        let items = years.map { year -> HTML in
            let inYear = months.filter { $0.month.hasPrefix(year) }
            let links = inYear.map { month -> HTML in
                let number = String(month.month.dropFirst(4))
                return "<li><a href=\"/portal/browse/imap/\(instrument)/\(level)/\(year)/\(number)\">\(year)-\(number)</a> <span class=\"muted\">\(month.files) files</span></li>"
            }
            return "<li><a href=\"/portal/browse/imap/\(instrument)/\(level)/\(year)\">\(year)</a> <span class=\"muted\">\(inYear.reduce(0) { $0 + $1.files }) files</span><ul>\(links)</ul></li>"
        }
        return breadcrumbs(["imap", instrument, level])
            + "<p><a href=\"/portal/coverage?instrument=\(instrument)\">Coverage timeline of \(instrument)</a></p><ul class=\"tree\" id=\"browse-tree\">\(items)</ul>"
    }
}

extension Array where Element == HTML {
    /// The fragments with `separator` between them.
    func joinedHTML(_ separator: HTML) -> HTML {
        var joined: HTML = ""
        for (index, fragment) in enumerated() { joined = index == 0 ? fragment : "\(joined)\(separator)\(fragment)" }
        return joined
    }
}
