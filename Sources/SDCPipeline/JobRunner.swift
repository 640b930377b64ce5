import Foundation
import NIOPosix
import SDCJobs

/// Runs one claimed job in this process: the built-in L1A on NIO's thread pool, or the algorithm's external command
/// with the job's credential. It fetches inputs and ingests products through its ``WorkerEnvironment``.
public struct JobRunner: Executor {
    public let registry: AlgorithmRegistry
    public let environment: any WorkerEnvironment

    public init(registry: AlgorithmRegistry, environment: any WorkerEnvironment) {
        self.registry = registry
        self.environment = environment
    }

    /// Runs the job's algorithm; returns the product keys and the log.
    public func execute(_ claimed: ClaimedJob) async throws -> JobExecution {
        let job = claimed.job
        guard let spec = registry.algorithm(for: job.product) else {
            throw JobFailure(message: "no algorithm makes \(job.product)", log: "")
        }
        let workFolder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-job-\(job.id)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workFolder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workFolder) }
        switch spec.kind {
        case .external(let configuration):
            let credentials = JobCredentials(url: try await environment.apiURL(), apiKey: claimed.credential.secret)
            let command = ExternalCommand(configuration: configuration, timeoutSeconds: spec.timeoutSeconds)
            let outcome = try await command.run(job, credentials: credentials, workFolder: workFolder)
            let log = "$ \(command.arguments(for: job).joined(separator: " "))\n" + outcome.output
            if outcome.timedOut { throw JobFailure(message: "timed out after \(spec.timeoutSeconds) s", log: log) }
            guard outcome.exitCode == 0 else { throw JobFailure(message: "exited with status \(outcome.exitCode)", log: log) }
            let products = try await environment.products(of: job)
            guard !products.isEmpty else { throw JobFailure(message: "exited successfully but uploaded no \(job.product) product \(job.version)", log: log) }
            return .succeeded(products: products, log: log)
        case .xtceL1A(let configuration):
            var copies: [URL] = []
            for name in job.inputNames { copies.append(try await environment.localCopy(of: name, in: workFolder)) }
            let inputs = copies
            let algorithm = XTCEL1AAlgorithm(configuration: configuration)
            // Decoding and CDF writing are CPU-bound: they run on NIO's thread pool, never on the cooperative pool.
            let (files, log) = try await NIOThreadPool.singleton.runIfActive { () throws -> ([URL], String) in
                var log = ""
                do {
                    return (try algorithm.run(job: job, inputs: inputs, outputFolder: workFolder) { log += $0 + "\n" }, log)
                } catch {
                    throw JobFailure(message: "\(error)", log: log)
                }
            }
            var keys: [String] = []
            for file in files { keys.append(try await environment.ingestProduct(at: file)) }
            return .succeeded(products: keys, log: log)
        }
    }
}
