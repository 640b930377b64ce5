import GRDB
import SDCCore

extension SQLiteCatalog: CatalogActivity {
    public func ingestHistory(since: UTCTime) async throws(CatalogError) -> [IngestBucket] {
        let query = CatalogActivitySQL.ingestHistory(since: since)
        return try await readStatement { db in
            try Row.fetchAll(db, sql: query.sql, arguments: query.statementArguments).map { row in
                IngestBucket(hour: row[0], instrument: row[1], level: row[2], fileClass: row[3], files: row[4], bytes: row[5])
            }
        }
    }

    public func totals() async throws(CatalogError) -> [CatalogTotal] {
        let query = CatalogActivitySQL.totals
        return try await readStatement { db in
            try Row.fetchAll(db, sql: query.sql, arguments: query.statementArguments).map { row in
                CatalogTotal(instrument: row[0], level: row[1], fileClass: row[2], files: row[3], bytes: row[4],
                             latestStartDate: (row[5] as String?).flatMap { $0.isEmpty ? nil : $0 },
                             latestIngestion: (row[6] as Int64?).map(UTCTime.init(secondsSince1970:)))
            }
        }
    }

    public func coverage(instrument: String, from: FileDate, through: FileDate, includeUnreleased: Bool) async throws(CatalogError) -> [CoverageDay] {
        let query = CatalogActivitySQL.coverage(instrument: instrument, from: from, through: through, includeUnreleased: includeUnreleased)
        return try await readStatement { db in
            try Row.fetchAll(db, sql: query.sql, arguments: query.statementArguments).map { row in
                CoverageDay(level: row[0], day: row[1], files: row[2], series: row[3])
            }
        }
    }

    public func months(instrument: String, level: String, includeUnreleased: Bool) async throws(CatalogError) -> [CatalogMonth] {
        let query = CatalogActivitySQL.months(instrument: instrument, level: level, includeUnreleased: includeUnreleased)
        return try await readStatement { db in
            try Row.fetchAll(db, sql: query.sql, arguments: query.statementArguments).map { row in CatalogMonth(month: row[0], files: row[1]) }
        }
    }
}
