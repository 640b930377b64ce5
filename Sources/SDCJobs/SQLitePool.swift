import GRDB

/// Opens (creating it if needed) the SQLite file at `path` as a WAL pool whose writers wait up to 10 s for each
/// other, and applies `migrator`. The job store and the algorithm registry share `jobs.sqlite` this way.
func openMigratedPool(path: String, migrator: DatabaseMigrator) throws -> DatabasePool {
    var configuration = Configuration()
    configuration.busyMode = .timeout(10)
    let pool = try DatabasePool(path: path, configuration: configuration)
    try migrator.migrate(pool)
    return pool
}
