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
        #expect(line.contains(">00:00:01<") && line.contains("time (UTC, 2025-01-01)"))
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

@Suite struct HTMLTests {
    @Test func interpolatedTextIsEscaped() {
        let name = "<script>alert('x')</script>&\""
        let html: HTML = "<p title=\"\(name)\">\(name)</p>"
        #expect(html.rendered == "<p title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;</p>")
    }

    @Test func formAndQueryEncodingRoundTrip() {
        let pairs = [("descriptor", "a b&c=d/é"), ("page", "2")]
        #expect(URLText.formPairs(URLText.query(pairs)).map { [$0.0, $0.1] } == pairs.map { [$0.0, $0.1] })
        #expect(URLText.formPairs("a=1+2&b=%3C").map { [$0.0, $0.1] } == [["a", "1 2"], ["b", "<"]])
        #expect(URLText.path("imap/swapi/l1a/x y.cdf") == "imap/swapi/l1a/x%20y.cdf")
    }
}
