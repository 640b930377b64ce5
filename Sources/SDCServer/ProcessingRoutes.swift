import Foundation
import HTTPTypes
import Hummingbird
import SDCCatalog
import SDCCore
import SDCJobs

/// Operator endpoints of the pipeline (`/processing-jobs`, `/processing-logs/<id>`, `/lineage/<key>`) and the job API
/// of remote workers (`/jobs/...`).
///
/// The job API: a worker claims with a write key and receives the job with its credential (`api_key`); renew,
/// complete, fail, release and postpone take that credential (as the caller's key) and act on its own job only.
struct ProcessingRoutes: Sendable {
    let jobs: any JobStore
    /// Closed while the data center shuts down: claims are refused first.
    let gate: ClaimGate
    /// The installed algorithms, which remote workers look up to install what a job runs (`jobs/algorithms/...`).
    var algorithms: (any AlgorithmStore)? = nil

    typealias Context = SDCRequestContext

    func register(on routes: some RouterMethods<Context>) {
        routes.get("processing-jobs") { request, context in try await list(request, caller: context.caller) }
        routes.get("processing-jobs/:id") { _, context in try await show(id: context.parameters.get("id"), caller: context.caller) }
        routes.get("processing-logs/:id") { _, context in try await log(id: context.parameters.get("id"), caller: context.caller) }
        routes.get("lineage/**") { request, context in try await lineage(request, caller: context.caller) }
        routes.post("jobs/claim") { request, context in try await claim(request, caller: context.caller) }
        routes.post("jobs/:id/renew") { request, context in try await renew(request, context: context) }
        routes.post("jobs/:id/complete") { request, context in try await complete(request, context: context) }
        routes.post("jobs/:id/fail") { request, context in try await fail(request, context: context) }
        routes.post("jobs/:id/release") { request, context in try await release(request, context: context) }
        routes.post("jobs/:id/postpone") { request, context in try await postpone(request, context: context) }
        routes.get("jobs/algorithms/:name/:version") { _, context in
            try await algorithm(name: context.parameters.get("name"), version: context.parameters.get("version"), caller: context.caller)
        }
    }

    /// One installed algorithm (its spec, digest and pip freeze), for a worker that installs what a job runs: a worker's
    /// write key or a job credential.
    func algorithm(name: String?, version: String?, caller: Caller) async throws -> Response {
        if case .job = caller {} else { try Authenticator.require(.write, of: caller, for: "Looking up installed algorithms") }
        guard let algorithms, let name, let version else { throw APIError.notFound("No installed algorithm registry.") }
        let found: InstalledAlgorithm?
        do { found = try await algorithms.algorithm(name: name, version: version) } catch {
            throw APIError(.serviceUnavailable, "AlgorithmRegistryUnavailable", "The algorithm registry is not available: \(error)")
        }
        guard let found else { throw APIError.notFound("No installed algorithm \(name)==\(version).") }
        return .json(found.wire.serialized())
    }

    // MARK: Job API for remote workers

    /// What a worker sends to complete a job.
    struct Completion: Decodable {
        var outputs: [String]
        var log: String?
    }

    /// What a worker sends to fail a job.
    struct Failure: Decodable {
        var error: String
        var log: String?
    }

    /// What a worker sends to hand a job back.
    struct Release: Decodable {
        var log: String?
    }

    /// What a worker sends to postpone a job (its algorithm asked to be run again later).
    struct Postponement: Decodable {
        var reason: String
        var log: String?
    }

    private static func parameters(_ request: Request) -> [String: String] {
        Dictionary(request.orderedQueryParameters, uniquingKeysWith: { $1 })
    }

    /// A number of seconds from the query, within `range` (default when absent); 400 otherwise.
    private static func seconds(_ name: String, in request: Request, range: ClosedRange<Int64>, default value: Int64) throws -> Int64 {
        guard let text = parameters(request)[name] else { return value }
        guard let seconds = Int64(text), range.contains(seconds) else {
            throw APIError.badRequest("\(name) must be a whole number of seconds from \(range.lowerBound) to \(range.upperBound), not '\(text)'.", code: "InvalidParameter")
        }
        return seconds
    }

    /// Leases the next job to the calling worker, with the job's credential (204 when none is runnable).
    func claim(_ request: Request, caller: Caller) async throws -> Response {
        guard case .key = caller else {
            throw APIError.forbidden("Claiming processing jobs requires a worker's API key with write scope, not a job credential.")
        }
        try Authenticator.require(.write, of: caller, for: "Running processing jobs")
        guard let worker = Self.parameters(request)["worker"], !worker.isEmpty, worker.count <= 200 else {
            throw APIError.badRequest("worker is required: a name of at most 200 characters.", code: "InvalidParameter")
        }
        let lease = try Self.seconds("lease", in: request, range: 1...3600, default: 30)
        guard gate.isOpen else {
            throw APIError(.serviceUnavailable, "ShuttingDown", "The data center is shutting down and hands out no jobs; try again later.")
        }
        guard let claimed = try await jobCall({ try await jobs.claim(workerID: worker, leaseSeconds: lease) }) else {
            return Response(status: .noContent)
        }
        guard case .object(var members) = claimed.job.wire else { throw APIError.internalError("job \(claimed.job.id) has no wire form") }
        members.append(("api_key", .string(claimed.credential.secret)))
        return .json(JSONValue.object(members).serialized())
    }

    /// The credential of the job named in the path; 403 for any other caller.
    private func credential(_ request: Request, context: Context) throws -> JobCredential {
        let id = try Self.jobID(context.parameters.get("id"))
        guard case .job(_, let credential) = context.caller, credential.jobID == id else {
            throw APIError.forbidden("Job \(id) can be renewed, completed, failed or released only with the credential its claim returned.",
                                     code: "JobCredentialRequired")
        }
        return credential
    }

    /// Decodes a JSON body; 400 naming what is wrong.
    private func body<T: Decodable>(_ type: T.Type, of request: Request) async throws -> T {
        var request = request
        let buffer = try await request.collectBody(upTo: 64 << 20)
        do {
            return try JSONDecoder().decode(type, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError.badRequest("The request body is not valid: \(error.reason).", code: "InvalidBody")
        }
    }

    func renew(_ request: Request, context: Context) async throws -> Response {
        let credential = try credential(request, context: context)
        let lease = try Self.seconds("lease", in: request, range: 1...3600, default: 30)
        try await jobCall { try await jobs.renewLease(credential, leaseSeconds: lease) }
        return .json("{}")
    }

    func complete(_ request: Request, context: Context) async throws -> Response {
        let credential = try credential(request, context: context)
        let completion = try await body(Completion.self, of: request)
        let job = try await jobCall { try await jobs.complete(credential, outputs: completion.outputs, log: completion.log ?? "") }
        return .json(job.wire.serialized())
    }

    func fail(_ request: Request, context: Context) async throws -> Response {
        let credential = try credential(request, context: context)
        let backoff = try Self.seconds("backoff", in: request, range: JobLimits.backoffSeconds, default: 0)
        let failure = try await body(Failure.self, of: request)
        let job = try await jobCall { try await jobs.fail(credential, error: failure.error, log: failure.log ?? "", backoffSeconds: backoff) }
        return .json(job.wire.serialized())
    }

    func release(_ request: Request, context: Context) async throws -> Response {
        let credential = try credential(request, context: context)
        let release = try await body(Release.self, of: request)
        let job = try await jobCall { try await jobs.release(credential, log: release.log ?? "") }
        return .json(job.wire.serialized())
    }

    func postpone(_ request: Request, context: Context) async throws -> Response {
        let credential = try credential(request, context: context)
        let postponement = try await body(Postponement.self, of: request)
        let job = try await jobCall { try await jobs.postpone(credential, reason: postponement.reason, log: postponement.log ?? "") }
        return .json(job.wire.serialized())
    }

    /// Records a job's upload of a product (``JobStore/recordUpload(_:name:exists:)``); other callers and other
    /// files (the job's dependency file, stored again on a retry) are not recorded. A refused upload still answers
    /// imap-data-access's 409 `FileAlreadyExists` (imap_cli logs "skipping" and goes on), with a message naming the
    /// collision; the job then fails, naming the file.
    static func recordUpload(_ file: IMAPFileName, exists: Bool, by caller: Caller, jobs: (any JobStore)?) async throws {
        guard case .job(let job, let credential) = caller, let jobs, file.fileClass == .science else { return }
        let verdict: UploadVerdict
        do { verdict = try await jobs.recordUpload(credential, name: file.name, exists: exists) } catch {
            throw APIError.internalError("The job store failed: \(error)")
        }
        if verdict == .refused {
            throw APIError(.conflict, "FileAlreadyExists", "The file '\(file.key)' already exists, made by another producer: job \(job.id) "
                           + "will fail (two algorithms make this product).")
        }
    }

    /// Jobs are visible to any key holder (they name unreleased products).
    private func requireKey(_ caller: Caller) throws {
        try Authenticator.require(.read, of: caller, for: "Viewing processing jobs")
    }

    /// Worker ids are shown to keys that may run jobs (write scope and above) only.
    private static func showsWorkers(to caller: Caller) -> Bool { (caller.scope ?? .read) >= .write }

    func list(_ request: Request, caller: Caller) async throws -> Response {
        try requireKey(caller)
        // The days waiting for a missing input: rows of status WAITING naming it (`waiting_for`).
        if Self.parameters(request)["status"]?.lowercased() == "waiting" {
            let waiting = try await jobCall { try await jobs.waitingTriggers(limit: 10_000) }
            return .json(JSONValue.array(waiting.map(\.json)).serialized())
        }
        var filter = JobFilter()
        for (name, value) in request.orderedQueryParameters {
            switch name {
            case "status":
                guard let status = JobStatus(rawValue: value.lowercased()) else {
                    throw APIError.badRequest("Invalid status '\(value)': expected one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))", code: "InvalidParameter")
                }
                filter.status = status
            case "instrument":
                guard let instrument = Instrument(rawValue: value) else { throw APIError.badRequest("Invalid instrument '\(value)'.", code: "InvalidParameter") }
                filter.instrument = instrument
            case "data_level":
                guard let level = DataLevel(rawValue: value) else { throw APIError.badRequest("Invalid data_level '\(value)'.", code: "InvalidParameter") }
                filter.dataLevel = level
            case "descriptor": filter.descriptor = value
            case "start_date":
                guard let date = FileDate(yyyymmdd: value) else {
                    throw APIError.badRequest("Invalid date format for start_date. Expected YYYYMMDD.", code: "InvalidParameter")
                }
                filter.startDate = date
            case "limit":
                guard let limit = Int(value), (1...10_000).contains(limit) else { throw APIError.badRequest("limit must be 1 to 10000.", code: "InvalidParameter") }
                filter.limit = limit
            default:
                throw APIError.badRequest("Invalid parameter: \(name)", code: "InvalidParameter")
            }
        }
        let found = try await jobCall { try await jobs.jobs(matching: filter) }
        return .json(JSONValue.array(found.map { Self.row($0, includeLog: false, includeWorker: Self.showsWorkers(to: caller)) }).serialized())
    }

    func show(id: String?, caller: Caller) async throws -> Response {
        try requireKey(caller)
        return .json(Self.row(try await job(id), includeLog: true, includeWorker: Self.showsWorkers(to: caller)).serialized())
    }

    func log(id: String?, caller: Caller) async throws -> Response {
        try requireKey(caller)
        let job = try await job(id)
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: job.log)))
    }

    func lineage(_ request: Request, caller: Caller) async throws -> Response {
        try requireKey(caller)
        let key = try request.pathRemainder(after: "lineage")
        let name = String(key.split(separator: "/").last ?? "")
        let inputs = try await jobCall { try await jobs.inputs(ofProduct: key) }
        let products = try await jobCall { try await jobs.products(madeFrom: name) }
        return .json(JSONValue.object([("file_path", .string(key)), ("inputs", .array(inputs.map(JSONValue.string))),
                                       ("products", .array(products.map(JSONValue.string)))]).serialized())
    }

    private static func jobID(_ id: String?) throws -> Int64 {
        guard let id, let number = Int64(id), number > 0 else { throw APIError.badRequest("The job id must be a positive integer.", code: "InvalidParameter") }
        return number
    }

    private func job(_ id: String?) async throws -> Job {
        let number = try Self.jobID(id)
        guard let job = try await jobCall({ try await jobs.job(id: number) }) else { throw APIError.notFound("No processing job \(number).") }
        return job
    }

    /// Runs a job-store call, mapping its errors to HTTP answers (400, 404, 409, 500).
    private func jobCall<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as JobStoreError {
            switch error {
            case .invalidArgument(let message): throw APIError.badRequest(message + ".", code: "InvalidParameter")
            case .notFound(let id): throw APIError.notFound("No processing job \(id).")
            case .leaseLost(let id): throw APIError(.conflict, "LeaseLost", "Job \(id) is no longer leased to this credential.")
            case .notRetryable, .corruptRow, .database: throw APIError.internalError("The job store failed: \(error)")
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.internalError("The job store failed: \(error)")
        }
    }

    /// A job as the API shows it (the IMAP SDC's `/processing-jobs` row, plus sdc's id, attempts, inputs and products).
    static func row(_ job: Job, includeLog: Bool, includeWorker: Bool) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .int(Int(job.id))), ("status", .string(job.status.rawValue.uppercased())),
            ("instrument", .string(job.product.source)), ("data_level", .string(job.product.dataType)),
            ("descriptor", .string(job.product.descriptor)), ("start_date", .string(job.startDate.isoMidnight)),
            ("products", .array(job.products.map { .string("\($0.dataType) \($0.descriptor)") })),
            ("major_version", .int(job.version.major)), ("minor_version", .int(job.version.minor)), ("repointing", .int(job.repointing)),
            ("dependency_hash", .string(job.inputsHash)), ("job_definition", .string(job.algorithm)),
            ("algorithm_version", .string(job.algorithmVersion)), ("attempts", .int(job.attempts)), ("max_attempts", .int(job.maxAttempts)),
            ("postponements", .int(job.postponements)), ("uniqueness_key", .string(job.uniquenessKey)),
            ("worker_id", .string(includeWorker ? job.workerID : nil)), ("created_at", .string(job.createdAt.iso8601)),
            ("started_at", .string(job.startedAt?.iso8601)), ("stopped_at", .string(job.finishedAt?.iso8601)),
            ("inputs", .array(job.inputNames.map(JSONValue.string))), ("outputs", .array(job.outputs.map(JSONValue.string))),
            ("error", .string(job.error)),
        ]
        if includeLog { members.append(("log", .string(job.log))) }
        return .object(members)
    }
}
