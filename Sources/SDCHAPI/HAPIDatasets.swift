import Foundation
import SDCCatalog
import SDCCore

/// A HAPI dataset: one logical source (`imap_<instrument>_<level>_<descriptor>`) of CDF products.
public struct HAPIDatasetID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let instrument: Instrument
    public let dataLevel: DataLevel
    public let descriptor: String

    public init(instrument: Instrument, dataLevel: DataLevel, descriptor: String) {
        self.instrument = instrument
        self.dataLevel = dataLevel
        self.descriptor = descriptor
    }

    /// Parses `imap_<instrument>_<level>_<descriptor>`; nil when it names no science product.
    public init?(_ text: String) {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "imap", let instrument = Instrument(rawValue: String(parts[1])),
              let level = DataLevel(rawValue: String(parts[2])), !parts[3].isEmpty else { return nil }
        self.init(instrument: instrument, dataLevel: level, descriptor: String(parts[3]))
    }

    /// The logical source of `file`, when it is a science CDF.
    init?(file: IMAPFileName) {
        guard let science = file.science, science.fileExtension == "cdf" else { return nil }
        self.init(instrument: science.instrument, dataLevel: science.dataLevel, descriptor: science.descriptor)
    }

    public var description: String { "imap_\(instrument.rawValue)_\(dataLevel.rawValue)_\(descriptor)" }

    public static func < (lhs: HAPIDatasetID, rhs: HAPIDatasetID) -> Bool { lhs.description < rhs.description }

    /// The catalog query for this dataset's CDFs whose start dates fall in `days` (latest version per day, as
    /// `/query?latest=true` selects it), visible to a caller that `seesUnreleased`.
    func query(days: ClosedRange<FileDate>?, seesUnreleased: Bool) -> FileQuery {
        var query = FileQuery(table: .science)
        query.instrument = instrument
        query.dataLevel = dataLevel
        query.descriptor = descriptor
        query.fileExtension = "cdf"
        query.versions = .newest
        query.includeUnreleased = seesUnreleased
        query.startDate = days?.lowerBound
        query.endDate = days?.upperBound
        return query
    }
}

/// What the catalog holds of one dataset for one audience.
public struct HAPIDatasetSummary: Sendable, Equatable {
    public let id: HAPIDatasetID
    /// First and last file start dates.
    public var firstDay: FileDate
    public var lastDay: FileDate
    /// The newest file (latest start date, then latest version): its variables describe the dataset.
    public var newest: CatalogRecord

    /// `startDate`: midnight of the first day's file.
    public var startDate: String { firstDay.isoDate + "T00:00:00Z" }
    /// `stopDate`: the end of the last day's file (midnight after it), as the products are daily.
    public var stopDate: String { lastDay.nextDay.isoDate + "T00:00:00Z" }
}

/// The datasets the catalog's CDF products make, derived without configuration and kept current.
///
/// Two views are kept, as for file downloads: released products for anonymous callers, all products for key
/// holders. A view is rebuilt from the catalog when the number of science files changed (a product arrived, on this
/// replica or another), and at the latest `maximumAge` after it was built (release and embargo changes); the count is
/// checked at most once per `checkInterval`.
public actor HAPIDatasets {
    let catalog: any FileCatalog
    let maximumAge: Duration
    let checkInterval: Duration
    private var views: [Bool: View] = [:]

    struct View {
        var datasets: [HAPIDatasetID: HAPIDatasetSummary]
        var scienceFiles: Int
        var builtAt: ContinuousClock.Instant
        var checkedAt: ContinuousClock.Instant
    }

    public init(catalog: any FileCatalog, maximumAge: Duration = .seconds(30), checkInterval: Duration = .milliseconds(500)) {
        self.catalog = catalog
        self.maximumAge = maximumAge
        self.checkInterval = checkInterval
    }

    /// Drops both views, so the next request rebuilds them (called when a product arrives or a release changes).
    public func invalidate() { views = [:] }

    /// The datasets a caller sees, sorted by id.
    public func datasets(seesUnreleased: Bool) async throws -> [HAPIDatasetSummary] {
        try await view(seesUnreleased: seesUnreleased).datasets.values.sorted { $0.id < $1.id }
    }

    /// The dataset `id` as a caller sees it; nil when it has no product the caller may see.
    public func dataset(_ id: HAPIDatasetID, seesUnreleased: Bool) async throws -> HAPIDatasetSummary? {
        try await view(seesUnreleased: seesUnreleased).datasets[id]
    }

    private func view(seesUnreleased: Bool) async throws -> View {
        let now = ContinuousClock.now
        if var view = views[seesUnreleased] {
            if now - view.checkedAt < checkInterval { return view }
            if now - view.builtAt < maximumAge, try await scienceFileCount() == view.scienceFiles {
                view.checkedAt = now
                views[seesUnreleased] = view
                return view
            }
        }
        let count = try await scienceFileCount()
        let records = try await catalog.files(matching: {
            var query = FileQuery(table: .science)
            query.fileExtension = "cdf"
            query.versions = .newest
            query.includeUnreleased = seesUnreleased
            return query
        }())
        var datasets: [HAPIDatasetID: HAPIDatasetSummary] = [:]
        for record in records {
            guard let id = HAPIDatasetID(file: record.file), let science = record.file.science else { continue }
            if var summary = datasets[id] {
                summary.firstDay = min(summary.firstDay, science.startDate)
                if science.startDate >= summary.lastDay {
                    summary.lastDay = science.startDate
                    summary.newest = record
                }
                datasets[id] = summary
            } else {
                datasets[id] = HAPIDatasetSummary(id: id, firstDay: science.startDate, lastDay: science.startDate, newest: record)
            }
        }
        let view = View(datasets: datasets, scienceFiles: count, builtAt: now, checkedAt: now)
        views[seesUnreleased] = view
        return view
    }

    private func scienceFileCount() async throws -> Int {
        try await catalog.counts()[.science] ?? 0
    }
}
