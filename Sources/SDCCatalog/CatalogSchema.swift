import GRDB
import SDCCore

/// Tables, migrations and row mapping of the SQLite catalog.
package enum CatalogSchema {
    /// The table holding files of a class.
    package static func table(for fileClass: FileClass) -> String {
        switch fileClass {
        case .science: "science_files"
        case .quicklook: "quicklook_files"
        case .dependency: "dependency_files"
        case .ancillary: "ancillary_files"
        case .release: "release_files"
        case .spice: "spice_files"
        }
    }

    package static func table(for queryTable: QueryTable) -> String {
        table(for: FileClass(rawValue: queryTable.rawValue)!)
    }

    /// Versioned schema migrations; never edit a registered migration, add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: files, reservations, keys, requests") { db in
            for fileClass in [FileClass.science, .quicklook, .dependency] {
                let table = table(for: fileClass)
                try db.execute(sql: """
                    CREATE TABLE \(table) (
                        file_path TEXT PRIMARY KEY NOT NULL,
                        instrument TEXT NOT NULL,
                        data_level TEXT NOT NULL,
                        descriptor TEXT NOT NULL,
                        start_date TEXT NOT NULL,
                        repointing INTEGER,
                        major_version INTEGER CHECK (major_version BETWEEN 0 AND 999),
                        minor_version INTEGER NOT NULL CHECK (minor_version BETWEEN 0 AND 9999),
                        ingestion_date INTEGER NOT NULL,
                        cr INTEGER,
                        crid TEXT,
                        released BOOLEAN NOT NULL DEFAULT 0,
                        extension TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        sha256 TEXT NOT NULL
                    );
                    CREATE INDEX \(table)_by_day ON \(table) (instrument, data_level, start_date);
                    CREATE INDEX \(table)_by_series ON \(table)
                        (instrument, data_level, descriptor, start_date, repointing, major_version, minor_version);
                    CREATE INDEX \(table)_by_ingestion ON \(table) (ingestion_date);
                    """)
            }
            for fileClass in [FileClass.ancillary, .release] {
                let table = table(for: fileClass)
                try db.execute(sql: """
                    CREATE TABLE \(table) (
                        file_path TEXT PRIMARY KEY NOT NULL,
                        instrument TEXT NOT NULL,
                        descriptor TEXT NOT NULL,
                        start_date TEXT NOT NULL,
                        end_date TEXT,
                        repointing INTEGER,
                        version TEXT NOT NULL,
                        extension TEXT NOT NULL,
                        ingestion_date INTEGER NOT NULL,
                        released BOOLEAN NOT NULL DEFAULT 1,
                        size INTEGER NOT NULL,
                        sha256 TEXT NOT NULL
                    );
                    CREATE INDEX \(table)_by_descriptor ON \(table) (instrument, descriptor, start_date);
                    CREATE INDEX \(table)_by_ingestion ON \(table) (ingestion_date);
                    """)
            }
            try db.execute(sql: """
                CREATE TABLE spice_files (
                    file_path TEXT PRIMARY KEY NOT NULL,
                    file_name TEXT NOT NULL UNIQUE,
                    file_root TEXT NOT NULL,
                    kernel_type TEXT NOT NULL,
                    version INTEGER,
                    min_date TEXT,
                    max_date TEXT,
                    ingestion_date INTEGER NOT NULL,
                    released BOOLEAN NOT NULL DEFAULT 1,
                    size INTEGER NOT NULL,
                    sha256 TEXT NOT NULL
                );
                CREATE INDEX spice_files_by_type ON spice_files (kernel_type, min_date);
                CREATE TABLE pending_uploads (
                    file_path TEXT PRIMARY KEY NOT NULL,
                    started_at INTEGER NOT NULL
                );
                CREATE TABLE api_keys (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
                    key_hash TEXT NOT NULL UNIQUE,
                    key_prefix TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER
                );
                CREATE TABLE reprocess_requests (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    received_at INTEGER NOT NULL,
                    requested_by TEXT NOT NULL,
                    start_date TEXT NOT NULL,
                    end_date TEXT NOT NULL,
                    instrument TEXT,
                    data_level TEXT,
                    descriptor TEXT,
                    status TEXT NOT NULL
                );
                CREATE TABLE release_requests (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    received_at INTEGER NOT NULL,
                    requested_by TEXT NOT NULL,
                    release_type TEXT NOT NULL,
                    manifest_key TEXT NOT NULL,
                    status TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2: released index for anonymous browsing") { db in
            for fileClass in [FileClass.science, .quicklook, .dependency, .ancillary, .release] {
                let table = table(for: fileClass)
                try db.execute(sql: "CREATE INDEX \(table)_by_release ON \(table) (released, file_path)")
            }
        }
        migrator.registerMigration("v3: reservation owners") { db in
            // The `host/pid` of the process uploading (see ProcessIdentity); NULL for reservations made before.
            try db.execute(sql: "ALTER TABLE pending_uploads ADD COLUMN owner TEXT")
        }
        migrator.registerMigration("v4: portal sessions and leases shared by every process") { db in
            try db.execute(sql: """
                CREATE TABLE portal_sessions (
                    token_hash TEXT PRIMARY KEY NOT NULL,
                    key_id INTEGER NOT NULL REFERENCES api_keys (id),
                    expires_at INTEGER NOT NULL
                );
                CREATE INDEX portal_sessions_by_expiry ON portal_sessions (expires_at);
                CREATE TABLE leases (
                    name TEXT PRIMARY KEY NOT NULL,
                    holder TEXT NOT NULL,
                    expires_at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v5: descriptor index for queries without a level") { db in
            // A query by instrument and descriptor without a level otherwise scans every file of the instrument.
            for fileClass in [FileClass.science, .quicklook, .dependency] {
                let table = table(for: fileClass)
                try db.execute(sql: "CREATE INDEX \(table)_by_descriptor ON \(table) (instrument, descriptor, start_date)")
            }
        }
        migrator.registerMigration("v6: ingest and totals aggregates for the dashboard") { db in
            for statement in CatalogActivitySQL.sqliteMigration { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v7: missions an API key may reach") { db in
            try db.execute(sql: "ALTER TABLE api_keys ADD COLUMN missions TEXT")
        }
        return migrator
    }

    /// Inserts a record into its class's table; an existing key is ``CatalogError/alreadyExists(key:)``.
    static func insert(_ record: CatalogRecord, into db: Database) throws {
        let insert = insertion(record)
        do {
            try db.cachedStatement(sql: insert.sql).execute(arguments: insert.statementArguments)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw CatalogError.alreadyExists(key: record.key)
        }
    }

    /// The `INSERT` of a record into its class's table (every column derived from the name, plus what ingest measured).
    package static func insertion(_ record: CatalogRecord) -> SQLQuery {
        let table = table(for: record.file.fileClass)
        let row: [(String, SQLValue)]
        switch record.file.fields {
        case .science(let f):
            row = [
                ("file_path", .text(record.key)), ("instrument", .text(f.instrument.rawValue)), ("data_level", .text(f.dataLevel.rawValue)),
                ("descriptor", .text(f.descriptor)), ("start_date", .text(f.startDate.description)), ("repointing", SQLValue(f.repointing)),
                ("major_version", SQLValue(f.version.major)), ("minor_version", SQLValue(f.version.minor)),
                ("ingestion_date", .integer(record.ingestionDate.secondsSince1970)), ("cr", SQLValue(f.carringtonRotation)),
                ("crid", SQLValue(record.crid)), ("released", .boolean(record.released)), ("extension", .text(f.fileExtension)),
                ("size", .integer(record.size)), ("sha256", .text(record.sha256)),
            ]
        case .ancillary(let f):
            row = [
                ("file_path", .text(record.key)), ("instrument", .text(f.instrument.rawValue)), ("descriptor", .text(f.descriptor)),
                ("start_date", .text(f.startDate.description)), ("end_date", SQLValue(f.endDate?.description)),
                ("repointing", SQLValue(f.repointing)), ("version", .text(f.version.description)), ("extension", .text(f.fileExtension)),
                ("ingestion_date", .integer(record.ingestionDate.secondsSince1970)), ("released", .boolean(record.released)),
                ("size", .integer(record.size)), ("sha256", .text(record.sha256)),
            ]
        case .spice(let f):
            row = [
                ("file_path", .text(record.key)), ("file_name", .text(f.kernelType.directory + "/" + record.file.name)),
                ("file_root", .text(f.fileRoot)), ("kernel_type", .text(f.kernelType.rawValue)),
                ("version", SQLValue(f.version.flatMap { Int($0) })), ("min_date", SQLValue(f.startDate?.description)),
                ("max_date", SQLValue((f.endDate ?? f.startDate)?.description)),
                ("ingestion_date", .integer(record.ingestionDate.secondsSince1970)), ("released", .boolean(record.released)),
                ("size", .integer(record.size)), ("sha256", .text(record.sha256)),
            ]
        }
        let columns = row.map(\.0).joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: row.count).joined(separator: ", ")
        return SQLQuery("INSERT INTO \(table) (\(columns)) VALUES (\(placeholders))", row.map(\.1))
    }

    /// Rebuilds a record from a row of any file table (the columns derived from the name are re-derived).
    static func record(_ row: Row) throws -> CatalogRecord {
        let key: String = row["file_path"]
        let basename = String(key.split(separator: "/").last ?? "")
        let file: IMAPFileName
        do { file = try IMAPFileName.parse(basename) } catch { throw CatalogError.invalidKey(key: key, reason: error.message) }
        return CatalogRecord(
            file: file, size: row["size"], sha256: row["sha256"],
            ingestionDate: UTCTime(secondsSince1970: row["ingestion_date"]), released: row["released"],
            crid: row.hasColumn("crid") ? row["crid"] : nil)
    }
}
