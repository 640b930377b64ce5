import SDCCore

/// Files and bytes ingested in one hour for one instrument, level and file class (from the `catalog_ingest_hourly`
/// aggregate, which insert triggers keep, so that a dashboard never scans the file tables).
public struct IngestBucket: Sendable, Equatable {
    /// The start of the hour, in seconds since 1970.
    public var hour: Int64
    public var instrument: String
    /// Empty for classes without levels (ancillary, release, SPICE).
    public var level: String
    public var fileClass: String
    public var files: Int
    public var bytes: Int64

    /// One hour's ingest for one instrument, level and class.
    public init(hour: Int64, instrument: String, level: String, fileClass: String, files: Int, bytes: Int64) {
        self.hour = hour
        self.instrument = instrument
        self.level = level
        self.fileClass = fileClass
        self.files = files
        self.bytes = bytes
    }
}

/// Files and bytes cataloged now for one instrument, level and file class (the `catalog_totals` aggregate).
public struct CatalogTotal: Sendable, Equatable {
    public var instrument: String
    /// Empty for classes without levels.
    public var level: String
    public var fileClass: String
    public var files: Int
    public var bytes: Int64
    /// The newest start date (`YYYYMMDD`) of these files.
    public var latestStartDate: String?
    public var latestIngestion: UTCTime?

    /// The totals of one instrument, level and class.
    public init(instrument: String, level: String, fileClass: String, files: Int, bytes: Int64, latestStartDate: String?,
                latestIngestion: UTCTime?) {
        self.instrument = instrument
        self.level = level
        self.fileClass = fileClass
        self.files = files
        self.bytes = bytes
        self.latestStartDate = latestStartDate
        self.latestIngestion = latestIngestion
    }
}

/// The science files of one instrument, level and start date.
public struct CoverageDay: Sendable, Equatable {
    public var level: String
    /// `YYYYMMDD`.
    public var day: String
    public var files: Int
    /// Distinct series (descriptor and repointing) among ``files``.
    public var series: Int

    /// One level's files of one day.
    public init(level: String, day: String, files: Int, series: Int) {
        self.level = level
        self.day = day
        self.files = files
        self.series = series
    }

    /// More than one version of some series: the day was reprocessed.
    public var reprocessed: Bool { files > series }
}

/// What the portal's dashboard, coverage view and browse tree read: small aggregates kept by triggers, and index
/// range reads bounded by an instrument and a date range, never a scan of every file.
public protocol CatalogActivity: Sendable {
    /// Hourly ingest from `since` on, oldest first.
    func ingestHistory(since: UTCTime) async throws(CatalogError) -> [IngestBucket]
    /// Files and bytes per instrument, level and class.
    func totals() async throws(CatalogError) -> [CatalogTotal]
    /// Per level and start date from `from` through `through`, the science files of `instrument` (released ones only
    /// unless `includeUnreleased`).
    func coverage(instrument: String, from: FileDate, through: FileDate, includeUnreleased: Bool) async throws(CatalogError) -> [CoverageDay]
    /// Science files of one instrument and level per start month (`YYYYMM`), oldest first.
    func months(instrument: String, level: String, includeUnreleased: Bool) async throws(CatalogError) -> [CatalogMonth]
}

/// The science files of one instrument and level that start in one month.
public struct CatalogMonth: Sendable, Equatable {
    /// `YYYYMM`.
    public var month: String
    public var files: Int

    /// One month's count.
    public init(month: String, files: Int) {
        self.month = month
        self.files = files
    }
}

/// The SQL of ``CatalogActivity``, shared by the SQLite and PostgreSQL catalogs.
package enum CatalogActivitySQL {
    /// The classes and tables the aggregates count, with the SQL of each table's instrument, level and start date.
    package static let sources: [(fileClass: FileClass, instrument: String, level: String, startDate: String)] =
        [FileClass.science, .quicklook, .dependency].map { ($0, "instrument", "data_level", "start_date") }
        + [FileClass.ancillary, .release].map { ($0, "instrument", "''", "start_date") }
        + [(FileClass.spice, "'spice'", "''", "min_date")]

    package static func ingestHistory(since: UTCTime) -> SQLQuery {
        SQLQuery("""
            SELECT hour, instrument, data_level, file_class, CAST(SUM(files) AS BIGINT), CAST(SUM(bytes) AS BIGINT)
            FROM catalog_ingest_hourly WHERE hour >= ? GROUP BY hour, instrument, data_level, file_class
            ORDER BY hour, instrument, data_level, file_class
            """, [.integer(since.secondsSince1970 - since.secondsSince1970 % 3600)])
    }

    package static let totals = SQLQuery("""
        SELECT instrument, data_level, file_class, CAST(SUM(files) AS BIGINT), CAST(SUM(bytes) AS BIGINT), MAX(latest_start_date),
               MAX(latest_ingestion)
        FROM catalog_totals GROUP BY instrument, data_level, file_class HAVING SUM(files) > 0 ORDER BY instrument, data_level, file_class
        """)

    /// Uses the `(instrument, data_level, start_date)` index once per level.
    package static func coverage(instrument: String, from: FileDate, through: FileDate, includeUnreleased: Bool) -> SQLQuery {
        let levels = DataLevel.allCases.map { _ in "?" }.joined(separator: ", ")
        return SQLQuery("""
            SELECT data_level, start_date, COUNT(*), COUNT(DISTINCT descriptor || '|' || COALESCE(CAST(repointing AS TEXT), ''))
            FROM science_files WHERE instrument = ? AND data_level IN (\(levels)) AND start_date >= ? AND start_date <= ?\
            \(includeUnreleased ? "" : " AND released = TRUE")
            GROUP BY data_level, start_date ORDER BY data_level, start_date
            """, [.text(instrument)] + DataLevel.allCases.map { .text($0.rawValue) } + [.text(from.description), .text(through.description)])
    }

    package static func months(instrument: String, level: String, includeUnreleased: Bool) -> SQLQuery {
        SQLQuery("""
            SELECT SUBSTR(start_date, 1, 6) AS month, COUNT(*) FROM science_files WHERE instrument = ? AND data_level = ?\
            \(includeUnreleased ? "" : " AND released = TRUE") GROUP BY month ORDER BY month
            """, [.text(instrument), .text(level)])
    }

    /// The SQLite migration: the two aggregate tables, their triggers on every file table, and their first contents.
    package static var sqliteMigration: [String] {
        var statements = [
            """
            CREATE TABLE catalog_ingest_hourly (hour INTEGER NOT NULL, instrument TEXT NOT NULL, data_level TEXT NOT NULL,
                file_class TEXT NOT NULL, files INTEGER NOT NULL, bytes INTEGER NOT NULL,
                PRIMARY KEY (hour, instrument, data_level, file_class)) WITHOUT ROWID
            """,
            """
            CREATE TABLE catalog_totals (instrument TEXT NOT NULL, data_level TEXT NOT NULL, file_class TEXT NOT NULL,
                files INTEGER NOT NULL, bytes INTEGER NOT NULL, latest_start_date TEXT, latest_ingestion INTEGER,
                PRIMARY KEY (instrument, data_level, file_class)) WITHOUT ROWID
            """,
        ]
        for source in sources {
            let table = CatalogSchema.table(for: source.fileClass)
            let (instrument, level, start, fileClass) = (source.instrument, source.level, source.startDate, source.fileClass.rawValue)
            func new(_ column: String) -> String { column.hasPrefix("'") ? column : "NEW.\(column)" }
            func old(_ column: String) -> String { column.hasPrefix("'") ? column : "OLD.\(column)" }
            statements += [
                """
                CREATE TRIGGER \(table)_activity_insert AFTER INSERT ON \(table) BEGIN
                  INSERT INTO catalog_ingest_hourly VALUES (NEW.ingestion_date - NEW.ingestion_date % 3600, \(new(instrument)), \(new(level)),
                    '\(fileClass)', 1, NEW.size)
                    ON CONFLICT (hour, instrument, data_level, file_class) DO UPDATE SET files = files + 1, bytes = bytes + excluded.bytes;
                  INSERT INTO catalog_totals VALUES (\(new(instrument)), \(new(level)), '\(fileClass)', 1, NEW.size, \(new(start)), NEW.ingestion_date)
                    ON CONFLICT (instrument, data_level, file_class) DO UPDATE SET files = files + 1, bytes = bytes + excluded.bytes,
                      latest_start_date = MAX(COALESCE(latest_start_date, ''), COALESCE(excluded.latest_start_date, '')),
                      latest_ingestion = MAX(COALESCE(latest_ingestion, 0), excluded.latest_ingestion);
                END
                """,
                """
                CREATE TRIGGER \(table)_activity_delete AFTER DELETE ON \(table) BEGIN
                  UPDATE catalog_totals SET files = files - 1, bytes = bytes - OLD.size
                    WHERE instrument = \(old(instrument)) AND data_level = \(old(level)) AND file_class = '\(fileClass)';
                END
                """,
                """
                INSERT INTO catalog_ingest_hourly SELECT ingestion_date - ingestion_date % 3600, \(instrument), \(level), '\(fileClass)',
                  COUNT(*), SUM(size) FROM \(table) GROUP BY 1, 2, 3
                """,
                """
                INSERT INTO catalog_totals SELECT \(instrument), \(level), '\(fileClass)', COUNT(*), SUM(size), MAX(\(start)),
                  MAX(ingestion_date) FROM \(table) GROUP BY 1, 2 HAVING COUNT(*) > 0
                """,
            ]
        }
        return statements
    }
}
