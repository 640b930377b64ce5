import Foundation
import GRDB

/// What the watcher decided about one file.
public enum WatchOutcome: String, Sendable, Hashable, CaseIterable {
    /// Uploaded by this watcher.
    case uploaded
    /// The data center already held the same bytes under this name (a 409 with an equal SHA-256).
    case alreadyPresent = "already-present"
    /// The name is not a valid IMAP file name (or the server refused it): moved to the rejected folder.
    case rejected
    /// The data center holds different bytes under this name: reported, never overwritten.
    case conflict
    /// Every attempt failed; tried again at the next start.
    case failed

    /// Whether the file needs nothing more as long as it is unchanged.
    public var isFinal: Bool { self != .failed }
}

/// One row of the watcher's state: a file (by its path relative to the watched folder) and what became of it.
public struct WatchRecord: Sendable, Hashable {
    public var path: String
    public var size: Int64
    /// Modification time in nanoseconds since 1970, when the decision was made.
    public var modified: Int64
    public var sha256: String?
    public var outcome: WatchOutcome
    public var attempts: Int
    /// The reason of a rejection, conflict or failure.
    public var detail: String?

    public init(path: String, size: Int64, modified: Int64, sha256: String?, outcome: WatchOutcome, attempts: Int, detail: String?) {
        self.path = path
        self.size = size
        self.modified = modified
        self.sha256 = sha256
        self.outcome = outcome
        self.attempts = attempts
        self.detail = detail
    }
}

/// The watcher's small state database (SQLite via GRDB, WAL): every file decided, and when the watcher first started,
/// so that a restart neither uploads a file twice nor misses one that arrived while it was down.
public final class WatchState: Sendable {
    public let path: String
    private let pool: DatabasePool

    /// Opens (creating it and its folder if needed) the state database at `path`.
    public init(path: String) throws(SyncError) {
        self.path = path
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE watched_file (
                    path TEXT PRIMARY KEY NOT NULL, size INTEGER NOT NULL, modified INTEGER NOT NULL, sha256 TEXT,
                    outcome TEXT NOT NULL, attempts INTEGER NOT NULL, detail TEXT, decided_at TEXT NOT NULL);
                CREATE TABLE watch_meta (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                """)
        }
        pool = try openStateDatabase(path: path, migrator: migrator)
    }

    /// When the watcher first ran over this state (nanoseconds since 1970), recorded as `now` on the first call.
    public func watchingSince(now: Int64) async throws(SyncError) -> Int64 {
        try await write { db in
            if let text = try String.fetchOne(db, sql: "SELECT value FROM watch_meta WHERE name = 'watching_since'"), let value = Int64(text) {
                return value
            }
            try db.execute(sql: "INSERT INTO watch_meta (name, value) VALUES ('watching_since', ?)", arguments: [String(now)])
            return now
        }
    }

    /// Every recorded file.
    public func all() async throws(SyncError) -> [WatchRecord] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT path, size, modified, sha256, outcome, attempts, detail FROM watched_file").compactMap { row in
                    guard let outcome = WatchOutcome(rawValue: row["outcome"]) else { return nil }
                    return WatchRecord(path: row["path"], size: row["size"], modified: row["modified"], sha256: row["sha256"],
                                       outcome: outcome, attempts: row["attempts"], detail: row["detail"])
                }
            }
        } catch {
            throw .state(path: path, reason: "\(error)")
        }
    }

    /// Records (replacing) the decision about one file.
    public func record(_ record: WatchRecord) async throws(SyncError) {
        try await write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO watched_file (path, size, modified, sha256, outcome, attempts, detail, decided_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                """, arguments: [record.path, record.size, record.modified, record.sha256, record.outcome.rawValue,
                                 record.attempts, record.detail])
        }
    }

    private func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(SyncError) -> T {
        do { return try await pool.write(body) } catch { throw .state(path: path, reason: "\(error)") }
    }
}
