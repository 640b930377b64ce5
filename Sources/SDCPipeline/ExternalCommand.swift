import Foundation
import Synchronization
import SDCCore
import SDCJobs

/// Runs an instrument team's algorithm with the IMAP processing convention (pipeline.md §3.2):
/// `--instrument I --data-level L --descriptor D --start-date YYYYMMDD [--repointing repointNNNNN] --version vMMM.mmmm
/// --dependency '<ProcessingInputCollection JSON>' --upload-to-sdc`, with `IMAP_DATA_ACCESS_URL`, `IMAP_DATA_DIR` and the
/// job's credential as `IMAP_API_KEY`, so that it fetches its inputs and uploads its products with imap-data-access itself.
struct ExternalCommand {
    let configuration: ExternalCommandConfiguration
    let timeoutSeconds: Int
    /// After SIGTERM (timeout or cancellation), how long the algorithm has to exit before SIGKILL.
    var terminationGrace: Duration = .seconds(5)

    struct Outcome {
        var exitCode: Int32
        var timedOut: Bool
        var output: String
    }

    func arguments(for job: Job) -> [String] {
        var arguments = configuration.command + [
            "--instrument", job.product.source, "--data-level", job.product.dataType, "--descriptor", job.product.descriptor,
            "--start-date", job.startDate.description,
        ]
        if let repointing = job.repointing { arguments += ["--repointing", "repoint" + String(format: "%05d", repointing)] }
        arguments += ["--version", job.version.description, "--dependency", job.inputs, "--upload-to-sdc"]
        return arguments
    }

    /// Runs to completion, the timeout, or cancellation. On timeout or cancellation the process gets SIGTERM and,
    /// if it is still running ``terminationGrace`` later, SIGKILL; this returns (or throws `CancellationError`) only
    /// once it has exited, so no algorithm outlives its job.
    func run(_ job: Job, credentials: JobCredentials, workFolder: URL) async throws -> Outcome {
        let dataFolder = workFolder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: dataFolder, withIntermediateDirectories: true)
        let logURL = workFolder.appendingPathComponent("output.log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        defer { try? log.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments(for: job)
        process.currentDirectoryURL = workFolder
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("IMAP_") }
        environment["IMAP_DATA_ACCESS_URL"] = credentials.url
        environment["IMAP_DATA_DIR"] = dataFolder.path
        environment["IMAP_API_KEY"] = credentials.apiKey
        environment.merge(configuration.environment) { _, configured in configured }
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice

        let exit = ProcessExit()
        process.terminationHandler = { exit.signal($0.terminationStatus) }
        try process.run()
        let timeout = Duration.seconds(timeoutSeconds)
        // Waits in an unstructured task so that the wait (and the grace period) still runs when this task is cancelled.
        let ending = Task { () -> (status: Int32, timedOut: Bool) in
            if let status = await exit.wait(upTo: timeout) { return (status, false) }
            return (await stop(process, exit: exit), true)
        }
        let (status, timedOut) = await withTaskCancellationHandler {
            await ending.value
        } onCancel: {
            Task { _ = await stop(process, exit: exit) }
        }
        try Task.checkCancellation()
        let output = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return Outcome(exitCode: status, timedOut: timedOut, output: String(output.suffix(1 << 20)))
    }

    /// SIGTERM, then SIGKILL after the grace period; returns the exit status.
    private func stop(_ process: Process, exit: ProcessExit) async -> Int32 {
        if process.isRunning { process.terminate() }
        if let status = await exit.wait(upTo: terminationGrace) { return status }
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
