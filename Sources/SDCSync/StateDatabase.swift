import Foundation
import GRDB

/// Opens (creating it and its folder if needed) the state database of `sdc watch` or `sdc mirror` at `path`, and
/// applies `migrator`: SQLite in WAL mode, writers waiting up to 10 s for each other, without an fsync per decision
/// (a decision lost to a power cut is made again at the next start: a 409 with equal bytes for the watcher, a
/// checksum-verified local copy for the mirror).
func openStateDatabase(path: String, migrator: DatabaseMigrator) throws(SyncError) -> DatabasePool {
    do {
        try LocalTree.createDirectories((path as NSString).deletingLastPathComponent)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try migrator.migrate(pool)
        return pool
    } catch let error as SyncError {
        throw error
    } catch {
        throw .state(path: path, reason: "\(error)")
    }
}
