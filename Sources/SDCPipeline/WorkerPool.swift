import Foundation
import Logging
import SDCCore
import SDCJobs
import ServiceLifecycle

/// A process's workers as one service (`sdc serve`'s in-process workers, or `sdc worker`). On graceful shutdown it
/// closes the claim gate first, so that neither its workers nor the job API hand out new jobs; each worker then
/// finishes its job within its grace period or hands it back (see ``Worker``).
public struct WorkerPool: Service {
    public let workers: [Worker]
    public let gate: ClaimGate

    /// `count` workers named `<host>-<pid>-<index>`, sharing one executor: each has at most one job in it at a time.
    public init(count: Int, jobs: any JobQueue, executor: any Executor, leaseSeconds: Int64,
                shutdownGraceSeconds: Int64, gate: ClaimGate, logger: Logger = Logger(label: "sdc.worker")) {
        let owner = ProcessIdentity.current
        workers = (0..<max(0, count)).map { index in
            Worker(id: "\(owner.host)-\(owner.pid)-\(index)", jobs: jobs, executor: executor,
                   leaseSeconds: leaseSeconds, shutdownGraceSeconds: shutdownGraceSeconds, gate: gate, logger: logger)
        }
        self.gate = gate
    }

    /// `count` workers that run their jobs in this process (``JobRunner``).
    public init(count: Int, jobs: any JobQueue, registry: AlgorithmRegistry, environment: any WorkerEnvironment,
                algorithms: AlgorithmEnvironmentResolver? = nil, leaseSeconds: Int64, shutdownGraceSeconds: Int64, gate: ClaimGate,
                logger: Logger = Logger(label: "sdc.worker")) {
        self.init(count: count, jobs: jobs, executor: JobRunner(registry: registry, environment: environment, algorithms: algorithms),
                  leaseSeconds: leaseSeconds,
                  shutdownGraceSeconds: shutdownGraceSeconds, gate: gate, logger: logger)
    }

    public func run() async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for worker in workers { group.addTask { await worker.run() } }
            }
        } onGracefulShutdown: { [gate] in
            gate.close()
        }
    }
}
