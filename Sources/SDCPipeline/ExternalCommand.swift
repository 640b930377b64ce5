import Foundation
import SDCCore

/// Runs an instrument team's algorithm with the IMAP processing convention (pipeline.md §3.2):
/// `--instrument I --data-level L --descriptor D --start-date YYYYMMDD [--repointing repointNNNNN] --version vMMM.mmmm
/// --dependency '<ProcessingInputCollection JSON>' --upload-to-sdc`, with `IMAP_DATA_ACCESS_URL`, `IMAP_DATA_DIR` and a
/// job-scoped `IMAP_API_KEY`, so that it fetches its inputs and uploads its products with imap-data-access itself.
struct ExternalCommand {
    let configuration: ExternalCommandConfiguration
    let timeoutSeconds: Int

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

    /// Runs to completion, the timeout, or cancellation (then the process is terminated, and killed 5 s later).
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

        let exited = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in exited.continuation.finish() }
        try process.run()
        let timedOut = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in exited.stream {}
                return false
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeoutSeconds))
                return !Task.isCancelled
            }
            let first = await group.next() ?? false
            if process.isRunning {
                process.terminate()
                try? await Task.sleep(for: .seconds(5))
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
            group.cancelAll()
            return first
        }
        process.waitUntilExit()
        let output = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return Outcome(exitCode: process.terminationStatus, timedOut: timedOut, output: String(output.suffix(1 << 20)))
    }
}
