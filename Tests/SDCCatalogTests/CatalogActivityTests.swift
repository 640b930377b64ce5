import Foundation
import Testing
@testable import SDCCatalog
import SDCCore
@testable import SDCPostgres

/// The aggregates the portal's dashboard, coverage view and browse tree read, on both backends, kept by triggers as
/// files are cataloged; coverage and months read by index.
struct CatalogActivityTests {
    static let files = [
        "imap_swe_l1a_sci_20250101_v001.0000.cdf", "imap_swe_l1a_sci_20250102_v001.0000.cdf",
        "imap_swe_l1a_sci_20250102_v001.0001.cdf", "imap_swe_l1a_sci_20250104_v001.0000.cdf",
        "imap_swe_l1b_sci_20250201_v001.0000.cdf", "imap_mag_l1a_norm-magi_20250101_v001.0000.cdf",
        "imap_swe_calibration-table_20250101_v001.csv",
    ]

    @Test(arguments: TestBackend.available) func ingestHistoryAndTotalsFollowInserts(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            try await t.add(Array(Self.files.prefix(4)), ingested: "20250102")
            try await t.add(Array(Self.files.dropFirst(4)), ingested: "20250103", released: true)
            let history = try await t.catalog.ingestHistory(since: UTCTime(date: FileDate(yyyymmdd: "20250101")!))
            let day2 = UTCTime(date: FileDate(yyyymmdd: "20250102")!).secondsSince1970
            let day3 = UTCTime(date: FileDate(yyyymmdd: "20250103")!).secondsSince1970
            #expect(history == [
                IngestBucket(hour: day2, instrument: "swe", level: "l1a", fileClass: "science", files: 4, bytes: 40),
                IngestBucket(hour: day3, instrument: "mag", level: "l1a", fileClass: "science", files: 1, bytes: 10),
                IngestBucket(hour: day3, instrument: "swe", level: "", fileClass: "ancillary", files: 1, bytes: 10),
                IngestBucket(hour: day3, instrument: "swe", level: "l1b", fileClass: "science", files: 1, bytes: 10),
            ])
            #expect(try await t.catalog.ingestHistory(since: UTCTime(secondsSince1970: day3)).count == 3)
            let totals = try await t.catalog.totals()
            #expect(totals.map { "\($0.instrument) \($0.level) \($0.fileClass) \($0.files) \($0.bytes) \($0.latestStartDate ?? "-")" } == [
                "mag l1a science 1 10 20250101", "swe  ancillary 1 10 20250101", "swe l1a science 4 40 20250104", "swe l1b science 1 10 20250201",
            ])
            #expect(totals.first?.latestIngestion == UTCTime(secondsSince1970: day3))
        }
    }

    @Test(arguments: TestBackend.available) func coverageCountsVersionsPerDayAndMonthsPerLevel(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            try await t.add(Self.files, released: false)
            try await t.add(["imap_swe_l1a_sci_20250105_v001.0000.cdf"], released: true)
            let from = FileDate(yyyymmdd: "20250101")!, through = FileDate(yyyymmdd: "20250131")!
            let days = try await t.catalog.coverage(instrument: "swe", from: from, through: through, includeUnreleased: true)
            #expect(days.map { "\($0.level) \($0.day) \($0.files) \($0.reprocessed)" } == [
                "l1a 20250101 1 false", "l1a 20250102 2 true", "l1a 20250104 1 false", "l1a 20250105 1 false",
            ])
            let released = try await t.catalog.coverage(instrument: "swe", from: from, through: through, includeUnreleased: false)
            #expect(released.map(\.day) == ["20250105"])
            #expect(try await t.catalog.months(instrument: "swe", level: "l1a", includeUnreleased: true) == [CatalogMonth(month: "202501", files: 5)])
            #expect(try await t.catalog.months(instrument: "swe", level: "l1b", includeUnreleased: false).isEmpty)
        }
    }
}
