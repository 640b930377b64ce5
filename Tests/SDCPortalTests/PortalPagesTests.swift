import Foundation
import HummingbirdTesting
import NIOCore
import SDCCatalog
import SDCCDF
import SDCCore
import SDCJobs
import Testing
@testable import SDCPortal

/// Quicklook order and constants, readable axes, colour bars, the quicklook cache, coverage marks and the dashboard.
@Suite struct QuicklookPageTests {
    /// A housekeeping-like product: a data variable, a spectrogram over energy, housekeeping (one constant) and CCSDS
    /// header fields (one constant, one counting).
    static func writeHousekeeping(to path: String, records: Int = 60) throws {
        let start = try TT2000.from(iso8601: "2025-01-01T00:00:00")
        func entry(_ name: String, _ value: String) -> CDFNamedEntry { CDFNamedEntry(name, .string(value)) }
        func support(_ name: String, _ values: CDFValues, type: CDFDataType, units: String = " ") throws -> (CDFVariableSpec, CDFValues) {
            (CDFVariableSpec(name: name, dataType: type, attributes: [entry("DEPEND_0", "epoch"), entry("VAR_TYPE", "support_data"),
                                                                       entry("UNITS", units)]), values)
        }
        try CDFWriter.write(to: path) { writer in
            try writer.writeVariable(CDFVariableSpec(name: "epoch", dataType: .tt2000, attributes: [entry("VAR_TYPE", "support_data")]),
                                     values: .int64((0..<records).map { start + Int64($0) * 1_000_000_000 }))
            try writer.writeVariable(CDFVariableSpec(name: "energy", dataType: .double, dimensions: [4], recordVarying: false,
                                                     attributes: [entry("VAR_TYPE", "support_data"), entry("UNITS", "eV")]),
                                     values: .double([10, 100, 1000, 10000]))
            for (spec, values) in [
                try support("pkt_apid", .uint16(Array(repeating: 1184, count: records)), type: .uint2),
                try support("src_seq_ctr", .uint16((0..<records).map { UInt16($0) }), type: .uint2),
                try support("mode", .uint8(Array(repeating: 3, count: records)), type: .uint1),
                try support("temperature", .double((0..<records).map { 20 + Double($0 % 7) / 10 }), type: .double, units: "degC"),
            ] {
                try writer.writeVariable(spec, values: values)
            }
            try writer.writeVariable(CDFVariableSpec(name: "rate", dataType: .double, attributes: [
                entry("DEPEND_0", "epoch"), entry("VAR_TYPE", "data"), entry("DISPLAY_TYPE", "time_series"), entry("UNITS", "counts/s")]),
                values: .double((0..<records).map { Double($0 * $0) }))
            try writer.writeVariable(CDFVariableSpec(name: "spectrum", dataType: .double, dimensions: [4], attributes: [
                entry("DEPEND_0", "epoch"), entry("DEPEND_1", "energy"), entry("VAR_TYPE", "data"), entry("DISPLAY_TYPE", "spectrogram"),
                entry("UNITS", "counts/s")]),
                values: .double((0..<(records * 4)).map { pow(10, Double($0 % 4)) }))
        }
    }

    static func withSample<T>(_ body: (CDFReader) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quicklook-page-\(UUID()).cdf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try writeHousekeeping(to: path)
        return try body(try CDFReader(path: path))
    }

    @Test func dataFirstThenHousekeepingThenTheCollapsedHeaderWithConstantsAsValues() throws {
        let view = try Self.withSample { try QuicklookPage.render($0, request: try QuicklookRequest(parameters: [])) }
        let html = view.figures
        func position(_ text: String) throws -> String.Index { try #require(html.range(of: text)?.lowerBound, "\(text) missing") }
        #expect(try position("id=\"plot-rate\"") < position("id=\"plot-spectrum\""))
        #expect(try position("id=\"plot-spectrum\"") < position("id=\"plot-temperature\""))
        #expect(try position("id=\"plot-temperature\"") < position("<details class=\"group\" id=\"group-header\""))
        #expect(try position("<details class=\"group\" id=\"group-header\"") < position("id=\"plot-src_seq_ctr\""))
        #expect(html.contains("data-variable=\"pkt_apid\"><strong>pkt_apid</strong>") && html.contains("constant: <span class=\"value\">1184</span>"))
        #expect(html.contains("data-variable=\"mode\"") && !html.contains("id=\"plot-mode\"") && !html.contains("id=\"plot-pkt_apid\""))
        #expect(view.plotted == 4 && view.constants == 2)
        #expect(view.variables.map(\.name) == ["rate", "spectrum", "mode", "temperature", "pkt_apid", "src_seq_ctr"])
    }

    @Test func spectrogramHasAColourBarWithUnitsAndTheEnergyAxis() throws {
        let series = try Self.withSample { try Quicklook.series(in: $0, variables: ["spectrum"]) }
        let svg = PlotRenderer().svg(try #require(series.first)).rendered
        #expect(svg.contains("class=\"colorbar\"") && svg.contains(">counts/s, log scale</text>"))  // 1 to 1000: three decades
        #expect(svg.contains(">1e0<") && svg.contains(">1e3<"))
        #expect(svg.contains("energy (eV)") && svg.contains(">10<") && svg.contains(">10000<"))
        QuicklookHostileDataTests.expectDrawable(svg)
    }

    @Test func chosenVariablesStackOnOneTimeAxisWithinTheTimeRange() throws {
        let request = try QuicklookRequest(parameters: [("var", "temperature"), ("var", "rate"), ("from", "2025-01-01T00:00:10"),
                                                        ("to", "2025-01-01T00:00:39")])
        let view = try Self.withSample { try QuicklookPage.render($0, request: request) }
        #expect(view.figures.contains("data-variables=\"temperature rate\""))
        #expect(view.span?.first == "2025-01-01T00:00:10" && view.span?.last == "2025-01-01T00:00:39")
        let labels = view.figures.matches(of: #/class="xtick"[^>]*>([^<]*)</#).map { String($0.output.1) }
        #expect(labels == ["00:00:10", "00:00:15", "00:00:20", "00:00:25", "00:00:30", "00:00:35"])
        #expect(throws: PortalError.self) { try QuicklookRequest(parameters: [("from", "yesterday")]) }
        #expect(throws: PortalError.self) { try QuicklookRequest(parameters: [("from", "2025-01-02T00:00:00"), ("to", "2025-01-01T00:00:00")]) }
    }

    @Test func versionsCompareVariableByVariable() throws {
        let first = try Self.withSample { try Quicklook.series(in: $0) }
        var changed = first
        let index = try #require(changed.firstIndex { $0.name == "temperature" })
        let old = changed[index]
        changed[index] = Quicklook.Series(name: old.name, title: old.title, units: old.units, group: old.group, shape: old.shape, times: old.times,
                                          startTT2000: old.startTT2000, values: old.values.map { $0 + 0.25 }, fill: old.fill)
        let (html, differing) = QuicklookPage.comparison(first, changed, names: ("v001.0000", "v001.0001"))
        #expect(differing == 1)
        #expect(html.contains("<tr class=\"differs\" data-variable=\"temperature\"><th>temperature</th><td>60 values differ, largest |Δ| = 0.25</td></tr>"))
        #expect(html.contains("<tr class=\"identical\" data-variable=\"rate\">") && html.contains("id=\"compare-temperature\""))
    }

    @Test func axisTicksAreRoundAndNeverRepeat() {
        for range in [0.0...1, 0...1184, 1183.9...1184.1, -3...7, 0...0.001, 1e-12...3e-12, -1e300...1e300, 0...5e-324, 20...20.6, 788_961_669...788_961_700] {
            let ticks = AxisTicks.values(range)
            #expect(ticks.values.count >= 2, "\(range)")
            #expect(Set(ticks.labels).count == ticks.labels.count, "\(range): \(ticks.labels)")
            #expect(ticks.values.allSatisfy { range.contains($0) || abs($0 - range.upperBound) <= abs(range.upperBound) * 1e-9 }, "\(range)")
        }
        #expect(AxisTicks.values(0...1184).labels == ["0", "250", "500", "750", "1000"])
        #expect(AxisTicks.values(20...20.6).labels == ["20.0", "20.2", "20.4", "20.6"])
        let start = Int64(788_961_669_184_000_000)  // 2025-01-01T00:00:00
        #expect(AxisTicks.times(start: start, span: 86_399).map(\.label) == ["00:00:00", "06:00:00", "12:00:00", "18:00:00"])
        #expect(AxisTicks.times(start: start + 1_500_000_000, span: 2).map(\.label) == ["00:00:01.500", "00:00:02.000", "00:00:02.500", "00:00:03.000", "00:00:03.500"])
        #expect(AxisTicks.times(start: start, span: 3 * 86_400).map(\.label) == ["01-01 00:00", "01-01 12:00", "01-02 00:00", "01-02 12:00",
                                                                           "01-03 00:00", "01-03 12:00", "01-04 00:00"])
        #expect(AxisTicks.times(start: start, span: 30 * 86_400).map(\.label) == ["01-01", "01-08", "01-15", "01-22", "01-29"])
    }

    @Test func theCacheKeepsTheMostRecentlyUsedViewsWithinItsCapacity() {
        let cache = QuicklookCache(capacity: 3000)
        func view(_ size: Int) -> QuicklookView {
            QuicklookView(variables: [], figures: String(repeating: "x", count: size), plotted: 0, constants: 0, span: nil)
        }
        cache.store(view(1000), for: "a")
        cache.store(view(1000), for: "b")
        #expect(cache.view(for: "a") != nil)  // a is now the most recently used
        cache.store(view(1500), for: "c")
        #expect(cache.view(for: "b") == nil && cache.view(for: "a") != nil && cache.view(for: "c") != nil)
        cache.store(view(5000), for: "too big")
        #expect(cache.view(for: "too big") == nil)
    }
}

@Suite struct CoverageAndDashboardTests {
    @Test func coverageMarksGapsReprocessedDaysAndDaysOutsideTheData() {
        let days = [CoverageDay(level: "l1a", day: "20250102", files: 1, series: 1), CoverageDay(level: "l1a", day: "20250104", files: 3, series: 2),
                    CoverageDay(level: "l0", day: "20250101", files: 1, series: 1)]
        let marks = CoveragePage.marks(days, from: FileDate(yyyymmdd: "20250101")!, through: FileDate(yyyymmdd: "20250105")!)
        #expect(marks.map(\.level) == ["l0", "l1a"])
        #expect(marks[1].marks.map(\.1) == [.none, .present, .gap, .reprocessed, .none])
        #expect(marks[0].marks.map(\.1) == [.present, .none, .none, .none, .none])
    }

    @Test func coverageRequestDefaultsToTheNinetyDaysUpToTheNewestData() throws {
        let request = try CoverageRequest(parameters: [("instrument", "swe")], instruments: ["mag", "swe"]) { _ in FileDate(yyyymmdd: "20250331") }
        #expect(request.from.isoDate == "2025-01-01" && request.through.isoDate == "2025-03-31")
        #expect(throws: PortalError.self) { try CoverageRequest(parameters: [("instrument", "nope")], instruments: []) { _ in nil } }
        #expect(throws: PortalError.self) { try CoverageRequest(parameters: [("from", "2024-01-01"), ("to", "2025-06-01")], instruments: []) { _ in nil } }
    }

    @Test func servedPagesUseTheAggregatesAndTheQuicklookCache() async throws {
        let fixture = try await PortalFixture()
        defer { fixture.remove() }
        let name = "imap_swe_l1b_sci_20250101_v001.0000.cdf"
        let path = fixture.root.appendingPathComponent("upload.cdf").path
        try QuicklookPageTests.writeHousekeeping(to: path)
        let bytes = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: path)))
        _ = try await fixture.dataCenter.ingestor().ingest(try IMAPFileName.parse(name), body: [bytes].async,
                                                           expectedLength: Int64(bytes.readableBytes), maximumSize: 1 << 24)
        // A day waiting for a kernel, as the planner parks it.
        let waitingDay = Trigger(product: ProductNode("swapi", "l1", "hk"), date: FileDate(year: 2024, month: 9, day: 24)!, repointing: nil, campaign: 0)
        try await fixture.dataCenter.jobs.addTriggers([waitingDay], dueMilliseconds: 1_000)
        let claimed = try await fixture.dataCenter.jobs.claimDueTriggers(nowMilliseconds: 1_000, limit: 10)
        try await fixture.dataCenter.jobs.park(try #require(claimed.first), waitingFor: "leapseconds kernel (spice, historical) covering 20240924")
        var captured: QuicklookCache?
        let application = fixture.application { portal in captured = portal.quicklookCache }
        let cache = try #require(captured)
        try await application.test(.live) { client in
            let key = "imap/swe/l1b/2025/01/\(name)"
            let cookie = try await client.signIn(fixture.readKey)
            for _ in 0..<2 {
                let quicklook = try await client.get("/portal/quicklook/\(key)", cookie: cookie)
                #expect(quicklook.status == .ok && quicklook.text.contains("id=\"plot-rate\""))
            }
            let sha256 = try #require(try await fixture.dataCenter.catalog.record(forKey: key)).sha256
            #expect(cache.view(for: "\(key)|\(sha256)||||true") != nil)
            let dashboard = try await client.get("/portal/dashboard?window=7d")
            #expect(dashboard.status == .ok && dashboard.text.contains("3 files"))
            #expect(dashboard.text.contains("id=\"chart-ingest-files\"") && dashboard.text.contains("data-total=\"3\""))
            for link in ["/portal/alerts", "/portal/integrity", "/portal/ialirt"] { #expect(dashboard.text.contains("href=\"\(link)\"")) }
            #expect(dashboard.text.contains("<tr><td>swapi l1 hk</td><td>20240924</td><td>leapseconds kernel (spice, historical) covering 20240924</td></tr>"))
            #expect(try await client.get("/portal/dashboard?window=1y").status == .badRequest)
            let coverage = try await client.get("/portal/coverage?instrument=swe&from=2025-01-01&to=2025-01-03", cookie: cookie)
            #expect(coverage.text.contains("<td class=\"day present\" data-day=\"20250101\">"))
            #expect(try await client.get("/portal/browse/imap/swe/l1b/2025/01", cookie: cookie).text.contains(name))
            #expect(try await client.get("/portal/browse/imap/nope").status == .notFound)
        }
    }
}
