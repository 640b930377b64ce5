import Foundation
import Logging
import SDCCore
import SDCCatalog
import SDCJobs
import Synchronization

/// A pipeline entry that runs an installed algorithm: `algorithm: NAME[==VERSION]` and `entry_point: SCRIPT`.
public struct InstalledAlgorithmEntry: Sendable, Hashable {
    /// The algorithm, and the version the entry pins (if any).
    public var reference: AlgorithmReference
    /// The console script to run (`imap_cli`).
    public var entryPoint: String

    public init(reference: AlgorithmReference, entryPoint: String) {
        self.reference = reference
        self.entryPoint = entryPoint
    }

    /// Validates an entry of `algorithms.yaml`.
    init(product: ProductNode, algorithm: String, entryPoint: String?) throws(AlgorithmRegistryError) {
        do {
            reference = try AlgorithmReference(parsing: algorithm)
        } catch {
            throw AlgorithmRegistryError(message: "\(product): algorithm \(error)")
        }
        guard let entryPoint, !entryPoint.isEmpty, !entryPoint.contains("/") else {
            throw AlgorithmRegistryError(message: "\(product): `algorithm: \(algorithm)` needs `entry_point`, the console script to run (e.g. imap_cli)")
        }
        self.entryPoint = entryPoint
    }
}

// MARK: Planning: the digest is the job's algorithm version

extension AlgorithmSpec {
    /// The installed algorithm this spec runs, if it names one.
    public var installedEntry: InstalledAlgorithmEntry? {
        guard case .external(let configuration) = kind else { return nil }
        return configuration.installed
    }

    /// What a job of this spec records as ``Job/algorithm`` and ``Job/algorithmVersion`` (the uniqueness key): the
    /// entry's name and version; for an installed algorithm `NAME==VERSION` and its environment's digest, the version
    /// being the one the job's reprocessing campaign is pinned to, else the one the entry pins, else the newest
    /// installed. Throws naming what is missing when that algorithm is not installed.
    public func jobIdentity(campaign: Int64, algorithms: (any AlgorithmStore)?) async throws -> (algorithm: String, version: String) {
        guard let entry = installedEntry else { return (name, version) }
        let name = entry.reference.name
        guard let algorithms else {
            throw AlgorithmEnvironmentError("\(product) runs the installed algorithm \(name), but this process has no algorithm registry")
        }
        let pinned = campaign == 0 ? nil : try await algorithms.pinnedVersion(campaign: campaign, name: name)
        let installed: InstalledAlgorithm?
        if let version = pinned ?? entry.reference.version {
            installed = try await algorithms.algorithm(name: name, version: version)
            guard let installed else {
                throw AlgorithmEnvironmentError("\(product) runs \(name)==\(version), which is not installed: sdc algorithms install \(name) SPEC")
            }
            return (installed.reference, installed.digest)
        }
        guard let newest = try await algorithms.newest(name: name) else {
            throw AlgorithmEnvironmentError("\(product) runs the algorithm \(name), which is not installed: sdc algorithms install \(name) SPEC")
        }
        return (newest.reference, newest.digest)
    }
}

extension Planner {
    /// ``AlgorithmSpec/jobIdentity(campaign:algorithms:)``, or nil (logged) when the algorithm is not installed: the day
    /// is then not planned, and is planned by the next trigger or reprocess request once the algorithm is installed.
    func jobIdentity(of algorithm: AlgorithmSpec, for product: ProductNode, date: FileDate, campaign: Int64) async throws -> (algorithm: String, version: String)? {
        do {
            return try await algorithm.jobIdentity(campaign: campaign, algorithms: algorithms)
        } catch let error as AlgorithmEnvironmentError {
            logger.error("not planning \(product) for \(date): \(error)")
            return nil
        }
    }
}

extension AlgorithmRegistry {
    /// The products each installed algorithm makes under this configuration, by name and pinned version (nil: any).
    public var productsByInstalledAlgorithm: [AlgorithmReference: [ProductNode]] {
        var products: [AlgorithmReference: [ProductNode]] = [:]
        for spec in algorithms.values {
            guard let entry = spec.installedEntry else { continue }
            products[entry.reference, default: []] += spec.products
        }
        return products
    }

    /// Records in `store` which products each installed algorithm makes under this configuration (shown by the
    /// portal and `sdc algorithms list`).
    public func recordProducts(in store: any AlgorithmStore) async throws {
        for (reference, products) in productsByInstalledAlgorithm.sorted(by: { $0.key.description < $1.key.description }) {
            try await store.setProducts(products.sorted(), name: reference.name, version: reference.version)
        }
    }
}

// MARK: Running: the job's environment, resolved on the worker

/// Resolves the environment a job runs in, on the machine that runs it: looks up the registered algorithm the job
/// was planned with, installs it here from its spec the first time (``AlgorithmEnvironments/prepare(_:progress:)``),
/// and puts the environment's `bin/` first on PATH.
public struct AlgorithmEnvironmentResolver: Sendable {
    public let environments: AlgorithmEnvironments
    let lookup: @Sendable (_ name: String, _ version: String) async throws -> InstalledAlgorithm?
    let logger: Logger

    /// Looks algorithms up in the data center's registry (workers beside it).
    public init(environments: AlgorithmEnvironments, store: any AlgorithmStore, logger: Logger = Logger(label: "sdc.algorithms")) {
        self.environments = environments
        lookup = { name, version in try await store.algorithm(name: name, version: version) }
        self.logger = logger
    }

    /// Looks algorithms up through the data center's job API (`sdc worker --api-key`), with the worker's key.
    public init(environments: AlgorithmEnvironments, remote: RemoteDataCenter, logger: Logger = Logger(label: "sdc.algorithms")) {
        self.environments = environments
        lookup = { name, version in
            // The job API, with the worker's write key: the registry is not read from the public portal.
            let (status, buffer) = try await remote.call(.GET, "/api-key/jobs/algorithms/\(name.percentEncoded())/\(version.percentEncoded())",
                                                         accept: [200, 404])
            guard status == 200 else { return nil }
            return try InstalledAlgorithm.list(wire: Data("[".utf8) + Data(buffer.readableBytesView) + Data("]".utf8)).first
        }
        self.logger = logger
    }

    /// The configuration to run `job` with: unchanged for a plain command; for an installed algorithm, its entry
    /// point from the environment whose digest is the job's ``Job/algorithmVersion`` (installed here if needed), with
    /// that environment's `bin/` first on PATH. `log` receives what the installation printed.
    public func environment(for configuration: ExternalCommandConfiguration, of job: Job,
                            log: @escaping @Sendable (String) -> Void) async throws -> ExternalCommandConfiguration {
        guard let entry = configuration.installed else { return configuration }
        let reference: AlgorithmReference
        do { reference = try AlgorithmReference(parsing: job.algorithm) } catch {
            throw AlgorithmEnvironmentError("job \(job.id) names its algorithm '\(job.algorithm)', not NAME==VERSION: \(error)")
        }
        guard let version = reference.version, reference.name == entry.reference.name else {
            throw AlgorithmEnvironmentError("job \(job.id) was planned with \(job.algorithm), but the pipeline runs \(entry.reference.name) for \(job.product)")
        }
        guard let registered = try await lookup(reference.name, version) else {
            throw AlgorithmEnvironmentError("\(job.algorithm) is no longer installed (sdc algorithms list); install it again to run job \(job.id)")
        }
        guard registered.digest == job.algorithmVersion else {
            throw AlgorithmEnvironmentError("job \(job.id) was planned with \(job.algorithm) digest \(job.algorithmVersion), but that version is now registered with \(registered.digest)")
        }
        let folder = try await environments.prepare(registered) { [logger] line in
            logger.debug("\(line)", metadata: ["algorithm": "\(registered.reference)"])
            log(line + "\n")
        }
        let bin = folder.appendingPathComponent("bin")
        let executable = bin.appendingPathComponent(entry.entryPoint)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw AlgorithmEnvironmentError("\(registered.reference) has no entry point \(entry.entryPoint) (it has: \(registered.entryPoints.joined(separator: ", ")))")
        }
        var prepared = configuration
        prepared.command = [executable.path] + configuration.command.dropFirst()
        prepared.environment["PATH"] = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        prepared.environment["VIRTUAL_ENV"] = folder.path
        return prepared
    }
}

// MARK: Reprocessing with a named algorithm version

extension Planner {
    /// Pins a reprocess request's campaign to the algorithm version it names (`algorithm=NAME==VERSION`), so that
    /// its jobs run that version's environment. Refused unless that version is installed and the pipeline runs `NAME`.
    func pinAlgorithm(of request: ReprocessRequest) async throws {
        guard let text = request.algorithm else { return }
        let reference: AlgorithmReference
        do { reference = try AlgorithmReference(parsing: text) } catch { throw ReprocessRefusal(description: "algorithm \(error)") }
        guard let version = reference.version else {
            throw ReprocessRefusal(description: "algorithm '\(text)' names no version: give NAME==VERSION")
        }
        guard registry.productsByInstalledAlgorithm.keys.contains(where: { $0.name == reference.name }) else {
            throw ReprocessRefusal(description: "no product of the pipeline configuration runs the algorithm \(reference.name)")
        }
        guard let algorithms, try await algorithms.algorithm(name: reference.name, version: version) != nil else {
            throw ReprocessRefusal(description: "\(text) is not installed (sdc algorithms list)")
        }
        try await algorithms.pin(campaign: request.id, name: reference.name, version: version)
    }
}

extension JobRunner {
    /// The configuration the job's external command runs with (``AlgorithmEnvironmentResolver``), and what
    /// installing its environment on this machine printed; a job whose environment cannot be had fails, naming why.
    func resolvedEnvironment(_ configuration: ExternalCommandConfiguration, for job: Job) async throws -> (ExternalCommandConfiguration, String) {
        guard configuration.installed != nil else { return (configuration, "") }
        guard let algorithms else {
            throw JobFailure(message: "\(job.algorithm) is an installed algorithm, but this worker has no algorithm environments", log: "")
        }
        let log = Mutex("")
        do {
            let resolved = try await algorithms.environment(for: configuration, of: job) { line in log.withLock { $0 += line } }
            return (resolved, log.withLock { $0 })
        } catch {
            throw JobFailure(message: "\(error)", log: log.withLock { $0 })
        }
    }
}
