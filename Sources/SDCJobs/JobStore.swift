import SDCCore

/// Why a job-store operation failed.
public enum JobStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(Int64)
    /// The credential no longer holds the job's lease (it expired and another worker may have it, or the job ended).
    case leaseLost(Int64)
    /// Only failed jobs can be retried.
    case notRetryable(Int64, JobStatus)
    /// An argument is outside the range the store accepts (a lease or back-off in seconds, say).
    case invalidArgument(String)
    /// A stored row cannot be read back: the database was changed outside sdc or is damaged.
    case corruptRow(table: String, id: String, reason: String)
    case database(String)

    public var description: String {
        switch self {
        case .notFound(let id): "no job \(id)"
        case .leaseLost(let id): "job \(id) is no longer leased to this credential"
        case .notRetryable(let id, let status): "job \(id) is \(status.rawValue): only failed jobs can be retried"
        case .invalidArgument(let message): message
        case .corruptRow(let table, let id, let reason): "the \(table) row \(id) is damaged: \(reason)"
        case .database(let message): "job database error: \(message)"
        }
    }
}

/// The limits a job store puts on the numbers it is given, so that no request can overflow a deadline.
public enum JobLimits {
    /// A lease lasts 1 s to 1 day.
    public static let leaseSeconds: ClosedRange<Int64> = 1...86_400
    /// A retry waits at most 7 days.
    public static let backoffSeconds: ClosedRange<Int64> = 0...604_800
    /// A claimed trigger is planned again after this long if its planner disappears (milliseconds).
    public static let triggerClaimMilliseconds: Int64 = 60_000
    /// The due time of a waiting trigger: never (``JobStore/park(_:waitingFor:)``).
    public static let waitingDueMilliseconds = Int64.max
    /// The widest date range one reprocess request may name (about ten years).
    public static let maximumReprocessDays = 3_660
    /// How many times a job may be postponed (its algorithm exited 75) before a postponement counts as a failed attempt.
    public static let maximumPostponements = 5

    /// The wait before a job postponed for the `count`-th time is run again: 5 s, doubling, at most 5 minutes.
    public static func postponementSeconds(_ count: Int) -> Int64 {
        min(300, 5 << Int64(min(max(count, 1), 7) - 1))
    }

    /// Throws ``JobStoreError/invalidArgument(_:)`` unless `value` is in `range`.
    public static func check(_ value: Int64, in range: ClosedRange<Int64>, _ name: String) throws(JobStoreError) {
        guard range.contains(value) else {
            throw .invalidArgument("\(name) must be \(range.lowerBound) to \(range.upperBound) seconds, not \(value)")
        }
    }
}

/// A job claimed by a worker, with the credential that proves the claim.
public struct ClaimedJob: Sendable, Hashable {
    public var job: Job
    /// Renews, completes, fails or releases this claim, and serves as the algorithm's API key while the lease holds.
    public var credential: JobCredential

    public init(job: Job, credential: JobCredential) {
        self.job = job
        self.credential = credential
    }
}

/// What a worker needs of the job table: claim under a lease, renew, and report the outcome. Implemented by the job
/// store itself (workers beside the data center) and by the job API's client (workers elsewhere).
///
/// A claim issues a fresh ``JobCredential``; only that credential can renew the lease or finish the job, and it stops
/// working when the lease ends (expiry, completion, failure or release).
public protocol JobQueue: Sendable {
    /// Leases the oldest runnable job (queued and due, or running with an expired lease) to `workerID`.
    func claim(workerID: String, leaseSeconds: Int64) async throws -> ClaimedJob?
    /// Extends a lease; throws ``JobStoreError/leaseLost(_:)`` if the credential no longer holds it.
    func renewLease(_ credential: JobCredential, leaseSeconds: Int64) async throws
    /// Marks a job succeeded with its products, and records their lineage.
    func complete(_ credential: JobCredential, outputs: [String], log: String) async throws -> Job
    /// Records a failed attempt: requeued after `backoffSeconds`, or failed for good after the last attempt.
    func fail(_ credential: JobCredential, error: String, log: String, backoffSeconds: Int64) async throws -> Job
    /// Hands a job back unfinished (a worker shutting down): queued again at once, the attempt not counted.
    func release(_ credential: JobCredential, log: String) async throws -> Job
    /// Hands a job back to be run again later, the attempt not counted (its algorithm exited 75, IMAP's "retry"
    /// exit after the upload API answered 503 SlowDown): queued after ``JobLimits/postponementSeconds(_:)``. Once the
    /// job has been postponed ``JobLimits/maximumPostponements`` times, the attempt counts as failed with `reason`.
    func postpone(_ credential: JobCredential, reason: String, log: String) async throws -> Job
    /// Fails running jobs whose lease expired on their last attempt; returns them.
    func expireLostJobs() async throws -> [Job]
}

/// The durable job table, settling triggers and product lineage. ``SQLiteJobStore`` is the embedded implementation.
///
/// Uniqueness follows the IMAP SDC (pipeline.md §6): at most one queued, running or succeeded job per
/// ``JobUniqueness`` key (product, date, repointing, algorithm version, inputs hash and campaign); failed jobs may repeat.
public protocol JobStore: JobQueue {
    /// Creates a job, or returns the live or successful job it duplicates (`created == false`).
    /// The new job's minor version is one above both `highestCatalogedMinor` and every live or successful job that
    /// makes any of the same products (at any level) for the same date and major version, so concurrent, repeated and
    /// differently configured jobs never write the same name.
    func submit(_ request: JobRequest, highestCatalogedMinor: Int?) async throws(JobStoreError) -> (job: Job, created: Bool)
    /// Creates the job planned for a claimed trigger and removes the trigger in the same transaction, so that a crash
    /// can neither lose the day nor plan it twice. With a nil `request` (an input is missing) only the trigger goes.
    /// The trigger stays, to be planned again, when it was re-triggered after it was claimed.
    func submit(_ request: JobRequest?, highestCatalogedMinor: Int?, completing trigger: ClaimedTrigger) async throws(JobStoreError) -> (job: Job, created: Bool)?
    /// Requeues a failed job with fresh attempts.
    func retry(jobID: Int64) async throws(JobStoreError) -> Job
    func job(id: Int64) async throws(JobStoreError) -> Job?
    /// The running job whose lease `credential` holds; nil for an unknown, ended or expired credential.
    func job(authenticatedBy credential: JobCredential) async throws(JobStoreError) -> Job?
    /// Most recent first.
    func jobs(matching filter: JobFilter) async throws(JobStoreError) -> [Job]
    func countsByStatus() async throws(JobStoreError) -> [JobStatus: Int]
    /// Records that each trigger's product and day should be planned at `dueMilliseconds` (coalescing repeated
    /// triggers: the earliest pending due time is kept, so a burst of arrivals is planned once, shortly after the first).
    func addTriggers(_ triggers: [Trigger], dueMilliseconds: Int64) async throws(JobStoreError)
    /// Claims up to `limit` triggers due at `nowMilliseconds`: each is hidden for ``JobLimits/triggerClaimMilliseconds``
    /// and comes back due if its planner never completes it.
    func claimDueTriggers(nowMilliseconds: Int64, limit: Int) async throws(JobStoreError) -> [ClaimedTrigger]
    /// The earliest pending due time (waiting triggers are never due).
    func nextTriggerDueMilliseconds() async throws(JobStoreError) -> Int64?
    /// Keeps a claimed trigger whose required input is missing as *waiting*, with `reason` (what it waits for): it is
    /// never due until ``wakeWaitingTriggers(products:from:through:dueMilliseconds:)`` or a new trigger for the same
    /// product and day makes it due again. A trigger re-armed since it was claimed is left due.
    func park(_ trigger: ClaimedTrigger, waitingFor reason: String) async throws(JobStoreError)
    /// Makes the waiting triggers of `products` (every product when nil) on days `from` through `to` due at
    /// `dueMilliseconds`, so that they are planned again now that an input may have arrived; returns how many.
    func wakeWaitingTriggers(products: [ProductNode]?, from: FileDate, through to: FileDate, dueMilliseconds: Int64) async throws(JobStoreError) -> Int
    /// The waiting triggers, oldest day first, at most `limit`.
    func waitingTriggers(limit: Int) async throws(JobStoreError) -> [WaitingTrigger]
    /// Records that the algorithm of the job `credential` holds asked to upload `name`, and whether a file of that name
    /// `exists` already. An existing file that an earlier attempt of the same job was granted is its own; any other
    /// existing file is a collision with another producer: it is recorded against the job, which then fails on
    /// completion, naming the file.
    func recordUpload(_ credential: JobCredential, name: String, exists: Bool) async throws(JobStoreError) -> UploadVerdict
    /// Names of the files a product was made from.
    func inputs(ofProduct key: String) async throws(JobStoreError) -> [String]
    /// Keys of the products made from a file (by name).
    func products(madeFrom name: String) async throws(JobStoreError) -> [String]
}

/// How the data center answers a job's request to upload a product (``JobStore/recordUpload(_:name:exists:)``).
public enum UploadVerdict: Sendable, Equatable {
    /// A new file: upload it.
    case granted
    /// The file exists because an earlier attempt of this job uploaded it: nothing to do.
    case ownEarlierUpload
    /// The file exists and another producer made it: refused, and the job fails.
    case refused
}

/// Why a job whose algorithm made products ends failed all the same: the data center refused some of its uploads
/// because files of those names already existed (two producers, one product).
public enum UploadCollision {
    /// The job's error for the refused `names`.
    public static func message(_ names: [String]) -> String {
        "the data center refused the upload of \(names.joined(separator: ", ")): a file of that name already exists, made by another "
            + "producer (two algorithms make this product: give it one producer in the pipeline configuration)"
    }

    /// A failed attempt's reason: the collision when uploads were refused (a retry would be refused the same), else
    /// `error`.
    public static func reason(_ refused: [String], else error: String) -> String {
        refused.isEmpty ? error : message(refused) + "; the attempt " + error
    }
}

/// A product and day waiting to be planned.
public struct Trigger: Sendable, Hashable {
    public var product: ProductNode
    public var date: FileDate
    public var repointing: Int?
    public var campaign: Int64

    public init(product: ProductNode, date: FileDate, repointing: Int?, campaign: Int64) {
        self.product = product
        self.date = date
        self.repointing = repointing
        self.campaign = campaign
    }
}

/// A product and day the planner cannot plan yet because a required input is missing: a job waiting for its input.
public struct WaitingTrigger: Sendable, Hashable {
    public var trigger: Trigger
    /// What it waits for, e.g. `leapseconds kernel (spice) covering 2024-09-24`.
    public var reason: String

    public init(trigger: Trigger, reason: String) {
        self.trigger = trigger
        self.reason = reason
    }

    /// The JSON object the job listings show for it: a job row with status `WAITING` and the reason.
    public var json: JSONValue {
        .object([
            ("status", .string("WAITING")),
            ("instrument", .string(trigger.product.source)),
            ("data_level", .string(trigger.product.dataType)),
            ("descriptor", .string(trigger.product.descriptor)),
            ("start_date", .string(trigger.date.description)),
            ("repointing", trigger.repointing.map { .int($0) } ?? .null),
            ("waiting_for", .string(reason)),
        ])
    }
}

/// The one statement that wakes waiting triggers, for every job store: the condition on products and days, with
/// `?` placeholders and their values in order.
public enum WaitingTriggerSQL {
    /// A value bound to a placeholder.
    public enum Argument: Sendable, Hashable {
        case text(String)
        case integer(Int64)
    }

    /// `UPDATE triggers SET due_at = ?, waiting_for = NULL WHERE waiting_for IS NOT NULL AND start_date BETWEEN ? AND ?
    /// [AND ((instrument = ? AND data_level = ? AND descriptor = ?) OR ...)]`.
    public static func wake(products: [ProductNode]?, from: FileDate, through to: FileDate,
                            dueMilliseconds: Int64) -> (sql: String, arguments: [Argument]) {
        var sql = "UPDATE triggers SET due_at = ?, waiting_for = NULL WHERE waiting_for IS NOT NULL AND start_date >= ? AND start_date <= ?"
        var arguments: [Argument] = [.integer(dueMilliseconds), .text(from.description), .text(to.description)]
        if let products {
            guard !products.isEmpty else { return (sql + " AND 1 = 0", arguments) }
            sql += " AND (" + products.map { _ in "(instrument = ? AND data_level = ? AND descriptor = ?)" }.joined(separator: " OR ") + ")"
            for product in products { arguments += [.text(product.source), .text(product.dataType), .text(product.descriptor)] }
        }
        return (sql, arguments)
    }
}

/// A trigger a planner has claimed: `claimedDue` is the due time the claim set, which identifies the claim.
public struct ClaimedTrigger: Sendable, Hashable {
    public var trigger: Trigger
    public var claimedDue: Int64

    public init(trigger: Trigger, claimedDue: Int64) {
        self.trigger = trigger
        self.claimedDue = claimedDue
    }
}
