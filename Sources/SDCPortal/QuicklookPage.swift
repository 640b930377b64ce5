import Foundation
import SDCCatalog
import SDCCDF
import SDCCore
import Synchronization

/// What a visitor asked a quicklook to show: some variables (all when empty), a time window, stacked or one plot each.
struct QuicklookRequest: Sendable, Hashable {
    var variables: [String] = []
    /// As typed (ISO 8601 UTC), kept for the form.
    var fromText = ""
    var toText = ""
    var range = Quicklook.TimeRange.all
    /// Chosen variables on one shared time axis (the default) rather than one figure each.
    var stacked = true

    init(parameters: [(String, String)]) throws(PortalError) {
        for (name, value) in parameters {
            let value = value.trimmingCharacters(in: .whitespaces)
            switch name {
            case "var" where !value.isEmpty:
                guard variables.count < 64 else { throw .badRequest("Choose at most 64 variables.") }
                if !variables.contains(value) { variables.append(value) }
            case "from" where !value.isEmpty:
                fromText = value
                range.from = try Self.instant(value, name)
            case "to" where !value.isEmpty:
                toText = value
                range.to = try Self.instant(value, name)
            case "layout":
                stacked = value != "separate"
            case "var", "from", "to":
                continue
            default:
                throw .badRequest("\(name) is not a quicklook parameter: expected var, from, to or layout.")
            }
        }
        if let from = range.from, let to = range.to, from > to { throw .badRequest("The time range ends (\(toText)) before it starts (\(fromText)).") }
    }

    private static func instant(_ text: String, _ name: String) throws(PortalError) -> Int64 {
        do { return try TT2000.from(iso8601: text) } catch {
            throw .badRequest("\(name) '\(text)' is not a UTC time: expected YYYY-MM-DDThh:mm:ss.")
        }
    }

    /// Part of the cache key: everything that changes the figures.
    var cacheKey: String {
        "\(variables.joined(separator: ","))|\(range.from.map(String.init) ?? "")|\(range.to.map(String.init) ?? "")|\(stacked)"
    }
}

/// What a quicklook of one file shows, made once per file, sha256 and request and then served from ``QuicklookCache``.
struct QuicklookView: Sendable {
    let variables: [Quicklook.Variable]
    let figures: String
    let plotted: Int
    let constants: Int
    /// The first and last valid times of the file, ISO 8601, for the time range fields.
    let span: (first: String, last: String)?
}

/// Rendered quicklooks by storage key, content digest and request: a product key names one version, and the digest
/// guards against a replaced object, so a second view of the same plots costs only a lookup. Least recently used
/// views are dropped beyond ``capacity`` bytes.
final class QuicklookCache: Sendable {
    private struct State {
        var entries: [String: (view: QuicklookView, bytes: Int, used: UInt64)] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int = 64 << 20) { self.capacity = capacity }

    func view(for key: String) -> QuicklookView? {
        state.withLock { state in
            guard let entry = state.entries[key] else { return nil }
            state.clock += 1
            state.entries[key]?.used = state.clock
            return entry.view
        }
    }

    func store(_ view: QuicklookView, for key: String) {
        let bytes = view.figures.utf8.count + view.variables.count * 128
        guard bytes <= capacity else { return }
        state.withLock { state in
            state.clock += 1
            if let old = state.entries.updateValue((view, bytes, state.clock), forKey: key) { state.bytes -= old.bytes }
            state.bytes += bytes
            while state.bytes > capacity, let oldest = state.entries.min(by: { $0.value.used < $1.value.used }) {
                state.entries[oldest.key] = nil
                state.bytes -= oldest.value.bytes
            }
        }
    }
}

enum QuicklookPage {
    /// The figures of `request` from an open CDF: run on the processing pool.
    static func render(_ reader: CDFReader, request: QuicklookRequest) throws -> QuicklookView {
        let variables = Quicklook.variables(in: reader)
        let chosen = request.variables.isEmpty ? nil : request.variables
        let series = try Quicklook.series(in: reader, variables: chosen, range: request.range)
        let span = timeSpan(series)
        let renderer = PlotRenderer()
        if let chosen {
            let unknown = chosen.filter { name in !variables.contains { $0.name == name } }
            let notice: String = unknown.isEmpty ? "" : "<p class=\"error\" id=\"unknown-variables\">Not plottable in this file: \(HTML.escape(unknown.joined(separator: ", "))).</p>"
            let shown = Array(series.prefix(Quicklook.maximumPlots))
            let figures = request.stacked && shown.count > 1
                ? "<figure>\(renderer.stack(shown).rendered)</figure>"
                : shown.map { "<figure>\(renderer.svg($0).rendered)</figure>" }.joined()
            return QuicklookView(variables: variables, figures: notice + figures, plotted: shown.count, constants: 0, span: span)
        }
        var budget = Quicklook.maximumPlots
        var html = ""
        var plotted = 0, constants = 0
        for group in Quicklook.Group.allCases {
            let members = series.filter { $0.group == group }
            guard !members.isEmpty else { continue }
            var plots = "", lines = ""
            var skipped = 0
            for one in members {
                if let value = one.constantValue {
                    constants += 1
                    let units = one.units.isEmpty ? "" : " \(one.units)"
                    lines += "<li class=\"constant\" data-variable=\"\(HTML.escape(one.name))\"><strong>\(HTML.escape(one.name))</strong> "
                        + "<span class=\"muted\">\(HTML.escape(one.title))</span>: constant: <span class=\"value\">\(renderer.format(value))\(HTML.escape(units))</span></li>"
                } else if one.validCount == 0 {
                    lines += "<li class=\"all-fill\" data-variable=\"\(HTML.escape(one.name))\"><strong>\(HTML.escape(one.name))</strong>: every value is fill</li>"
                } else if budget > 0 {
                    budget -= 1
                    plotted += 1
                    plots += "<figure>\(renderer.svg(one).rendered)</figure>"
                } else {
                    skipped += 1
                }
            }
            let more = skipped == 0 ? "" : "<p class=\"muted\">\(skipped) more not plotted (at most \(Quicklook.maximumPlots) plots a page): choose them above.</p>"
            let constantList = lines.isEmpty ? "" : "<ul class=\"constants\">\(lines)</ul>"
            let count = "\(members.count) variable\(members.count == 1 ? "" : "s")"
            if group == .header {
                html += "<details class=\"group\" id=\"group-header\"><summary><h2>\(group.title)</h2> <span class=\"muted\">(\(count), collapsed)</span></summary>\(plots)\(constantList)\(more)</details>"
            } else {
                html += "<section class=\"group\" id=\"group-\(group.id)\"><h2>\(group.title) <span class=\"muted\">(\(count))</span></h2>\(constantList)\(plots)\(more)</section>"
            }
        }
        if html.isEmpty {
            html = "<p class=\"muted\" id=\"no-plots\">No time-series variables (numeric, with a TT2000 DEPEND_0) to plot.</p>"
        }
        return QuicklookView(variables: variables, figures: html, plotted: plotted, constants: constants, span: span)
    }

    private static func timeSpan(_ series: [Quicklook.Series]) -> (first: String, last: String)? {
        var low: Int64?, high: Int64?
        for one in series {
            for time in one.times {
                guard let time else { continue }
                let instant = PlotMath.instant(one.startTT2000, plus: time)
                low = min(low ?? instant, instant)
                high = max(high ?? instant, instant)
            }
        }
        guard let low, let high else { return nil }
        return (TT2000.utc(low).iso8601(fractionDigits: 0), TT2000.utc(high).iso8601(fractionDigits: 0))
    }

    /// The variable picker, time range and layout, and links to other versions of the same product.
    static func controls(key: String, view: QuicklookView, request: QuicklookRequest, versions: [(key: String, name: String)]) -> HTML {
        let action = "/portal/quicklook/\(key.percentEncoded(safe: "/"))"
        var groups: [HTML] = []
        for group in Quicklook.Group.allCases {
            let members = view.variables.filter { $0.group == group }
            guard !members.isEmpty else { continue }
            let boxes = members.map { variable -> HTML in
                let checked = HTML(trusted: request.variables.contains(variable.name) ? " checked" : "")
                return """
                    <label class="pick"><input type="checkbox" name="var" value="\(variable.name)"\(checked)> \(variable.name)\
                    <span class="muted">\(variable.units.isEmpty ? "" : " (\(variable.units))")</span></label>
                    """
            }
            groups.append("<fieldset class=\"variables\" id=\"pick-\(group.id)\"><legend>\(group.title)</legend>\(boxes)</fieldset>")
        }
        let separate = HTML(trusted: request.stacked ? "" : " checked")
        let stacked = HTML(trusted: request.stacked ? " checked" : "")
        let first = view.span?.first ?? "", last = view.span?.last ?? ""
        let reset: HTML = request.variables.isEmpty && request.fromText.isEmpty && request.toText.isEmpty
            ? "" : " <a href=\"\(action)\" id=\"all-variables\">Show every variable</a>"
        let others = versions.filter { $0.key != key }
        let compare: HTML = others.isEmpty ? "" : """
            <form method="get" action="/portal/compare/\(key.percentEncoded(safe: "/"))" class="compare-form" id="compare-form">
            <label for="compare-with">Compare with another version</label>
            <select name="with" id="compare-with">\(others.map { other -> HTML in "<option value=\"\(other.key)\">\(other.name)</option>" })</select>
            <button type="submit" id="compare-button">Compare versions</button></form>
            """
        return """
            <form method="get" action="\(action)" class="quicklook-controls" id="quicklook-form">
            <details id="choose"\(HTML(trusted: request.variables.isEmpty ? "" : " open"))><summary>Choose variables and a time range</summary>
            \(groups)
            <div class="range"><label for="from">From (UTC)</label> <input id="from" name="from" value="\(request.fromText)" placeholder="\(first)" size="20">
            <label for="to">to</label> <input id="to" name="to" value="\(request.toText)" placeholder="\(last)" size="20"></div>
            <fieldset class="layout"><legend>Layout</legend>
            <label><input type="radio" name="layout" value="stack"\(stacked)> stacked on one time axis</label>
            <label><input type="radio" name="layout" value="separate"\(separate)> one plot each</label></fieldset>
            <button type="submit" id="plot-button">Plot</button>\(reset)
            </details></form>
            \(compare)
            """
    }

    /// Two versions of one product, variable by variable: overlaid plots of those that differ, a list of those that
    /// are identical or in one version only.
    static func comparison(_ first: [Quicklook.Series], _ second: [Quicklook.Series], names: (String, String)) -> (html: String, differing: Int) {
        let renderer = PlotRenderer()
        var rows = "", plots = ""
        var differing = 0, budget = Quicklook.maximumPlots
        let secondByName = Dictionary(second.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for a in first {
            guard let b = secondByName[a.name] else {
                rows += "<tr class=\"only-first\"><th>\(HTML.escape(a.name))</th><td>only in \(HTML.escape(names.0))</td></tr>"
                continue
            }
            let verdict = difference(a, b)
            switch verdict {
            case .identical:
                rows += "<tr class=\"identical\" data-variable=\"\(HTML.escape(a.name))\"><th>\(HTML.escape(a.name))</th><td>identical</td></tr>"
            case .differs(let text):
                differing += 1
                rows += "<tr class=\"differs\" data-variable=\"\(HTML.escape(a.name))\"><th>\(HTML.escape(a.name))</th><td>\(HTML.escape(text))</td></tr>"
                if budget > 0, case .line = a.shape, case .line = b.shape {
                    budget -= 1
                    plots += "<figure>\(renderer.compare(a, b, labels: names).rendered)</figure>"
                }
            }
        }
        for b in second where !first.contains(where: { $0.name == b.name }) {
            rows += "<tr class=\"only-second\"><th>\(HTML.escape(b.name))</th><td>only in \(HTML.escape(names.1))</td></tr>"
        }
        let table = "<table id=\"comparison\"><thead><tr><th scope=\"col\">Variable</th><th scope=\"col\">Between the versions</th></tr></thead><tbody>\(rows)</tbody></table>"
        return (table + plots, differing)
    }

    enum Difference: Equatable {
        case identical
        case differs(String)
    }

    static func difference(_ a: Quicklook.Series, _ b: Quicklook.Series) -> Difference {
        guard a.values.count == b.values.count, a.times.count == b.times.count else {
            return .differs("\(a.times.count) records against \(b.times.count)")
        }
        let offset = PlotMath.seconds(from: a.startTT2000, to: b.startTT2000)
        let timesEqual = zip(a.times, b.times).allSatisfy { x, y in x == y.map { $0 + offset } }
        var largest = 0.0, changed = 0
        for (x, y) in zip(a.values, b.values) where !(x == y || (x.isNaN && y.isNaN)) {
            changed += 1
            if x.isFinite, y.isFinite { largest = max(largest, abs(x - y)) }
        }
        if changed == 0 { return timesEqual ? .identical : .differs("same values at different times") }
        return .differs("\(changed) values differ, largest |Δ| = \(PlotRenderer().format(largest))")
    }
}
