import Foundation
import PostgresNIO
import SDCCatalog
import SDCCore
import SDCJobs

/// Jobs, settling triggers and lineage in PostgreSQL, with the semantics of ``SQLiteJobStore``, for workers and
/// planners in many processes on one database.
///
/// Concurrency is correct by construction: a claim is one `UPDATE` of a row chosen `FOR UPDATE SKIP LOCKED` (two
/// workers never get the same job, and neither waits for the other); duplicates are refused by the partial unique index
/// through `ON CONFLICT`; a new job's minor version is chosen under a transaction-scoped advisory lock on its product
/// and day; triggers are claimed by pushing `due_at` forward, `SKIP LOCKED` as well.
public final class PostgresJobStore: JobStore {
    let database: PostgresDatabase
    let clock: JobClock

    /// Migrates the job tables of `database` (under the migration lock) and returns the store, reading the time from
    /// `clock`.
    public init(database: PostgresDatabase, clock: JobClock = .system) async throws(PostgresDatabaseError) {
        self.database = database
        self.clock = clock
        try await database.migrate(component: "jobs", Self.migrations)
    }

    /// Never edit a released migration; add one.
    static let migrations: [PostgresDatabase.Migration] = [
        PostgresDatabase.Migration(version: 1, name: "jobs, lineage, triggers, credentials", statements: [
            """
            CREATE TABLE jobs (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
                instrument TEXT NOT NULL,
                data_level TEXT NOT NULL,
                descriptor TEXT NOT NULL,
                start_date TEXT NOT NULL,
                repointing BIGINT,
                major_version BIGINT NOT NULL,
                minor_version BIGINT NOT NULL,
                algorithm TEXT NOT NULL,
                algorithm_version TEXT NOT NULL,
                inputs TEXT NOT NULL,
                inputs_hash TEXT NOT NULL,
                campaign BIGINT NOT NULL DEFAULT 0,
                attempts BIGINT NOT NULL DEFAULT 0,
                max_attempts BIGINT NOT NULL,
                worker_id TEXT,
                lease_expires_at BIGINT,
                not_before BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                started_at BIGINT,
                finished_at BIGINT,
                log TEXT NOT NULL DEFAULT '',
                outputs TEXT NOT NULL DEFAULT '[]',
                error TEXT,
                credential_sha256 TEXT)
            """,
            "CREATE UNIQUE INDEX jobs_unique_live ON jobs (\(liveKey)) WHERE \(live)",
            "CREATE INDEX jobs_runnable ON jobs (status, not_before, id)",
            "CREATE INDEX jobs_by_product ON jobs (instrument, data_level, descriptor, start_date, major_version)",
            """
            CREATE TABLE lineage (
                product_key TEXT COLLATE "C" NOT NULL,
                input_name TEXT COLLATE "C" NOT NULL,
                job_id BIGINT NOT NULL REFERENCES jobs(id),
                PRIMARY KEY (product_key, input_name))
            """,
            "CREATE INDEX lineage_by_input ON lineage (input_name)",
            """
            CREATE TABLE triggers (
                instrument TEXT NOT NULL,
                data_level TEXT NOT NULL,
                descriptor TEXT NOT NULL,
                start_date TEXT NOT NULL,
                repointing BIGINT NOT NULL DEFAULT -1,
                campaign BIGINT NOT NULL DEFAULT 0,
                due_at BIGINT NOT NULL,
                PRIMARY KEY (instrument, data_level, descriptor, start_date, repointing, campaign))
            """,
            "CREATE INDEX triggers_by_due ON triggers (due_at)",
        ]),
        PostgresDatabase.Migration(version: 2, name: "products at any level, one uniqueness key, postponements, uploads", statements: [
            "ALTER TABLE jobs ADD COLUMN products TEXT NOT NULL DEFAULT '[]'",
            "UPDATE jobs SET products = '[\"' || instrument || '/' || data_level || '/' || descriptor || '\"]'",
            "ALTER TABLE jobs ADD COLUMN uniqueness_key TEXT NOT NULL DEFAULT ''",
            "UPDATE jobs SET uniqueness_key = \(JobUniqueness.sqlExpression)",
            "ALTER TABLE jobs ADD COLUMN postponements BIGINT NOT NULL DEFAULT 0",
            "DROP INDEX jobs_unique_live",
            "CREATE UNIQUE INDEX jobs_unique_live ON jobs (uniqueness_key) WHERE \(live)",
            "CREATE INDEX jobs_by_day ON jobs (instrument, start_date, major_version)",
            """
            CREATE TABLE job_uploads (
                job_id BIGINT NOT NULL REFERENCES jobs(id),
                name TEXT COLLATE "C" NOT NULL,
                refused BOOLEAN NOT NULL,
                PRIMARY KEY (job_id, name))
            """,
        ]),
        PostgresDatabase.Migration(version: 3, name: "waiting triggers", statements: [
            // What a trigger whose required input is missing waits for; NULL for a trigger that is due.
            "ALTER TABLE triggers ADD COLUMN waiting_for TEXT",
        ]),
    ]

    /// The columns of the uniqueness rule as migration 1 indexed them (migration 2 replaced them with `uniqueness_key`).
    static let liveKey = "instrument, data_level, descriptor, start_date, COALESCE(repointing, -1), algorithm_version, inputs_hash, campaign"
    /// The statuses the uniqueness rule (pipeline.md §6, ``JobUniqueness``) covers.
    static let live = "status IN ('queued', 'running', 'succeeded')"

    private var now: Int64 { clock.seconds }

    // MARK: Running statements

    private func rows(_ query: SQLQuery) async throws(JobStoreError) -> [PostgresRandomAccessRow] {
        try await database.rows(query, failure: JobStoreError.database)
    }

    private func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresDatabase.Transaction) async throws -> T) async throws(JobStoreError) -> T {
        try await database.transaction(body, failure: JobStoreError.database)
    }

    private func jobs(_ query: SQLQuery) async throws(JobStoreError) -> [Job] {
        var jobs: [Job] = []
        for row in try await rows(query) { jobs.append(try Self.job(row)) }
        return jobs
    }

    // MARK: Submitting

    public func submit(_ request: JobRequest, highestCatalogedMinor: Int?) async throws(JobStoreError) -> (job: Job, created: Bool) {
        let now = now
        return try await transaction { transaction in
            try await Self.insert(request, highestCatalogedMinor: highestCatalogedMinor, now: now, in: transaction)
        }
    }

    public func submit(_ request: JobRequest?, highestCatalogedMinor: Int?, completing claimed: ClaimedTrigger) async throws(JobStoreError) -> (job: Job, created: Bool)? {
        let now = now
        let trigger = claimed.trigger
        // A trigger re-armed since the claim (a new arrival moved its due time) stays, to be planned again.
        let delete = SQLQuery("""
            DELETE FROM triggers WHERE instrument = ? AND data_level = ? AND descriptor = ? AND start_date = ? AND repointing = ?
                AND campaign = ? AND due_at = ?
            """, [.text(trigger.product.source), .text(trigger.product.dataType), .text(trigger.product.descriptor),
                  .text(trigger.date.description), SQLValue(trigger.repointing ?? -1), .integer(trigger.campaign), .integer(claimed.claimedDue)])
        return try await transaction { transaction in
            try await transaction.rows(delete)
            guard let request else { return nil }
            return try await Self.insert(request, highestCatalogedMinor: highestCatalogedMinor, now: now, in: transaction)
        }
    }

    /// Inserts the job, or finds the live or successful one it duplicates. Its minor version is chosen under an advisory
    /// lock on the instrument, day and major version (held to the end of the transaction), so that concurrent
    /// submissions of jobs making overlapping products never choose the same one.
    private static func insert(_ request: JobRequest, highestCatalogedMinor: Int?, now: Int64,
                               in transaction: PostgresDatabase.Transaction) async throws -> (job: Job, created: Bool) {
        let instrument = SQLValue.text(request.product.source), date = SQLValue.text(request.startDate.description)
        let major = SQLValue(request.majorVersion), key = SQLValue.text(request.uniquenessKey)
        try await transaction.rows(SQLQuery("SELECT pg_advisory_xact_lock(hashtextextended(? || '/' || ? || '/' || ?, 0))",
                                            [instrument, date, .text(String(request.majorVersion))]))
        let overlap = JobProductOverlap(request.products)
        let inserted = try await transaction.rows(SQLQuery("""
            INSERT INTO jobs (status, instrument, data_level, descriptor, start_date, repointing, major_version, minor_version,
                algorithm, algorithm_version, inputs, inputs_hash, campaign, max_attempts, not_before, created_at, products, uniqueness_key)
            SELECT 'queued', ?, ?, ?, ?, ?, ?, GREATEST(?, COALESCE(MAX(minor_version), 0)) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
            FROM jobs WHERE instrument = ? AND start_date = ? AND major_version = ? AND status <> 'failed' AND (\(overlap.condition))
            ON CONFLICT (uniqueness_key) WHERE \(live) DO NOTHING
            RETURNING *
            """, [instrument, .text(request.product.dataType), .text(request.product.descriptor), date, SQLValue(request.repointing), major,
                  .integer(Int64(highestCatalogedMinor ?? 0)), .text(request.algorithm), .text(request.algorithmVersion),
                  .text(request.inputs.json), .text(request.inputs.hash), .integer(request.campaign), SQLValue(request.maxAttempts),
                  .integer(now), .integer(now), .text(request.productsText), key,
                  instrument, date, major] + overlap.patterns.map(SQLValue.text)))
        if let row = inserted.first { return (try job(row), true) }
        // The duplicate is committed (ON CONFLICT waited for it), and the lock keeps new ones out.
        let existing = try await transaction.rows(SQLQuery("SELECT * FROM jobs WHERE uniqueness_key = ? AND \(live)", [key]))
        guard let row = existing.first else {
            throw JobStoreError.database("job for \(request.product) on \(request.startDate) conflicted with one that then failed; submit again")
        }
        return (try job(row), false)
    }

    // MARK: Leases

    public func claim(workerID: String, leaseSeconds: Int64) async throws(JobStoreError) -> ClaimedJob? {
        try JobLimits.check(leaseSeconds, in: JobLimits.leaseSeconds, "lease")
        let now = now
        let random = SecureRandom.bytes(32).hexString
        // The credential is `sdcjob_<id>_<random>`: the statement that picks the id stores the credential's SHA-256.
        let claimed = try await rows(SQLQuery("""
            UPDATE jobs SET status = 'running', worker_id = ?, lease_expires_at = ?, attempts = attempts + 1, started_at = ?,
                credential_sha256 = encode(sha256(convert_to('sdcjob_' || id || '_' || ?, 'UTF8')), 'hex'),
                log = log || '[sdc] attempt ' || (attempts + 1) || ' of ' || max_attempts || ' on worker ' || ? || chr(10)
            WHERE id = (
                SELECT id FROM jobs
                WHERE (status = 'queued' AND not_before <= ?) OR (status = 'running' AND lease_expires_at < ? AND attempts < max_attempts)
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING *
            """, [.text(workerID), .integer(now + leaseSeconds), .integer(now), .text(random), .text(workerID), .integer(now), .integer(now)]))
        guard let row = claimed.first else { return nil }
        let job = try Self.job(row)
        guard let credential = JobCredential(secret: "sdcjob_\(job.id)_\(random)") else {
            throw .database("job \(job.id) was claimed with a malformed credential")
        }
        return ClaimedJob(job: job, credential: credential)
    }

    /// The SQL condition that a credential holds a live lease on its job (values: ``leaseValues(_:now:)``).
    private static let leaseHeld = "id = ? AND credential_sha256 = ? AND status = 'running' AND lease_expires_at >= ?"

    private static func leaseValues(_ credential: JobCredential, now: Int64) -> [SQLValue] {
        [.integer(credential.jobID), .text(credential.sha256), .integer(now)]
    }

    /// Runs an update of the job `credential` holds; ``JobStoreError/leaseLost(_:)`` when it no longer holds it.
    private func updateLeased(_ credential: JobCredential, set assignments: String, _ values: [SQLValue]) async throws(JobStoreError) -> Job {
        let query = SQLQuery("UPDATE jobs SET \(assignments) WHERE \(Self.leaseHeld) RETURNING *",
                             values + Self.leaseValues(credential, now: now))
        guard let job = try await jobs(query).first else { throw .leaseLost(credential.jobID) }
        return job
    }

    public func renewLease(_ credential: JobCredential, leaseSeconds: Int64) async throws(JobStoreError) {
        try JobLimits.check(leaseSeconds, in: JobLimits.leaseSeconds, "lease")
        _ = try await updateLeased(credential, set: "lease_expires_at = ?", [.integer(now + leaseSeconds)])
    }

    public func complete(_ credential: JobCredential, outputs: [String], log: String) async throws(JobStoreError) -> Job {
        let now = now
        let refused = try await refusedUploads(of: credential.jobID)
        if !refused.isEmpty {
            // A collision is final: a retry would be refused the same names.
            return try await updateLeased(credential, set: """
                status = 'failed', finished_at = ?, error = ?, log = log || ?, lease_expires_at = NULL, credential_sha256 = NULL
                """, [.integer(now), .text(UploadCollision.message(refused)), .text(log)])
        }
        let encoded = JSONValue.array(outputs.map(JSONValue.string)).serialized()
        let update = SQLQuery("""
            UPDATE jobs SET status = 'succeeded', finished_at = ?, outputs = ?, log = log || ?, lease_expires_at = NULL, error = NULL,
                credential_sha256 = NULL
            WHERE \(Self.leaseHeld) RETURNING *
            """, [.integer(now), .text(encoded), .text(log)] + Self.leaseValues(credential, now: now))
        return try await transaction { transaction in
            guard let row = try await transaction.rows(update).first else { throw JobStoreError.leaseLost(credential.jobID) }
            let job = try Self.job(row)
            for output in outputs {
                for input in job.inputNames {
                    try await transaction.rows(SQLQuery(
                        "INSERT INTO lineage (product_key, input_name, job_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                        [.text(output), .text(input), .integer(job.id)]))
                }
            }
            return job
        }
    }

    public func fail(_ credential: JobCredential, error: String, log: String, backoffSeconds: Int64) async throws(JobStoreError) -> Job {
        try JobLimits.check(backoffSeconds, in: JobLimits.backoffSeconds, "backoff")
        let now = now
        // A refused upload makes the failure final, and is its reason.
        let refused = try await refusedUploads(of: credential.jobID)
        return try await updateLeased(credential, set: """
            status = CASE WHEN attempts >= max_attempts OR ? THEN 'failed' ELSE 'queued' END,
            not_before = ?, finished_at = ?, error = ?, log = log || ?, lease_expires_at = NULL, credential_sha256 = NULL
            """, [.boolean(!refused.isEmpty), .integer(now + backoffSeconds), .integer(now), .text(UploadCollision.reason(refused, else: error)), .text(log)])
    }

    public func release(_ credential: JobCredential, log: String) async throws(JobStoreError) -> Job {
        try await updateLeased(credential, set: """
            status = 'queued', attempts = attempts - 1, not_before = ?, log = log || ?, lease_expires_at = NULL, credential_sha256 = NULL
            """, [.integer(now), .text(log)])
    }

    public func postpone(_ credential: JobCredential, reason: String, log: String) async throws(JobStoreError) -> Job {
        let now = now
        let limit = Int64(JobLimits.maximumPostponements)
        // The wait grows with the count: JobLimits.postponementSeconds, tabulated for the SQL.
        let waits = (1...(JobLimits.maximumPostponements + 1)).map { "WHEN \($0) THEN \(JobLimits.postponementSeconds($0))" }.joined(separator: " ")
        return try await updateLeased(credential, set: """
            status = CASE WHEN postponements < ? THEN 'queued' WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
            attempts = CASE WHEN postponements < ? THEN attempts - 1 ELSE attempts END,
            not_before = ? + CASE LEAST(postponements + 1, ?) \(waits) END,
            finished_at = CASE WHEN postponements < ? THEN finished_at ELSE ? END,
            error = CASE WHEN postponements < ? THEN error ELSE ? || ', after ' || postponements || ' postponements: counted as a failed attempt' END,
            postponements = CASE WHEN postponements < ? THEN postponements + 1 ELSE postponements END,
            log = log || ?, lease_expires_at = NULL, credential_sha256 = NULL
            """, [.integer(limit), .integer(limit), .integer(now), .integer(limit + 1), .integer(limit), .integer(now), .integer(limit),
                  .text(reason), .integer(limit), .text(log)])
    }

    /// The names of the uploads refused to a job's algorithm (another producer's files).
    private func refusedUploads(of job: Int64) async throws(JobStoreError) -> [String] {
        let rows = try await rows(SQLQuery("SELECT name FROM job_uploads WHERE job_id = ? AND refused ORDER BY name", [.integer(job)]))
        return try Self.cells("job_uploads", id: "\(job)") { try rows.map { try $0[0].decode(String.self) } }
    }

    public func recordUpload(_ credential: JobCredential, name: String, exists: Bool) async throws(JobStoreError) -> UploadVerdict {
        let job = SQLValue.integer(credential.jobID)
        if !exists {
            _ = try await rows(SQLQuery("""
                INSERT INTO job_uploads (job_id, name, refused) VALUES (?, ?, false) ON CONFLICT (job_id, name) DO UPDATE SET refused = false
                """, [job, .text(name)]))
            return .granted
        }
        // An earlier grant to this job stays a grant (its own upload); otherwise the refusal is recorded.
        let answer = try await rows(SQLQuery("""
            INSERT INTO job_uploads (job_id, name, refused) VALUES (?, ?, true) ON CONFLICT (job_id, name) DO UPDATE SET refused = job_uploads.refused
            RETURNING refused
            """, [job, .text(name)]))
        let refused = try Self.cells("job_uploads", id: "\(credential.jobID)") { try answer.first?[0].decode(Bool.self) ?? true }
        return refused ? .refused : .ownEarlierUpload
    }

    public func expireLostJobs() async throws(JobStoreError) -> [Job] {
        try await jobs(SQLQuery("""
            UPDATE jobs SET status = 'failed', finished_at = ?, error = ?, credential_sha256 = NULL,
                log = log || chr(10) || '[sdc] worker ' || COALESCE(worker_id, 'unknown') || ' lost its lease; no attempts left' || chr(10)
            WHERE status = 'running' AND lease_expires_at < ? AND attempts >= max_attempts
            RETURNING *
            """, [.integer(now), .text("the worker stopped responding (lease expired) on the last attempt"), .integer(now)]))
            .sorted { $0.id < $1.id }
    }

    public func retry(jobID: Int64) async throws(JobStoreError) -> Job {
        let retried = try await jobs(SQLQuery("""
            UPDATE jobs SET status = 'queued', attempts = 0, not_before = ?, error = NULL, worker_id = NULL WHERE id = ? AND status = 'failed'
            RETURNING *
            """, [.integer(now), .integer(jobID)]))
        if let job = retried.first { return job }
        guard let job = try await job(id: jobID) else { throw .notFound(jobID) }
        throw .notRetryable(jobID, job.status)
    }

    // MARK: Reading

    public func job(id: Int64) async throws(JobStoreError) -> Job? {
        try await jobs(SQLQuery("SELECT * FROM jobs WHERE id = ?", [.integer(id)])).first
    }

    public func job(authenticatedBy credential: JobCredential) async throws(JobStoreError) -> Job? {
        try await jobs(SQLQuery("SELECT * FROM jobs WHERE \(Self.leaseHeld)", Self.leaseValues(credential, now: now))).first
    }

    public func jobs(matching filter: JobFilter) async throws(JobStoreError) -> [Job] {
        let conditions: [(String, SQLValue)] = [
            ("status = ?", SQLValue(filter.status?.rawValue)), ("instrument = ?", SQLValue(filter.instrument?.rawValue)),
            ("data_level = ?", SQLValue(filter.dataLevel?.rawValue)), ("descriptor = ?", SQLValue(filter.descriptor)),
            ("start_date = ?", SQLValue(filter.startDate?.description)),
        ].filter { $0.1 != .null }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.map(\.0).joined(separator: " AND ")
        return try await jobs(SQLQuery("SELECT * FROM jobs \(whereClause) ORDER BY id DESC LIMIT ?",
                                       conditions.map(\.1) + [SQLValue(max(1, filter.limit))]))
    }

    public func countsByStatus() async throws(JobStoreError) -> [JobStatus: Int] {
        var counts = Dictionary(uniqueKeysWithValues: JobStatus.allCases.map { ($0, 0) })
        for row in try await rows(SQLQuery("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")) {
            let (status, count) = try Self.cells("jobs", id: "counts") { (try row["status"].decode(String.self), try row["n"].decode(Int64.self)) }
            if let status = JobStatus(rawValue: status) { counts[status] = Int(count) }
        }
        return counts
    }

    // MARK: Triggers

    public func addTriggers(_ triggers: [Trigger], dueMilliseconds: Int64) async throws(JobStoreError) {
        guard !triggers.isEmpty else { return }
        let inserts = triggers.map { trigger in
            SQLQuery("""
                INSERT INTO triggers (instrument, data_level, descriptor, start_date, repointing, campaign, due_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (instrument, data_level, descriptor, start_date, repointing, campaign)
                DO UPDATE SET due_at = LEAST(triggers.due_at, excluded.due_at), waiting_for = NULL
                """, [.text(trigger.product.source), .text(trigger.product.dataType), .text(trigger.product.descriptor),
                      .text(trigger.date.description), SQLValue(trigger.repointing ?? -1), .integer(trigger.campaign), .integer(dueMilliseconds)])
        }
        try await transaction { transaction in
            for insert in inserts { try await transaction.rows(insert) }
        }
    }

    public func claimDueTriggers(nowMilliseconds: Int64, limit: Int) async throws(JobStoreError) -> [ClaimedTrigger] {
        let claimedDue = nowMilliseconds + JobLimits.triggerClaimMilliseconds
        let rows = try await rows(SQLQuery("""
            UPDATE triggers SET due_at = ?
            WHERE (instrument, data_level, descriptor, start_date, repointing, campaign) IN (
                SELECT instrument, data_level, descriptor, start_date, repointing, campaign FROM triggers
                WHERE due_at <= ? ORDER BY due_at LIMIT ? FOR UPDATE SKIP LOCKED)
            RETURNING *
            """, [.integer(claimedDue), .integer(nowMilliseconds), SQLValue(max(1, limit))]))
        var claimed: [ClaimedTrigger] = []
        for row in rows { claimed.append(ClaimedTrigger(trigger: try Self.trigger(row), claimedDue: claimedDue)) }
        return claimed
    }

    public func nextTriggerDueMilliseconds() async throws(JobStoreError) -> Int64? {
        let rows = try await rows(SQLQuery("SELECT MIN(due_at) FROM triggers WHERE waiting_for IS NULL"))
        return try Self.cells("triggers", id: "minimum") { try rows.first?[0].decode(Int64?.self) ?? nil }
    }

    public func park(_ claimed: ClaimedTrigger, waitingFor reason: String) async throws(JobStoreError) {
        let trigger = claimed.trigger
        _ = try await rows(SQLQuery("""
            UPDATE triggers SET due_at = ?, waiting_for = ? WHERE instrument = ? AND data_level = ? AND descriptor = ?
                AND start_date = ? AND repointing = ? AND campaign = ? AND due_at = ?
            """, [.integer(JobLimits.waitingDueMilliseconds), .text(reason), .text(trigger.product.source), .text(trigger.product.dataType),
                  .text(trigger.product.descriptor), .text(trigger.date.description), SQLValue(trigger.repointing ?? -1),
                  .integer(trigger.campaign), .integer(claimed.claimedDue)]))
    }

    public func wakeWaitingTriggers(products: [ProductNode]?, from: FileDate, through to: FileDate, dueMilliseconds: Int64) async throws(JobStoreError) -> Int {
        let wake = WaitingTriggerSQL.wake(products: products, from: from, through: to, dueMilliseconds: dueMilliseconds)
        let arguments: [SQLValue] = wake.arguments.map { argument in
            switch argument {
            case .text(let text): .text(text)
            case .integer(let integer): .integer(integer)
            }
        }
        return try await rows(SQLQuery(wake.sql + " RETURNING 1", arguments)).count
    }

    public func waitingTriggers(limit: Int) async throws(JobStoreError) -> [WaitingTrigger] {
        var waiting: [WaitingTrigger] = []
        for row in try await rows(SQLQuery("""
            SELECT * FROM triggers WHERE waiting_for IS NOT NULL ORDER BY start_date, instrument, data_level, descriptor LIMIT ?
            """, [SQLValue(max(1, limit))])) {
            let reason = try Self.cells("triggers", id: "waiting") { try row["waiting_for"].decode(String.self) }
            waiting.append(WaitingTrigger(trigger: try Self.trigger(row), reason: reason))
        }
        return waiting
    }

    // MARK: Lineage

    public func inputs(ofProduct key: String) async throws(JobStoreError) -> [String] {
        try await names(SQLQuery("SELECT input_name FROM lineage WHERE product_key = ? ORDER BY input_name", [.text(key)]))
    }

    public func products(madeFrom name: String) async throws(JobStoreError) -> [String] {
        try await names(SQLQuery("SELECT product_key FROM lineage WHERE input_name = ? ORDER BY product_key", [.text(name)]))
    }

    private func names(_ query: SQLQuery) async throws(JobStoreError) -> [String] {
        let rows = try await rows(query)
        return try Self.cells("lineage", id: "names") { try rows.map { try $0[0].decode(String.self) } }
    }

    // MARK: Rows

    /// Runs `decode`, a cell that cannot be read being ``JobStoreError/corruptRow(table:id:reason:)``.
    private static func cells<T>(_ table: String, id: String, _ decode: () throws -> T) throws(JobStoreError) -> T {
        do { return try decode() } catch let error as JobStoreError { throw error } catch {
            throw .corruptRow(table: table, id: id, reason: PostgresDatabase.reason(error))
        }
    }

    static func trigger(_ row: PostgresRandomAccessRow) throws(JobStoreError) -> Trigger {
        let cells = try Self.cells("triggers", id: "?") {
            (try row["instrument"].decode(String.self), try row["data_level"].decode(String.self), try row["descriptor"].decode(String.self),
             try row["start_date"].decode(String.self), try row["repointing"].decode(Int64.self), try row["campaign"].decode(Int64.self))
        }
        let id = "\(cells.0)/\(cells.1)/\(cells.2)/\(cells.3)"
        guard let date = FileDate(yyyymmdd: cells.3) else {
            throw .corruptRow(table: "triggers", id: id, reason: "start_date '\(cells.3)' is not YYYYMMDD")
        }
        return Trigger(product: ProductNode(cells.0, cells.1, cells.2), date: date, repointing: cells.4 < 0 ? nil : Int(cells.4),
                       campaign: cells.5)
    }

    static func job(_ row: PostgresRandomAccessRow) throws(JobStoreError) -> Job {
        let id = try cells("jobs", id: "?") { try row["id"].decode(Int64.self) }
        return try cells("jobs", id: "\(id)") {
            func corrupt(_ reason: String) -> JobStoreError { .corruptRow(table: "jobs", id: "\(id)", reason: reason) }
            func text(_ column: String) throws -> String { try row[column].decode(String.self) }
            func number(_ column: String) throws -> Int64 { try row[column].decode(Int64.self) }
            func optionalText(_ column: String) throws -> String? { try row[column].decode(String?.self) }
            func optionalNumber(_ column: String) throws -> Int64? { try row[column].decode(Int64?.self) }
            func time(_ column: String) throws -> UTCTime? { try optionalNumber(column).map(UTCTime.init(secondsSince1970:)) }
            let statusText = try text("status"), dateText = try text("start_date"), outputsText = try text("outputs")
            let productsText = try text("products")
            guard let status = JobStatus(rawValue: statusText) else { throw corrupt("unknown status '\(statusText)'") }
            guard let date = FileDate(yyyymmdd: dateText) else { throw corrupt("start_date '\(dateText)' is not YYYYMMDD") }
            guard let outputs = try? JSONDecoder().decode([String].self, from: Data(outputsText.utf8)) else {
                throw corrupt("outputs is not a JSON array of strings")
            }
            guard let products = Job.products(fromText: productsText) else { throw corrupt("products is not a JSON array of source/level/descriptor") }
            return Job(
                id: id, status: status, product: ProductNode(try text("instrument"), try text("data_level"), try text("descriptor")),
                startDate: date, repointing: try optionalNumber("repointing").map { Int($0) }, products: products,
                version: ProductVersion(major: Int(try number("major_version")), minor: Int(try number("minor_version"))),
                algorithm: try text("algorithm"), algorithmVersion: try text("algorithm_version"), inputs: try text("inputs"),
                inputsHash: try text("inputs_hash"), campaign: try number("campaign"), uniquenessKey: try text("uniqueness_key"),
                attempts: Int(try number("attempts")), maxAttempts: Int(try number("max_attempts")),
                postponements: Int(try number("postponements")), workerID: try optionalText("worker_id"),
                leaseExpiresAt: try time("lease_expires_at"), notBefore: UTCTime(secondsSince1970: try number("not_before")),
                createdAt: UTCTime(secondsSince1970: try number("created_at")), startedAt: try time("started_at"),
                finishedAt: try time("finished_at"), log: try text("log"), outputs: outputs, error: try optionalText("error"))
        }
    }
}
