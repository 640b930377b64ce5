import ArgumentParser
import Foundation
import Logging
import SDCAssembly
import SDCJobs
import SDCPipeline
import SDCServer
import ServiceLifecycle

/// `sdc worker`: run processing jobs in a separate process.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run processing jobs in this process, beside or instead of `sdc serve`'s own workers.",
        discussion: """
            With --api-key the worker needs nothing but the API: it claims jobs through /api-key/jobs, downloads \
            inputs and uploads products like any client (the key needs write scope). With --root instead it works \
            directly on a data center folder on this machine. SIGTERM lets the running jobs finish within \
            --shutdown-grace-seconds and hands back the rest at once; after a SIGKILL its job is retried by another \
            worker once the lease expires.
            """
    )

    @Option(help: "The data center's API URL (also handed to external algorithms).")
    var url: String

    @Option(help: "An API key with write scope: work through the API.")
    var apiKey: String?

    @Option(help: "Work directly on this data center folder instead of through the API.")
    var root: String?

    @Option(help: "With --root: the data center's PostgreSQL database (default: $SDC_DATABASE_URL).")
    var database: String?

    @Option(help: "With --root: the data center's S3 bucket, s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION (default: $SDC_STORE_URL).")
    var store: String?

    @OptionGroup var pipelineOptions: PipelineOptions

    @Option(help: "Concurrent jobs (with --executor slurm: jobs this process has in Slurm at once).")
    var workers = 1

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard (apiKey == nil) != (root == nil) else { throw ValidationError("give either --api-key (work through the API) or --root (work on a local data center folder)") }
    }

    func run() async throws {
        bootstrapLogging(logLevel)
        let pipeline = try pipelineOptions.load()
        let queue: any JobQueue
        let environment: any WorkerEnvironment
        var remote: RemoteDataCenter?
        let algorithms: AlgorithmEnvironmentResolver
        if let apiKey {
            let dataCenter = RemoteDataCenter(baseURL: url, apiKey: apiKey)
            remote = dataCenter
            queue = HTTPJobQueue(dataCenter)
            environment = RemoteWorkerEnvironment(dataCenter)
            algorithms = AlgorithmEnvironmentResolver(environments: pipelineOptions.algorithmEnvironments(.onThisMachine), remote: dataCenter)
        } else {
            let options = try RootOption.parse(["--root", root ?? "."] + (database.map { ["--database", $0] } ?? [])
                                               + (store.map { ["--store", $0] } ?? []))
            let dataCenter = try await options.open()
            queue = dataCenter.jobs
            environment = LocalWorkerEnvironment(ingestor: dataCenter.ingestor()) { [url] in url }
            algorithms = AlgorithmEnvironmentResolver(environments: pipelineOptions.algorithmEnvironments(.inDataCenter(root: options.url)),
                                                      store: dataCenter.algorithms)
        }
        let executor = pipelineOptions.executor(registry: pipeline.registry, environment: environment, jobs: queue, algorithms: algorithms)
        let pool = WorkerPool(count: max(1, workers), jobs: queue, executor: executor,
                              leaseSeconds: pipelineOptions.leaseSeconds, shutdownGraceSeconds: pipelineOptions.shutdownGraceSeconds,
                              gate: ClaimGate())
        FileHandle.standardOutput.write(Data("sdc worker \(getpid()) running \(pool.workers.count) job(s) at a time for \(url)\n".utf8))
        // SIGTERM/SIGINT: claim nothing more, finish (or hand back) the jobs in hand, exit 0.
        let group = ServiceGroup(configuration: .init(services: [.init(service: pool, successTerminationBehavior: .gracefullyShutdownGroup)], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: Logger(label: "sdc.worker")))
        try await group.run()
        try await remote?.shutdown()
    }
}
