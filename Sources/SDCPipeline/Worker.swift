import Foundation
import Logging
import SDCCore

/// Makes products: claims a job under a lease, keeps the lease alive while the algorithm runs, ingests what it made
/// and records the outcome. A worker that dies stops renewing its lease; once it expires another worker takes the
/// job over. Products are named with the version fixed at job creation, so a retry can never add a second product.
public struct Worker: Sendable {
    public let id: String
    public let jobs: any JobQueue
    public let registry: AlgorithmRegistry
    public let environment: any WorkerEnvironment
    public var leaseSeconds: Int64 = 30
    /// Pause between polls when no job is runnable.
    public var idleMilliseconds = 250
    let logger: Logger

    public init(id: String, jobs: any JobQueue, registry: AlgorithmRegistry, environment: any WorkerEnvironment,
                leaseSeconds: Int64 = 30, logger: Logger = Logger(label: "sdc.worker")) {
        self.id = id
        self.jobs = jobs
        self.registry = registry
        self.environment = environment
        self.leaseSeconds = leaseSeconds
        self.logger = logger
    }

    /// Works until cancelled.
    public func run() async {
        while !Task.isCancelled {
            do {
                if try await runNextJob() == nil { try await Task.sleep(for: .milliseconds(idleMilliseconds)) }
            } catch is CancellationError {
                return
            } catch {
                logger.error("worker \(id): \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Claims and runs one job; nil when none is runnable.
    @discardableResult
    public func runNextJob() async throws -> Job? {
        for lost in try await jobs.expireLostJobs() {
            logger.error("job failed: worker lost", metadata: ["job": "\(lost.id)", "worker": "\(lost.workerID ?? "?")"])
        }
        guard let job = try await jobs.claim(workerID: id, leaseSeconds: leaseSeconds) else { return nil }
        logger.info("job started", metadata: ["job": "\(job.id)", "product": "\(job.product)", "date": "\(job.startDate)",
                                             "attempt": "\(job.attempts)/\(job.maxAttempts)"])
        let started = ContinuousClock.now
        let result: Result<([String], String), JobFailure> = await withLeaseRenewal(of: job) { try await execute(job) }
        let elapsed = ContinuousClock.now - started
        switch result {
        case .success(let (outputs, log)):
            let finished = try await jobs.complete(jobID: job.id, workerID: id, outputs: outputs,
                                                   log: log + "[sdc] succeeded in \(elapsed) with \(outputs.count) product(s)\n")
            logger.info("job succeeded", metadata: ["job": "\(job.id)", "products": "\(outputs)", "duration": "\(elapsed)"])
            return finished
        case .failure(let failure):
            let backoff = min(300, 2 << min(job.attempts, 8))
            let finished = try await jobs.fail(jobID: job.id, workerID: id, error: failure.message,
                                               log: failure.log + "[sdc] failed after \(elapsed): \(failure.message)\n", backoffSeconds: Int64(backoff))
            logger.warning("job attempt failed", metadata: ["job": "\(job.id)", "error": "\(failure.message)", "status": "\(finished.status.rawValue)"])
            return finished
        }
    }

    struct JobFailure: Error {
        var message: String
        var log: String
    }

    /// Runs `body` while renewing the job's lease; if the lease is lost the body is cancelled.
    private func withLeaseRenewal(of job: Job, _ body: @escaping @Sendable () async throws -> ([String], String)) async -> Result<([String], String), JobFailure> {
        await withTaskGroup(of: Result<([String], String), JobFailure>?.self) { group in
            group.addTask {
                do { return .success(try await body()) } catch let failure as JobFailure { return .failure(failure) } catch {
                    return .failure(JobFailure(message: "\(error)", log: ""))
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(max(1, leaseSeconds / 3)))
                    if Task.isCancelled { return nil }
                    do {
                        try await jobs.renewLease(jobID: job.id, workerID: id, leaseSeconds: leaseSeconds)
                    } catch {
                        return .failure(JobFailure(message: "lost the lease: \(error)", log: ""))
                    }
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(JobFailure(message: "cancelled", log: ""))
        }
    }

    /// Runs the job's algorithm; returns the product keys and the log.
    private func execute(_ job: Job) async throws -> ([String], String) {
        guard let spec = registry.algorithm(for: job.product) else {
            throw JobFailure(message: "no algorithm makes \(job.product)", log: "")
        }
        let workFolder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-job-\(job.id)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workFolder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workFolder) }
        switch spec.kind {
        case .external(let configuration):
            let credentials = try await environment.credentials(for: job)
            defer { Task { await credentials.revoke() } }
            let command = ExternalCommand(configuration: configuration, timeoutSeconds: spec.timeoutSeconds)
            let outcome = try await command.run(job, credentials: credentials, workFolder: workFolder)
            let log = "$ \(command.arguments(for: job).joined(separator: " "))\n" + outcome.output
            if outcome.timedOut { throw JobFailure(message: "timed out after \(spec.timeoutSeconds) s", log: log) }
            guard outcome.exitCode == 0 else { throw JobFailure(message: "exited with status \(outcome.exitCode)", log: log) }
            let products = try await environment.products(of: job)
            guard !products.isEmpty else { throw JobFailure(message: "exited successfully but uploaded no \(job.product) product \(job.version)", log: log) }
            return (products, log)
        case .xtceL1A(let configuration):
            var log = ""
            var inputs: [URL] = []
            for name in job.inputNames { inputs.append(try await environment.localCopy(of: name, in: workFolder)) }
            let algorithm = XTCEL1AAlgorithm(configuration: configuration)
            let files: [URL]
            do {
                files = try algorithm.run(job: job, inputs: inputs, outputFolder: workFolder) { log += $0 + "\n" }
            } catch {
                throw JobFailure(message: "\(error)", log: log)
            }
            var keys: [String] = []
            for file in files { keys.append(try await environment.ingestProduct(at: file)) }
            return (keys, log)
        }
    }
}
