import GRDB
import SDCCore

/// Tables, migrations and row mapping of the SQLite catalog.
enum CatalogSchema {
    /// The table holding files of a class.
    static func table(for fileClass: FileClass) -> String {
        switch fileClass {
        case .science: "science_files"
        case .quicklook: "quicklook_files"
        case .dependency: "dependency_files"
        case .ancillary: "ancillary_files"
        case .release: "release_files"
        case .spice: "spice_files"
        }
    }

    static func table(for queryTable: QueryTable) -> String {
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
        return migrator
    }

    /// Inserts a record into its class's table; an existing key is ``CatalogError/alreadyExists(key:)``.
    static func insert(_ record: CatalogRecord, into db: Database) throws {
        let table = table(for: record.file.fileClass)
        do {
            switch record.file.fields {
            case .science(let f):
                try db.cachedStatement(sql: """
                    INSERT INTO \(table) (file_path, instrument, data_level, descriptor, start_date, repointing, major_version,
                        minor_version, ingestion_date, cr, crid, released, extension, size, sha256)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                        record.key, f.instrument.rawValue, f.dataLevel.rawValue, f.descriptor, f.startDate.description,
                        f.repointing, f.version.major, f.version.minor, record.ingestionDate.secondsSince1970,
                        f.carringtonRotation, record.crid, record.released, f.fileExtension, record.size, record.sha256,
                    ])
            case .ancillary(let f):
                try db.cachedStatement(sql: """
                    INSERT INTO \(table) (file_path, instrument, descriptor, start_date, end_date, repointing, version, extension,
                        ingestion_date, released, size, sha256)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                        record.key, f.instrument.rawValue, f.descriptor, f.startDate.description, f.endDate?.description,
                        f.repointing, f.version.description, f.fileExtension, record.ingestionDate.secondsSince1970,
                        record.released, record.size, record.sha256,
                    ])
            case .spice(let f):
                try db.cachedStatement(sql: """
                    INSERT INTO spice_files (file_path, file_name, file_root, kernel_type, version, min_date, max_date,
                        ingestion_date, released, size, sha256)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                        record.key, f.kernelType.directory + "/" + record.file.name, f.fileRoot, f.kernelType.rawValue,
                        f.version.flatMap { Int($0) }, f.startDate?.description, (f.endDate ?? f.startDate)?.description,
                        record.ingestionDate.secondsSince1970, record.released, record.size, record.sha256,
                    ])
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw CatalogError.alreadyExists(key: record.key)
        }
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
