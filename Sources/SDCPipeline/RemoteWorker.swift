import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SDCCore
import SDCJobs
import SDCStorage

/// A client of the data center's job and data APIs, for workers that run elsewhere (`sdc worker --url --api-key`):
/// jobs are claimed, renewed and finished through `/api-key/jobs/...`, inputs downloaded and products uploaded
/// through the IMAP data-access endpoints.
public final class RemoteDataCenter: Sendable {
    let baseURL: String
    let apiKey: String
    let client: HTTPClient
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

    /// Calls the API with the worker's key, or with a job's credential.
    func call(_ method: HTTPMethod, _ path: String, body: HTTPClientRequest.Body? = nil, accept: Set<UInt> = [200],
              as credential: JobCredential? = nil) async throws -> (UInt, ByteBuffer) {
        var request = HTTPClientRequest(url: path.hasPrefix("http") ? path : baseURL + path)
        request.method = method
        request.headers.add(name: "x-api-key", value: credential?.secret ?? apiKey)
        if let body { request.body = body }
        let response = try await client.execute(request, timeout: .seconds(300))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        guard accept.contains(response.status.code) else {
            throw CallError(description: "\(method.rawValue) \(path): \(response.status.code) \(response.status.reasonPhrase): \(String(buffer: buffer))")
        }
        return (response.status.code, buffer)
    }

    func job(from buffer: ByteBuffer) throws -> Job {
        do { return try Job(wire: Data(buffer.readableBytesView)) } catch {
            throw CallError(description: "malformed job (\(error)): \(String(buffer: buffer).prefix(200))")
        }
    }

    static func encode(_ value: JSONValue) -> HTTPClientRequest.Body { .bytes(ByteBuffer(string: value.serialized())) }
}

/// The job API as a worker's queue. The claim is made with the worker's write key; everything after it with the
/// job credential the claim returned, which the server binds to that job and lease.
public struct HTTPJobQueue: JobQueue {
    let remote: RemoteDataCenter

    public init(_ remote: RemoteDataCenter) { self.remote = remote }

    /// A claimed job as the job API answers it.
    struct ClaimAnswer: Decodable {
        var api_key: String
    }

    public func claim(workerID: String, leaseSeconds: Int64) async throws -> ClaimedJob? {
        let (status, buffer) = try await remote.call(.POST, "/api-key/jobs/claim?worker=\(workerID.percentEncoded())&lease=\(leaseSeconds)", accept: [200, 204])
        guard status == 200 else { return nil }
        let job = try remote.job(from: buffer)
        let answer: ClaimAnswer
        do { answer = try JSONDecoder().decode(ClaimAnswer.self, from: Data(buffer.readableBytesView)) } catch {
            throw RemoteDataCenter.CallError(description: "the claim of job \(job.id) carries no job credential: \(error)")
        }
        guard let credential = JobCredential(secret: answer.api_key), credential.jobID == job.id else {
            throw RemoteDataCenter.CallError(description: "the claim of job \(job.id) carries a malformed job credential")
        }
        return ClaimedJob(job: job, credential: credential)
    }

    public func renewLease(_ credential: JobCredential, leaseSeconds: Int64) async throws {
        _ = try await remote.call(.POST, "/api-key/jobs/\(credential.jobID)/renew?lease=\(leaseSeconds)", as: credential)
    }

    public func complete(_ credential: JobCredential, outputs: [String], log: String) async throws -> Job {
        let body = JSONValue.object([("outputs", .array(outputs.map(JSONValue.string))), ("log", .string(log))])
        return try remote.job(from: try await remote.call(.POST, "/api-key/jobs/\(credential.jobID)/complete", body: RemoteDataCenter.encode(body),
                                                          as: credential).1)
    }

    public func fail(_ credential: JobCredential, error: String, log: String, backoffSeconds: Int64) async throws -> Job {
        let body = JSONValue.object([("error", .string(error)), ("log", .string(log))])
        return try remote.job(from: try await remote.call(.POST, "/api-key/jobs/\(credential.jobID)/fail?backoff=\(backoffSeconds)",
                                                          body: RemoteDataCenter.encode(body), as: credential).1)
    }

    public func postpone(_ credential: JobCredential, reason: String, log: String) async throws -> Job {
        let body = JSONValue.object([("reason", .string(reason)), ("log", .string(log))])
        return try remote.job(from: try await remote.call(.POST, "/api-key/jobs/\(credential.jobID)/postpone", body: RemoteDataCenter.encode(body),
                                                          as: credential).1)
    }

    public func release(_ credential: JobCredential, log: String) async throws -> Job {
        let body = JSONValue.object([("log", .string(log))])
        return try remote.job(from: try await remote.call(.POST, "/api-key/jobs/\(credential.jobID)/release", body: RemoteDataCenter.encode(body),
                                                          as: credential).1)
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
        let length = response.headers.first(name: "content-length").flatMap { Int64($0) }
        try await writeNewFile(destination.path, from: response.body, expectedLength: length)
        return destination
    }

    public func ingestProduct(at file: URL) async throws -> String {
        let name = try IMAPFileName.parse(file.lastPathComponent)
        let (status, grant) = try await remote.call(.GET, "/api-key/upload/\(name.name)", accept: [200, 409])
        guard status == 200 else { return name.key }
        guard let url = try JSONSerialization.jsonObject(with: Data(grant.readableBytesView), options: .fragmentsAllowed) as? String else {
            throw RemoteDataCenter.CallError(description: "upload \(name.name): the upload URL is not a JSON string")
        }
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64 ?? 0
        _ = try await remote.call(.PUT, url, body: .stream(LocalFileChunks(path: file.path), length: .known(size)), accept: [200, 409])
        return name.key
    }

    public func products(of job: Job) async throws -> [String] {
        var keys: [String] = []
        for product in job.products {
            if product.dataType == "ancillary" {
                keys += try await ancillaryProducts(of: job, product)
                continue
            }
            var query = "instrument=\(product.source.percentEncoded())&data_level=\(product.dataType.percentEncoded())"
            query += "&start_date=\(job.startDate)&end_date=\(job.startDate)&major_version=\(job.version.major ?? 0)&minor_version=\(job.version.minor)"
            if product.descriptor != "all" { query += "&descriptor=\(product.descriptor.percentEncoded())" }
            if let repointing = job.repointing { query += "&repointing=\(repointing)" }
            let (_, buffer) = try await remote.call(.GET, "/api-key/query?" + query)
            let rows = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [[String: Any]] ?? []
            keys += rows.compactMap { $0["file_path"] as? String }
        }
        return keys
    }

    /// The ancillary files of `product` valid on the job's day that the job made (``Job/madeAncillary(_:ingestedAt:)``),
    /// found with `/query?table=ancillary`, whose rows give the ingestion time as `YYYYMMDD HH:MM:SS`.
    private func ancillaryProducts(of job: Job, _ product: ProductNode) async throws -> [String] {
        var query = "table=ancillary&instrument=\(product.source.percentEncoded())&descriptor=\(product.descriptor.percentEncoded())"
        query += "&end_date=\(job.startDate)&version=\(job.ancillaryVersion)&ingestion_start_date=\(job.createdAt.date)"
        let (_, buffer) = try await remote.call(.GET, "/api-key/query?" + query)
        let rows = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [[String: Any]] ?? []
        return rows.compactMap { row -> String? in
            guard let key = row["file_path"] as? String, let ingested = (row["ingestion_date"] as? String).flatMap(Self.time(compact:)),
                  let file = (try? IMAPFileName.parse(String(key.split(separator: "/").last ?? "")))?.ancillary,
                  job.madeAncillary(file, ingestedAt: ingested) else { return nil }
            return key
        }
    }

    /// A `YYYYMMDD HH:MM:SS` time (``UTCTime/compact``); nil when malformed.
    static func time(compact text: String) -> UTCTime? {
        let fields = text.split(separator: " ")
        guard fields.count == 2, let date = FileDate(yyyymmdd: fields[0]) else { return nil }
        let clock = fields[1].split(separator: ":").compactMap { Int64($0) }
        guard clock.count == 3 else { return nil }
        return UTCTime(secondsSince1970: UTCTime(date: date).secondsSince1970 + clock[0] * 3600 + clock[1] * 60 + clock[2])
    }

    public func storeDependency(_ name: ScienceFileName, from file: URL) async throws -> Bool {
        let (status, grant) = try await remote.call(.GET, "/api-key/upload/\(name.name)", accept: [200, 409])
        if status == 409 {
            let parsed = try IMAPFileName.parse(name.name)
            var request = HTTPClientRequest(url: remote.baseURL + "/api-key/download/" + parsed.key)
            request.method = .HEAD
            request.headers.add(name: "x-api-key", value: remote.apiKey)
            let response = try await remote.client.execute(request, timeout: .seconds(60))
            try DependencyFileCheck.requireSame(name.name, stored: response.headers.first(name: "x-checksum-sha256"), local: file)
            return false
        }
        guard let url = try JSONSerialization.jsonObject(with: Data(grant.readableBytesView), options: .fragmentsAllowed) as? String else {
            throw RemoteDataCenter.CallError(description: "upload \(name.name): the upload URL is not a JSON string")
        }
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64 ?? 0
        _ = try await remote.call(.PUT, url, body: .stream(LocalFileChunks(path: file.path), length: .known(size)))
        return true
    }

    public func apiURL() async throws -> String { remote.baseURL }
}
