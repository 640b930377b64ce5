import Foundation
import Hummingbird
import NIOCore
import SDCCore
import SDCServer

/// One quantity of the I-ALiRT live view: its points of the last hour.
public struct LiveSeries: Sendable {
    public let name: String
    public let title: String
    /// Seconds since 1970 and value, in time order.
    public let points: [(seconds: Int64, value: Double)]

    public init(name: String, title: String, points: [(seconds: Int64, value: Double)]) {
        self.name = name
        self.title = title
        self.points = points
    }
}

/// `/portal/ialirt`: the last hour of the I-ALiRT real-time values (MAG and SWAPI), drawn on the server as SVG and
/// refreshed by the page itself every ``refreshSeconds`` (a few lines of inline script fetch
/// `/portal/ialirt/plots` and swap the plots in; nothing is loaded from elsewhere). Public, like the SDC's
/// `/space-weather`.
public struct IALiRTLivePage: ServerExtension {
    let portal: Portal
    /// The series of the hour ending at the given second (seconds since 1970).
    let series: @Sendable (_ now: Int64) async throws -> [LiveSeries]
    public static let refreshSeconds = 10

    public init(portal: Portal, series: @escaping @Sendable (_ now: Int64) async throws -> [LiveSeries]) {
        self.portal = portal
        self.series = series
    }

    public func addRoutes(to router: Router<SDCRequestContext>) {
        router.get("portal/ialirt") { request, _ in
            let plots = try await plots(now: UTCTime.now.secondsSince1970)
            let script = """
                setInterval(function () {
                  fetch('/portal/ialirt/plots', {cache: 'no-store'}).then(function (r) { return r.ok ? r.text() : null; })
                    .then(function (html) { if (html !== null) { document.getElementById('ialirt-plots').innerHTML = html; } });
                }, \(Self.refreshSeconds * 1000));
                """
            let body: HTML = """
                <p>The last hour of I-ALiRT real-time values, refreshed every \(Self.refreshSeconds) s. The same records are served \
                as JSON at <a href="/space-weather?instrument=mag">/space-weather</a> (ialirt-data-access).</p>
                <div id="ialirt-plots">\(plots)</div>
                <script>\(HTML(trusted: script))</script>
                """
            return try await portal.page(request, title: "I-ALiRT live", body: body)
        }
        router.get("portal/ialirt/plots") { _, _ in
            portal.html(try await plots(now: UTCTime.now.secondsSince1970).rendered)
        }
    }

    func plots(now: Int64) async throws -> HTML {
        let all = try await series(now)
        let stamp = HTML(text: UTCTime(secondsSince1970: now).iso8601)
        return "<p class=\"muted\" id=\"ialirt-updated\" data-now=\"\(now)\">Updated \(stamp).</p>\(all.map { Self.svg($0, now: now) })"
    }

    /// A line plot of one series over the hour ending at `now`.
    static func svg(_ series: LiveSeries, now: Int64) -> HTML {
        let width = 800.0, height = 220.0, left = 70.0, right = 20.0, top = 28.0, bottom = 40.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let start = now - 3600
        let points = series.points.filter { $0.seconds >= start && $0.seconds <= now && $0.value.isFinite }
        func number(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.4g", value)
        }
        var marks = ""
        for quarter in 0...4 {
            let instant = start + Int64(quarter) * 900
            let x = left + Double(quarter) / 4 * plotWidth
            let clock = String(UTCTime(secondsSince1970: instant).iso8601.dropFirst(11).prefix(5))
            marks += "<line x1=\"\(number(x))\" y1=\"\(number(top + plotHeight))\" x2=\"\(number(x))\" y2=\"\(number(top + plotHeight + 4))\" stroke=\"#333\"/>"
            marks += "<text x=\"\(number(x))\" y=\"\(number(top + plotHeight + 16))\" text-anchor=\"middle\" font-size=\"10\">\(clock)</text>"
        }
        var line = ""
        if let low = points.map(\.value).min(), let high = points.map(\.value).max() {
            let span = high > low ? high - low : 1
            let coordinates = points.map { point in
                let x = left + Double(point.seconds - start) / 3600 * plotWidth
                let y = top + plotHeight - (point.value - low) / span * plotHeight
                return number(x) + "," + number(y)
            }
            line = "<polyline fill=\"none\" stroke=\"#0b3d91\" stroke-width=\"1\" points=\"\(coordinates.joined(separator: " "))\"/>"
            marks += "<text x=\"\(number(left - 6))\" y=\"\(number(top + 4))\" text-anchor=\"end\" font-size=\"10\">\(number(high))</text>"
            marks += "<text x=\"\(number(left - 6))\" y=\"\(number(top + plotHeight))\" text-anchor=\"end\" font-size=\"10\">\(number(low))</text>"
        } else {
            marks += "<text x=\"\(number(left + plotWidth / 2))\" y=\"\(number(top + plotHeight / 2))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#57606a\">no data in the last hour</text>"
        }
        return """
            <figure><svg xmlns="http://www.w3.org/2000/svg" class="plot" id="live-\(series.name)" data-points="\(points.count)" \
            width="\(number(width))" height="\(number(height))" viewBox="0 0 \(number(width)) \(number(height))">
            <text x="\(number(left))" y="16" font-size="13" font-weight="600">\(series.title)</text>
            <rect x="\(number(left))" y="\(number(top))" width="\(number(plotWidth))" height="\(number(plotHeight))" fill="none" stroke="#333"/>
            \(HTML(trusted: line))\(HTML(trusted: marks))
            <text x="\(number(left + plotWidth / 2))" y="\(number(height - 6))" text-anchor="middle" font-size="11">time (UTC)</text>
            </svg></figure>
            """
    }
}
