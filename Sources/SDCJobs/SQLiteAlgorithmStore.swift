import Foundation
import GRDB
import SDCCore

/// The registry of installed algorithms in a SQLite database: its own tables and migrations, kept in the job store's
/// file (`jobs.sqlite`) beside the jobs that run them.
public final class SQLiteAlgorithmStore: AlgorithmStore {
    let pool: DatabasePool

    public init(path: String) throws(AlgorithmStoreError) {
        do {
            pool = try openMigratedPool(path: path, migrator: Self.migrator)
        } catch {
            throw .database("cannot open \(path): \(error)")
        }
    }

    /// Never edit a released migration; add one. (The identifiers differ from the job store's, which shares the file.)
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("algorithms v1: installed algorithms and campaign pins") { db in
            try db.execute(sql: """
                CREATE TABLE algorithms (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    version TEXT NOT NULL,
                    spec TEXT NOT NULL,
                    digest TEXT NOT NULL,
                    python TEXT NOT NULL,
                    pip_freeze TEXT NOT NULL,
                    entry_points TEXT NOT NULL,
                    products TEXT NOT NULL DEFAULT '',
                    installed_at INTEGER NOT NULL,
                    installed_on TEXT NOT NULL,
                    UNIQUE (name, version)
                );
                CREATE TABLE algorithm_campaigns (
                    campaign INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    version TEXT NOT NULL,
                    PRIMARY KEY (campaign, name)
                );
                """)
        }
        return migrator
    }

    private func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(AlgorithmStoreError) -> T {
        try await pool.write(body, failure: AlgorithmStoreError.database)
    }

    private func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(AlgorithmStoreError) -> T {
        try await pool.read(body, failure: AlgorithmStoreError.database)
    }

    public func register(_ algorithm: InstalledAlgorithm) async throws(AlgorithmStoreError) -> Bool {
        try AlgorithmReference.check(name: algorithm.name)
        try AlgorithmReference.check(version: algorithm.version)
        guard AlgorithmDigest.isValid(algorithm.digest) else { throw .invalidArgument("'\(algorithm.digest)' is not sha256:<64 hex digits>") }
        return try await write { db in
            if let existing = try Row.fetchOne(db, sql: "SELECT digest FROM algorithms WHERE name = ? AND version = ?",
                                               arguments: [algorithm.name, algorithm.version]) {
                let digest: String = existing["digest"]
                guard digest == algorithm.digest else { throw AlgorithmStoreError.conflict(Self.conflict(algorithm, registered: digest)) }
                return false
            }
            try db.execute(sql: """
                INSERT INTO algorithms (name, version, spec, digest, python, pip_freeze, entry_points, products, installed_at, installed_on)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [algorithm.name, algorithm.version, algorithm.spec, algorithm.digest, algorithm.python, algorithm.freeze,
                                 StoredList.encode(algorithm.entryPoints), StoredList.encode(algorithm.products),
                                 algorithm.installedAt.secondsSince1970, algorithm.installedOn])
            return true
        }
    }

    /// The message of a registration that would change an installed version.
    package static func conflict(_ algorithm: InstalledAlgorithm, registered digest: String) -> String {
        "\(algorithm.reference) is already installed with digest \(digest), and this environment's is \(algorithm.digest): an installed " +
        "version never changes; install it under another version, or remove it first (sdc algorithms remove \(algorithm.name) \(algorithm.version))"
    }

    public func algorithms() async throws(AlgorithmStoreError) -> [InstalledAlgorithm] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM algorithms ORDER BY name, installed_at, id").map(Self.algorithm) }
    }

    public func algorithm(name: String, version: String) async throws(AlgorithmStoreError) -> InstalledAlgorithm? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM algorithms WHERE name = ? AND version = ?", arguments: [name, version]).map(Self.algorithm)
        }
    }

    public func newest(name: String) async throws(AlgorithmStoreError) -> InstalledAlgorithm? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM algorithms WHERE name = ? ORDER BY installed_at DESC, id DESC LIMIT 1",
                             arguments: [name]).map(Self.algorithm)
        }
    }

    public func remove(name: String, version: String) async throws(AlgorithmStoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM algorithms WHERE name = ? AND version = ?", arguments: [name, version])
            return db.changesCount > 0
        }
    }

    public func setProducts(_ products: [ProductNode], name: String, version: String?) async throws(AlgorithmStoreError) {
        let encoded = StoredList.encode(products)
        try await write { db in
            try db.execute(sql: "UPDATE algorithms SET products = ? WHERE name = ? AND (? IS NULL OR version = ?)",
                           arguments: [encoded, name, version, version])
        }
    }

    public func pin(campaign: Int64, name: String, version: String) async throws(AlgorithmStoreError) {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO algorithm_campaigns (campaign, name, version) VALUES (?, ?, ?)
                ON CONFLICT (campaign, name) DO UPDATE SET version = excluded.version
                """, arguments: [campaign, name, version])
        }
    }

    public func pinnedVersion(campaign: Int64, name: String) async throws(AlgorithmStoreError) -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT version FROM algorithm_campaigns WHERE campaign = ? AND name = ?", arguments: [campaign, name])
        }
    }

    static func algorithm(_ row: Row) throws -> InstalledAlgorithm {
        let id: Int64 = row["id"]
        let productsText: String = row["products"]
        guard let products = StoredList.decode(productsText) else {
            throw AlgorithmStoreError.corruptRow(id: "\(id)", reason: "products '\(productsText)' is not instrument/level/descriptor,...")
        }
        return InstalledAlgorithm(
            name: row["name"], version: row["version"], spec: row["spec"], digest: row["digest"], python: row["python"],
            freeze: row["pip_freeze"], entryPoints: StoredList.names(row["entry_points"]), products: products,
            installedAt: UTCTime(secondsSince1970: row["installed_at"]), installedOn: row["installed_on"])
    }
}
