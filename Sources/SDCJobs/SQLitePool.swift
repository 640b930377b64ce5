import GRDB

/// Opens (creating it if needed) the SQLite file at `path` as a WAL pool whose writers wait up to 10 s for each
/// other, and applies `migrator`. Every SQLite store of sdc opens its file this way (the job store and the algorithm
/// registry share `jobs.sqlite`; alerts, I-ALiRT records and the delivery ledger have files of their own).
package func openMigratedPool(path: String, migrator: DatabaseMigrator) throws -> DatabasePool {
    var configuration = Configuration()
    configuration.busyMode = .timeout(10)
    let pool = try DatabasePool(path: path, configuration: configuration)
    try migrator.migrate(pool)
    return pool
}

extension DatabasePool {
    /// Runs a write transaction: an `E` thrown by `body` passes as is, any other failure is `failure(description)`.
    package func write<T: Sendable, E: Error>(_ body: @Sendable @escaping (Database) throws -> T, failure: (String) -> E) async throws(E) -> T {
        do { return try await write(body) } catch let error as E { throw error } catch { throw failure("\(error)") }
    }

    /// Runs a read: an `E` thrown by `body` passes as is, any other failure is `failure(description)`.
    package func read<T: Sendable, E: Error>(_ body: @Sendable @escaping (Database) throws -> T, failure: (String) -> E) async throws(E) -> T {
        do { return try await read(body) } catch let error as E { throw error } catch { throw failure("\(error)") }
    }
}
