import GRDB
import SDCCore

/// The column a page of files is ordered by.
public enum FileSortOrder: String, Sendable, CaseIterable {
    case filePath = "file_path"
    case startDate = "start_date"
    case ingestionDate = "ingestion_date"
    case size

    /// The `ORDER BY` expression; `file_path` breaks ties so that pages never overlap.
    func orderBy(descending: Bool) -> String {
        let direction = descending ? "DESC" : "ASC"
        return self == .filePath ? "file_path \(direction)" : "\(rawValue) \(direction), file_path \(direction)"
    }
}

/// One page of a file query: the records plus how many match in all (counted up to a cap, so that a broad search of
/// a catalog of millions of files stays fast).
public struct FilePage: Sendable, Equatable {
    public var records: [CatalogRecord]
    /// Number of matching files, at most ``countLimit``.
    public var total: Int
    /// The cap on ``total``: when `total == countLimit` there may be more.
    public var countLimit: Int

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
    }

    public var instruments: [Instrument]
    public var totalFiles: Int { instruments.reduce(0) { $0 + $1.files } }
    public var totalBytes: Int64 { instruments.reduce(0) { $0 + $1.bytes } }
}

extension SQLiteCatalog {
    /// A page of the files a `/query`-style search matches, ordered by `order`, skipping `offset` rows.
    ///
    /// SQL does the ordering and the `LIMIT`/`OFFSET`, so a page costs what the matching index scan costs, not
    /// what the whole result would.
    public func page(of query: FileQuery, order: FileSortOrder = .filePath, descending: Bool = false,
                     offset: Int = 0, limit: Int = 50, countLimit: Int = 10_000) async throws(CatalogError) -> FilePage {
        let (sql, arguments) = FileQuerySQL.build(query)
        let unordered = sql.hasSuffix(Self.defaultOrder) ? String(sql.dropLast(Self.defaultOrder.count)) : sql
        let pageSQL = "SELECT * FROM (\(unordered)) ORDER BY \(order.orderBy(descending: descending)) LIMIT ? OFFSET ?"
        let countSQL = "SELECT COUNT(*) FROM (SELECT 1 FROM (\(unordered)) LIMIT ?)"
        var pageArguments = arguments
        pageArguments += [max(0, limit), max(0, offset)]
        var countArguments = arguments
        countArguments += [countLimit]
        let (finalPageArguments, finalCountArguments) = (pageArguments, countArguments)
        return try await read { db in
            let records = try Row.fetchAll(db, sql: pageSQL, arguments: finalPageArguments).map(CatalogSchema.record)
            let total = try Int.fetchOne(db, sql: countSQL, arguments: finalCountArguments) ?? 0
            return FilePage(records: records, total: total, countLimit: countLimit)
        }
    }

    /// Files, bytes, newest data and recent ingest rate per instrument, over the science-shaped and ancillary tables.
    public func usage(now: UTCTime = .now) async throws(CatalogError) -> CatalogUsage {
        let dayAgo = now.secondsSince1970 - 86_400
        let tables = [FileClass.science, .quicklook, .dependency, .ancillary].map(CatalogSchema.table(for:))
        let union = tables.map { "SELECT instrument, size, start_date, ingestion_date FROM \($0)" }.joined(separator: " UNION ALL ")
        let sql = """
            SELECT instrument, COUNT(*), SUM(size), MAX(start_date), MAX(ingestion_date),
                   SUM(CASE WHEN ingestion_date >= ? THEN 1 ELSE 0 END)
            FROM (\(union)) GROUP BY instrument ORDER BY instrument
            """
        return try await read { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: [dayAgo])
            return CatalogUsage(instruments: rows.map { row in
                CatalogUsage.Instrument(
                    instrument: row[0], files: row[1], bytes: row[2] ?? 0, latestStartDate: row[3],
                    latestIngestion: (row[4] as Int64?).map(UTCTime.init(secondsSince1970:)), ingestedLastDay: row[5] ?? 0)
            })
        }
    }

    private static let defaultOrder = " ORDER BY file_path"
}
