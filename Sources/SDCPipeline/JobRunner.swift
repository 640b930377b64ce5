import Foundation
import NIOPosix
import SDCCore
import SDCJobs

/// Runs one claimed job in this process: the built-in L1A on the processing pool, or the algorithm's external command
/// with the job's credential. It fetches inputs and ingests products through its ``WorkerEnvironment``.
public struct JobRunner: Executor {
    public let registry: AlgorithmRegistry
    public let environment: any WorkerEnvironment
    /// The environments of installed algorithms on this machine (nil: only plain commands and the built-in L1A run).
    public let algorithms: AlgorithmEnvironmentResolver?

    public init(registry: AlgorithmRegistry, environment: any WorkerEnvironment, algorithms: AlgorithmEnvironmentResolver? = nil) {
        self.registry = registry
        self.environment = environment
        self.algorithms = algorithms
    }

    /// Runs the job's algorithm in a scratch folder of its own; returns the product keys and the log.
    public func execute(_ claimed: ClaimedJob) async throws -> JobExecution {
        let spec = try registry.algorithm(running: claimed.job)
        let workFolder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-job-\(claimed.job.id)-\(UUID().uuidString)")
        // Creating and removing the folder (a job's inputs and products) are blocking file system calls: they run on
        // NIO's thread pool, not on the cooperative pool that serves requests. The removal runs in a task of its own,
        // so that it happens even when this one is cancelled.
        try await NIOThreadPool.singleton.runIfActive { try FileManager.default.createDirectory(at: workFolder, withIntermediateDirectories: true) }
        let removeFolder = { @Sendable in
            await Task { try? await NIOThreadPool.singleton.runIfActive { try FileManager.default.removeItem(at: workFolder) } }.value
        }
        do {
            let execution = try await execute(claimed, spec, in: workFolder)
            await removeFolder()
            return execution
        } catch {
            await removeFolder()
            throw error
        }
    }

    private func execute(_ claimed: ClaimedJob, _ spec: AlgorithmSpec, in workFolder: URL) async throws -> JobExecution {
        let job = claimed.job
        switch spec.kind {
        case .external(let configured):
            // An installed algorithm runs from its environment, installed on this machine first if need be.
            let (configuration, installLog) = try await resolvedEnvironment(configured, for: job)
            let credentials = JobCredentials(url: try await environment.apiURL(), apiKey: claimed.credential.secret)
            let dependency = try await storeDependency(of: job, in: workFolder)
            let command = ExternalCommand(configuration: configuration, timeoutSeconds: spec.timeoutSeconds)
            let outcome = try await command.run(job, dependency: dependency.name, credentials: credentials, in: workFolder)
            let log = installLog + dependency.log + "$ \(command.arguments(for: job, dependency: dependency.name).joined(separator: " "))\n" + outcome.output
            return try await conclude(job, outcome, log: log, timeoutSeconds: spec.timeoutSeconds, optional: spec.optionalProducts)
        case .xtceL1A(let configuration):
            var copies: [URL] = []
            for name in job.inputNames { copies.append(try await environment.localCopy(of: name, in: workFolder)) }
            let inputs = copies
            let algorithm = XTCEL1AAlgorithm(configuration: configuration)
            // Decoding and CDF writing are CPU-bound: they run on the processing pool (one thread fewer than cores), never
            // on the cooperative pool or NIO's thread pool, which serve requests.
            let (files, log) = try await ProcessingPool.shared.run { () throws -> ([URL], String) in
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

    /// Writes the job's dependency document (its inputs and the version of each product it makes) and stores it under
    /// IMAP's dependency-file name, which the algorithm is given and downloads through the API (a file stored by an
    /// earlier attempt, or by another job with the same inputs and version, is reused).
    private func storeDependency(of job: Job, in folder: URL) async throws -> (name: String, log: String) {
        guard let name = job.dependencyFileName else {
            throw JobFailure(message: "\(job.product) is not an instrument and level: it has no dependency file name", log: "")
        }
        let file = folder.appendingPathComponent(name.name)
        let document = Data(job.dependencyDocument.json.utf8)
        try await NIOThreadPool.singleton.runIfActive { try document.write(to: file) }
        let stored = try await environment.storeDependency(name, from: file)
        return (name.name, "[sdc] dependency file \(name.name) \(stored ? "stored" : "already stored, reused")\n")
    }

    /// How an external algorithm's run ends: exit 75 postpones the job; another non-zero exit or a timeout fails the
    /// attempt; exit 0 succeeds with the products the job declares that it made (science products of its day and
    /// version at any level, and the ancillary files it uploaded), and fails, naming them, when it made none of them.
    /// Declared products it did not make are noted in the log, the `optional` ones apart.
    private func conclude(_ job: Job, _ outcome: ExternalCommand.Outcome, log: String, timeoutSeconds: Int,
                          optional: Set<ProductNode>) async throws -> JobExecution {
        if outcome.timedOut { throw JobFailure(message: "timed out after \(timeoutSeconds) s", log: log) }
        if outcome.exitCode == ExternalCommand.retryExitCode {
            return .postponed(reason: "exited with status \(outcome.exitCode) (retry later)", log: log)
        }
        guard outcome.exitCode == 0 else { throw JobFailure(message: "exited with status \(outcome.exitCode)", log: log) }
        let products = try await environment.products(of: job)
        let expected = job.expectedProductNames
        let expectedText = expected.isEmpty ? job.products.map { "\($0) \(job.version)" }.joined(separator: ", ") : expected.joined(separator: ", ")
        guard !products.isEmpty else {
            let message = "exited with status 0 but made none of its products: expected \(expectedText)"
            throw JobFailure(message: message, log: log + "[sdc] \(message)\n")
        }
        return .succeeded(products: products, log: log + Self.madeNote(job, products: products, optional: optional))
    }

    /// The log line on the declared products a job did not make: `made N of M declared products; not made: ...`, the
    /// optional ones listed apart; empty when it made every declared product.
    static func madeNote(_ job: Job, products: [String], optional: Set<ProductNode>) -> String {
        let made = products.compactMap { try? IMAPFileName.parse(String($0.split(separator: "/").last ?? "")) }
        let declared = job.products.filter { $0.descriptor != "all" }
        let missing = declared.filter { node in !made.contains(where: node.matches) }
        guard !missing.isEmpty else { return "" }
        func names(_ nodes: [ProductNode]) -> String { nodes.map { job.expectedName(of: $0) ?? $0.description }.joined(separator: ", ") }
        let required = missing.filter { !optional.contains($0) }
        let optionalMissing = missing.filter { optional.contains($0) }
        var note = "[sdc] made \(declared.count - missing.count) of \(declared.count) declared products"
        if !required.isEmpty { note += "; not made: \(names(required))" }
        if !optionalMissing.isEmpty { note += "; optional, not made: \(names(optionalMissing))" }
        return note + "\n"
    }
}
