import Foundation
import SDCCore

/// Server-side SVG charts of the operations dashboard over a time window: stacked bars per time bucket, lines, and
/// points against a requirement. Every chart carries its numbers as a table too (for screen readers and for copying),
/// and `data-total` (the sum of what it draws) so that tests and scripts can read it.
struct Chart {
    /// The window's buckets: their start times (seconds since 1970) and length in seconds.
    let bucketStarts: [Int64]
    let bucketSeconds: Int64

    let width = 760.0, height = 220.0
    let left = 64.0, right = 14.0, top = 12.0, bottom = 40.0
    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }

    /// Colours told apart with any colour vision (Okabe–Ito, then a few more), one per series.
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8B4513", "#6A3D9A", "#B15928", "#1F78B4", "#33A02C"]

    /// Which bucket holds `seconds`, if any.
    func bucket(of seconds: Int64) -> Int? {
        guard let first = bucketStarts.first, seconds >= first else { return nil }
        let index = Int((seconds - first) / bucketSeconds)
        return index < bucketStarts.count ? index : nil
    }

    /// Stacked bars: one bar per bucket, one coloured segment per series.
    func stackedBars(id: String, title: String, series: [(name: String, values: [Double])], unit: String,
                     format: (Double) -> String = Chart.number) -> HTML {
        let totals = bucketStarts.indices.map { index in series.reduce(0) { $0 + ($1.values.indices.contains(index) ? $1.values[index] : 0) } }
        let top = niceMaximum(totals.max() ?? 0)
        let barWidth = plotWidth / Double(max(1, bucketStarts.count))
        var shapes = ""
        for index in bucketStarts.indices {
            var base = 0.0
            for (number, one) in series.enumerated() where one.values.indices.contains(index) && one.values[index] > 0 {
                let value = one.values[index]
                let y0 = y(base, top), y1 = y(base + value, top)
                shapes += "<rect class=\"bar\" x=\"\(f(left + Double(index) * barWidth + barWidth * 0.1))\" y=\"\(f(y1))\" width=\"\(f(max(1, barWidth * 0.8)))\" height=\"\(f(max(0.5, y0 - y1)))\" fill=\"\(color(number))\"><title>\(HTML.escape(one.name)) \(HTML.escape(label(index))): \(HTML.escape(format(value))) \(HTML.escape(unit))</title></rect>"
                base += value
            }
        }
        return figure(id: id, title: title, total: totals.reduce(0, +), series: series.map(\.name), unit: unit, top: top, format: format,
                      shapes: shapes, rows: series.map { ($0.name, $0.values.map { format($0) }) })
    }

    /// Lines, one per series; nil values are gaps.
    func lines(id: String, title: String, series: [(name: String, values: [Double?])], unit: String, format: (Double) -> String = Chart.number) -> HTML {
        let all = series.flatMap { $0.values.compactMap { $0 } }
        let top = niceMaximum(all.max() ?? 0)
        let barWidth = plotWidth / Double(max(1, bucketStarts.count))
        var shapes = ""
        for (number, one) in series.enumerated() {
            var path = ""
            for (index, value) in one.values.enumerated() {
                guard let value else { continue }
                let point = "\(f(left + (Double(index) + 0.5) * barWidth)),\(f(y(value, top)))"
                path += point + " "
                shapes += "<circle cx=\"\(point.split(separator: ",")[0])\" cy=\"\(point.split(separator: ",")[1])\" r=\"2.5\" fill=\"\(color(number))\"><title>\(HTML.escape(one.name)) \(HTML.escape(label(index))): \(HTML.escape(format(value))) \(HTML.escape(unit))</title></circle>"
            }
            shapes += "<polyline class=\"line\" fill=\"none\" stroke=\"\(color(number))\" stroke-width=\"1.5\" points=\"\(path)\"/>"
        }
        return figure(id: id, title: title, total: all.reduce(0, +), series: series.map(\.name), unit: unit, top: top, format: format,
                      shapes: shapes, rows: series.map { ($0.name, $0.values.map { $0.map(format) ?? "" }) })
    }

    /// Points at their time (`x` in seconds since 1970) with a dashed line at `requirement`: those above it are drawn
    /// hollow and counted as late.
    func points(id: String, title: String, series: [(name: String, points: [(x: Int64, y: Double)])], unit: String,
                requirement: Double, format: (Double) -> String = Chart.number) -> HTML {
        let all = series.flatMap { $0.points.map(\.y) }
        let top = niceMaximum(max(all.max() ?? 0, requirement * 1.2))
        let start = bucketStarts.first ?? 0
        let span = Double(max(1, Int64(bucketStarts.count) * bucketSeconds))
        var shapes = ""
        var late = 0
        for (number, one) in series.enumerated() {
            for point in one.points {
                let cx = left + min(1, max(0, Double(point.x - start) / span)) * plotWidth
                let isLate = point.y > requirement
                if isLate { late += 1 }
                shapes += "<circle class=\"\(isLate ? "late" : "on-time")\" cx=\"\(f(cx))\" cy=\"\(f(y(point.y, top)))\" r=\"3\" \(isLate ? "fill=\"#fff\" stroke" : "fill")=\"\(color(number))\"><title>\(HTML.escape(one.name)): \(HTML.escape(format(point.y))) \(HTML.escape(unit))\(isLate ? " (late)" : "")</title></circle>"
            }
        }
        let yRequirement = y(requirement, top)
        shapes += "<line class=\"requirement\" x1=\"\(f(left))\" y1=\"\(f(yRequirement))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(yRequirement))\" stroke=\"#b00020\" stroke-dasharray=\"6 4\"/>"
        shapes += "<text x=\"\(f(left + plotWidth - 4))\" y=\"\(f(yRequirement - 4))\" text-anchor=\"end\" font-size=\"10\" fill=\"#b00020\">requirement \(HTML.escape(format(requirement))) \(HTML.escape(unit))</text>"
        let rows = series.map { one in (one.name, [one.points.isEmpty ? "" : "\(one.points.count) products, median \(format(Self.percentile(one.points.map(\.y), 0.5))) \(unit), \(one.points.filter { $0.y > requirement }.count) late"]) }
        return figure(id: id, title: title, total: Double(all.count), series: series.map(\.name), unit: unit, top: top, format: format,
                      shapes: shapes, rows: rows, columns: ["summary"], extra: " data-late=\"\(late)\"")
    }

    // MARK: Frame

    private func figure(id: String, title: String, total: Double, series: [String], unit: String, top: Double, format: (Double) -> String,
                        shapes: String, rows: [(String, [String])], columns: [String]? = nil, extra: String = "") -> HTML {
        var axes = "<rect x=\"\(f(left))\" y=\"\(f(self.top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#57606a\"/>"
        for step in 0...4 {
            let value = top * Double(step) / 4
            let yPosition = y(value, top)
            axes += "<line x1=\"\(f(left))\" y1=\"\(f(yPosition))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(yPosition))\" stroke=\"#d0d7de\"/>"
            axes += "<text x=\"\(f(left - 6))\" y=\"\(f(yPosition + 3))\" text-anchor=\"end\" font-size=\"10\">\(HTML.escape(format(value)))</text>"
        }
        let labelEvery = max(1, bucketStarts.count / 6)
        let barWidth = plotWidth / Double(max(1, bucketStarts.count))
        for index in bucketStarts.indices where index % labelEvery == 0 {
            let xPosition = left + Double(index) * barWidth
            axes += "<line x1=\"\(f(xPosition))\" y1=\"\(f(self.top + plotHeight))\" x2=\"\(f(xPosition))\" y2=\"\(f(self.top + plotHeight + 4))\" stroke=\"#57606a\"/>"
            axes += "<text x=\"\(f(xPosition))\" y=\"\(f(self.top + plotHeight + 16))\" text-anchor=\"middle\" font-size=\"10\">\(HTML.escape(label(index)))</text>"
        }
        axes += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 4))\" text-anchor=\"middle\" font-size=\"11\">UTC, \(bucketSeconds >= 86400 ? "days" : "\(bucketSeconds / 3600)-hour buckets")</text>"
        axes += "<text x=\"12\" y=\"\(f(self.top + plotHeight / 2))\" text-anchor=\"middle\" font-size=\"11\" transform=\"rotate(-90 12 \(f(self.top + plotHeight / 2)))\">\(HTML.escape(unit))</text>"
        let legend = series.enumerated().map { number, name -> HTML in
            "<li><span class=\"swatch\" style=\"background:\(Self.palette[number % Self.palette.count])\"></span>\(name)</li>"
        }
        let headers = (columns ?? bucketStarts.indices.map(label)).map { column -> HTML in "<th scope=\"col\">\(column)</th>" }
        let tableRows = rows.map { row -> HTML in
            "<tr><th scope=\"row\">\(row.0)</th>\(row.1.map { cell -> HTML in "<td class=\"num\">\(cell)</td>" })</tr>"
        }
        return """
            <figure class="chart" id="\(id)"><figcaption>\(title)</figcaption>
            <svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" data-total="\(Self.number(total))"\(HTML(trusted: extra)) \
            viewBox="0 0 \(f(width)) \(f(height))" role="img" aria-label="\(title)">\(HTML(trusted: axes + shapes))</svg>
            \(series.isEmpty ? HTML("<p class=\"muted\">Nothing in this window.</p>") : "<ul class=\"legend\">\(legend)</ul>")
            <details class="chart-data"><summary>Numbers</summary><div class="scroll"><table><thead><tr><th scope="col">Series</th>\(headers)</tr></thead>\
            <tbody>\(tableRows)</tbody></table></div></details></figure>
            """
    }

    private func color(_ number: Int) -> String { Self.palette[number % Self.palette.count] }

    private func y(_ value: Double, _ top: Double) -> Double {
        self.top + plotHeight - (top > 0 ? min(1, max(0, value / top)) : 0) * plotHeight
    }

    /// The bucket's start as a short UTC label: `HH:MM` within a day's buckets, else `MM-DD`.
    func label(_ index: Int) -> String {
        let time = UTCTime(secondsSince1970: bucketStarts[index])
        let iso = time.iso8601
        return bucketSeconds < 86400 && bucketStarts.count <= 48 ? String(iso.dropFirst(11).prefix(5)) : String(iso.dropFirst(5).prefix(5))
            + (bucketSeconds < 86400 ? " " + String(iso.dropFirst(11).prefix(2)) + "h" : "")
    }

    /// 1, 2 or 5 × 10ⁿ at or above `value` (at least 1), so that the four gridlines fall on round numbers.
    private func niceMaximum(_ value: Double) -> Double {
        guard value.isFinite, value > 0 else { return 1 }
        let base = pow(10, log10(value).rounded(.down))
        for factor in [1.0, 2, 4, 5, 8, 10] where factor * base >= value { return factor * base }
        return 10 * base
    }

    private func f(_ value: Double) -> String { String((value * 10).rounded() / 10) }

    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: abs(value) >= 100 ? "%.0f" : abs(value) >= 1 ? "%.1f" : "%.2f", value)
    }

    static func bytes(_ value: Double) -> String { Format.bytes(Int64(max(0, min(value, 9e18)))) }

    /// The `q` quantile (0...1) of `values` by nearest rank; 0 when empty.
    static func percentile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }
}
