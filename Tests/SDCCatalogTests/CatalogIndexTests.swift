import Foundation
import GRDB
import Testing
@testable import SDCCatalog
import SDCCore
@testable import SDCPostgres

/// The catalog's queries find their rows through an index, on both backends (the scale-out query benchmark's kinds).
struct CatalogIndexTests {
    /// The query plan of `query` as text: SQLite's `EXPLAIN QUERY PLAN` details, or PostgreSQL's `EXPLAIN` after
    /// 30,000 more `mag` files (ten years of three levels and three other descriptors, bulk-inserted by SQL) and
    /// `ANALYZE`, so that PostgreSQL plans as it does on a large catalog rather than for a table of a few rows.
    static func plan(_ t: TemporaryCatalog, _ query: SQLQuery) async throws -> String {
        if let sqlite = t.sqlite {
            return try await sqlite.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + query.sql, arguments: query.statementArguments)
                    .map { row -> String in row["detail"] }.joined(separator: "\n")
            }
        }
        let database = try #require(t.postgres)
        try await database.rows(SQLQuery("""
            INSERT INTO science_files (file_path, instrument, data_level, descriptor, start_date, major_version, minor_version,
                                       ingestion_date, extension, size, sha256)
            SELECT 'bulk/' || n, 'mag', (ARRAY['l1a', 'l1b', 'l2'])[n % 3 + 1], 'other' || (n / 3 % 3),
                   to_char(DATE '2020-01-01' + n / 9, 'YYYYMMDD'), 1, 0, 0, 'cdf', 1, ''
            FROM generate_series(0, 29999) AS n
            """))
        try await database.rows(SQLQuery("ANALYZE science_files"))
        return try await database.rows(SQLQuery("EXPLAIN " + query.sql, query.values))
            .map { try $0[0].decode(String.self) }.joined(separator: "\n")
    }

    @Test(arguments: TestBackend.available) func descriptorQueriesWithoutALevelUseTheDescriptorIndex(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            try await t.add([
                "imap_mag_l1a_norm-mago_20250101_v001.0000.cdf", "imap_mag_l1b_norm-mago_20250102_v001.0000.cdf",
                "imap_mag_l1a_norm-mago_20250201_v001.0000.cdf", "imap_mag_l1a_burst-mago_20250101_v001.0000.cdf",
                "imap_swe_l1a_norm-mago_20250101_v001.0000.cdf",
            ])
            let parameters = [("instrument", "mag"), ("descriptor", "norm-mago"), ("start_date", "20250101"), ("end_date", "20250131")]
            // Every level of the instrument's descriptor in the range, nothing else.
            #expect(try await t.names(parameters) == [
                "imap_mag_l1a_norm-mago_20250101_v001.0000.cdf", "imap_mag_l1b_norm-mago_20250102_v001.0000.cdf",
            ])
            var query = try FileQuery(parameters: parameters)
            query.includeUnreleased = true
            let plan = try await Self.plan(t, FileQuerySQL.select(query))
            #expect(plan.contains("science_files_by_descriptor"), "\(plan)")
        }
    }
}
