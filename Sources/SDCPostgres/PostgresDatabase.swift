import Foundation
import Logging
import PostgresNIO
import SDCCatalog
import Synchronization

/// Why the PostgreSQL database could not be used.
public enum PostgresDatabaseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `postgres://` URL is malformed.
    case invalidURL(String, reason: String)
    /// The server could not be reached or refused the connection.
    case unreachable(PostgresLocation, reason: String)
    /// A schema migration failed.
    case migration(component: String, reason: String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason): "invalid database URL '\(url)': \(reason)"
        case .unreachable(let location, let reason): "cannot reach the PostgreSQL \(location): \(reason)"
        case .migration(let component, let reason): "cannot migrate the \(component) tables of the PostgreSQL database: \(reason)"
        }
    }
}

/// Where a PostgreSQL database is: parsed from `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var database: String
    public var username: String
    /// Never printed.
    public var password: String?

    /// Parses a `postgres://` or `postgresql://` URL (port 5432 by default). Connections are not encrypted: use a
    /// private network or a local proxy.
    public init(url: String) throws(PostgresDatabaseError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
              scheme == "postgres" || scheme == "postgresql" else {
            throw .invalidURL(url, reason: "expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        guard let host = components.host, !host.isEmpty else { throw .invalidURL(url, reason: "no host") }
        guard let user = components.user, !user.isEmpty else { throw .invalidURL(url, reason: "no user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw .invalidURL(url, reason: "no database name after the host") }
        if let items = components.queryItems, !items.isEmpty {
            throw .invalidURL(url, reason: "unsupported options \(items.map(\.name).joined(separator: ", "))")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.database = database.removingPercentEncoding ?? database
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
    }

    /// `database 'DB' at HOST:PORT`.
    public var description: String { "database '\(database)' at \(host):\(port)" }

    var configuration: PostgresConnection.Configuration {
        PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: .disable)
    }
}

/// A pool of connections to one PostgreSQL database, shared by ``PostgresCatalog`` and ``PostgresJobStore``.
///
/// ``connect(url:logger:)`` checks that the database answers before anything uses it; ``close()`` ends the pool.
public final class PostgresDatabase: Sendable {
    public let location: PostgresLocation
    let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    /// Whether the server answers, asked on a connection of its own (see ``PostgresProbe``).
    public let probe: PostgresProbe

    private init(location: PostgresLocation, logger: Logger) {
        self.location = location
        self.logger = logger
        probe = PostgresProbe(location: location)
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: .disable)
        configuration.options.maximumConnections = 16
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
    }

    /// Connects to the database at `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`). Throws
    /// ``PostgresDatabaseError/unreachable(_:reason:)`` naming the host, port and database when it does not answer.
    public static func connect(url: String, logger: Logger = Logger(label: "sdc.postgres")) async throws(PostgresDatabaseError) -> PostgresDatabase {
        try await connect(location: try PostgresLocation(url: url), logger: logger)
    }

    private static func connect(location: PostgresLocation, logger: Logger) async throws(PostgresDatabaseError) -> PostgresDatabase {
        do {
            let connection = try await PostgresConnection.connect(
                on: PostgresClient.defaultEventLoopGroup.next(), configuration: location.configuration, id: 0, logger: logger).get()
            try await connection.close()
        } catch {
            throw .unreachable(location, reason: Self.reason(error))
        }
        return PostgresDatabase(location: location, logger: logger)
    }

    /// A new, empty database on the server of `url`, named `sdc_scratch_` and a random suffix, for tests: the server
    /// must be a throwaway one. ``dropScratch()`` removes it.
    package static func scratch(from url: String) async throws(PostgresDatabaseError) -> PostgresDatabase {
        let server = try await connect(url: url)
        let name = "sdc_scratch_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        var failure: PostgresDatabaseError?
        do { _ = try await server.rows(SQLQuery("CREATE DATABASE \(name)")) } catch {
            failure = .unreachable(server.location, reason: "cannot create database \(name): \(reason(error))")
        }
        await server.close()
        if let failure { throw failure }
        var location = server.location
        location.database = name
        return try await connect(location: location, logger: server.logger)
    }

    /// Closes this scratch database (see ``scratch(from:)``) and drops it.
    package func dropScratch() async throws {
        await close()
        var server = location
        server.database = "postgres"
        let maintenance = try await Self.connect(location: server, logger: logger)
        _ = try await maintenance.rows(SQLQuery("DROP DATABASE IF EXISTS \(location.database) WITH (FORCE)"))
        await maintenance.close()
    }

    /// Closes every connection; the database cannot be used afterwards.
    public func close() async {
        runner.cancel()
        await runner.value
    }

    /// A readable reason for a PostgresNIO error: the server's message, or what failed on the connection. (PSQLError
    /// hides both from `description`.)
    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                let detail = error.serverInfo?[.detail].map { ": \($0)" } ?? ""
                return message + detail + state
            }
            if let underlying = error.underlying { return reason(underlying) }
            return "\(error.code)"
        }
        if let error = error as? PostgresDecodingError {
            return "column \(error.columnName) cannot be read as \(error.targetType): \(error.code)"
        }
        if let error = error as? IOError { return error.description }
        return String(describing: error)
    }

    /// Whether `error` is the server refusing a row that breaks a unique constraint.
    static func isUniqueViolation(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == PostgresError.Code.uniqueViolation.raw
    }

    // MARK: Running statements

    /// Runs `query` and returns its rows.
    func rows(_ query: SQLQuery) async throws -> [PostgresRandomAccessRow] {
        try await withConnection { [logger] connection in try await Self.rows(query, on: connection, logger: logger) }
    }

    /// How often a statement waiting for a pooled connection checks that the server answers. While the server is away
    /// the pool keeps trying to connect and a request would wait for as long; a statement whose server does not answer
    /// such a check fails with ``PostgresDatabaseError/unreachable(_:reason:)`` instead, so that callers answer at once
    /// (the server answers `503`). A busy pool (every connection in use) is waited for; statements that have their
    /// connection are never cut short.
    static let connectionCheckInterval = Duration.seconds(3)

    /// Set once a statement has its connection.
    private final class LeaseFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    /// Runs `body` on a pooled connection, waiting for one while the server answers (see ``connectionCheckInterval``).
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let leased = LeaseFlag()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { [client] in
                try await client.withConnection { connection in
                    leased.value.store(true, ordering: .relaxed)
                    return try await body(connection)
                }
            }
            group.addTask { [location, probe] in
                while true {
                    try await Task.sleep(for: Self.connectionCheckInterval)
                    if leased.value.load(ordering: .relaxed) { return nil }
                    if let reason = await probe.unreachableReason() { throw PostgresDatabaseError.unreachable(location, reason: reason) }
                }
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let result = next { return result }
            }
            throw CancellationError()
        }
    }

    /// Runs `query` and returns its rows; a failure is `failure(reason)`.
    func rows<E: Error>(_ query: SQLQuery, failure: (String) -> E) async throws(E) -> [PostgresRandomAccessRow] {
        do { return try await rows(query) } catch { throw failure(Self.reason(error)) }
    }

    /// Runs ``transaction(_:)``: an `E` thrown by `body` passes as is, any other failure is `failure(reason)`.
    func transaction<T: Sendable, E: Error>(_ body: @escaping @Sendable (Transaction) async throws -> T,
                                            failure: (String) -> E) async throws(E) -> T {
        do {
            return try await transaction(body)
        } catch let error as E {
            throw error
        } catch {
            throw failure(Self.reason(error))
        }
    }

    /// Runs `query` on `connection` and returns its rows.
    static func rows(_ query: SQLQuery, on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in try await connection.query(statement(query), logger: logger) { rows.append(row.makeRandomAccess()) }
        return rows
    }

    /// The PostgresNIO form of `query`: `$n` placeholders and binary bindings.
    static func statement(_ query: SQLQuery) throws -> PostgresQuery {
        var bindings = PostgresBindings(capacity: query.values.count)
        for value in query.values {
            switch value {
            case .text(let text): try bindings.append(text)
            case .integer(let number): try bindings.append(number)
            case .boolean(let flag): try bindings.append(flag)
            case .null: bindings.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: query.numberedSQL, binds: bindings)
    }

    /// Runs `body` in a transaction on one connection: committed when it returns, rolled back when it throws (the
    /// error is rethrown as is).
    func transaction<T: Sendable>(_ body: @escaping @Sendable (Transaction) async throws -> T) async throws -> T {
        let logger = logger
        return try await withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            let result: T
            do {
                result = try await body(Transaction(connection: connection, logger: logger))
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
            try await connection.query("COMMIT", logger: logger)
            return result
        }
    }

    /// The statements of one transaction.
    struct Transaction: Sendable {
        let connection: PostgresConnection
        let logger: Logger

        /// Runs `query` and returns its rows.
        @discardableResult
        func rows(_ query: SQLQuery) async throws -> [PostgresRandomAccessRow] {
            try await PostgresDatabase.rows(query, on: connection, logger: logger)
        }
    }

    // MARK: Migrations

    /// A numbered schema change: statements run in order, in the transaction that records the version.
    struct Migration: Sendable {
        let version: Int
        let name: String
        let statements: [String]
    }

    /// The key of the advisory lock that migrations hold (`SDC` in ASCII), so that replicas starting together migrate
    /// one after the other.
    static let migrationLock: Int64 = 0x53_44_43

    /// Applies the migrations of `component` that are not yet recorded, in one transaction holding the migration lock:
    /// a replica that starts meanwhile waits, then finds them applied. Never edit a released migration; add one.
    func migrate(component: String, _ migrations: [Migration]) async throws(PostgresDatabaseError) {
        do {
            try await transaction { transaction in
                try await transaction.rows(SQLQuery("SELECT pg_advisory_xact_lock(?)", [.integer(Self.migrationLock)]))
                try await transaction.rows(SQLQuery("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        component TEXT NOT NULL, version BIGINT NOT NULL, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                        PRIMARY KEY (component, version))
                    """))
                let applied = try await transaction.rows(SQLQuery("SELECT version FROM schema_migrations WHERE component = ?", [.text(component)]))
                    .map { try $0["version"].decode(Int64.self) }
                for migration in migrations where !applied.contains(Int64(migration.version)) {
                    for statement in migration.statements { try await transaction.rows(SQLQuery(statement)) }
                    try await transaction.rows(SQLQuery("INSERT INTO schema_migrations (component, version, name) VALUES (?, ?, ?)",
                                                        [.text(component), .integer(Int64(migration.version)), .text(migration.name)]))
                }
            }
        } catch let error as PostgresDatabaseError {
            throw error
        } catch {
            throw .migration(component: component, reason: Self.reason(error))
        }
    }
}

/// The backends that the catalog and job-store tests run their cases on (one behaviour, two backends).
package enum TestBackend: String, CaseIterable, Sendable {
    case sqlite
    case postgres

    /// The throwaway PostgreSQL server of the tests, from `SDC_TEST_DATABASE_URL` (scripts/test starts one and sets
    /// it); each test makes its own database there with ``PostgresDatabase/scratch(from:)``.
    package static var databaseURL: String? { ProcessInfo.processInfo.environment["SDC_TEST_DATABASE_URL"] }
    /// Every backend; PostgreSQL only when ``databaseURL`` is set.
    package static var available: [TestBackend] { databaseURL == nil ? [.sqlite] : allCases }
    /// Why the PostgreSQL cases do not run.
    package static let skipMessage =
        "SDC_TEST_DATABASE_URL is unset: the PostgreSQL cases are skipped (scripts/test starts a server and sets it)"
}
