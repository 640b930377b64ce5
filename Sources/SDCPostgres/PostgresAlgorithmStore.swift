import Foundation
import PostgresNIO
import SDCCatalog
import SDCCore
import SDCJobs

/// The registry of installed algorithms in PostgreSQL, with the semantics of ``SQLiteAlgorithmStore``, shared by every
/// replica and worker of a scaled-out data center. Two replicas registering the same version at once are settled by
/// the unique (name, version) key: the second sees the first's row and compares digests.
public final class PostgresAlgorithmStore: AlgorithmStore {
    let database: PostgresDatabase

    /// Migrates the algorithm tables of `database` (under the migration lock) and returns the store.
    public init(database: PostgresDatabase) async throws(PostgresDatabaseError) {
        self.database = database
        try await database.migrate(component: "algorithms", Self.migrations)
    }

    /// Never edit a released migration; add one.
    static let migrations: [PostgresDatabase.Migration] = [
        PostgresDatabase.Migration(version: 1, name: "installed algorithms and campaign pins", statements: [
            """
            CREATE TABLE algorithms (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name TEXT COLLATE "C" NOT NULL,
                version TEXT COLLATE "C" NOT NULL,
                spec TEXT NOT NULL,
                digest TEXT NOT NULL,
                python TEXT NOT NULL,
                pip_freeze TEXT NOT NULL,
                entry_points TEXT NOT NULL,
                products TEXT NOT NULL DEFAULT '',
                installed_at BIGINT NOT NULL,
                installed_on TEXT NOT NULL,
                UNIQUE (name, version))
            """,
            """
            CREATE TABLE algorithm_campaigns (
                campaign BIGINT NOT NULL,
                name TEXT COLLATE "C" NOT NULL,
                version TEXT NOT NULL,
                PRIMARY KEY (campaign, name))
            """,
        ]),
    ]

    @discardableResult
    private func rows(_ query: SQLQuery) async throws(AlgorithmStoreError) -> [PostgresRandomAccessRow] {
        try await database.rows(query, failure: AlgorithmStoreError.database)
    }

    private func algorithms(_ query: SQLQuery) async throws(AlgorithmStoreError) -> [InstalledAlgorithm] {
        var algorithms: [InstalledAlgorithm] = []
        for row in try await rows(query) { algorithms.append(try Self.algorithm(row)) }
        return algorithms
    }

    public func register(_ algorithm: InstalledAlgorithm) async throws(AlgorithmStoreError) -> Bool {
        try AlgorithmReference.check(name: algorithm.name)
        try AlgorithmReference.check(version: algorithm.version)
        guard AlgorithmDigest.isValid(algorithm.digest) else { throw .invalidArgument("'\(algorithm.digest)' is not sha256:<64 hex digits>") }
        let inserted = try await rows(SQLQuery("""
            INSERT INTO algorithms (name, version, spec, digest, python, pip_freeze, entry_points, products, installed_at, installed_on)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (name, version) DO NOTHING
            RETURNING id
            """, [.text(algorithm.name), .text(algorithm.version), .text(algorithm.spec), .text(algorithm.digest), .text(algorithm.python),
                  .text(algorithm.freeze), .text(StoredList.encode(algorithm.entryPoints)), .text(StoredList.encode(algorithm.products)),
                  .integer(algorithm.installedAt.secondsSince1970), .text(algorithm.installedOn)]))
        if !inserted.isEmpty { return true }
        guard let existing = try await self.algorithm(name: algorithm.name, version: algorithm.version) else {
            throw .database("\(algorithm.reference) conflicted with a registration that was then removed; register again")
        }
        guard existing.digest == algorithm.digest else {
            throw .conflict(SQLiteAlgorithmStore.conflict(algorithm, registered: existing.digest))
        }
        return false
    }

    public func algorithms() async throws(AlgorithmStoreError) -> [InstalledAlgorithm] {
        try await algorithms(SQLQuery("SELECT * FROM algorithms ORDER BY name, installed_at, id"))
    }

    public func algorithm(name: String, version: String) async throws(AlgorithmStoreError) -> InstalledAlgorithm? {
        try await algorithms(SQLQuery("SELECT * FROM algorithms WHERE name = ? AND version = ?", [.text(name), .text(version)])).first
    }

    public func newest(name: String) async throws(AlgorithmStoreError) -> InstalledAlgorithm? {
        try await algorithms(SQLQuery("SELECT * FROM algorithms WHERE name = ? ORDER BY installed_at DESC, id DESC LIMIT 1", [.text(name)])).first
    }

    public func remove(name: String, version: String) async throws(AlgorithmStoreError) -> Bool {
        !(try await rows(SQLQuery("DELETE FROM algorithms WHERE name = ? AND version = ? RETURNING id", [.text(name), .text(version)]))).isEmpty
    }

    public func setProducts(_ products: [ProductNode], name: String, version: String?) async throws(AlgorithmStoreError) {
        let encoded = SQLValue.text(StoredList.encode(products))
        if let version {
            try await rows(SQLQuery("UPDATE algorithms SET products = ? WHERE name = ? AND version = ?", [encoded, .text(name), .text(version)]))
        } else {
            try await rows(SQLQuery("UPDATE algorithms SET products = ? WHERE name = ?", [encoded, .text(name)]))
        }
    }

    public func pin(campaign: Int64, name: String, version: String) async throws(AlgorithmStoreError) {
        try await rows(SQLQuery("""
            INSERT INTO algorithm_campaigns (campaign, name, version) VALUES (?, ?, ?)
            ON CONFLICT (campaign, name) DO UPDATE SET version = excluded.version
            """, [.integer(campaign), .text(name), .text(version)]))
    }

    public func pinnedVersion(campaign: Int64, name: String) async throws(AlgorithmStoreError) -> String? {
        let found = try await rows(SQLQuery("SELECT version FROM algorithm_campaigns WHERE campaign = ? AND name = ?", [.integer(campaign), .text(name)]))
        return try Self.cells(id: "campaign \(campaign)") { try found.first?["version"].decode(String.self) }
    }

    /// Runs `decode`, a cell that cannot be read being ``AlgorithmStoreError/corruptRow(id:reason:)``.
    private static func cells<T>(id: String, _ decode: () throws -> T) throws(AlgorithmStoreError) -> T {
        do { return try decode() } catch let error as AlgorithmStoreError { throw error } catch {
            throw .corruptRow(id: id, reason: PostgresDatabase.reason(error))
        }
    }

    static func algorithm(_ row: PostgresRandomAccessRow) throws(AlgorithmStoreError) -> InstalledAlgorithm {
        let id = try cells(id: "?") { try row["id"].decode(Int64.self) }
        return try cells(id: "\(id)") {
            func text(_ column: String) throws -> String { try row[column].decode(String.self) }
            let productsText = try text("products")
            guard let products = StoredList.decode(productsText) else {
                throw AlgorithmStoreError.corruptRow(id: "\(id)", reason: "products '\(productsText)' is not instrument/level/descriptor,...")
            }
            return InstalledAlgorithm(
                name: try text("name"), version: try text("version"), spec: try text("spec"), digest: try text("digest"),
                python: try text("python"), freeze: try text("pip_freeze"), entryPoints: StoredList.names(try text("entry_points")),
                products: products, installedAt: UTCTime(secondsSince1970: try row["installed_at"].decode(Int64.self)),
                installedOn: try text("installed_on"))
        }
    }
}
