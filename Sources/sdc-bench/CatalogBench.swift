import ArgumentParser
import Foundation
import SDCCatalog
import SDCCore

/// Latency percentiles of a set of timings.
struct Percentiles {
    let sorted: [Double]
    init(_ samples: [Double]) { sorted = samples.sorted() }
    func at(_ fraction: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] }
    var json: String { String(format: #"{"p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "n": %d}"#, at(0.5), at(0.99), sorted.last ?? 0, sorted.count) }
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

/// `sdc-bench catalog`: fills a catalog with synthetic science files and times instrument + level + date-range queries.
struct CatalogBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "catalog", abstract: "Catalog query latency on a large synthetic catalog.")

    @Option(help: "The data center folder (its catalog.sqlite is filled when it holds fewer files).")
    var root: String

    @Option(help: "Number of science files in the catalog.")
    var files = 1_000_000

    @Option(help: "Number of timed queries.")
    var queries = 1_000

    static let instruments: [Instrument] = [.codice, .glows, .hi, .hit, .idex, .lo, .mag, .swapi, .swe, .ultra]
    static let levels: [DataLevel] = [.l1a, .l1b, .l2]
    static let descriptors = ["sci", "hk", "burst"]
    static let firstDay = FileDate(year: 2025, month: 1, day: 1)!

    /// Number of days the synthetic catalog spans for `files` files (10% have a second minor version).
    static func days(for files: Int) -> Int { max(1, files / (instruments.count * levels.count * descriptors.count) * 10 / 11) }

    func run() async throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let catalog = try SQLiteCatalog(path: root + "/catalog.sqlite")
        let existing = try await catalog.counts()[.science] ?? 0
        let days = Self.days(for: files)
        if existing < files {
            let start = ContinuousClock.now
            try await fill(catalog, days: days, from: existing)
            FileHandle.standardError.write(Data("filled \(files) files in \(ContinuousClock.now - start)\n".utf8))
        }
        var generator = SystemRandomNumberGenerator()
        var timings: [Double] = []
        var rows = 0
        for _ in 0..<queries {
            var query = FileQuery(table: .science)
            query.instrument = Self.instruments.randomElement(using: &generator)
            query.dataLevel = Self.levels.randomElement(using: &generator)
            let first = Int.random(in: 0..<max(1, days - 30), using: &generator)
            query.startDate = FileDate(ordinalDay: Self.firstDay.ordinal + first)
            query.endDate = FileDate(ordinalDay: Self.firstDay.ordinal + first + 29)
            query.includeUnreleased = true
            let start = ContinuousClock.now
            rows += try await catalog.files(matching: query).count
            timings.append(milliseconds(ContinuousClock.now - start))
        }
        print(#"{"files": \#(files), "query": "instrument + data_level + 30-day start_date range", "rows_per_query": \#(rows / max(1, queries)), "latency": \#(Percentiles(timings).json)}"#)
    }

    private func fill(_ catalog: SQLiteCatalog, days: Int, from existing: Int) async throws {
        var batch: [CatalogRecord] = []
        var produced = 0
        let ingested = UTCTime.now
        outer: for day in 0..<days {
            let date = FileDate(ordinalDay: Self.firstDay.ordinal + day)
            for instrument in Self.instruments {
                for level in Self.levels {
                    for descriptor in Self.descriptors {
                        let minors = (day + descriptor.count) % 10 == 0 ? [0, 1] : [0]
                        for minor in minors {
                            defer { produced += 1 }
                            if produced < existing { continue }
                            if produced >= files { break outer }
                            let name = ScienceFileName(instrument: instrument, dataLevel: level, descriptor: descriptor, startDate: date,
                                                       version: ProductVersion(major: 1, minor: minor), fileExtension: "cdf").name
                            batch.append(CatalogRecord(file: try IMAPFileName.parse(name), size: 1_000_000,
                                                       sha256: String(repeating: "0", count: 64), ingestionDate: ingested))
                            if batch.count == 50_000 {
                                try await catalog.insert(batch)
                                batch.removeAll(keepingCapacity: true)
                            }
                        }
                    }
                }
            }
        }
        try await catalog.insert(batch)
    }
}
