import Foundation
import HTTPTypes
import Hummingbird
import SDCCatalog
import SDCCore
import SDCPipeline

/// Operator endpoints of the pipeline: `/processing-jobs`, `/processing-logs/<id>`, `/lineage/<key>`.
struct ProcessingRoutes: Sendable {
    let jobs: any JobStore
    let keys: any APIKeyStore
    var authenticator: Authenticator { Authenticator(keys: keys) }

    func register(on routes: some RouterMethods<SDCRequestContext>, family: RouteFamily) {
        routes.get("processing-jobs") { request, _ in try await list(request, family: family) }
        routes.get("processing-jobs/:id") { request, context in try await show(request, id: context.parameters.get("id"), family: family) }
        routes.get("processing-logs/:id") { request, context in try await log(request, id: context.parameters.get("id"), family: family) }
        routes.get("lineage/**") { request, _ in try await lineage(request, family: family) }
        routes.post("jobs/claim") { request, _ in try await claim(request, family: family) }
        routes.post("jobs/:id/renew") { request, context in try await renew(request, id: context.parameters.get("id"), family: family) }
        routes.post("jobs/:id/complete") { request, context in try await finish(request, id: context.parameters.get("id"), family: family, succeeded: true) }
        routes.post("jobs/:id/fail") { request, context in try await finish(request, id: context.parameters.get("id"), family: family, succeeded: false) }
    }

    // MARK: Job API for remote workers (write scope)

    private func workerParameters(_ request: Request, family: RouteFamily) async throws -> [String: String] {
        try Authenticator.require(.write, of: try await authenticator.caller(of: request, family: family), for: "Running processing jobs")
        let parameters = Dictionary(request.orderedQueryParameters, uniquingKeysWith: { $1 })
        guard let worker = parameters["worker"], !worker.isEmpty else { throw APIError.badRequest("worker is required.", code: "InvalidParameter") }
        _ = worker
        return parameters
    }

    private func lease(_ parameters: [String: String]) throws -> Int64 {
        guard let lease = Int64(parameters["lease"] ?? "30"), (1...3600).contains(lease) else {
            throw APIError.badRequest("lease must be 1 to 3600 seconds.", code: "InvalidParameter")
        }
        return lease
    }

    /// Leases the next job to the calling worker, with a write key valid until the job ends (204 when none is runnable).
    func claim(_ request: Request, family: RouteFamily) async throws -> Response {
        let parameters = try await workerParameters(request, family: family)
        guard let job = try await jobCall({ try await jobs.claim(workerID: parameters["worker"]!, leaseSeconds: try lease(parameters)) }) else {
            return Response(status: .noContent)
        }
        let (secret, _) = try await jobCall { try await keys.createKey(name: "job-\(job.id)", scope: .write) }
        guard case .object(var members) = job.wire else { throw APIError.internalError("job \(job.id) has no wire form") }
        members.append(("api_key", .string(secret)))
        return .json(JSONValue.object(members).serialized())
    }

    func renew(_ request: Request, id: String?, family: RouteFamily) async throws -> Response {
        let parameters = try await workerParameters(request, family: family)
        let job = try await self.job(id)
        do {
            try await jobs.renewLease(jobID: job.id, workerID: parameters["worker"]!, leaseSeconds: try lease(parameters))
        } catch JobStoreError.leaseLost {
            throw APIError(.conflict, "LeaseLost", "Job \(job.id) is no longer leased to \(parameters["worker"]!).")
        }
        return .json("{}")
    }

    func finish(_ request: Request, id: String?, family: RouteFamily, succeeded: Bool) async throws -> Response {
        let parameters = try await workerParameters(request, family: family)
        let job = try await self.job(id)
        var request = request
        let body = try await request.collectBody(upTo: 64 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]) ?? [:]
        let log = object["log"] as? String ?? ""
        let worker = parameters["worker"]!
        let finished: Job
        do {
            if succeeded {
                finished = try await jobs.complete(jobID: job.id, workerID: worker, outputs: object["outputs"] as? [String] ?? [], log: log)
            } else {
                let backoff = Int64(parameters["backoff"] ?? "0") ?? 0
                finished = try await jobs.fail(jobID: job.id, workerID: worker, error: object["error"] as? String ?? "failed", log: log,
                                               backoffSeconds: max(0, backoff))
            }
        } catch JobStoreError.leaseLost {
            throw APIError(.conflict, "LeaseLost", "Job \(job.id) is no longer leased to \(worker).")
        }
        for key in try await jobCall({ try await keys.listKeys() }) where key.name == "job-\(job.id)" && !key.isRevoked {
            _ = try? await keys.revokeKey(String(key.id))
        }
        return .json(finished.wire.serialized())
    }

    /// Jobs are visible to any key holder (they name unreleased products).
    private func requireKey(_ request: Request, family: RouteFamily) async throws {
        try Authenticator.require(.read, of: try await authenticator.caller(of: request, family: family), for: "Viewing processing jobs")
    }

    func list(_ request: Request, family: RouteFamily) async throws -> Response {
        try await requireKey(request, family: family)
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
        return .json(JSONValue.array(found.map { Self.row($0, includeLog: false) }).serialized())
    }

    func show(_ request: Request, id: String?, family: RouteFamily) async throws -> Response {
        try await requireKey(request, family: family)
        return .json(Self.row(try await job(id), includeLog: true).serialized())
    }

    func log(_ request: Request, id: String?, family: RouteFamily) async throws -> Response {
        try await requireKey(request, family: family)
        let job = try await job(id)
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: job.log)))
    }

    func lineage(_ request: Request, family: RouteFamily) async throws -> Response {
        try await requireKey(request, family: family)
        let key = try request.pathRemainder(after: "lineage")
        let name = String(key.split(separator: "/").last ?? "")
        let inputs = try await jobCall { try await jobs.inputs(ofProduct: key) }
        let products = try await jobCall { try await jobs.products(madeFrom: name) }
        return .json(JSONValue.object([("file_path", .string(key)), ("inputs", .array(inputs.map(JSONValue.string))),
                                       ("products", .array(products.map(JSONValue.string)))]).serialized())
    }

    private func job(_ id: String?) async throws -> Job {
        guard let id, let number = Int64(id) else { throw APIError.badRequest("The job id must be an integer.", code: "InvalidParameter") }
        guard let job = try await jobCall({ try await jobs.job(id: number) }) else { throw APIError.notFound("No processing job \(number).") }
        return job
    }

    private func jobCall<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw APIError.internalError("The job store failed: \(error)") }
    }

    /// A job as the API shows it (the IMAP SDC's `/processing-jobs` row, plus sdc's id, attempts, inputs and products).
    static func row(_ job: Job, includeLog: Bool) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .int(Int(job.id))), ("status", .string(job.status.rawValue.uppercased())),
            ("instrument", .string(job.product.source)), ("data_level", .string(job.product.dataType)),
            ("descriptor", .string(job.product.descriptor)), ("start_date", .string(job.startDate.isoMidnight)),
            ("major_version", .int(job.version.major)), ("minor_version", .int(job.version.minor)), ("repointing", .int(job.repointing)),
            ("dependency_hash", .string(job.inputsHash)), ("job_definition", .string(job.algorithm)),
            ("algorithm_version", .string(job.algorithmVersion)), ("attempts", .int(job.attempts)), ("max_attempts", .int(job.maxAttempts)),
            ("worker_id", .string(job.workerID)), ("created_at", .string(job.createdAt.iso8601)),
            ("started_at", .string(job.startedAt?.iso8601)), ("stopped_at", .string(job.finishedAt?.iso8601)),
            ("inputs", .array(job.inputNames.map(JSONValue.string))), ("outputs", .array(job.outputs.map(JSONValue.string))),
            ("error", .string(job.error)),
        ]
        if includeLog { members.append(("log", .string(job.log))) }
        return .object(members)
    }
}
