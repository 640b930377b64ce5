import Foundation
import GRDB

/// One mirrored file: its storage key (also its path under the mirror folder), what it looked like when verified,
/// and its ingestion date in the data center.
public struct MirroredFile: Sendable, Hashable {
    public var key: String
    public var size: Int64
    /// Modification time of the local copy, nanoseconds since 1970.
    public var modified: Int64
    public var sha256: String
    /// `YYYYMMDD HH:MM:SS` (UTC), as the query rows give it.
    public var ingestionDate: String

    public init(key: String, size: Int64, modified: Int64, sha256: String, ingestionDate: String) {
        self.key = key
        self.size = size
        self.modified = modified
        self.sha256 = sha256
        self.ingestionDate = ingestionDate
    }
}

/// Where a mirror stands for one set of query filters: the newest ingestion date it has seen and when it last
/// compared the whole listing with its files.
public struct MirrorCursor: Sendable, Hashable {
    public var highWater: String?
    /// Nanoseconds since 1970.
    public var lastFullPass: Int64?
}

/// The mirror's state database (SQLite via GRDB, WAL): every verified local copy, and a cursor per filter set.
public final class MirrorState: Sendable {
    public let path: String
    private let pool: DatabasePool

    /// Opens (creating it and its folder if needed) the state database at `path`.
    public init(path: String) throws(SyncError) {
        self.path = path
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE mirrored_file (
                    key TEXT PRIMARY KEY NOT NULL, size INTEGER NOT NULL, modified INTEGER NOT NULL,
                    sha256 TEXT NOT NULL, ingestion_date TEXT NOT NULL);
                CREATE TABLE mirror_cursor (filters TEXT PRIMARY KEY NOT NULL, high_water TEXT, last_full_pass INTEGER);
                """)
        }
        pool = try openStateDatabase(path: path, migrator: migrator)
    }

    public func files() async throws(SyncError) -> [String: MirroredFile] {
        do {
            return try await pool.read { db in
                var files: [String: MirroredFile] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT key, size, modified, sha256, ingestion_date FROM mirrored_file") {
                    let file = MirroredFile(key: row["key"], size: row["size"], modified: row["modified"], sha256: row["sha256"],
                                            ingestionDate: row["ingestion_date"])
                    files[file.key] = file
                }
                return files
            }
        } catch {
            throw .state(path: path, reason: "\(error)")
        }
    }

    public func record(_ file: MirroredFile) async throws(SyncError) {
        try await write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO mirrored_file (key, size, modified, sha256, ingestion_date) VALUES (?, ?, ?, ?, ?)",
                           arguments: [file.key, file.size, file.modified, file.sha256, file.ingestionDate])
        }
    }

    public func forget(_ key: String) async throws(SyncError) {
        try await write { db in try db.execute(sql: "DELETE FROM mirrored_file WHERE key = ?", arguments: [key]) }
    }

    public func cursor(for filters: String) async throws(SyncError) -> MirrorCursor {
        do {
            return try await pool.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT high_water, last_full_pass FROM mirror_cursor WHERE filters = ?",
                                                 arguments: [filters]) else { return MirrorCursor() }
                return MirrorCursor(highWater: row["high_water"], lastFullPass: row["last_full_pass"])
            }
        } catch {
            throw .state(path: path, reason: "\(error)")
        }
    }

    public func setCursor(_ cursor: MirrorCursor, for filters: String) async throws(SyncError) {
        try await write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO mirror_cursor (filters, high_water, last_full_pass) VALUES (?, ?, ?)",
                           arguments: [filters, cursor.highWater, cursor.lastFullPass])
        }
    }

    private func write(_ body: @Sendable @escaping (Database) throws -> Void) async throws(SyncError) {
        do { try await pool.write(body) } catch { throw .state(path: path, reason: "\(error)") }
    }
}
