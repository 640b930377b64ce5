import Foundation
import GRDB
import SDCCore

/// Jobs and lineage in a SQLite database (WAL mode).
public final class SQLiteJobStore: JobStore {
    let pool: DatabasePool

    public init(path: String) throws(JobStoreError) {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw .database("cannot open \(path): \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: jobs and lineage") { db in
            try db.execute(sql: """
                CREATE TABLE jobs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
                    instrument TEXT NOT NULL,
                    data_level TEXT NOT NULL,
                    descriptor TEXT NOT NULL,
                    start_date TEXT NOT NULL,
                    repointing INTEGER,
                    major_version INTEGER NOT NULL,
                    minor_version INTEGER NOT NULL,
                    algorithm TEXT NOT NULL,
                    algorithm_version TEXT NOT NULL,
                    inputs TEXT NOT NULL,
                    inputs_hash TEXT NOT NULL,
                    campaign INTEGER NOT NULL DEFAULT 0,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    max_attempts INTEGER NOT NULL,
                    worker_id TEXT,
                    lease_expires_at INTEGER,
                    not_before INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    started_at INTEGER,
                    finished_at INTEGER,
                    log TEXT NOT NULL DEFAULT '',
                    outputs TEXT NOT NULL DEFAULT '[]',
                    error TEXT
                );
                CREATE UNIQUE INDEX jobs_unique_live ON jobs
                    (instrument, data_level, descriptor, start_date, COALESCE(repointing, -1), algorithm_version, inputs_hash, campaign)
                    WHERE status IN ('queued', 'running', 'succeeded');
                CREATE INDEX jobs_runnable ON jobs (status, not_before, id);
                CREATE INDEX jobs_by_product ON jobs (instrument, data_level, descriptor, start_date, major_version);
                CREATE TABLE lineage (
                    product_key TEXT NOT NULL,
                    input_name TEXT NOT NULL,
                    job_id INTEGER NOT NULL REFERENCES jobs(id),
                    PRIMARY KEY (product_key, input_name)
                );
                CREATE INDEX lineage_by_input ON lineage (input_name);
                CREATE TABLE triggers (
                    instrument TEXT NOT NULL,
                    data_level TEXT NOT NULL,
                    descriptor TEXT NOT NULL,
                    start_date TEXT NOT NULL,
                    repointing INTEGER NOT NULL DEFAULT -1,
                    campaign INTEGER NOT NULL DEFAULT 0,
                    due_at INTEGER NOT NULL,
                    PRIMARY KEY (instrument, data_level, descriptor, start_date, repointing, campaign)
                );
                """)
        }
        return migrator
    }

    private func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(JobStoreError) -> T {
        do { return try await pool.write(body) } catch let error as JobStoreError { throw error } catch { throw .database("\(error)") }
    }

    private func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(JobStoreError) -> T {
        do { return try await pool.read(body) } catch let error as JobStoreError { throw error } catch { throw .database("\(error)") }
    }

    private static var now: Int64 { UTCTime.now.secondsSince1970 }

    public func submit(_ request: JobRequest, highestCatalogedMinor: Int?) async throws(JobStoreError) -> (job: Job, created: Bool) {
        let inputs = request.inputs.json
        let hash = request.inputs.hash
        return try await write { db in
            let instrument = request.product.source, level = request.product.dataType, descriptor = request.product.descriptor
            let date = request.startDate.description
            if let existing = try Row.fetchOne(db, sql: """
                SELECT * FROM jobs WHERE instrument = ? AND data_level = ? AND descriptor = ? AND start_date = ?
                    AND COALESCE(repointing, -1) = COALESCE(?, -1) AND algorithm_version = ? AND inputs_hash = ? AND campaign = ?
                    AND status IN ('queued', 'running', 'succeeded')
                """, arguments: [instrument, level, descriptor, date, request.repointing, request.algorithmVersion, hash, request.campaign]) {
                return (try Self.job(existing), false)
            }
            let jobMinor = try Int.fetchOne(db, sql: """
                SELECT MAX(minor_version) FROM jobs WHERE instrument = ? AND data_level = ? AND (descriptor = ? OR descriptor = 'all' OR ? = 'all')
                    AND start_date = ? AND major_version = ? AND status <> 'failed'
                """, arguments: [instrument, level, descriptor, descriptor, date, request.majorVersion])
            let minor = max(highestCatalogedMinor ?? 0, jobMinor ?? 0) + 1
            let now = Self.now
            try db.execute(sql: """
                INSERT INTO jobs (status, instrument, data_level, descriptor, start_date, repointing, major_version, minor_version,
                    algorithm, algorithm_version, inputs, inputs_hash, campaign, max_attempts, not_before, created_at)
                VALUES ('queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [instrument, level, descriptor, date, request.repointing, request.majorVersion, minor, request.algorithm,
                                 request.algorithmVersion, inputs, hash, request.campaign, request.maxAttempts, now, now])
            let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [db.lastInsertedRowID])!
            return (try Self.job(row), true)
        }
    }

    public func claim(workerID: String, leaseSeconds: Int64) async throws(JobStoreError) -> Job? {
        try await write { db in
            let now = Self.now
            guard let id = try Int64.fetchOne(db, sql: """
                SELECT id FROM jobs
                WHERE (status = 'queued' AND not_before <= ?) OR (status = 'running' AND lease_expires_at < ? AND attempts < max_attempts)
                ORDER BY id LIMIT 1
                """, arguments: [now, now]) else { return nil }
            try db.execute(sql: """
                UPDATE jobs SET status = 'running', worker_id = ?, lease_expires_at = ?, attempts = attempts + 1, started_at = ?,
                    log = log || '[sdc] attempt ' || (attempts + 1) || ' of ' || max_attempts || ' on worker ' || ? || char(10)
                WHERE id = ?
                """, arguments: [workerID, now + leaseSeconds, now, workerID, id])
            return try Self.job(Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id])!)
        }
    }

    public func renewLease(jobID: Int64, workerID: String, leaseSeconds: Int64) async throws(JobStoreError) {
        try await write { db in
            try db.execute(sql: "UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND worker_id = ? AND status = 'running'",
                           arguments: [Self.now + leaseSeconds, jobID, workerID])
            if db.changesCount == 0 { throw JobStoreError.leaseLost(jobID) }
        }
    }

    public func complete(jobID: Int64, workerID: String, outputs: [String], log: String) async throws(JobStoreError) -> Job {
        try await write { db in
            let encoded = JSONValue.array(outputs.map(JSONValue.string)).serialized()
            try db.execute(sql: """
                UPDATE jobs SET status = 'succeeded', finished_at = ?, outputs = ?, log = log || ?, lease_expires_at = NULL, error = NULL
                WHERE id = ? AND worker_id = ? AND status = 'running'
                """, arguments: [Self.now, encoded, log, jobID, workerID])
            if db.changesCount == 0 { throw JobStoreError.leaseLost(jobID) }
            let job = try Self.job(Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobID])!)
            for output in outputs {
                for input in job.inputNames {
                    try db.execute(sql: "INSERT OR IGNORE INTO lineage (product_key, input_name, job_id) VALUES (?, ?, ?)",
                                   arguments: [output, input, jobID])
                }
            }
            return job
        }
    }

    public func fail(jobID: Int64, workerID: String, error: String, log: String, backoffSeconds: Int64) async throws(JobStoreError) -> Job {
        try await write { db in
            try db.execute(sql: """
                UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
                    not_before = ?, finished_at = ?, error = ?, log = log || ?, lease_expires_at = NULL
                WHERE id = ? AND worker_id = ? AND status = 'running'
                """, arguments: [Self.now + backoffSeconds, Self.now, error, log, jobID, workerID])
            if db.changesCount == 0 { throw JobStoreError.leaseLost(jobID) }
            return try Self.job(Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobID])!)
        }
    }

    public func expireLostJobs() async throws(JobStoreError) -> [Job] {
        try await write { db in
            let now = Self.now
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE status = 'running' AND lease_expires_at < ? AND attempts >= max_attempts",
                                        arguments: [now])
            for row in rows {
                try db.execute(sql: """
                    UPDATE jobs SET status = 'failed', finished_at = ?, error = ?, log = log || ? WHERE id = ?
                    """, arguments: [now, "the worker stopped responding (lease expired) on the last attempt",
                                     "\n[sdc] worker \(row["worker_id"] as String? ?? "?") lost its lease; no attempts left\n", row["id"] as Int64])
            }
            return try rows.map { try Self.job(Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [$0["id"] as Int64])!) }
        }
    }

    public func retry(jobID: Int64) async throws(JobStoreError) -> Job {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobID]) else { throw JobStoreError.notFound(jobID) }
            let job = try Self.job(row)
            guard job.status == .failed else { throw JobStoreError.notRetryable(jobID, job.status) }
            try db.execute(sql: "UPDATE jobs SET status = 'queued', attempts = 0, not_before = ?, error = NULL, worker_id = NULL WHERE id = ?",
                           arguments: [Self.now, jobID])
            return try Self.job(Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobID])!)
        }
    }

    public func job(id: Int64) async throws(JobStoreError) -> Job? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.job) }
    }

    public func jobs(matching filter: JobFilter) async throws(JobStoreError) -> [Job] {
        var clauses: [String] = []
        var arguments: [(any DatabaseValueConvertible & Sendable)?] = []
        func add(_ clause: String, _ value: (any DatabaseValueConvertible & Sendable)?) {
            guard let value else { return }
            clauses.append(clause)
            arguments.append(value)
        }
        add("status = ?", filter.status?.rawValue)
        add("instrument = ?", filter.instrument?.rawValue)
        add("data_level = ?", filter.dataLevel?.rawValue)
        add("descriptor = ?", filter.descriptor)
        add("start_date = ?", filter.startDate?.description)
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sql = "SELECT * FROM jobs \(whereClause) ORDER BY id DESC LIMIT \(max(1, filter.limit))"
        let statementArguments = StatementArguments(arguments)
        return try await read { db in try Row.fetchAll(db, sql: sql, arguments: statementArguments).map(Self.job) }
    }

    public func countsByStatus() async throws(JobStoreError) -> [JobStatus: Int] {
        try await read { db in
            var counts = Dictionary(uniqueKeysWithValues: JobStatus.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status") {
                if let status = JobStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    public func addTrigger(product: ProductNode, date: FileDate, repointing: Int?, campaign: Int64, dueMilliseconds: Int64) async throws(JobStoreError) {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO triggers (instrument, data_level, descriptor, start_date, repointing, campaign, due_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET due_at = MIN(due_at, excluded.due_at)
                """, arguments: [product.source, product.dataType, product.descriptor, date.description, repointing ?? -1, campaign,
                                 dueMilliseconds])
        }
    }

    public func takeDueTriggers(nowMilliseconds: Int64) async throws(JobStoreError) -> [Trigger] {
        try await write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM triggers WHERE due_at <= ? ORDER BY due_at", arguments: [nowMilliseconds])
            try db.execute(sql: "DELETE FROM triggers WHERE due_at <= ?", arguments: [nowMilliseconds])
            return rows.map { row in
                let repointing: Int = row["repointing"]
                return Trigger(product: ProductNode(row["instrument"], row["data_level"], row["descriptor"]),
                               date: FileDate(yyyymmdd: row["start_date"] as String)!, repointing: repointing < 0 ? nil : repointing,
                               campaign: row["campaign"])
            }
        }
    }

    public func nextTriggerDueMilliseconds() async throws(JobStoreError) -> Int64? {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT MIN(due_at) FROM triggers") }
    }

    public func inputs(ofProduct key: String) async throws(JobStoreError) -> [String] {
        try await read { db in try String.fetchAll(db, sql: "SELECT input_name FROM lineage WHERE product_key = ? ORDER BY input_name", arguments: [key]) }
    }

    public func products(madeFrom name: String) async throws(JobStoreError) -> [String] {
        try await read { db in try String.fetchAll(db, sql: "SELECT product_key FROM lineage WHERE input_name = ? ORDER BY product_key", arguments: [name]) }
    }

    static func job(_ row: Row) throws -> Job {
        func time(_ column: String) -> UTCTime? { (row[column] as Int64?).map(UTCTime.init(secondsSince1970:)) }
        let outputs = (try? JSONSerialization.jsonObject(with: Data((row["outputs"] as String).utf8)) as? [String]) ?? []
        return Job(
            id: row["id"], status: JobStatus(rawValue: row["status"]) ?? .failed,
            product: ProductNode(row["instrument"], row["data_level"], row["descriptor"]),
            startDate: FileDate(yyyymmdd: row["start_date"] as String)!, repointing: row["repointing"],
            version: ProductVersion(major: row["major_version"], minor: row["minor_version"]),
            algorithm: row["algorithm"], algorithmVersion: row["algorithm_version"], inputs: row["inputs"], inputsHash: row["inputs_hash"],
            campaign: row["campaign"], attempts: row["attempts"], maxAttempts: row["max_attempts"], workerID: row["worker_id"],
            leaseExpiresAt: time("lease_expires_at"), notBefore: time("not_before")!, createdAt: time("created_at")!,
            startedAt: time("started_at"), finishedAt: time("finished_at"), log: row["log"], outputs: outputs, error: row["error"])
    }
}
