import SDCCore

/// Why a job-store operation failed.
public enum JobStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(Int64)
    /// The worker no longer holds the job's lease (it expired and another worker may have it).
    case leaseLost(Int64)
    /// Only failed jobs can be retried.
    case notRetryable(Int64, JobStatus)
    case database(String)

    public var description: String {
        switch self {
        case .notFound(let id): "no job \(id)"
        case .leaseLost(let id): "job \(id) is no longer leased to this worker"
        case .notRetryable(let id, let status): "job \(id) is \(status.rawValue): only failed jobs can be retried"
        case .database(let message): "job database error: \(message)"
        }
    }
}

/// What a worker needs of the job table: claim under a lease, renew, and report the outcome. Implemented by the job
/// store itself (workers beside the data center) and by ``HTTPJobQueue`` (workers elsewhere, through the API).
public protocol JobQueue: Sendable {
    /// Leases the oldest runnable job (queued and due, or running with an expired lease) to `workerID`.
    func claim(workerID: String, leaseSeconds: Int64) async throws -> Job?
    /// Extends a lease; throws ``JobStoreError/leaseLost(_:)`` if the worker no longer holds it.
    func renewLease(jobID: Int64, workerID: String, leaseSeconds: Int64) async throws
    /// Marks a job succeeded with its products, and records their lineage.
    func complete(jobID: Int64, workerID: String, outputs: [String], log: String) async throws -> Job
    /// Records a failed attempt: requeued after `backoffSeconds`, or failed for good after the last attempt.
    func fail(jobID: Int64, workerID: String, error: String, log: String, backoffSeconds: Int64) async throws -> Job
    /// Fails running jobs whose lease expired on their last attempt; returns them.
    func expireLostJobs() async throws -> [Job]
}

/// The durable job table and product lineage. ``SQLiteJobStore`` is the embedded implementation.
///
/// Uniqueness follows the IMAP SDC (pipeline.md §6): at most one queued, running or succeeded job per product, date,
/// repointing, algorithm version, inputs hash and campaign; failed jobs may repeat.
public protocol JobStore: JobQueue {
    /// Creates a job, or returns the live or successful job it duplicates (`created == false`).
    /// The new job's minor version is one above both `highestCatalogedMinor` and every job of the same product,
    /// date and major version, so concurrent and repeated jobs never write the same name.
    func submit(_ request: JobRequest, highestCatalogedMinor: Int?) async throws(JobStoreError) -> (job: Job, created: Bool)
    /// Requeues a failed job with fresh attempts.
    func retry(jobID: Int64) async throws(JobStoreError) -> Job
    func job(id: Int64) async throws(JobStoreError) -> Job?
    /// Most recent first.
    func jobs(matching filter: JobFilter) async throws(JobStoreError) -> [Job]
    func countsByStatus() async throws(JobStoreError) -> [JobStatus: Int]
    /// Records that `product` for `date` should be planned at `due` (coalescing repeated triggers: the earliest
    /// pending due time is kept, so a burst of arrivals is planned once, shortly after the first).
    func addTrigger(product: ProductNode, date: FileDate, repointing: Int?, campaign: Int64, dueMilliseconds: Int64) async throws(JobStoreError)
    /// Removes and returns the triggers due at `now`.
    func takeDueTriggers(nowMilliseconds: Int64) async throws(JobStoreError) -> [Trigger]
    /// The earliest pending due time.
    func nextTriggerDueMilliseconds() async throws(JobStoreError) -> Int64?
    /// Names of the files a product was made from.
    func inputs(ofProduct key: String) async throws(JobStoreError) -> [String]
    /// Keys of the products made from a file (by name).
    func products(madeFrom name: String) async throws(JobStoreError) -> [String]
}

/// A product and day waiting to be planned.
public struct Trigger: Sendable, Hashable {
    public var product: ProductNode
    public var date: FileDate
    public var repointing: Int?
    public var campaign: Int64
}
