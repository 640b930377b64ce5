import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SDCCore

/// A client of the data center's job and data APIs, for workers that run elsewhere (`sdc worker --url --api-key`):
/// jobs are claimed, renewed and finished through `/api-key/jobs/...`, inputs downloaded and products uploaded
/// through the IMAP data-access endpoints.
public final class RemoteDataCenter: Sendable {
    let baseURL: String
    let apiKey: String
    let client: HTTPClient
    /// Job-scoped keys handed out with claimed jobs, by job id.
    let credentials = JobKeys()

    actor JobKeys {
        var keys: [Int64: String] = [:]
        func set(_ key: String, for job: Int64) { keys[job] = key }
        func take(_ job: Int64) -> String? { keys.removeValue(forKey: job) }
        func get(_ job: Int64) -> String? { keys[job] }
    }

    /// Why an API call failed.
    public struct CallError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(baseURL: String, apiKey: String) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .follow(max: 5, allowCycles: false)))
    }

    public func shutdown() async throws { try await client.shutdown() }

    func call(_ method: HTTPMethod, _ path: String, body: HTTPClientRequest.Body? = nil, accept: Set<UInt> = [200]) async throws -> (UInt, ByteBuffer) {
        var request = HTTPClientRequest(url: path.hasPrefix("http") ? path : baseURL + path)
        request.method = method
        request.headers.add(name: "x-api-key", value: apiKey)
        if let body { request.body = body }
        let response = try await client.execute(request, timeout: .seconds(300))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        guard accept.contains(response.status.code) else {
            throw CallError(description: "\(method.rawValue) \(path): \(response.status.code) \(response.status.reasonPhrase): \(String(buffer: buffer))")
        }
        return (response.status.code, buffer)
    }

    func job(from buffer: ByteBuffer) throws -> Job {
        guard let job = Job(wire: Data(buffer.readableBytesView)) else { throw CallError(description: "malformed job: \(String(buffer: buffer))") }
        return job
    }

    static func encode(_ value: JSONValue) -> HTTPClientRequest.Body { .bytes(ByteBuffer(string: value.serialized())) }
}

/// The job API as a worker's queue.
public struct HTTPJobQueue: JobQueue {
    let remote: RemoteDataCenter

    public init(_ remote: RemoteDataCenter) { self.remote = remote }

    public func claim(workerID: String, leaseSeconds: Int64) async throws -> Job? {
        let (status, buffer) = try await remote.call(.POST, "/api-key/jobs/claim?worker=\(workerID.percentEncodedQuery)&lease=\(leaseSeconds)", accept: [200, 204])
        guard status == 200 else { return nil }
        let job = try remote.job(from: buffer)
        if let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any], let key = object["api_key"] as? String {
            await remote.credentials.set(key, for: job.id)
        }
        return job
    }

    public func renewLease(jobID: Int64, workerID: String, leaseSeconds: Int64) async throws {
        _ = try await remote.call(.POST, "/api-key/jobs/\(jobID)/renew?worker=\(workerID.percentEncodedQuery)&lease=\(leaseSeconds)")
    }

    public func complete(jobID: Int64, workerID: String, outputs: [String], log: String) async throws -> Job {
        _ = await remote.credentials.take(jobID)
        let body = JSONValue.object([("outputs", .array(outputs.map(JSONValue.string))), ("log", .string(log))])
        return try remote.job(from: try await remote.call(.POST, "/api-key/jobs/\(jobID)/complete?worker=\(workerID.percentEncodedQuery)",
                                                          body: RemoteDataCenter.encode(body)).1)
    }

    public func fail(jobID: Int64, workerID: String, error: String, log: String, backoffSeconds: Int64) async throws -> Job {
        _ = await remote.credentials.take(jobID)
        let body = JSONValue.object([("error", .string(error)), ("log", .string(log))])
        return try remote.job(from: try await remote.call(.POST, "/api-key/jobs/\(jobID)/fail?worker=\(workerID.percentEncodedQuery)&backoff=\(backoffSeconds)",
                                                          body: RemoteDataCenter.encode(body)).1)
    }

    /// The server expires lost jobs itself.
    public func expireLostJobs() async throws -> [Job] { [] }
}

/// Inputs, products and credentials through the data-access API.
public struct RemoteWorkerEnvironment: WorkerEnvironment {
    let remote: RemoteDataCenter

    public init(_ remote: RemoteDataCenter) { self.remote = remote }

    public func localCopy(of name: String, in folder: URL) async throws -> URL {
        let file = try IMAPFileName.parse(name)
        let destination = folder.appendingPathComponent("inputs").appendingPathComponent(name)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        var request = HTTPClientRequest(url: remote.baseURL + "/api-key/download/" + file.key)
        request.headers.add(name: "x-api-key", value: remote.apiKey)
        let response = try await remote.client.execute(request, timeout: .seconds(3600))
        guard response.status == .ok else { throw RemoteDataCenter.CallError(description: "download \(name): \(response.status)") }
        FileManager.default.createFile(atPath: destination.path, contents: nil)
        let handle = try FileHandle(forWritingTo: destination)
        defer { try? handle.close() }
        for try await chunk in response.body { try handle.write(contentsOf: Data(chunk.readableBytesView)) }
        return destination
    }

    public func ingestProduct(at file: URL) async throws -> String {
        let name = try IMAPFileName.parse(file.lastPathComponent)
        let (status, grant) = try await remote.call(.GET, "/api-key/upload/\(name.name)", accept: [200, 409])
        guard status == 200 else { return name.key }
        guard let url = try JSONSerialization.jsonObject(with: Data(grant.readableBytesView), options: .fragmentsAllowed) as? String else {
            throw RemoteDataCenter.CallError(description: "upload \(name.name): the upload URL is not a JSON string")
        }
        let data = try Data(contentsOf: file)
        let (putStatus, _) = try await remote.call(.PUT, url, body: .bytes(ByteBuffer(bytes: data)), accept: [200, 409])
        _ = putStatus
        return name.key
    }

    public func products(of job: Job) async throws -> [String] {
        var query = "instrument=\(job.product.source)&data_level=\(job.product.dataType)&start_date=\(job.startDate)&end_date=\(job.startDate)"
        query += "&major_version=\(job.version.major ?? 0)&minor_version=\(job.version.minor)"
        if job.product.descriptor != "all" { query += "&descriptor=\(job.product.descriptor.percentEncodedQuery)" }
        if let repointing = job.repointing { query += "&repointing=\(repointing)" }
        let (_, buffer) = try await remote.call(.GET, "/api-key/query?" + query)
        let rows = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [[String: Any]] ?? []
        return rows.compactMap { $0["file_path"] as? String }
    }

    public func credentials(for job: Job) async throws -> JobCredentials {
        guard let key = await remote.credentials.get(job.id) else {
            throw RemoteDataCenter.CallError(description: "the server gave no job key with job \(job.id)")
        }
        return JobCredentials(url: remote.baseURL, apiKey: key) {}
    }
}

extension String {
    /// Percent-encoded for a query value.
    var percentEncodedQuery: String {
        addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? self
    }
}
