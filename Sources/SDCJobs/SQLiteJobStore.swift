import Foundation
import GRDB
import SDCCore

/// Jobs and lineage in a SQLite database (WAL mode).
public final class SQLiteJobStore: JobStore {
    let pool: DatabasePool
    let clock: JobClock

    public init(path: String, clock: JobClock = .system) throws(JobStoreError) {
        self.clock = clock
        do {
            pool = try openMigratedPool(path: path, migrator: Self.migrator)
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
        migrator.registerMigration("v2: job credentials") { db in
            // The SHA-256 of the credential of the claim that holds a running job's lease; NULL otherwise.
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN credential_sha256 TEXT")
        }
        migrator.registerMigration("v3: products at any level, one uniqueness key, postponements, uploads") { db in
            try db.execute(sql: """
                ALTER TABLE jobs ADD COLUMN products TEXT NOT NULL DEFAULT '[]';
                UPDATE jobs SET products = '["' || instrument || '/' || data_level || '/' || descriptor || '"]';
                ALTER TABLE jobs ADD COLUMN uniqueness_key TEXT NOT NULL DEFAULT '';
                UPDATE jobs SET uniqueness_key = \(JobUniqueness.sqlExpression);
                ALTER TABLE jobs ADD COLUMN postponements INTEGER NOT NULL DEFAULT 0;
                DROP INDEX jobs_unique_live;
                CREATE UNIQUE INDEX jobs_unique_live ON jobs (uniqueness_key) WHERE status IN ('queued', 'running', 'succeeded');
                CREATE INDEX jobs_by_day ON jobs (instrument, start_date, major_version);
                CREATE TABLE job_uploads (
                    job_id INTEGER NOT NULL REFERENCES jobs(id),
                    name TEXT NOT NULL,
                    refused INTEGER NOT NULL,
                    PRIMARY KEY (job_id, name)
                );
                """)
        }
        migrator.registerMigration("v4: waiting triggers") { db in
            // What a trigger whose required input is missing waits for; NULL for a trigger that is due.
            try db.execute(sql: "ALTER TABLE triggers ADD COLUMN waiting_for TEXT")
        }
        return migrator
    }

    private func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(JobStoreError) -> T {
        try await pool.write(body, failure: JobStoreError.database)
    }

    private func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(JobStoreError) -> T {
        try await pool.read(body, failure: JobStoreError.database)
    }

    private var now: Int64 { clock.seconds }

    /// The job with `id`, which the caller knows exists.
    private static func fetchJob(_ db: Database, id: Int64) throws -> Job {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]) else { throw JobStoreError.notFound(id) }
        return try job(row)
    }

    public func submit(_ request: JobRequest, highestCatalogedMinor: Int?) async throws(JobStoreError) -> (job: Job, created: Bool) {
        let now = now
        return try await write { db in try Self.insert(request, highestCatalogedMinor: highestCatalogedMinor, now: now, in: db) }
    }

    public func submit(_ request: JobRequest?, highestCatalogedMinor: Int?, completing claimed: ClaimedTrigger) async throws(JobStoreError) -> (job: Job, created: Bool)? {
        let now = now
        return try await write { db in
            let trigger = claimed.trigger
            // A trigger re-armed since the claim (a new arrival moved its due time) stays, to be planned again.
            try db.execute(sql: """
                DELETE FROM triggers WHERE instrument = ? AND data_level = ? AND descriptor = ? AND start_date = ? AND repointing = ?
                    AND campaign = ? AND due_at = ?
                """, arguments: [trigger.product.source, trigger.product.dataType, trigger.product.descriptor, trigger.date.description,
                                 trigger.repointing ?? -1, trigger.campaign, claimed.claimedDue])
            return try request.map { try Self.insert($0, highestCatalogedMinor: highestCatalogedMinor, now: now, in: db) }
        }
    }

    private static func insert(_ request: JobRequest, highestCatalogedMinor: Int?, now: Int64, in db: Database) throws -> (job: Job, created: Bool) {
        let key = request.uniquenessKey
        if let existing = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE uniqueness_key = ? AND status IN ('queued', 'running', 'succeeded')",
                                           arguments: [key]) {
            return (try job(existing), false)
        }
        let overlap = JobProductOverlap(request.products)
        let jobMinor = try Int.fetchOne(db, sql: """
            SELECT MAX(minor_version) FROM jobs WHERE instrument = ? AND start_date = ? AND major_version = ? AND status <> 'failed'
                AND (\(overlap.condition))
            """, arguments: StatementArguments([request.product.source, request.startDate.description, request.majorVersion]
                                           + overlap.patterns.map { $0 as any DatabaseValueConvertible }))
        let minor = max(highestCatalogedMinor ?? 0, jobMinor ?? 0) + 1
        try db.execute(sql: """
            INSERT INTO jobs (status, instrument, data_level, descriptor, start_date, repointing, major_version, minor_version,
                algorithm, algorithm_version, inputs, inputs_hash, campaign, max_attempts, not_before, created_at, products, uniqueness_key)
            VALUES ('queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [request.product.source, request.product.dataType, request.product.descriptor, request.startDate.description,
                             request.repointing, request.majorVersion, minor, request.algorithm, request.algorithmVersion, request.inputs.json,
                             request.inputs.hash, request.campaign, request.maxAttempts, now, now, request.productsText, key])
        return (try fetchJob(db, id: db.lastInsertedRowID), true)
    }

    public func claim(workerID: String, leaseSeconds: Int64) async throws(JobStoreError) -> ClaimedJob? {
        try JobLimits.check(leaseSeconds, in: JobLimits.leaseSeconds, "lease")
        let now = now
        return try await write { db in
            guard let id = try Int64.fetchOne(db, sql: """
                SELECT id FROM jobs
                WHERE (status = 'queued' AND not_before <= ?) OR (status = 'running' AND lease_expires_at < ? AND attempts < max_attempts)
                ORDER BY id LIMIT 1
                """, arguments: [now, now]) else { return nil }
            let credential = JobCredential(jobID: id)
            try db.execute(sql: """
                UPDATE jobs SET status = 'running', worker_id = ?, lease_expires_at = ?, attempts = attempts + 1, started_at = ?,
                    credential_sha256 = ?,
                    log = log || '[sdc] attempt ' || (attempts + 1) || ' of ' || max_attempts || ' on worker ' || ? || char(10)
                WHERE id = ?
                """, arguments: [workerID, now + leaseSeconds, now, credential.sha256, workerID, id])
            return ClaimedJob(job: try Self.fetchJob(db, id: id), credential: credential)
        }
    }

    /// The SQL condition that `credential` holds a live lease on its job (arguments: id, hash, now).
    private static let leaseHeld = "id = ? AND credential_sha256 = ? AND status = 'running' AND lease_expires_at >= ?"

    public func renewLease(_ credential: JobCredential, leaseSeconds: Int64) async throws(JobStoreError) {
        try JobLimits.check(leaseSeconds, in: JobLimits.leaseSeconds, "lease")
        let now = now
        try await write { db in
            try db.execute(sql: "UPDATE jobs SET lease_expires_at = ? WHERE \(Self.leaseHeld)",
                           arguments: [now + leaseSeconds, credential.jobID, credential.sha256, now])
            if db.changesCount == 0 { throw JobStoreError.leaseLost(credential.jobID) }
        }
    }

    public func complete(_ credential: JobCredential, outputs: [String], log: String) async throws(JobStoreError) -> Job {
        let now = now
        return try await write { db in
            let refused = try String.fetchAll(db, sql: "SELECT name FROM job_uploads WHERE job_id = ? AND refused = 1 ORDER BY name",
                                              arguments: [credential.jobID])
            if !refused.isEmpty {
                // A collision is final: a retry would be refused the same names.
                try db.execute(sql: """
                    UPDATE jobs SET status = 'failed', finished_at = ?, error = ?, log = log || ?, lease_expires_at = NULL, credential_sha256 = NULL
                    WHERE \(Self.leaseHeld)
                    """, arguments: [now, UploadCollision.message(refused), log, credential.jobID, credential.sha256, now])
                if db.changesCount == 0 { throw JobStoreError.leaseLost(credential.jobID) }
                return try Self.fetchJob(db, id: credential.jobID)
            }
            let encoded = JSONValue.array(outputs.map(JSONValue.string)).serialized()
            try db.execute(sql: """
                UPDATE jobs SET status = 'succeeded', finished_at = ?, outputs = ?, log = log || ?, lease_expires_at = NULL, error = NULL,
                    credential_sha256 = NULL
                WHERE \(Self.leaseHeld)
                """, arguments: [now, encoded, log, credential.jobID, credential.sha256, now])
            if db.changesCount == 0 { throw JobStoreError.leaseLost(credential.jobID) }
            let job = try Self.fetchJob(db, id: credential.jobID)
            for output in outputs {
                for input in job.inputNames {
                    try db.execute(sql: "INSERT OR IGNORE INTO lineage (product_key, input_name, job_id) VALUES (?, ?, ?)",
                                   arguments: [output, input, job.id])
                }
            }
            return job
        }
    }

    public func fail(_ credential: JobCredential, error: String, log: String, backoffSeconds: Int64) async throws(JobStoreError) -> Job {
        try JobLimits.check(backoffSeconds, in: JobLimits.backoffSeconds, "backoff")
        let now = now
        return try await write { db in
            // A refused upload makes the failure final, and is its reason.
            let refused = try String.fetchAll(db, sql: "SELECT name FROM job_uploads WHERE job_id = ? AND refused = 1 ORDER BY name",
                                              arguments: [credential.jobID])
            try db.execute(sql: """
                UPDATE jobs SET status = CASE WHEN attempts >= max_attempts OR ? THEN 'failed' ELSE 'queued' END,
                    not_before = ?, finished_at = ?, error = ?, log = log || ?, lease_expires_at = NULL, credential_sha256 = NULL
                WHERE \(Self.leaseHeld)
                """, arguments: [!refused.isEmpty, now + backoffSeconds, now, UploadCollision.reason(refused, else: error), log,
                                 credential.jobID, credential.sha256, now])
            if db.changesCount == 0 { throw JobStoreError.leaseLost(credential.jobID) }
            return try Self.fetchJob(db, id: credential.jobID)
        }
    }

    public func release(_ credential: JobCredential, log: String) async throws(JobStoreError) -> Job {
        let now = now
        return try await write { db in
            try db.execute(sql: """
                UPDATE jobs SET status = 'queued', attempts = attempts - 1, not_before = ?, log = log || ?, lease_expires_at = NULL,
                    credential_sha256 = NULL
                WHERE \(Self.leaseHeld)
                """, arguments: [now, log, credential.jobID, credential.sha256, now])
            if db.changesCount == 0 { throw JobStoreError.leaseLost(credential.jobID) }
            return try Self.fetchJob(db, id: credential.jobID)
        }
    }

    public func postpone(_ credential: JobCredential, reason: String, log: String) async throws(JobStoreError) -> Job {
        let now = now
        return try await write { db in
            guard let postponements = try Int.fetchOne(db, sql: "SELECT postponements FROM jobs WHERE \(Self.leaseHeld)",
                                                       arguments: [credential.jobID, credential.sha256, now]) else {
                throw JobStoreError.leaseLost(credential.jobID)
            }
            if postponements >= JobLimits.maximumPostponements {
                let message = "\(reason), after \(postponements) postponements: counted as a failed attempt"
                try db.execute(sql: """
                    UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
                        not_before = ?, finished_at = ?, error = ?, log = log || ?, lease_expires_at = NULL, credential_sha256 = NULL
                    WHERE id = ?
                    """, arguments: [now + JobLimits.postponementSeconds(postponements), now, message, log, credential.jobID])
            } else {
                try db.execute(sql: """
                    UPDATE jobs SET status = 'queued', attempts = attempts - 1, postponements = postponements + 1, not_before = ?, log = log || ?,
                        lease_expires_at = NULL, credential_sha256 = NULL
                    WHERE id = ?
                    """, arguments: [now + JobLimits.postponementSeconds(postponements + 1), log, credential.jobID])
            }
            return try Self.fetchJob(db, id: credential.jobID)
        }
    }

    public func recordUpload(_ credential: JobCredential, name: String, exists: Bool) async throws(JobStoreError) -> UploadVerdict {
        try await write { db in
            if !exists {
                try db.execute(sql: "INSERT INTO job_uploads (job_id, name, refused) VALUES (?, ?, 0) ON CONFLICT DO UPDATE SET refused = 0",
                               arguments: [credential.jobID, name])
                return .granted
            }
            if try Int.fetchOne(db, sql: "SELECT refused FROM job_uploads WHERE job_id = ? AND name = ?", arguments: [credential.jobID, name]) == 0 {
                return .ownEarlierUpload
            }
            try db.execute(sql: "INSERT INTO job_uploads (job_id, name, refused) VALUES (?, ?, 1) ON CONFLICT DO NOTHING",
                           arguments: [credential.jobID, name])
            return .refused
        }
    }

    public func expireLostJobs() async throws(JobStoreError) -> [Job] {
        let now = now
        return try await write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, worker_id FROM jobs WHERE status = 'running' AND lease_expires_at < ? AND attempts >= max_attempts",
                                        arguments: [now])
            var expired: [Job] = []
            for row in rows {
                let id: Int64 = row["id"]
                try db.execute(sql: """
                    UPDATE jobs SET status = 'failed', finished_at = ?, error = ?, log = log || ?, credential_sha256 = NULL WHERE id = ?
                    """, arguments: [now, "the worker stopped responding (lease expired) on the last attempt",
                                     "\n[sdc] worker \(row["worker_id"] as String? ?? "?") lost its lease; no attempts left\n", id])
                expired.append(try Self.fetchJob(db, id: id))
            }
            return expired
        }
    }

    public func retry(jobID: Int64) async throws(JobStoreError) -> Job {
        let now = now
        return try await write { db in
            let job = try Self.fetchJob(db, id: jobID)
            guard job.status == .failed else { throw JobStoreError.notRetryable(jobID, job.status) }
            try db.execute(sql: "UPDATE jobs SET status = 'queued', attempts = 0, not_before = ?, error = NULL, worker_id = NULL WHERE id = ?",
                           arguments: [now, jobID])
            return try Self.fetchJob(db, id: jobID)
        }
    }

    public func job(id: Int64) async throws(JobStoreError) -> Job? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.job) }
    }

    public func job(authenticatedBy credential: JobCredential) async throws(JobStoreError) -> Job? {
        let now = now
        return try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE \(Self.leaseHeld)", arguments: [credential.jobID, credential.sha256, now]).map(Self.job)
        }
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

    public func addTriggers(_ triggers: [Trigger], dueMilliseconds: Int64) async throws(JobStoreError) {
        guard !triggers.isEmpty else { return }
        try await write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO triggers (instrument, data_level, descriptor, start_date, repointing, campaign, due_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET due_at = MIN(due_at, excluded.due_at), waiting_for = NULL
                """)
            for trigger in triggers {
                try statement.execute(arguments: [trigger.product.source, trigger.product.dataType, trigger.product.descriptor,
                                                  trigger.date.description, trigger.repointing ?? -1, trigger.campaign, dueMilliseconds])
            }
        }
    }

    public func claimDueTriggers(nowMilliseconds: Int64, limit: Int) async throws(JobStoreError) -> [ClaimedTrigger] {
        let claimedDue = nowMilliseconds + JobLimits.triggerClaimMilliseconds
        return try await write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT rowid, * FROM triggers WHERE due_at <= ? ORDER BY due_at LIMIT ?",
                                        arguments: [nowMilliseconds, max(1, limit)])
            var claimed: [ClaimedTrigger] = []
            for row in rows {
                try db.execute(sql: "UPDATE triggers SET due_at = ? WHERE rowid = ?", arguments: [claimedDue, row["rowid"] as Int64])
                claimed.append(ClaimedTrigger(trigger: try Self.trigger(row), claimedDue: claimedDue))
            }
            return claimed
        }
    }

    public func nextTriggerDueMilliseconds() async throws(JobStoreError) -> Int64? {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT MIN(due_at) FROM triggers WHERE waiting_for IS NULL") }
    }

    public func park(_ claimed: ClaimedTrigger, waitingFor reason: String) async throws(JobStoreError) {
        let trigger = claimed.trigger
        try await write { db in
            try db.execute(sql: """
                UPDATE triggers SET due_at = ?, waiting_for = ? WHERE instrument = ? AND data_level = ? AND descriptor = ?
                    AND start_date = ? AND repointing = ? AND campaign = ? AND due_at = ?
                """, arguments: [JobLimits.waitingDueMilliseconds, reason, trigger.product.source, trigger.product.dataType,
                                 trigger.product.descriptor, trigger.date.description, trigger.repointing ?? -1, trigger.campaign,
                                 claimed.claimedDue])
        }
    }

    public func wakeWaitingTriggers(products: [ProductNode]?, from: FileDate, through to: FileDate, dueMilliseconds: Int64) async throws(JobStoreError) -> Int {
        let query = WaitingTriggerSQL.wake(products: products, from: from, through: to, dueMilliseconds: dueMilliseconds)
        return try await write { db in
            try db.execute(sql: query.sql, arguments: StatementArguments(query.arguments.map(\.databaseValue)))
            return db.changesCount
        }
    }

    public func waitingTriggers(limit: Int) async throws(JobStoreError) -> [WaitingTrigger] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT rowid, * FROM triggers WHERE waiting_for IS NOT NULL ORDER BY start_date, instrument, data_level, descriptor LIMIT ?",
                             arguments: [max(1, limit)]).map { WaitingTrigger(trigger: try Self.trigger($0), reason: $0["waiting_for"]) }
        }
    }

    public func inputs(ofProduct key: String) async throws(JobStoreError) -> [String] {
        try await read { db in try String.fetchAll(db, sql: "SELECT input_name FROM lineage WHERE product_key = ? ORDER BY input_name", arguments: [key]) }
    }

    public func products(madeFrom name: String) async throws(JobStoreError) -> [String] {
        try await read { db in try String.fetchAll(db, sql: "SELECT product_key FROM lineage WHERE input_name = ? ORDER BY product_key", arguments: [name]) }
    }

    static func trigger(_ row: Row) throws -> Trigger {
        let text: String = row["start_date"]
        guard let date = FileDate(yyyymmdd: text) else {
            throw JobStoreError.corruptRow(table: "triggers", id: "\(row["rowid"] as Int64? ?? 0)", reason: "start_date '\(text)' is not YYYYMMDD")
        }
        let repointing: Int = row["repointing"]
        return Trigger(product: ProductNode(row["instrument"], row["data_level"], row["descriptor"]), date: date,
                       repointing: repointing < 0 ? nil : repointing, campaign: row["campaign"])
    }

    static func job(_ row: Row) throws -> Job {
        let id: Int64 = row["id"]
        func corrupt(_ reason: String) -> JobStoreError { .corruptRow(table: "jobs", id: "\(id)", reason: reason) }
        func time(_ column: String) -> UTCTime? { (row[column] as Int64?).map(UTCTime.init(secondsSince1970:)) }
        let statusText: String = row["status"], dateText: String = row["start_date"], outputsText: String = row["outputs"]
        let productsText: String = row["products"]
        guard let status = JobStatus(rawValue: statusText) else { throw corrupt("unknown status '\(statusText)'") }
        guard let date = FileDate(yyyymmdd: dateText) else { throw corrupt("start_date '\(dateText)' is not YYYYMMDD") }
        guard let notBefore = time("not_before"), let createdAt = time("created_at") else { throw corrupt("not_before or created_at is NULL") }
        guard let outputs = try? JSONDecoder().decode([String].self, from: Data(outputsText.utf8)) else {
            throw corrupt("outputs is not a JSON array of strings")
        }
        guard let products = Job.products(fromText: productsText) else { throw corrupt("products is not a JSON array of source/level/descriptor") }
        return Job(
            id: id, status: status, product: ProductNode(row["instrument"], row["data_level"], row["descriptor"]),
            startDate: date, repointing: row["repointing"], products: products,
            version: ProductVersion(major: row["major_version"], minor: row["minor_version"]),
            algorithm: row["algorithm"], algorithmVersion: row["algorithm_version"], inputs: row["inputs"], inputsHash: row["inputs_hash"],
            campaign: row["campaign"], uniquenessKey: row["uniqueness_key"], attempts: row["attempts"], maxAttempts: row["max_attempts"],
            postponements: row["postponements"], workerID: row["worker_id"],
            leaseExpiresAt: time("lease_expires_at"), notBefore: notBefore, createdAt: createdAt,
            startedAt: time("started_at"), finishedAt: time("finished_at"), log: row["log"], outputs: outputs, error: row["error"])
    }
}

extension WaitingTriggerSQL.Argument {
    /// The value GRDB binds.
    var databaseValue: DatabaseValue {
        switch self {
        case .text(let text): text.databaseValue
        case .integer(let integer): integer.databaseValue
        }
    }
}
