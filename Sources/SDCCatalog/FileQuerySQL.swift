import GRDB
import SDCCore

/// Translates validated queries into SQL (imap-api.md §3.1-3.2 semantics), in the dialect SQLite and PostgreSQL share,
/// so that both catalogs answer a query alike.
package enum FileQuerySQL {
    /// Collects `AND`ed conditions with their values.
    struct Conditions {
        var clauses: [String] = []
        var values: [SQLValue] = []

        mutating func add(_ clause: String, _ added: SQLValue...) {
            clauses.append(clause)
            values.append(contentsOf: added)
        }

        mutating func equal(_ column: String, _ value: SQLValue) {
            if value != .null { add("\(column) = ?", value) }
        }

        /// Ingested within [start of `from`, end of `through`] (UTC days).
        mutating func ingested(from: FileDate?, through: FileDate?) {
            if let from { add("ingestion_date >= ?", .integer(UTCTime(date: from).secondsSince1970)) }
            if let through { add("ingestion_date < ?", .integer(UTCTime(date: through.nextDay).secondsSince1970)) }
        }

        var whereClause: String { clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ") }
    }

    /// The rows `query` matches, in no particular order.
    package static func matching(_ query: FileQuery) -> SQLQuery {
        var conditions = Conditions()
        conditions.equal("file_path", SQLValue(query.filePath))
        conditions.equal("instrument", SQLValue(query.instrument?.rawValue))
        conditions.equal("descriptor", SQLValue(query.descriptor))
        if let start = query.startDate { conditions.add("start_date >= ?", .text(start.description)) }
        if let end = query.endDate { conditions.add("start_date <= ?", .text(end.description)) }
        conditions.ingested(from: query.ingestionStartDate, through: query.ingestionEndDate)
        conditions.equal("repointing", SQLValue(query.repointing))
        conditions.equal("extension", SQLValue(query.fileExtension))
        if let released = query.released { conditions.add("released = ?", .boolean(released)) }
        if !query.includeUnreleased { conditions.add("released = TRUE") }
        let table = CatalogSchema.table(for: query.table)
        guard query.table.isScienceShaped else {
            conditions.equal("version", SQLValue(query.version))
            return SQLQuery("SELECT * FROM \(table)\(conditions.whereClause)", conditions.values)
        }
        conditions.equal("data_level", SQLValue(query.dataLevel?.rawValue))
        conditions.equal("major_version", SQLValue(query.majorVersion))
        conditions.equal("minor_version", SQLValue(query.minorVersion))
        conditions.equal("cr", SQLValue(query.carringtonRotation))
        conditions.equal("crid", SQLValue(query.crid))
        let filtered = "SELECT * FROM \(table)\(conditions.whereClause)"
        let series = "PARTITION BY instrument, data_level, descriptor, start_date, repointing"
        // Legacy (major-less) versions rank last.
        let sql = switch query.versions {
        case .all:
            filtered
        case .newestMajor:
            "SELECT * FROM (SELECT *, RANK() OVER (\(series) ORDER BY major_version DESC NULLS LAST) AS version_rank FROM (\(filtered)) AS filtered) AS ranked WHERE version_rank = 1"
        case .newest:
            "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (\(series) ORDER BY major_version DESC NULLS LAST, minor_version DESC) AS version_rank FROM (\(filtered)) AS filtered) AS ranked WHERE version_rank = 1"
        }
        return SQLQuery(sql, conditions.values)
    }

    /// The rows `query` matches, ordered by key.
    package static func select(_ query: FileQuery) -> SQLQuery {
        var select = matching(query)
        select.sql += " ORDER BY file_path"
        return select
    }

    /// SQLite's form of ``select(_:)-(FileQuery)``.
    static func build(_ query: FileQuery) -> (String, StatementArguments) {
        let select = select(query)
        return (select.sql, select.statementArguments)
    }

    /// The kernels `query` matches, ordered by key.
    package static func select(_ query: SPICEQuery) -> SQLQuery {
        var conditions = Conditions()
        conditions.equal("file_name", SQLValue(query.fileName))
        conditions.equal("kernel_type", SQLValue(query.kernelType?.rawValue))
        conditions.equal("version", SQLValue(query.version))
        // Coverage overlap; kernels whose names state no coverage always overlap.
        if let start = query.startDate { conditions.add("(max_date IS NULL OR max_date >= ?)", .text(start.description)) }
        if let end = query.endDate { conditions.add("(min_date IS NULL OR min_date <= ?)", .text(end.description)) }
        conditions.ingested(from: query.ingestionStartDate, through: query.ingestionEndDate)
        let filtered = "SELECT * FROM spice_files\(conditions.whereClause)"
        let sql = query.latest
            ? "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY file_root ORDER BY version DESC NULLS LAST) AS version_rank FROM (\(filtered)) AS filtered) AS ranked WHERE version_rank = 1 ORDER BY file_path"
            : filtered + " ORDER BY file_path"
        return SQLQuery(sql, conditions.values)
    }

    /// SQLite's form of ``select(_:)-(SPICEQuery)``.
    static func build(_ query: SPICEQuery) -> (String, StatementArguments) {
        let select = select(query)
        return (select.sql, select.statementArguments)
    }

    /// One page of `query`'s matches, and their number counted up to `countLimit` (see ``CatalogBrowsing``).
    package static func page(of query: FileQuery, order: FileSortOrder, descending: Bool, offset: Int, limit: Int,
                             countLimit: Int) -> (page: SQLQuery, count: SQLQuery) {
        let matches = matching(query)
        let page = SQLQuery("SELECT * FROM (\(matches.sql)) AS matches ORDER BY \(order.orderBy(descending: descending)) LIMIT ? OFFSET ?",
                            matches.values + [SQLValue(max(0, limit)), SQLValue(max(0, offset))])
        let count = SQLQuery("SELECT COUNT(*) FROM (SELECT 1 FROM (\(matches.sql)) AS matches LIMIT ?) AS capped",
                             matches.values + [SQLValue(max(0, countLimit))])
        return (page, count)
    }

    /// Per instrument: files, bytes, newest start date, newest ingestion and files ingested in the 24 hours before
    /// `now`, over the science-shaped and ancillary tables, ordered by instrument.
    package static func usage(now: UTCTime) -> SQLQuery {
        let dayAgo = now.secondsSince1970.subtractingReportingOverflow(86_400)
        let since = dayAgo.overflow ? Int64.min : dayAgo.partialValue
        let tables = [FileClass.science, .quicklook, .dependency, .ancillary].map(CatalogSchema.table(for:))
        let union = tables.map { "SELECT instrument, size, start_date, ingestion_date FROM \($0)" }.joined(separator: " UNION ALL ")
        return SQLQuery("""
            SELECT instrument, COUNT(*), CAST(SUM(size) AS BIGINT), MAX(start_date), MAX(ingestion_date),
                   CAST(SUM(CASE WHEN ingestion_date >= ? THEN 1 ELSE 0 END) AS BIGINT)
            FROM (\(union)) AS files GROUP BY instrument ORDER BY instrument
            """, [.integer(since)])
    }
}

extension FileSortOrder {
    /// The `ORDER BY` expression; `file_path` breaks ties so that pages never overlap.
    func orderBy(descending: Bool) -> String {
        let direction = descending ? "DESC" : "ASC"
        return self == .filePath ? "file_path \(direction)" : "\(rawValue) \(direction), file_path \(direction)"
    }
}
