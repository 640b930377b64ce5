import Crypto
import Foundation
import NIOCore
import SDCCatalog
import SDCCore
import SDCIngest
import SDCJobs
import SDCStorage

/// API access granted to one job's external algorithm: the data center's URL and the job's credential, which works
/// only while the worker holds the job's lease.
public struct JobCredentials: Sendable {
    public var url: String
    public var apiKey: String

    public init(url: String, apiKey: String) {
        self.url = url
        self.apiKey = apiKey
    }
}

/// What a worker needs from the data center: inputs, product ingest, product lookup and the API's URL.
public protocol WorkerEnvironment: Sendable {
    /// A local copy of a cataloged input file, by name.
    func localCopy(of name: String, in folder: URL) async throws -> URL
    /// Ingests a file an algorithm wrote; a file already stored under the same name (an earlier attempt of the same
    /// job) counts as ingested. Returns its key.
    func ingestProduct(at file: URL) async throws -> String
    /// Keys of the cataloged products of a job: every product it declares (``Job/products``, at any level), for its
    /// day and version, and the ancillary files it declares that it uploaded (``Job/madeAncillary(_:ingestedAt:)``).
    func products(of job: Job) async throws -> [String]
    /// Stores a job's dependency document (``Job/dependencyFileName``) from the local file `file`, as the IMAP batch
    /// starter uploads it before the job runs. Returns false when an identical file is already stored (a retry, or
    /// another job with the same inputs and version): it is reused. A stored file of that name with other contents is
    /// an error.
    func storeDependency(_ name: ScienceFileName, from file: URL) async throws -> Bool
    /// The URL at which a job's external algorithm reaches the data center's API.
    func apiURL() async throws -> String
}

/// The check that a dependency file already stored under a job's name is the one the job would store.
enum DependencyFileCheck {
    /// Throws unless `stored` (hex SHA-256 of the stored file; nil while it is still being uploaded) is the SHA-256 of
    /// `local`.
    static func requireSame(_ name: String, stored: String?, local: URL) throws {
        let contents = try Data(contentsOf: local)
        let digest = SHA256.hash(data: contents).hexString
        guard let stored, stored.lowercased() == digest else {
            throw WorkerEnvironmentError(message: "the dependency file \(name) is already stored with other contents (SHA-256 \(stored ?? "unknown"), "
                                         + "expected \(digest)): the job's inputs or versions changed under the same name")
        }
    }
}

/// Why a worker could not reach what a job needs.
public struct WorkerEnvironmentError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// A worker running next to the data center's catalog and store (in `sdc serve`, or `sdc worker --root`).
public struct LocalWorkerEnvironment: WorkerEnvironment {
    public let ingestor: Ingestor
    /// The API's base URL, once the server listens (for external algorithms).
    public let serverURL: @Sendable () async -> String?

    public init(ingestor: Ingestor, serverURL: @escaping @Sendable () async -> String?) {
        self.ingestor = ingestor
        self.serverURL = serverURL
    }

    /// Copies the input out of the store (through the ``ObjectStore`` protocol, so any backend serves), so that an
    /// algorithm can never change a stored object.
    public func localCopy(of name: String, in folder: URL) async throws -> URL {
        let file = try IMAPFileName.parse(name)
        let key = try ObjectKey(file.key)
        let destination = folder.appendingPathComponent("inputs").appendingPathComponent(name)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        do {
            try await ingestor.store.download(key, to: destination.path)
        } catch StorageError.notFound {
            throw WorkerEnvironmentError(message: "input \(name) is not in the store")
        }
        return destination
    }

    public func ingestProduct(at file: URL) async throws -> String {
        let name = try IMAPFileName.parse(file.lastPathComponent)
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64
        do {
            return try await ingestor.ingest(name, body: LocalFileChunks(path: file.path), expectedLength: size, maximumSize: .max).key
        } catch .alreadyExists(let key) {
            return key
        }
    }

    public func products(of job: Job) async throws -> [String] {
        var keys: [String] = []
        for product in job.products {
            if product.dataType == "ancillary" {
                keys += try await ancillaryProducts(of: job, product)
                continue
            }
            guard var query = FileQuery.science(of: product, on: job.startDate, repointing: job.repointing) else { continue }
            query.majorVersion = job.version.major
            query.minorVersion = job.version.minor
            keys += try await ingestor.catalog.files(matching: query).map(\.key)
        }
        return keys
    }

    /// The cataloged ancillary files of `product` valid on the job's day that the job made.
    private func ancillaryProducts(of job: Job, _ product: ProductNode) async throws -> [String] {
        guard let instrument = product.instrument else { return [] }
        var query = FileQuery(table: .ancillary)
        query.instrument = instrument
        query.descriptor = product.descriptor
        query.endDate = job.startDate
        query.version = job.ancillaryVersion.description
        query.ingestionStartDate = job.createdAt.date
        query.includeUnreleased = true
        query.versions = .all
        return try await ingestor.catalog.files(matching: query).compactMap { record in
            guard let file = record.file.ancillary, job.madeAncillary(file, ingestedAt: record.ingestionDate) else { return nil }
            return record.key
        }
    }

    public func storeDependency(_ name: ScienceFileName, from file: URL) async throws -> Bool {
        let parsed = try IMAPFileName.parse(name.name)
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64
        do {
            _ = try await ingestor.ingest(parsed, body: LocalFileChunks(path: file.path), expectedLength: size, maximumSize: .max)
            return true
        } catch .alreadyExists(let key) {
            let stored = try await ingestor.catalog.record(forKey: key)?.sha256
            try DependencyFileCheck.requireSame(name.name, stored: stored, local: file)
            return false
        }
    }

    public func apiURL() async throws -> String {
        guard let url = await serverURL() else { throw WorkerEnvironmentError(message: "the API server is not listening yet") }
        return url
    }
}
