import GRDB
import SDCCore

extension SQLiteCatalog: CatalogBrowsing {
    /// SQL does the ordering and the `LIMIT`/`OFFSET`, so a page costs what the matching index scan costs, not what the
    /// whole result would.
    public func page(of query: FileQuery, order: FileSortOrder, descending: Bool, offset: Int, limit: Int,
                     countLimit: Int) async throws(CatalogError) -> FilePage {
        let (page, count) = FileQuerySQL.page(of: query, order: order, descending: descending, offset: offset, limit: limit,
                                              countLimit: countLimit)
        return try await read { db in
            let records = try Row.fetchAll(db, sql: page.sql, arguments: page.statementArguments).map(CatalogSchema.record)
            let total = try Int.fetchOne(db, sql: count.sql, arguments: count.statementArguments) ?? 0
            return FilePage(records: records, total: total, countLimit: countLimit)
        }
    }

    /// Counted over the science-shaped and ancillary tables.
    public func usage(now: UTCTime) async throws(CatalogError) -> CatalogUsage {
        let usage = FileQuerySQL.usage(now: now)
        return try await read { db in
            let rows = try Row.fetchAll(db, sql: usage.sql, arguments: usage.statementArguments)
            return CatalogUsage(instruments: rows.map { row in
                CatalogUsage.Instrument(
                    instrument: row[0], files: row[1], bytes: row[2] ?? 0, latestStartDate: row[3],
                    latestIngestion: (row[4] as Int64?).map(UTCTime.init(secondsSince1970:)), ingestedLastDay: row[5] ?? 0)
            })
        }
    }
}
