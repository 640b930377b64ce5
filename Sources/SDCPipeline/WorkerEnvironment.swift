import Foundation
import NIOCore
import SDCCatalog
import SDCCore
import SDCIngest
import SDCStorage

/// API access granted to one job's external algorithm.
public struct JobCredentials: Sendable {
    public var url: String
    public var apiKey: String
    /// Withdraws the key once the job is over.
    public var revoke: @Sendable () async -> Void

    public init(url: String, apiKey: String, revoke: @escaping @Sendable () async -> Void) {
        self.url = url
        self.apiKey = apiKey
        self.revoke = revoke
    }
}

/// What a worker needs from the data center: inputs, product ingest, product lookup and job credentials.
public protocol WorkerEnvironment: Sendable {
    /// A local copy of a cataloged input file, by name.
    func localCopy(of name: String, in folder: URL) async throws -> URL
    /// Ingests a file an algorithm wrote; a file already stored under the same name (an earlier attempt of the same
    /// job) counts as ingested. Returns its key.
    func ingestProduct(at file: URL) async throws -> String
    /// Keys of the cataloged products of a job (its product, day and version).
    func products(of job: Job) async throws -> [String]
    /// An API URL and a short-lived write key for the job's external algorithm.
    func credentials(for job: Job) async throws -> JobCredentials
}

/// Why a worker could not reach what a job needs.
public struct WorkerEnvironmentError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// A worker running next to the data center's catalog and store (in `sdc serve`, or `sdc worker --root`).
public struct LocalWorkerEnvironment: WorkerEnvironment {
    public let ingestor: Ingestor
    public let keys: any APIKeyStore
    public let store: FileSystemObjectStore
    /// The API's base URL, once the server listens (for external algorithms).
    public let serverURL: @Sendable () async -> String?

    public init(ingestor: Ingestor, keys: any APIKeyStore, store: FileSystemObjectStore, serverURL: @escaping @Sendable () async -> String?) {
        self.ingestor = ingestor
        self.keys = keys
        self.store = store
        self.serverURL = serverURL
    }

    public func localCopy(of name: String, in folder: URL) async throws -> URL {
        let file = try IMAPFileName.parse(name)
        let path = store.path(of: try ObjectKey(file.key))
        guard FileManager.default.fileExists(atPath: path) else { throw WorkerEnvironmentError(message: "input \(name) is not in the store") }
        return URL(fileURLWithPath: path)
    }

    public func ingestProduct(at file: URL) async throws -> String {
        let name = try IMAPFileName.parse(file.lastPathComponent)
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64
        do {
            return try await ingestor.ingest(name, body: FileChunks(url: file), expectedLength: size, maximumSize: .max).key
        } catch .alreadyExists(let key) {
            return key
        }
    }

    public func products(of job: Job) async throws -> [String] {
        guard var query = FileQuery.science(of: job.product, on: job.startDate, repointing: job.repointing) else { return [] }
        query.majorVersion = job.version.major
        query.minorVersion = job.version.minor
        return try await ingestor.catalog.files(matching: query).map(\.key)
    }

    public func credentials(for job: Job) async throws -> JobCredentials {
        guard let url = await serverURL() else { throw WorkerEnvironmentError(message: "the API server is not listening yet") }
        let (secret, info) = try await keys.createKey(name: "job-\(job.id)", scope: .write)
        let keys = keys
        return JobCredentials(url: url, apiKey: secret) { _ = try? await keys.revokeKey(String(info.id)) }
    }
}

/// A file read in 1 MiB chunks, as an upload body.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let url: URL

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        mutating func next() async throws -> ByteBuffer? {
            guard let handle, let data = try handle.read(upToCount: 1 << 20), !data.isEmpty else {
                try handle?.close()
                return nil
            }
            return ByteBuffer(bytes: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: try? FileHandle(forReadingFrom: url)) }
}
