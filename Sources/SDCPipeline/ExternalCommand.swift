import Foundation
import Synchronization
import SDCCore
import SDCJobs

/// Runs an instrument team's algorithm with the IMAP processing convention (pipeline.md §3.2), as the IMAP SDC's batch
/// starter does: `--instrument I --data-level L --descriptor D --start-date YYYYMMDD [--repointing repointNNNNN]
/// --version vMMM.mmmm --dependency <dependency file name>.json --upload-to-sdc`, with `IMAP_DATA_ACCESS_URL`,
/// `IMAP_DATA_DIR` and the job's credential as `IMAP_API_KEY`, so that it fetches the dependency file, its inputs and
/// uploads its products with imap-data-access itself.
///
/// Every attempt runs in a fresh, empty working folder (`work`, the process's current directory) with a fresh, empty
/// data folder (`data`, `IMAP_DATA_DIR`) beside it: nothing an earlier attempt wrote can be picked up (cdflib refuses
/// to overwrite, so a stale product would silently stay).
struct ExternalCommand {
    let configuration: ExternalCommandConfiguration
    let timeoutSeconds: Int
    /// After SIGTERM (timeout or cancellation), how long the algorithm has to exit before SIGKILL.
    var terminationGrace: Duration = .seconds(5)

    /// IMAP's "retry" exit status (`imap_processing.cli.RETRY_EXIT_CODE`, after the upload API answered 503 SlowDown
    /// three times): the job is run again later, and the attempt does not count.
    static let retryExitCode: Int32 = 75

    struct Outcome {
        var exitCode: Int32
        var timedOut: Bool
        var output: String
    }

    /// The arguments, `dependency` being the name of the job's uploaded dependency file.
    func arguments(for job: Job, dependency: String) -> [String] {
        var arguments = configuration.command + [
            "--instrument", job.product.source, "--data-level", job.product.dataType, "--descriptor", job.product.descriptor,
            "--start-date", job.startDate.description,
        ]
        if let repointing = job.repointing { arguments += ["--repointing", "repoint" + String(format: "%05d", repointing)] }
        arguments += ["--version", job.version.description, "--dependency", dependency, "--upload-to-sdc"]
        return arguments
    }

    /// Runs to completion, the timeout, or cancellation, in `root` (a folder of its own, which must exist): the
    /// algorithm's working folder `root/work` and data folder `root/data` are created empty, its output goes to
    /// `root/output.log`. On timeout or cancellation the process gets SIGTERM and, if it is still running
    /// ``terminationGrace`` later, SIGKILL; this returns (or throws `CancellationError`) only once it has exited, so no
    /// algorithm outlives its job.
    func run(_ job: Job, dependency: String, credentials: JobCredentials, in root: URL) async throws -> Outcome {
        let workFolder = root.appendingPathComponent("work"), dataFolder = root.appendingPathComponent("data")
        // Not intermediate: creation fails if either already exists, so a folder is never reused.
        try FileManager.default.createDirectory(at: workFolder, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(at: dataFolder, withIntermediateDirectories: false)
        let logURL = root.appendingPathComponent("output.log")
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("IMAP_") }
        environment["IMAP_DATA_ACCESS_URL"] = credentials.url
        environment["IMAP_DATA_DIR"] = dataFolder.path
        environment["IMAP_API_KEY"] = credentials.apiKey
        environment.merge(configuration.environment) { _, configured in configured }
        let (status, timedOut) = try await LoggedProcess(
            arguments: arguments(for: job, dependency: dependency), environment: environment, workingDirectory: workFolder, log: logURL,
            timeout: .seconds(timeoutSeconds), terminationGrace: terminationGrace
        ).run()
        let output = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return Outcome(exitCode: status, timedOut: timedOut, output: String(output.suffix(1 << 20)))
    }
}

/// A child process (run through `/usr/bin/env`) whose standard output and error go to a log file. It runs to
/// completion, the timeout, or cancellation: then it gets SIGTERM and, if it is still running `terminationGrace`
/// later, SIGKILL. ``run()`` returns (or throws `CancellationError`) only once it has exited, so no child outlives the
/// task that ran it. Algorithms (``ExternalCommand``) and mission packages run this way.
struct LoggedProcess {
    var arguments: [String]
    var environment: [String: String]
    var workingDirectory: URL
    /// Created (or emptied) before the start.
    var log: URL
    var timeout: Duration
    var terminationGrace: Duration = .seconds(5)

    /// The exit status, and whether the timeout ended the process.
    func run() async throws -> (status: Int32, timedOut: Bool) {
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = workingDirectory
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        let exit = ProcessExit()
        process.terminationHandler = { exit.signal($0.terminationStatus) }
        try process.run()
        let timeout = timeout, grace = terminationGrace
        // Waits in an unstructured task so that the wait (and the grace period) still runs when this task is cancelled.
        let ending = Task { () -> (status: Int32, timedOut: Bool) in
            if let status = await exit.wait(upTo: timeout) { return (status, false) }
            return (await Self.stop(process, exit: exit, grace: grace), true)
        }
        let result = await withTaskCancellationHandler {
            await ending.value
        } onCancel: {
            Task { _ = await Self.stop(process, exit: exit, grace: grace) }
        }
        try Task.checkCancellation()
        return result
    }

    /// SIGTERM, then SIGKILL after the grace period; returns the exit status.
    private static func stop(_ process: Process, exit: ProcessExit, grace: Duration) async -> Int32 {
        if process.isRunning { process.terminate() }
        if let status = await exit.wait(upTo: grace) { return status }
        kill(process.processIdentifier, SIGKILL)
        return await exit.wait()
    }
}

/// A process's exit, awaited without blocking a thread (no `waitUntilExit`).
final class ProcessExit: Sendable {
    private struct State {
        var status: Int32?
        var waiters: [UUID: CheckedContinuation<Int32?, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Called by the termination handler.
    func signal(_ status: Int32) {
        let waiters = state.withLock { state in
            state.status = status
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(returning: status) }
    }

    /// The exit status, once the process has exited.
    func wait() async -> Int32 {
        // Without a limit the wait can only end with the exit, which always delivers a status.
        await wait(upTo: nil) ?? -1
    }

    /// The exit status, or nil if the process is still running after `limit`. Cancellation of the caller does not
    /// shorten the wait: the limit is real.
    func wait(upTo limit: Duration?) async -> Int32? {
        let id = UUID()
        let timer = Mutex<Task<Void, Never>?>(nil)
        defer { timer.withLock { $0?.cancel() } }
        return await withCheckedContinuation { continuation in
            let status = state.withLock { state -> Int32? in
                if let status = state.status { return status }
                state.waiters[id] = continuation
                return nil
            }
            if let status { return continuation.resume(returning: status) }
            guard let limit else { return }
            timer.withLock {
                $0 = Task.detached { [self] in
                    try? await Task.sleep(for: limit)
                    state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: nil)
                }
            }
        }
    }
}
