import SDCCore

/// The column a page of files is ordered by.
public enum FileSortOrder: String, Sendable, CaseIterable {
    case filePath = "file_path"
    case startDate = "start_date"
    case ingestionDate = "ingestion_date"
    case size
}

/// One page of a file query: the records plus how many match in all (counted up to a cap, so that a broad search of
/// a catalog of millions of files stays fast).
public struct FilePage: Sendable, Equatable {
    public var records: [CatalogRecord]
    /// Number of matching files, at most ``countLimit``.
    public var total: Int
    /// The cap on ``total``: when `total == countLimit` there may be more.
    public var countLimit: Int

    /// A page of `records` out of `total` matches counted up to `countLimit`.
    public init(records: [CatalogRecord], total: Int, countLimit: Int) {
        self.records = records
        self.total = total
        self.countLimit = countLimit
    }

    /// Whether ``total`` is exact.
    public var isTotalExact: Bool { total < countLimit }
}

/// Catalog-wide sizes for dashboards and metrics.
public struct CatalogUsage: Sendable, Equatable {
    /// Per instrument: files, bytes, newest file start date, newest ingestion, files ingested in the last day.
    public struct Instrument: Sendable, Equatable {
        public var instrument: String
        public var files: Int
        public var bytes: Int64
        public var latestStartDate: String?
        public var latestIngestion: UTCTime?
        public var ingestedLastDay: Int

        /// One instrument's row.
        public init(instrument: String, files: Int, bytes: Int64, latestStartDate: String?, latestIngestion: UTCTime?,
                    ingestedLastDay: Int) {
            self.instrument = instrument
            self.files = files
            self.bytes = bytes
            self.latestStartDate = latestStartDate
            self.latestIngestion = latestIngestion
            self.ingestedLastDay = ingestedLastDay
        }
    }

    public var instruments: [Instrument]

    /// Usage made of per-instrument rows.
    public init(instruments: [Instrument]) { self.instruments = instruments }

    /// Files over every instrument.
    public var totalFiles: Int { instruments.reduce(0) { $0 + $1.files } }
    /// Bytes over every instrument, saturating at `Int64.max` (a damaged catalog must not stop the dashboard).
    public var totalBytes: Int64 {
        instruments.reduce(0) { total, row in
            let (sum, overflow) = total.addingReportingOverflow(row.bytes)
            return overflow ? (row.bytes < 0 ? .min : .max) : sum
        }
    }
}

/// Browsing the catalog as people do: one page of a search at a time, in a chosen order, and usage per instrument.
///
/// Implementations: ``SQLiteCatalog``; a PostgreSQL catalog implements it next. The web portal depends only on this
/// protocol and ``FileCatalog``.
public protocol CatalogBrowsing: CatalogActivity {
    /// A page of the files a `/query`-style search matches, ordered by `order` (ties broken by key, so that pages never
    /// overlap), skipping `offset` matches and returning at most `limit`. Negative `offset` and `limit` count as 0.
    /// ``FilePage/total`` counts matches up to `countLimit`.
    func page(of query: FileQuery, order: FileSortOrder, descending: Bool, offset: Int, limit: Int,
              countLimit: Int) async throws(CatalogError) -> FilePage

    /// Files, bytes, newest data and the number of files ingested in the 24 hours before `now`, per instrument.
    func usage(now: UTCTime) async throws(CatalogError) -> CatalogUsage
}

extension CatalogBrowsing {
    /// A page of `query`'s matches, counted up to 10,000.
    public func page(of query: FileQuery, order: FileSortOrder = .filePath, descending: Bool = false, offset: Int = 0,
                     limit: Int = 50) async throws(CatalogError) -> FilePage {
        try await page(of: query, order: order, descending: descending, offset: offset, limit: limit, countLimit: 10_000)
    }

    /// Usage as of now.
    public func usage() async throws(CatalogError) -> CatalogUsage { try await usage(now: .now) }
}
