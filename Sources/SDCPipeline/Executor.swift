import SDCJobs

/// Runs claimed jobs. The ``Worker`` claims a job, keeps its lease alive and records the outcome; an executor only
/// runs it: in this process (``JobRunner``) or elsewhere (``SlurmExecutor``).
public protocol Executor: Sendable {
    /// Runs one claimed job to its end. Failures are thrown as ``JobFailure``. When the calling task is cancelled
    /// (the lease was lost, or the worker stopped), the job must be stopped before this returns or throws.
    func execute(_ claimed: ClaimedJob) async throws -> JobExecution
}

/// How an executor's run of a job ended, short of a failure.
public enum JobExecution: Sendable, Equatable {
    /// The job made these products (catalog keys); `log` is its output.
    case succeeded(products: [String], log: String)
    /// The job was stopped through no fault of its own (its node failed, it was preempted): it goes back to the queue
    /// at once and the attempt does not count.
    case interrupted(reason: String, log: String)
    /// The job's own entry point (`sdc run-job`) already recorded its outcome through the job API; `summary` says how
    /// the executor saw it end.
    case reported(summary: String)
    /// The job asked to be run again later (its algorithm exited 75, IMAP's retry exit): it is queued again after a
    /// back-off and the attempt does not count, a bounded number of times (``JobQueue/postpone(_:reason:log:)``).
    case postponed(reason: String, log: String)
}

/// Why a job's attempt failed, with what it wrote before failing. Counts as an attempt: the job is retried after a
/// backoff while it has attempts left, and ends failed otherwise.
public struct JobFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var log: String

    public init(message: String, log: String) {
        self.message = message
        self.log = log
    }

    public var description: String { message }
}

extension AlgorithmRegistry {
    /// The algorithm that makes `job`'s product; a job no algorithm makes fails with a ``JobFailure`` saying so.
    func algorithm(running job: Job) throws(JobFailure) -> AlgorithmSpec {
        guard let spec = algorithm(for: job.product) else { throw JobFailure(message: "no algorithm makes \(job.product)", log: "") }
        return spec
    }
}
