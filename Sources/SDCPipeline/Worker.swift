import Foundation
import Logging
import SDCCore
import SDCJobs
import ServiceLifecycle

/// Makes products: claims a job under a lease, keeps the lease alive while the algorithm runs, ingests what it made
/// and records the outcome. A worker that dies stops renewing its lease; once it expires another worker takes the
/// job over. Products are named with the version fixed at job creation, so a retry can never add a second product.
///
/// On graceful shutdown a worker claims nothing more; the job it is running gets ``shutdownGraceSeconds`` to finish
/// and is otherwise stopped and handed back at once (queued again, the attempt not counted), so no other worker has
/// to wait for the lease to expire. A cancelled worker hands its job back at once.
public struct Worker: Sendable {
    public let id: String
    public let jobs: any JobQueue
    /// Runs the claimed jobs.
    public let executor: any Executor
    public var leaseSeconds: Int64 = 30
    /// How long a running job may go on after graceful shutdown begins.
    public var shutdownGraceSeconds: Int64 = 30
    /// Pause between polls when no job is runnable.
    public var idleMilliseconds = 250
    /// Closed when the process stops handing out jobs.
    public let gate: ClaimGate
    let logger: Logger

    public init(id: String, jobs: any JobQueue, executor: any Executor,
                leaseSeconds: Int64 = 30, shutdownGraceSeconds: Int64 = 30, gate: ClaimGate = ClaimGate(),
                logger: Logger = Logger(label: "sdc.worker")) {
        self.id = id
        self.jobs = jobs
        self.executor = executor
        self.leaseSeconds = leaseSeconds
        self.shutdownGraceSeconds = shutdownGraceSeconds
        self.gate = gate
        self.logger = logger
    }

    /// A worker that runs its jobs in this process (``JobRunner``).
    public init(id: String, jobs: any JobQueue, registry: AlgorithmRegistry, environment: any WorkerEnvironment,
                leaseSeconds: Int64 = 30, shutdownGraceSeconds: Int64 = 30, gate: ClaimGate = ClaimGate(),
                logger: Logger = Logger(label: "sdc.worker")) {
        self.init(id: id, jobs: jobs, executor: JobRunner(registry: registry, environment: environment), leaseSeconds: leaseSeconds,
                  shutdownGraceSeconds: shutdownGraceSeconds, gate: gate, logger: logger)
    }

    /// Works until cancelled or until graceful shutdown (after finishing or handing back the job in hand).
    public func run() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully && gate.isOpen {
            do {
                if try await runNextJob() == nil {
                    try await cancelWhenGracefulShutdown { [idleMilliseconds] in try await Task.sleep(for: .milliseconds(idleMilliseconds)) }
                }
            } catch is CancellationError {
                return
            } catch {
                logger.error("worker \(id): \(error)")
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            }
        }
    }

    /// Claims and runs one job; nil when none is runnable (or the gate is closed).
    @discardableResult
    public func runNextJob() async throws -> Job? {
        for lost in try await jobs.expireLostJobs() {
            logger.error("job failed: worker lost", metadata: ["job": "\(lost.id)", "worker": "\(lost.workerID ?? "?")"])
        }
        guard gate.isOpen, let claimed = try await jobs.claim(workerID: id, leaseSeconds: leaseSeconds) else { return nil }
        return try await run(claimed)
    }

    /// Runs a job this worker's queue has leased (claimed here, or by the process that started `sdc run-job`):
    /// executes it while renewing the lease, then records the outcome. Returns the job as recorded; nil when the lease
    /// was lost or the job recorded its own outcome.
    public func run(_ claimed: ClaimedJob) async throws -> Job? {
        let job = claimed.job
        logger.info("job started", metadata: ["job": "\(job.id)", "product": "\(job.product)", "date": "\(job.startDate)",
                                             "attempt": "\(job.attempts)/\(job.maxAttempts)"])
        let started = ContinuousClock.now
        let outcome = await supervise(claimed) { [executor] in try await executor.execute(claimed) }
        let elapsed = ContinuousClock.now - started
        // The outcome is recorded even when this worker is being cancelled (a new task does not inherit cancellation).
        return try await Task { try await report(outcome, of: claimed, elapsed: elapsed) }.value
    }

    /// The wait before a job whose attempt `attempts` failed is run again: 4 s, doubling, at most 5 minutes.
    public static func backoffSeconds(afterAttempt attempts: Int) -> Int64 {
        Int64(min(300, 2 << min(max(attempts, 0), 8)))
    }

    /// Records how an attempt ended.
    private func report(_ outcome: Outcome, of claimed: ClaimedJob, elapsed: Duration) async throws -> Job? {
        let job = claimed.job
        switch outcome {
        case .succeeded(let outputs, let log):
            let finished = try await jobs.complete(claimed.credential, outputs: outputs,
                                                   log: log + "[sdc] succeeded in \(elapsed) with \(outputs.count) product(s)\n")
            logger.info("job succeeded", metadata: ["job": "\(job.id)", "products": "\(outputs)", "duration": "\(elapsed)"])
            return finished
        case .failed(let failure):
            let finished = try await jobs.fail(claimed.credential, error: failure.message,
                                               log: failure.log + "[sdc] failed after \(elapsed): \(failure.message)\n",
                                               backoffSeconds: Self.backoffSeconds(afterAttempt: job.attempts))
            logger.warning("job attempt failed", metadata: ["job": "\(job.id)", "error": "\(failure.message)", "status": "\(finished.status.rawValue)"])
            return finished
        case .handedBack(let reason, let log):
            let released = try await jobs.release(claimed.credential, log: log + "[sdc] handed back after \(elapsed): \(reason)\n")
            logger.notice("job handed back", metadata: ["job": "\(job.id)", "reason": "\(reason)"])
            return released
        case .postponed(let reason, let log):
            let postponed = try await jobs.postpone(claimed.credential, reason: reason, log: log + "[sdc] postponed after \(elapsed): \(reason)\n")
            logger.notice("job postponed", metadata: ["job": "\(job.id)", "reason": "\(reason)", "status": "\(postponed.status.rawValue)",
                                                     "postponements": "\(postponed.postponements)"])
            return postponed
        case .reported(let summary):
            logger.info("job recorded its own outcome", metadata: ["job": "\(job.id)", "summary": "\(summary)", "duration": "\(elapsed)"])
            return nil
        case .leaseLost(let message):
            logger.error("job abandoned", metadata: ["job": "\(job.id)", "reason": "\(message)"])
            return nil
        }
    }

    /// How an attempt ended.
    enum Outcome: Sendable {
        case succeeded([String], String)
        case failed(JobFailure)
        /// Stopped unfinished (shutdown or cancellation): the job goes back to the queue.
        case handedBack(reason: String, log: String)
        /// Another worker may hold the job now: report nothing.
        case leaseLost(String)
        /// The job recorded its own outcome: report nothing.
        case reported(String)
        /// The job asked to be run again later: queued after a back-off, the attempt not counted.
        case postponed(reason: String, log: String)
    }

    /// Runs `body` while renewing the job's lease. The body is cancelled if the lease is lost, if the worker is
    /// cancelled, or if graceful shutdown has lasted ``shutdownGraceSeconds``.
    private func supervise(_ claimed: ClaimedJob, _ body: @escaping @Sendable () async throws -> JobExecution) async -> Outcome {
        let (jobs, leaseSeconds, grace) = (jobs, leaseSeconds, shutdownGraceSeconds)
        let outcome = await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                do {
                    switch try await body() {
                    case .succeeded(let products, let log): return .succeeded(products, log)
                    case .interrupted(let reason, let log): return .handedBack(reason: reason, log: log)
                    case .reported(let summary): return .reported(summary)
                    case .postponed(let reason, let log): return .postponed(reason: reason, log: log)
                    }
                } catch let failure as JobFailure {
                    return Task.isCancelled ? nil : .failed(failure)
                } catch {
                    return Task.isCancelled ? nil : .failed(JobFailure(message: "\(error)", log: ""))
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(max(1, leaseSeconds / 3)))
                    if Task.isCancelled { return nil }
                    do {
                        try await jobs.renewLease(claimed.credential, leaseSeconds: leaseSeconds)
                    } catch {
                        return .leaseLost("lost the lease: \(error)")
                    }
                }
                return nil
            }
            group.addTask {
                do {
                    try await gracefulShutdown()
                    try await Task.sleep(for: .seconds(grace))
                    return .handedBack(reason: "the worker shut down and the job did not finish within \(grace) s", log: "")
                } catch {
                    return nil
                }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            // A job that records its own outcome ends its lease itself: the renewal may notice that before the
            // executor sees the job end. Its outcome then stands.
            if case .leaseLost = first {
                while let other = await group.next() {
                    if case .reported? = other { return other }
                }
            }
            return first
        }
        return outcome ?? .handedBack(reason: "the worker was stopped", log: "")
    }
}
