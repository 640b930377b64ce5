import Foundation
import Logging
import NIOPosix
import SDCJobs

/// Runs each claimed job as a Slurm batch job: submitted with `sbatch` (``SlurmBatchJob``: `sdc run-job` on a node
/// runs the algorithm and records the job's outcome through the job API with the job's credential), followed with
/// `scontrol show job` (and `sacct`, once slurmctld has forgotten the job), stopped with `scancel`. The ``Worker``
/// keeps the lease while Slurm has the job; its cancellation (lost lease, shutdown past its grace) cancels the Slurm
/// job, and so does a run longer than the job's Slurm time limit plus a minute.
///
/// A Slurm job that ends without recording an outcome (cancelled, timed out, out of memory, its node lost, preempted,
/// `sdc run-job` missing) is recorded from Slurm's state (``SlurmJobState/verdict(slurmJobID:exitCode:)``), with the
/// Slurm output file as its log when this machine can read it.
public struct SlurmExecutor: Executor {
    public let configuration: SlurmConfiguration
    public let registry: AlgorithmRegistry
    public let environment: any WorkerEnvironment
    /// The queue the worker claimed from: probed once the Slurm job ends, to learn whether the job recorded its outcome.
    public let jobs: any JobQueue
    public let leaseSeconds: Int64
    let logger: Logger

    public init(configuration: SlurmConfiguration, registry: AlgorithmRegistry, environment: any WorkerEnvironment, jobs: any JobQueue,
                leaseSeconds: Int64, logger: Logger = Logger(label: "sdc.slurm")) {
        self.configuration = configuration
        self.registry = registry
        self.environment = environment
        self.jobs = jobs
        self.leaseSeconds = leaseSeconds
        self.logger = logger
    }

    public func execute(_ claimed: ClaimedJob) async throws -> JobExecution {
        let job = claimed.job
        let spec = try registry.algorithm(running: job)
        let batch = SlurmBatchJob(claimed: claimed, apiURL: try await environment.apiURL(), timeoutSeconds: spec.timeoutSeconds,
                                  leaseSeconds: leaseSeconds, configuration: configuration)
        let submitted = try await SlurmCommand.run("sbatch", batch.arguments, input: batch.script, environment: batch.environment)
        guard submitted.status == 0, let slurmID = SlurmBatchJob.submittedID(submitted.output) else {
            throw JobFailure(message: "sbatch refused the job (status \(submitted.status)): \(submitted.errors.trimmingCharacters(in: .whitespacesAndNewlines))",
                             log: "$ sbatch \(batch.arguments.joined(separator: " "))\n" + submitted.errors)
        }
        logger.info("job submitted to Slurm", metadata: ["job": "\(job.id)", "slurm_job": "\(slurmID)"])
        do {
            return try await follow(claimed, slurmID: slurmID, limit: .seconds(batch.timeLimitSeconds + 60))
        } catch is CancellationError {
            // Stopping the Slurm job must finish even though this task is cancelled.
            return try await Task { try await stop(claimed, slurmID: slurmID) }.value
        }
    }

    /// Polls the Slurm job until it ends; cancels it once it has run longer than `limit`.
    private func follow(_ claimed: ClaimedJob, slurmID: String, limit: Duration) async throws -> JobExecution {
        var delay = Duration.milliseconds(250)
        var runningSince: ContinuousClock.Instant?
        while true {
            let record: SlurmJobRecord?
            do {
                record = try await self.record(of: slurmID)
            } catch let failure as SlurmCommand.Failure {
                // slurmctld may be restarting: the Slurm job goes on, and so does the lease.
                logger.warning("cannot read the state of Slurm job \(slurmID): \(failure)")
                try await Task.sleep(for: configuration.slowestPoll)
                continue
            }
            guard let record else {
                throw JobFailure(message: "Slurm has no record of job \(slurmID) (neither scontrol nor sacct knows it)",
                                 log: await outputLog(of: claimed, slurmID: slurmID))
            }
            if record.state.isFinished { return try await ended(claimed, slurmID: slurmID, record: record) }
            if record.state.isRunning {
                let since = runningSince ?? .now
                runningSince = since
                if ContinuousClock.now - since > limit {
                    let final = try await Task { try await cancelAndWait(slurmID) }.value
                    throw JobFailure(message: "Slurm job \(slurmID) ran longer than \(limit) and was cancelled",
                                     log: await outputLog(of: claimed, slurmID: slurmID) + (final?.summary(slurmJobID: slurmID) ?? "") + "\n")
                }
            }
            try await Task.sleep(for: delay)
            delay = min(configuration.slowestPoll, delay * 1.5)
        }
    }

    /// Records how a Slurm job ended, unless its `sdc run-job` already recorded the job's outcome (the lease no
    /// longer holds: renewing it fails).
    private func ended(_ claimed: ClaimedJob, slurmID: String, record: SlurmJobRecord) async throws -> JobExecution {
        let log = await outputLog(of: claimed, slurmID: slurmID) + record.summary(slurmJobID: slurmID) + "\n"
        do {
            try await jobs.renewLease(claimed.credential, leaseSeconds: leaseSeconds)
        } catch {
            return .reported(summary: "Slurm job \(slurmID) ended \(record.state.rawValue) (exit \(record.exitCode)); the job's lease had ended")
        }
        switch record.state.verdict(slurmJobID: slurmID, exitCode: record.exitCode) {
        case .interrupted(let reason)?: return .interrupted(reason: reason, log: log)
        case .failed(let message)?: throw JobFailure(message: message, log: log)
        case nil: throw JobFailure(message: "Slurm job \(slurmID) is still \(record.state.rawValue)", log: log)
        }
    }

    /// Cancels the Slurm job unless it has already ended by itself; the job is recorded as that ending says.
    private func stop(_ claimed: ClaimedJob, slurmID: String) async throws -> JobExecution {
        if let record = try? await record(of: slurmID), record.state.isFinished {
            return try await ended(claimed, slurmID: slurmID, record: record)
        }
        let final = try await cancelAndWait(slurmID)
        logger.notice("Slurm job cancelled", metadata: ["job": "\(claimed.job.id)", "slurm_job": "\(slurmID)",
                                                        "state": "\(final?.state.rawValue ?? "unknown")"])
        await removeOutput(of: claimed, slurmID: slurmID)
        throw CancellationError()
    }

    /// `scancel`, then polls (at most ten minutes) until the job has ended; its final record.
    private func cancelAndWait(_ slurmID: String) async throws -> SlurmJobRecord? {
        let cancelled = try await SlurmCommand.run("scancel", [slurmID])
        if cancelled.status != 0 { logger.error("scancel \(slurmID) failed: \(cancelled.errors)") }
        let deadline = ContinuousClock.now + .seconds(600)
        var last: SlurmJobRecord?
        while ContinuousClock.now < deadline {
            last = try await record(of: slurmID)
            if last?.state.isFinished ?? true { return last }
            try await Task.sleep(for: .milliseconds(500))
        }
        logger.error("Slurm job \(slurmID) has not ended ten minutes after scancel")
        return last
    }

    /// The job's state from `scontrol show job`, else (once slurmctld has forgotten it, MinJobAge after its end) from
    /// `sacct`; nil when neither knows it. Throws when Slurm cannot be asked.
    func record(of slurmID: String) async throws -> SlurmJobRecord? {
        let shown = try await SlurmCommand.run("scontrol", ["show", "job", "--oneliner", slurmID])
        if shown.status == 0, let record = SlurmJobRecord(scontrol: shown.output) { return record }
        guard shown.errors.contains("Invalid job id") else {
            throw SlurmCommand.Failure(description: "scontrol show job \(slurmID) failed (status \(shown.status)): \(shown.errors)")
        }
        let accounted = try await SlurmCommand.run("sacct", ["--noheader", "--allocations", "--parsable2", "--jobs=\(slurmID)",
                                                            "--format=State,ExitCode,Reason,NodeList"])
        return accounted.status == 0 ? SlurmJobRecord(sacct: accounted.output) : nil
    }

    /// The Slurm output file when this machine can read it (the last MiB), else a line saying where it is.
    private func outputLog(of claimed: ClaimedJob, slurmID: String) async -> String {
        let path = SlurmBatchJob.outputPath(jobID: claimed.job.id, slurmJobID: slurmID, in: configuration.nodeFolder)
        let text = try? await NIOThreadPool.singleton.runIfActive { () -> String? in
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            try? FileManager.default.removeItem(atPath: path)
            return String(decoding: data.suffix(1 << 20), as: UTF8.self)
        }
        guard let text else { return "[slurm] the output file \(path) is on the job's node, not readable here\n" }
        return text.isEmpty || text.hasSuffix("\n") ? text : text + "\n"
    }

    private func removeOutput(of claimed: ClaimedJob, slurmID: String) async {
        let path = SlurmBatchJob.outputPath(jobID: claimed.job.id, slurmJobID: slurmID, in: configuration.nodeFolder)
        _ = try? await NIOThreadPool.singleton.runIfActive { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// Runs a Slurm command-line tool (found on `PATH`) on NIO's thread pool and collects what it printed.
enum SlurmCommand {
    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `tool` with `input` on its standard input and `environment` added to this process's; its output and errors
    /// go to temporary files (so that neither can fill a pipe), read once it has exited.
    static func run(_ tool: String, _ arguments: [String], input: String? = nil, environment: [String: String] = [:]) async throws -> Result {
        try await NIOThreadPool.singleton.runIfActive {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-slurm-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let (outputPath, errorsPath) = (folder.appendingPathComponent("out").path, folder.appendingPathComponent("err").path)
            _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
            _ = FileManager.default.createFile(atPath: errorsPath, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [tool] + arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
            let (output, errors) = (try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath)), try FileHandle(forWritingTo: URL(fileURLWithPath: errorsPath)))
            defer { try? output.close(); try? errors.close() }
            let standardInput = Pipe()
            process.standardOutput = output
            process.standardError = errors
            process.standardInput = input == nil ? FileHandle.nullDevice : standardInput
            do {
                try process.run()
            } catch {
                throw Failure(description: "cannot run \(tool): \(error)")
            }
            if let input {
                try? standardInput.fileHandleForWriting.write(contentsOf: Data(input.utf8))
                try? standardInput.fileHandleForWriting.close()
            }
            process.waitUntilExit()
            return Result(status: process.terminationStatus,
                          output: String(decoding: FileManager.default.contents(atPath: outputPath) ?? Data(), as: UTF8.self),
                          errors: String(decoding: FileManager.default.contents(atPath: errorsPath) ?? Data(), as: UTF8.self))
        }
    }
}
