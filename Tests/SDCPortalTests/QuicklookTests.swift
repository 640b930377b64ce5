import Foundation
import SDCCDF
import Testing
@testable import SDCPortal

@Suite struct QuicklookTests {
    /// A CDF with a TT2000 epoch, a 1-D series with fill values, a 2-D series, support data (plotted after the data)
    /// and metadata (never plotted).
    static func writeSample(to path: String, records: Int = 100) throws {
        let start = try TT2000.from(iso8601: "2025-01-01T00:00:00")
        let epoch = (0..<records).map { start + Int64($0) * 1_000_000_000 }
        let fill = -1e31
        let counts = (0..<records).map { $0 % 10 == 0 ? fill : Double($0) }
        let spectrum = (0..<(records * 8)).map { Float($0 % 8) }
        try CDFWriter.write(to: path) { writer in
            try writer.writeVariable(CDFVariableSpec(name: "epoch", dataType: .tt2000, attributes: [
                CDFNamedEntry("VAR_TYPE", .string("support_data"))]), values: .int64(epoch))
            try writer.writeVariable(CDFVariableSpec(name: "counts", dataType: .double, attributes: [
                CDFNamedEntry("DEPEND_0", .string("epoch")), CDFNamedEntry("VAR_TYPE", .string("data")),
                CDFNamedEntry("UNITS", .string("counts/s")), CDFNamedEntry("CATDESC", .string("Count <rate>")),
                CDFNamedEntry("FILLVAL", try CDFAttributeEntry(dataType: .double, values: .double([fill]))),
            ]), values: .double(counts))
            try writer.writeVariable(CDFVariableSpec(name: "spectrum", dataType: .float, dimensions: [8], attributes: [
                CDFNamedEntry("DEPEND_0", .string("epoch")), CDFNamedEntry("VAR_TYPE", .string("data")),
            ]), values: .float(spectrum))
            try writer.writeVariable(CDFVariableSpec(name: "sweep", dataType: .uint1, attributes: [
                CDFNamedEntry("DEPEND_0", .string("epoch")), CDFNamedEntry("VAR_TYPE", .string("support_data")),
            ]), values: .uint8((0..<records).map { UInt8($0 % 4) }))
            try writer.writeVariable(CDFVariableSpec(name: "label", dataType: .double, attributes: [
                CDFNamedEntry("DEPEND_0", .string("epoch")), CDFNamedEntry("VAR_TYPE", .string("metadata")),
            ]), values: .double((0..<records).map(Double.init)))
        }
    }

    @Test func plotsTimeSeriesLeavingOutFillValues() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quicklook-\(UUID()).cdf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.writeSample(to: path)
        let series = try Quicklook.series(in: CDFReader(path: path))
        #expect(series.map(\.name) == ["counts", "spectrum", "sweep"])
        let line = PlotRenderer().svg(series[0]).rendered
        // 100 records, every tenth is fill (the first among them, so the time axis starts at 00:00:01): 90 points.
        #expect(line.contains("data-points=\"90\""))
        let points = line.components(separatedBy: " points=\"")[1].prefix { $0 != "\"" }
        #expect(points.split(separator: " ").count == 90)
        #expect(line.contains("counts (counts/s)"))
        #expect(line.contains("Count &lt;rate&gt;"))
        #expect(line.contains(">00:00:30<") && line.contains(">00:01:30<") && line.contains("time (UTC, 2025-01-01)"))
        let spectrogram = PlotRenderer().svg(series[1]).rendered
        #expect(spectrogram.contains("data-points=\"800\""))
        #expect(spectrogram.components(separatedBy: "<rect class=\"cell\"").count - 1 == 100 * 8)
    }

    @Test func decimatesLongSeriesKeepingExtremes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quicklook-\(UUID()).cdf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.writeSample(to: path, records: 20_000)
        let series = try Quicklook.series(in: CDFReader(path: path))
        let line = PlotRenderer().svg(series[0]).rendered
        let points = line.components(separatedBy: " points=\"")[1].prefix { $0 != "\"" }.split(separator: " ")
        #expect(points.count <= 2 * 710)
        #expect(points.count > 700)
        #expect(line.contains("data-points=\"18000\""))
    }
}

/// Quicklooks of hostile CDFs: whatever a file holds, plotting it must not trap, and every coordinate written into
/// the SVG must be a finite number inside the figure.
@Suite struct QuicklookHostileDataTests {
    static let fill = -1e31

    /// A CDF with a TT2000 `epoch`, a 1-D `line` and a 2-D `spectrum` of 4 values per record, both with `fill`.
    static func write(to path: String, epoch: [Int64], line: [Double], spectrum: [Double], fill: Double = fill) throws {
        try CDFWriter.write(to: path) { writer in
            try writer.writeVariable(CDFVariableSpec(name: "epoch", dataType: .tt2000, attributes: [
                CDFNamedEntry("VAR_TYPE", .string("support_data"))]), values: .int64(epoch))
            for (name, dimensions, values) in [("line", [Int](), line), ("spectrum", [4], spectrum)] {
                try writer.writeVariable(CDFVariableSpec(name: name, dataType: .double, dimensions: dimensions, attributes: [
                    CDFNamedEntry("DEPEND_0", .string("epoch")), CDFNamedEntry("VAR_TYPE", .string("data")),
                    CDFNamedEntry("FILLVAL", try CDFAttributeEntry(dataType: .double, values: .double([fill]))),
                ]), values: .double(values))
            }
        }
    }

    /// The line plot and the spectrogram of a CDF written by ``write(to:epoch:line:spectrum:fill:)``.
    static func plots(epoch: [Int64], line: [Double], spectrum: [Double], fill: Double = fill) throws -> (line: String, spectrogram: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quicklook-\(UUID()).cdf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try write(to: path, epoch: epoch, line: line, spectrum: spectrum, fill: fill)
        let series = try Quicklook.series(in: CDFReader(path: path))
        #expect(series.map(\.name) == ["line", "spectrum"])
        let renderer = PlotRenderer()
        return (renderer.svg(series[0]).rendered, renderer.svg(series[1]).rendered)
    }

    /// Checks that every coordinate and size in `svg` is a finite number inside the 800 × 260 figure.
    static func expectDrawable(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let context = svg.ranges(of: "inf").map { String(svg[..<$0.upperBound].suffix(120)) }
        #expect(!svg.localizedCaseInsensitiveContains("nan") && context.isEmpty, "\(context)", sourceLocation: sourceLocation)
        var numbers: [Substring] = svg.matches(of: #/ (?:x|y|x1|x2|y1|y2|cx|cy|width|height)="([^"]*)"/#).map(\.output.1)
        for points in svg.matches(of: #/ points="([^"]*)"/#) {
            numbers += points.output.1.split(whereSeparator: { $0 == " " || $0 == "," })
        }
        #expect(!numbers.isEmpty, sourceLocation: sourceLocation)
        for number in numbers {
            let value = Double(number)
            #expect(value.map { $0.isFinite && (0...800.5).contains($0) } == true, "coordinate '\(number)'", sourceLocation: sourceLocation)
        }
    }

    static let start = Int64(788_961_669_184_000_000)  // 2025-01-01T00:00:00

    @Test func constantTimeFromAStuckClock() throws {
        // More points than pixel columns, all at one time: the line plot buckets them by time across a zero span.
        let records = 2_000
        let plots = try Self.plots(epoch: Array(repeating: Self.start, count: records), line: (0..<records).map { Double($0 % 50) },
                                   spectrum: (0..<(records * 4)).map(Double.init))
        #expect(plots.line.contains("data-points=\"2000\"") && plots.spectrogram.contains("data-points=\"8000\""))
        let points = plots.line.components(separatedBy: " points=\"")[1].prefix { $0 != "\"" }.split(separator: " ")
        #expect(points.count == 2)  // one column: its minimum and its maximum
        #expect(plots.line.contains(">0<") && plots.line.contains(">40<"))
        Self.expectDrawable(plots.line)
        Self.expectDrawable(plots.spectrogram)
    }

    @Test func notANumberAndInfinitiesAreLeftOut() throws {
        let epoch = (0..<6).map { Self.start + Int64($0) * 1_000_000_000 }
        let odd: [Double] = [.nan, .infinity, -.infinity, 1, 2, .signalingNaN]
        let plots = try Self.plots(epoch: epoch, line: odd, spectrum: (0..<24).map { $0 % 3 == 0 ? 1 : odd[$0 % 6] })
        #expect(plots.line.contains("data-points=\"2\""))
        #expect(plots.spectrogram.contains("data-points=\"12\""))  // 8 ones and 4 twos
        Self.expectDrawable(plots.line)
        Self.expectDrawable(plots.spectrogram)
    }

    @Test func fillValuesEverywhere() throws {
        let epoch = (0..<5).map { Self.start + Int64($0) * 1_000_000_000 }
        let plots = try Self.plots(epoch: epoch, line: Array(repeating: Self.fill, count: 5), spectrum: Array(repeating: Self.fill, count: 20))
        #expect(plots.line.contains("line: every value is fill") && plots.spectrogram.contains("spectrum: every value is fill"))
        let fillTimes = try Self.plots(epoch: Array(repeating: TT2000.fillValue, count: 5), line: [1, 2, 3, 4, 5], spectrum: Array(repeating: 1, count: 20))
        #expect(fillTimes.line.contains("every value is fill") && fillTimes.spectrogram.contains("every value is fill"))
    }

    @Test func aSinglePoint() throws {
        let plots = try Self.plots(epoch: [Self.start], line: [42], spectrum: [1, 2, 3, 4])
        #expect(plots.line.contains("<circle") && plots.line.contains("data-points=\"1\""))
        #expect(plots.spectrogram.components(separatedBy: "<rect class=\"cell\"").count - 1 == 4)
        Self.expectDrawable(plots.line)
        Self.expectDrawable(plots.spectrogram)
    }

    @Test func hugeAndTinyMagnitudes() throws {
        // Three records at one time, so that a cell of the spectrogram holds three values at the largest Double; the
        // span from -max to max and that cell's sum both overflow when computed naively. (With a fill value beyond
        // 1e30, values beyond 1e30 count as fill, so this file's fill is small.)
        let epoch = [Self.start, Self.start, Self.start, Self.start + 1_000_000_000]
        let largest = Double.greatestFiniteMagnitude
        let huge = try Self.plots(epoch: epoch, line: [-largest, largest, 0, largest / 3],
                                  spectrum: Array(repeating: largest, count: 12) + [-largest, -largest, 0, 0], fill: -7)
        #expect(huge.line.contains("data-points=\"4\"") && huge.spectrogram.contains("data-points=\"16\""))
        Self.expectDrawable(huge.line)
        Self.expectDrawable(huge.spectrogram)
        let smallest = Double.leastNonzeroMagnitude
        let tiny = try Self.plots(epoch: epoch, line: [smallest, 2 * smallest, 0, -smallest], spectrum: (0..<16).map { Double($0) * smallest })
        #expect(tiny.line.contains("data-points=\"4\""))
        Self.expectDrawable(tiny.line)
        Self.expectDrawable(tiny.spectrogram)
    }

    @Test func timesAtTheEndsOfTT2000() throws {
        // The first valid time and the largest TT2000 value: the time axis spans 292 years of nanoseconds.
        for epoch in [[0, Int64.max], [TT2000.padValue + 1, Int64.max], [Int64.max, TT2000.padValue + 1, 0]] {
            let plots = try Self.plots(epoch: epoch, line: epoch.map { _ in 1 }, spectrum: Array(repeating: 1, count: epoch.count * 4))
            #expect(plots.line.contains("data-points=\"\(epoch.count)\""))
            Self.expectDrawable(plots.line)
            Self.expectDrawable(plots.spectrogram)
        }
    }

    @Test func plotMathIsTotal() {
        #expect(PlotMath.fraction(3, in: 3...3) == 0.5)
        #expect(PlotMath.fraction(.greatestFiniteMagnitude, in: -.greatestFiniteMagnitude ... .greatestFiniteMagnitude) == 1)
        #expect(PlotMath.interpolate(0.5, in: -.greatestFiniteMagnitude ... .greatestFiniteMagnitude) == 0)
        #expect(PlotMath.bucket(.nan, count: 10) == 0 && PlotMath.bucket(.infinity, count: 10) == 9 && PlotMath.bucket(-1, count: 10) == 0)
        #expect(PlotMath.bucket(1, count: 10) == 9 && PlotMath.bucket(0.55, count: 10) == 5)
        #expect(PlotMath.seconds(from: .min, to: .max) == 0x1p64 / 1e9)
        #expect(PlotMath.instant(.max, plus: 1) == .max && PlotMath.instant(.min, plus: -1) == .min)
        #expect(PlotMath.instant(0, plus: 1e300) == .max && PlotMath.instant(5, plus: 1.5e-9) == 7)
    }
}

@Suite struct HTMLTests {
    @Test func interpolatedTextIsEscaped() {
        let name = "<script>alert('x')</script>&\""
        let html: HTML = "<p title=\"\(name)\">\(name)</p>"
        #expect(html.rendered == "<p title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;</p>")
    }

    @Test func formAndQueryEncodingRoundTrip() {
        let pairs = [("descriptor", "a b&c=d/é"), ("page", "2")]
        #expect(URLText.query(pairs).formDecodedPairs.map { [$0.0, $0.1] } == pairs.map { [$0.0, $0.1] })
        #expect("a=1+2&b=%3C".formDecodedPairs.map { [$0.0, $0.1] } == [["a", "1 2"], ["b", "<"]])
        #expect(URLText.query([("descriptor", "x y/é")]) == "descriptor=x%20y%2F%C3%A9")
    }
}
