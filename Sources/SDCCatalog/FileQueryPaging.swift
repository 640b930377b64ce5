import GRDB
import SDCCore

extension FileSortOrder {
    /// The `ORDER BY` expression; `file_path` breaks ties so that pages never overlap.
    func orderBy(descending: Bool) -> String {
        let direction = descending ? "DESC" : "ASC"
        return self == .filePath ? "file_path \(direction)" : "\(rawValue) \(direction), file_path \(direction)"
    }
}

extension SQLiteCatalog: CatalogBrowsing {
    /// SQL does the ordering and the `LIMIT`/`OFFSET`, so a page costs what the matching index scan costs, not what the
    /// whole result would.
    public func page(of query: FileQuery, order: FileSortOrder, descending: Bool, offset: Int, limit: Int,
                     countLimit: Int) async throws(CatalogError) -> FilePage {
        let (sql, arguments) = FileQuerySQL.build(query)
        let unordered = sql.hasSuffix(Self.defaultOrder) ? String(sql.dropLast(Self.defaultOrder.count)) : sql
        let pageSQL = "SELECT * FROM (\(unordered)) ORDER BY \(order.orderBy(descending: descending)) LIMIT ? OFFSET ?"
        let countSQL = "SELECT COUNT(*) FROM (SELECT 1 FROM (\(unordered)) LIMIT ?)"
        var pageArguments = arguments
        pageArguments += [max(0, limit), max(0, offset)]
        var countArguments = arguments
        countArguments += [max(0, countLimit)]
        let (finalPageArguments, finalCountArguments) = (pageArguments, countArguments)
        return try await read { db in
            let records = try Row.fetchAll(db, sql: pageSQL, arguments: finalPageArguments).map(CatalogSchema.record)
            let total = try Int.fetchOne(db, sql: countSQL, arguments: finalCountArguments) ?? 0
            return FilePage(records: records, total: total, countLimit: countLimit)
        }
    }

    /// Counted over the science-shaped and ancillary tables.
    public func usage(now: UTCTime) async throws(CatalogError) -> CatalogUsage {
        let dayAgo = now.secondsSince1970.subtractingReportingOverflow(86_400)
        let since = dayAgo.overflow ? Int64.min : dayAgo.partialValue
        let tables = [FileClass.science, .quicklook, .dependency, .ancillary].map(CatalogSchema.table(for:))
        let union = tables.map { "SELECT instrument, size, start_date, ingestion_date FROM \($0)" }.joined(separator: " UNION ALL ")
        let sql = """
            SELECT instrument, COUNT(*), SUM(size), MAX(start_date), MAX(ingestion_date),
                   SUM(CASE WHEN ingestion_date >= ? THEN 1 ELSE 0 END)
            FROM (\(union)) GROUP BY instrument ORDER BY instrument
            """
        return try await read { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: [since])
            return CatalogUsage(instruments: rows.map { row in
                CatalogUsage.Instrument(
                    instrument: row[0], files: row[1], bytes: row[2] ?? 0, latestStartDate: row[3],
                    latestIngestion: (row[4] as Int64?).map(UTCTime.init(secondsSince1970:)), ingestedLastDay: row[5] ?? 0)
            })
        }
    }

    private static let defaultOrder = " ORDER BY file_path"
}
