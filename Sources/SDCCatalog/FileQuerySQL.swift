import GRDB
import SDCCore

/// Translates validated queries into SQL (imap-api.md §3.1-3.2 semantics).
enum FileQuerySQL {
    /// Collects `AND`ed conditions with their arguments.
    struct Conditions {
        var clauses: [String] = []
        var arguments: [(any DatabaseValueConvertible & Sendable)?] = []

        mutating func add(_ clause: String, _ values: (any DatabaseValueConvertible & Sendable)?...) {
            clauses.append(clause)
            arguments.append(contentsOf: values)
        }

        mutating func equal(_ column: String, _ value: (any DatabaseValueConvertible & Sendable)?) {
            if let value { add("\(column) = ?", value) }
        }

        /// Ingested within [start of `from`, end of `through`] (UTC days).
        mutating func ingested(from: FileDate?, through: FileDate?) {
            if let from { add("ingestion_date >= ?", UTCTime(date: from).secondsSince1970) }
            if let through { add("ingestion_date < ?", UTCTime(date: through.nextDay).secondsSince1970) }
        }

        var whereClause: String { clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ") }
        var statementArguments: StatementArguments { StatementArguments(arguments) }
    }

    static func build(_ query: FileQuery) -> (String, StatementArguments) {
        var conditions = Conditions()
        conditions.equal("file_path", query.filePath)
        conditions.equal("instrument", query.instrument?.rawValue)
        conditions.equal("descriptor", query.descriptor)
        if let start = query.startDate { conditions.add("start_date >= ?", start.description) }
        if let end = query.endDate { conditions.add("start_date <= ?", end.description) }
        conditions.ingested(from: query.ingestionStartDate, through: query.ingestionEndDate)
        conditions.equal("repointing", query.repointing)
        conditions.equal("extension", query.fileExtension)
        if let released = query.released { conditions.add("released = ?", released) }
        if !query.includeUnreleased { conditions.add("released = 1") }
        let table = CatalogSchema.table(for: query.table)
        guard query.table.isScienceShaped else {
            conditions.equal("version", query.version)
            return ("SELECT * FROM \(table)\(conditions.whereClause) ORDER BY file_path", conditions.statementArguments)
        }
        conditions.equal("data_level", query.dataLevel?.rawValue)
        conditions.equal("major_version", query.majorVersion)
        conditions.equal("minor_version", query.minorVersion)
        conditions.equal("cr", query.carringtonRotation)
        conditions.equal("crid", query.crid)
        let filtered = "SELECT * FROM \(table)\(conditions.whereClause)"
        let series = "PARTITION BY instrument, data_level, descriptor, start_date, repointing"
        // SQLite sorts NULL below every value, so legacy (major-less) versions rank last in DESC order.
        let sql = switch query.versions {
        case .all:
            filtered + " ORDER BY file_path"
        case .newestMajor:
            "SELECT * FROM (SELECT *, RANK() OVER (\(series) ORDER BY major_version DESC) AS version_rank FROM (\(filtered))) WHERE version_rank = 1 ORDER BY file_path"
        case .newest:
            "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (\(series) ORDER BY major_version DESC, minor_version DESC) AS version_rank FROM (\(filtered))) WHERE version_rank = 1 ORDER BY file_path"
        }
        return (sql, conditions.statementArguments)
    }

    static func build(_ query: SPICEQuery) -> (String, StatementArguments) {
        var conditions = Conditions()
        conditions.equal("file_name", query.fileName)
        conditions.equal("kernel_type", query.kernelType?.rawValue)
        conditions.equal("version", query.version)
        // Coverage overlap; kernels whose names state no coverage always overlap.
        if let start = query.startDate { conditions.add("(max_date IS NULL OR max_date >= ?)", start.description) }
        if let end = query.endDate { conditions.add("(min_date IS NULL OR min_date <= ?)", end.description) }
        conditions.ingested(from: query.ingestionStartDate, through: query.ingestionEndDate)
        let filtered = "SELECT * FROM spice_files\(conditions.whereClause)"
        let sql = query.latest
            ? "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY file_root ORDER BY version DESC) AS version_rank FROM (\(filtered))) WHERE version_rank = 1 ORDER BY file_path"
            : filtered + " ORDER BY file_path"
        return (sql, conditions.statementArguments)
    }
}
