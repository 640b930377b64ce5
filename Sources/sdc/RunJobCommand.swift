import ArgumentParser
import Foundation
import Logging
import SDCJobs
import SDCPipeline

/// `sdc run-job`: run one job that another sdc process has claimed (the batch script of a Slurm job).
struct RunJobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-job",
        abstract: "Run one claimed job and record its outcome through the job API (what a Slurm job of `--executor slurm` runs).",
        discussion: """
            Reads the job (its JSON, as the job API answers it) on standard input, the API's URL from $SDC_API_URL and \
            the job's credential from $SDC_JOB_CREDENTIAL (never from the command line, where `ps` would show it). \
            It runs the job's algorithm as `sdc worker --api-key` would (an installed algorithm from this node's \
            environments, $SDC_ALGORITHMS_DIR or ~/.cache/sdc/algorithms), with inputs and products through the API, prints the \
            job's log, and records the outcome (succeeded, or a failed attempt) with the job's credential. The claiming \
            process keeps the lease; this one renews it too while the job runs, so it stops the algorithm if the lease \
            is lost. Exits 0 when the job succeeded.
            """,
        shouldDisplay: false
    )

    @Option(help: "Folder with dependencies.csv and algorithms.yaml (default: the built-in configuration).")
    var pipeline: String?

    @Option(help: "Seconds the lease lasts; it is renewed every third of that.")
    var leaseSeconds: Int64 = 30

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .notice

    /// What `sdc run-job` was not given, or given malformed.
    struct InputError: Error, CustomStringConvertible {
        let description: String
    }

    func run() async throws {
        bootstrapLogging(logLevel)
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment[SlurmBatchJob.urlVariable], !url.isEmpty else {
            throw InputError(description: "$\(SlurmBatchJob.urlVariable) (the data center's API URL) is not set")
        }
        guard let secret = environment[SlurmBatchJob.credentialVariable] else {
            throw InputError(description: "$\(SlurmBatchJob.credentialVariable) (the job's credential) is not set")
        }
        // The algorithm gets the credential as IMAP_API_KEY; nothing else it starts needs this copy.
        unsetenv(SlurmBatchJob.credentialVariable)
        let description = FileHandle.standardInput.readDataToEndOfFile()
        let job: Job
        do {
            job = try Job(wire: description)
        } catch {
            throw InputError(description: "standard input is not a job's JSON (\(error)): \(String(decoding: description.prefix(200), as: UTF8.self))")
        }
        guard let credential = JobCredential(secret: secret), credential.jobID == job.id else {
            throw InputError(description: "$\(SlurmBatchJob.credentialVariable) is not a credential of job \(job.id)")
        }
        let registry = try PipelineConfiguration(folder: pipeline.map { URL(fileURLWithPath: $0) }).registry
        let remote = RemoteDataCenter(baseURL: url, apiKey: credential.secret)
        // Installed algorithms run from this node's environments, built on first use from the data center's registry.
        let algorithms = AlgorithmEnvironmentResolver(environments: .onThisMachine, remote: remote)
        let runner = EchoingExecutor(runner: JobRunner(registry: registry, environment: RemoteWorkerEnvironment(remote), algorithms: algorithms))
        let name = environment["SLURM_JOB_ID"].map { "slurm-\($0)" } ?? "run-job-\(getpid())"
        let worker = Worker(id: name, jobs: HTTPJobQueue(remote), executor: runner, leaseSeconds: leaseSeconds)
        let finished: Job?
        do {
            finished = try await worker.run(ClaimedJob(job: job, credential: credential))
            try await remote.shutdown()
        } catch {
            try? await remote.shutdown()
            throw error
        }
        print("[sdc] job \(job.id) recorded as \(finished?.status.rawValue ?? "nothing: its lease was lost")")
        guard finished?.status == .succeeded else { throw ExitCode.failure }
    }
}

/// Prints each attempt's log on standard output (the Slurm output file) as well as returning it to the worker.
private struct EchoingExecutor: Executor {
    let runner: JobRunner

    func execute(_ claimed: ClaimedJob) async throws -> JobExecution {
        do {
            let execution = try await runner.execute(claimed)
            if case .succeeded(_, let log) = execution { print(log, terminator: log.hasSuffix("\n") ? "" : "\n") }
            return execution
        } catch let failure as JobFailure {
            print(failure.log, terminator: failure.log.hasSuffix("\n") ? "" : "\n")
            print("[sdc] failed: \(failure.message)")
            throw failure
        }
    }
}
