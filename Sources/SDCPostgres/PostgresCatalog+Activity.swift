import PostgresNIO
import SDCCatalog
import SDCCore

extension PostgresCatalog: CatalogActivity {
    /// The catalog migration adding the aggregates of ``CatalogActivity``: the tables, one trigger function for every
    /// file table (the columns it reads differ by table, so it reads them through `to_jsonb`), and their first contents.
    ///
    /// The aggregate rows carry a `shard` (the inserting connection's process id modulo 8) so that concurrent ingests
    /// of one instrument and level update different rows instead of waiting on one row's lock until they commit.
    static let activityMigration = PostgresDatabase.Migration(version: 4, name: "ingest and totals aggregates for the dashboard", statements: [
        """
        CREATE TABLE catalog_ingest_hourly (hour BIGINT NOT NULL, instrument TEXT COLLATE "C" NOT NULL, data_level TEXT NOT NULL,
            file_class TEXT NOT NULL, shard INTEGER NOT NULL, files BIGINT NOT NULL, bytes BIGINT NOT NULL,
            PRIMARY KEY (hour, instrument, data_level, file_class, shard))
        """,
        """
        CREATE TABLE catalog_totals (instrument TEXT COLLATE "C" NOT NULL, data_level TEXT NOT NULL, file_class TEXT NOT NULL,
            shard INTEGER NOT NULL, files BIGINT NOT NULL, bytes BIGINT NOT NULL, latest_start_date TEXT, latest_ingestion BIGINT,
            PRIMARY KEY (instrument, data_level, file_class, shard))
        """,
        """
        CREATE FUNCTION catalog_activity() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          fields JSONB;
          instrument_value TEXT;
          level_value TEXT;
          shard_value INTEGER := pg_backend_pid() % 8;
        BEGIN
          IF TG_OP = 'INSERT' THEN fields := to_jsonb(NEW); ELSE fields := to_jsonb(OLD); END IF;
          instrument_value := COALESCE(fields->>'instrument', 'spice');
          level_value := COALESCE(fields->>'data_level', '');
          IF TG_OP = 'INSERT' THEN
            INSERT INTO catalog_ingest_hourly AS h VALUES (NEW.ingestion_date - NEW.ingestion_date % 3600, instrument_value, level_value,
              TG_ARGV[0], shard_value, 1, NEW.size)
              ON CONFLICT (hour, instrument, data_level, file_class, shard) DO UPDATE SET files = h.files + 1, bytes = h.bytes + EXCLUDED.bytes;
            INSERT INTO catalog_totals AS t VALUES (instrument_value, level_value, TG_ARGV[0], shard_value, 1, NEW.size,
              COALESCE(fields->>'start_date', fields->>'min_date'), NEW.ingestion_date)
              ON CONFLICT (instrument, data_level, file_class, shard) DO UPDATE SET files = t.files + 1, bytes = t.bytes + EXCLUDED.bytes,
                latest_start_date = GREATEST(t.latest_start_date, EXCLUDED.latest_start_date),
                latest_ingestion = GREATEST(t.latest_ingestion, EXCLUDED.latest_ingestion);
          ELSE
            INSERT INTO catalog_totals AS t VALUES (instrument_value, level_value, TG_ARGV[0], shard_value, -1, -OLD.size, NULL, NULL)
              ON CONFLICT (instrument, data_level, file_class, shard) DO UPDATE SET files = t.files - 1, bytes = t.bytes - OLD.size;
          END IF;
          RETURN NULL;
        END $$
        """,
    ] + CatalogActivitySQL.sources.flatMap { source -> [String] in
        let table = CatalogSchema.table(for: source.fileClass)
        let fileClass = source.fileClass.rawValue
        return [
            "CREATE TRIGGER \(table)_activity AFTER INSERT OR DELETE ON \(table) FOR EACH ROW EXECUTE FUNCTION catalog_activity('\(fileClass)')",
            """
            INSERT INTO catalog_ingest_hourly SELECT ingestion_date - ingestion_date % 3600, \(source.instrument), \(source.level), '\(fileClass)', 0,
              COUNT(*), SUM(size) FROM \(table) GROUP BY 1, 2, 3
            """,
            """
            INSERT INTO catalog_totals SELECT \(source.instrument), \(source.level), '\(fileClass)', 0, COUNT(*), SUM(size), MAX(\(source.startDate)),
              MAX(ingestion_date) FROM \(table) GROUP BY 1, 2
            """,
        ]
    })

    private func activityRows(_ query: SQLQuery) async throws(CatalogError) -> [PostgresRandomAccessRow] {
        try await database.rows(query, failure: CatalogError.database)
    }

    private static func decode<T>(_ what: String, _ body: () throws -> T) throws(CatalogError) -> T {
        do { return try body() } catch { throw .database("damaged \(what) row: \(PostgresDatabase.reason(error))") }
    }

    public func ingestHistory(since: UTCTime) async throws(CatalogError) -> [IngestBucket] {
        var buckets: [IngestBucket] = []
        for row in try await activityRows(CatalogActivitySQL.ingestHistory(since: since)) {
            buckets.append(try Self.decode("catalog_ingest_hourly") {
                IngestBucket(hour: try row[0].decode(Int64.self), instrument: try row[1].decode(String.self), level: try row[2].decode(String.self),
                             fileClass: try row[3].decode(String.self), files: Int(try row[4].decode(Int64.self)), bytes: try row[5].decode(Int64.self))
            })
        }
        return buckets
    }

    public func totals() async throws(CatalogError) -> [CatalogTotal] {
        var totals: [CatalogTotal] = []
        for row in try await activityRows(CatalogActivitySQL.totals) {
            totals.append(try Self.decode("catalog_totals") {
                CatalogTotal(instrument: try row[0].decode(String.self), level: try row[1].decode(String.self), fileClass: try row[2].decode(String.self),
                             files: Int(try row[3].decode(Int64.self)), bytes: try row[4].decode(Int64.self),
                             latestStartDate: try row[5].decode(String?.self).flatMap { $0.isEmpty ? nil : $0 },
                             latestIngestion: try row[6].decode(Int64?.self).map(UTCTime.init(secondsSince1970:)))
            })
        }
        return totals
    }

    public func coverage(instrument: String, from: FileDate, through: FileDate, includeUnreleased: Bool) async throws(CatalogError) -> [CoverageDay] {
        let query = CatalogActivitySQL.coverage(instrument: instrument, from: from, through: through, includeUnreleased: includeUnreleased)
        var days: [CoverageDay] = []
        for row in try await activityRows(query) {
            days.append(try Self.decode("coverage") {
                CoverageDay(level: try row[0].decode(String.self), day: try row[1].decode(String.self), files: Int(try row[2].decode(Int64.self)),
                            series: Int(try row[3].decode(Int64.self)))
            })
        }
        return days
    }

    public func months(instrument: String, level: String, includeUnreleased: Bool) async throws(CatalogError) -> [CatalogMonth] {
        let query = CatalogActivitySQL.months(instrument: instrument, level: level, includeUnreleased: includeUnreleased)
        var months: [CatalogMonth] = []
        for row in try await activityRows(query) {
            months.append(try Self.decode("month") { CatalogMonth(month: try row[0].decode(String.self), files: Int(try row[1].decode(Int64.self))) })
        }
        return months
    }
}
