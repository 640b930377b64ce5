import PostgresNIO
import SDCCatalog

/// The statements, transactions and migrations of ``PostgresDatabase`` for stores that live in other targets of this
/// package (the I-ALiRT record store), so that they share the one pool, the one migration lock and the one way of
/// reporting failures instead of opening connections of their own.
extension PostgresDatabase {
    /// A numbered schema change of a store in another target; see ``migrate(component:steps:)``.
    package struct MigrationStep: Sendable {
        let version: Int
        let name: String
        let statements: [String]

        package init(version: Int, name: String, statements: [String]) {
            self.version = version
            self.name = name
            self.statements = statements
        }
    }

    /// Applies `component`'s steps not yet recorded in `schema_migrations`, under the migration lock (as the catalog's
    /// and the job store's migrations are). Never edit a released step; add one.
    package func migrate(component: String, steps: [MigrationStep]) async throws(PostgresDatabaseError) {
        try await migrate(component: component, steps.map { Migration(version: $0.version, name: $0.name, statements: $0.statements) })
    }

    /// Runs `query` and returns its rows; a failure is `failure(reason)`, the reason being the server's message.
    package func run<E: Error>(_ query: SQLQuery, failure: (String) -> E) async throws(E) -> [PostgresRandomAccessRow] {
        try await rows(query, failure: failure)
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws); `body` runs its
    /// statements through the function it is given. An `E` thrown by `body` passes as is, any other failure is
    /// `failure(reason)`.
    package func inTransaction<T: Sendable, E: Error>(
        _ body: @escaping @Sendable (_ run: @Sendable (SQLQuery) async throws -> [PostgresRandomAccessRow]) async throws -> T,
        failure: (String) -> E
    ) async throws(E) -> T {
        try await transaction({ transaction in try await body { query in try await transaction.rows(query) } }, failure: failure)
    }

    /// A readable reason for an error of PostgresNIO (the server's message, or what failed on the connection).
    package static func describe(_ error: any Error) -> String { reason(error) }
}
