import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SDCCatalog
import SDCCore
import SDCIngest
import SDCJobs
import SDCStorage

/// The IMAP data-access API (imap-api.md §3): query, SPICE query, download, upload, reprocess, release, and the
/// presigned `/objects/` URLs that uploads and redirected downloads use.
struct APIRoutes: Sendable {
    let configuration: ServerConfiguration
    let ingestor: Ingestor
    let keys: any APIKeyStore
    let requestLog: any RequestLog
    let processing: ProcessingHooks?
    var catalog: any FileCatalog { ingestor.catalog }
    var store: any ObjectStore { ingestor.store }

    typealias Context = SDCRequestContext

    /// Registers every endpoint on a route family's group, behind its ``AuthenticationMiddleware`` (`/`, `/api-key`,
    /// `/authorized`); handlers find the caller in the context.
    func register(on routes: some RouterMethods<Context>) {
        routes.get("query") { request, context in try await query(request, caller: context.caller) }
        routes.get("spice-query") { request, _ in try await spiceQuery(request) }
        routes.get("repoint-table") { request, _ in try await kernelTable(.repoint, request) }
        routes.get("spin-table") { request, _ in try await kernelTable(.spin, request) }
        routes.get("thruster-table") { request, _ in try await kernelTable(.thruster, request) }
        routes.get("download/**") { request, context in try await download(request, context: context, headOnly: false) }
        routes.head("download/**") { request, context in try await download(request, context: context, headOnly: true) }
        routes.get("download") { request, context in try await download(request, context: context, headOnly: false) }
        routes.get("upload/**") { request, context in try await uploadURL(request, caller: context.caller) }
        routes.get("upload") { request, context in try await uploadURL(request, caller: context.caller) }
        routes.post("reprocess") { request, context in try await reprocess(request, context: context) }
        routes.get("release") { request, context in try await release(request, caller: context.caller) }
    }

    /// Routes of presigned URLs (never prefixed; the signature is the credential, auth headers are ignored).
    func registerPresigned(on router: Router<Context>) {
        router.get("objects/**") { request, context in try await presignedGet(request, context: context, headOnly: false) }
        router.head("objects/**") { request, context in try await presignedGet(request, context: context, headOnly: true) }
        router.put("objects/**") { request, _ in try await presignedPut(request) }
    }

    // MARK: Query

    func query(_ request: Request, caller: Caller) async throws -> Response {
        var query: FileQuery
        do { query = try FileQuery(parameters: request.orderedQueryParameters) } catch { throw APIError.badRequest(error.message, code: "InvalidParameter") }
        query.includeUnreleased = caller.isAuthenticated
        let records = try await catalogCall { try await catalog.files(matching: query) }
        return .json(QueryRows.array(records))
    }

    func spiceQuery(_ request: Request) async throws -> Response {
        let query: SPICEQuery
        do { query = try SPICEQuery(parameters: request.orderedQueryParameters) } catch { throw APIError.badRequest(error.message, code: "InvalidParameter") }
        let records = try await catalogCall { try await catalog.kernels(matching: query) }
        return .json(QueryRows.array(records))
    }

    /// The repoint, spin and thruster tables (SPICE-class files, always public), as `webpoda` reads them.
    func kernelTable(_ type: SPICEKernelType, _ request: Request) async throws -> Response {
        let query: SPICEQuery
        do { query = try SPICEQuery(table: type, parameters: request.orderedQueryParameters) } catch {
            throw APIError.badRequest(error.message, code: "InvalidParameter")
        }
        let records = try await catalogCall { try await catalog.kernels(matching: query) }
        return .json(JSONValue.array(records.map(QueryRows.tableRow)).serialized())
    }

    // MARK: Download

    func download(_ request: Request, context: Context, headOnly: Bool) async throws -> Response {
        let caller = context.caller
        let path = try request.pathRemainder(after: "download")
        guard !path.isEmpty else {
            throw APIError.badRequest("No file requested for download. Please provide a filename in the path. Eg. /download/path/to/file/filename.pkts")
        }
        let key = try objectKey(path)
        guard let record = try await catalogCall({ try await catalog.record(forKey: key.path) }) else {
            throw APIError.notFound("File not found, make sure you include the full path to the file in the request, e.g. /download/path/to/file/filename.pkts.")
        }
        if !caller.isAuthenticated && !record.released && record.file.fileClass != .spice {
            throw APIError.forbidden("The file \(key.path) is not a part of a public release yet.", code: "NotReleased")
        }
        var headers: HTTPFields = [.checksumSHA256: record.sha256, .eTag: "\"\(record.sha256)\""]
        if configuration.downloadMode == .redirect {
            let url = store.presignedURL(for: key, method: .get, expiresIn: configuration.downloadURLLifetime, baseURL: baseURL(of: request))
            headers[.location] = url
            headers[.contentType] = "text/html"
            let body = JSONValue.object([("download_url", .string(url))]).serialized()
            return Response(status: .found, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        return try await objectResponse(key, size: record.size, request: request, context: context, headers: headers, headOnly: headOnly)
    }

    /// 200 (or 206 for a Range request) with the object in constant memory: sent with `sendfile(2)` when the store
    /// keeps it in a local file (``FileRegionBody``), streamed from the store otherwise (``PacedBody``).
    func objectResponse(_ key: ObjectKey, size: Int64, request: Request, context: Context, headers: HTTPFields,
                        headOnly: Bool) async throws -> Response {
        var headers = headers
        headers[.acceptRanges] = "bytes"
        headers[.contentType] = "application/octet-stream"
        let range = try ByteRange.parse(request.headers[.range], size: size)
        let length = range.map { $0.upperBound - $0.lowerBound + 1 } ?? size
        if let range { headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)" }
        headers[.contentLength] = String(length)
        let status: HTTPResponse.Status = range == nil ? .ok : .partialContent
        if headOnly || length == 0 { return Response(status: status, headers: headers, body: .init()) }
        if let region = try await storageCall({ try await store.localFileRegion(key, range: range) }) {
            guard region.length == length else {
                throw APIError.internalError("The stored object \(key.path) has \(region.length) bytes in the requested span, the catalog \(length).")
            }
            let body = FileRegionBody(region: region, channel: context.channel)
            return Response(status: status, headers: headers, body: ResponseBody(contentLength: Int(length)) { writer in
                try await body.write(to: &writer)
            })
        }
        let body = PacedBody(body: try await storageCall { try await store.read(key, range: range) }, eventLoop: context.channel.eventLoop)
        return Response(status: status, headers: headers, body: ResponseBody(contentLength: Int(length)) { writer in
            try await body.write(to: &writer)
            try await writer.finish(nil)
        })
    }

    // MARK: Upload

    func uploadURL(_ request: Request, caller: Caller) async throws -> Response {
        try Authenticator.require(.write, of: caller, for: "Upload") { _ in true }
        let path = try request.pathRemainder(after: "upload")
        guard let name = path.split(separator: "/").last.map(String.init), !name.isEmpty else {
            throw APIError.badRequest("No filename given for the upload. Please provide a filename in the path. Eg. /upload/path/to/file/filename.pkts")
        }
        let file = try parse(name)
        // A job's credential uploads only files of its own instrument.
        try Authenticator.require(.write, of: caller, for: "Upload of \(file.name)") { $0.product.source == file.instrument?.rawValue }
        let exists = try await ingestCall { try await ingestor.contains(file) }
        // A job's upload is recorded against it: a refused one (another producer's file) fails the job.
        try await ProcessingRoutes.recordUpload(file, exists: exists, by: caller, jobs: processing?.jobs)
        if exists { throw APIError.fileAlreadyExists(file.key) }
        let key = try objectKey(file.key)
        // A direct upload's reservation is its authorization: the bucket's event or reconciler completes it.
        if configuration.uploadMode == .direct { try await ingestCall { try await ingestor.reserveDirectUpload(file) } }
        let url = store.presignedURL(for: key, method: .put, expiresIn: configuration.uploadURLLifetime, baseURL: baseURL(of: request))
        return .json(JSONValue.string(url).serialized())
    }

    func presignedPut(_ request: Request) async throws -> Response {
        let key = try objectKey(try request.pathRemainder(after: "objects"))
        try verifySignature(request, method: .put, key: key)
        let file = try parse(key.basename)
        guard file.key == key.path else {
            throw APIError.badRequest("'\(key.path)' is not the storage key of \(file.name): expected '\(file.key)'.", code: "InvalidKey")
        }
        let expectedLength = request.headers[.contentLength].flatMap { Int64($0) }
        if let expectedLength, expectedLength > configuration.maximumUploadSize { throw APIError.tooLarge(limit: configuration.maximumUploadSize) }
        let record = try await ingestCall {
            try await ingestor.ingest(file, body: request.body, expectedLength: expectedLength, maximumSize: configuration.maximumUploadSize)
        }
        let body = JSONValue.object([("file_path", .string(record.key)), ("size", .int(Int(record.size))), ("sha256", .string(record.sha256))])
        return Response(status: .ok, headers: [.contentType: "application/json", .eTag: "\"\(record.sha256)\"", .checksumSHA256: record.sha256],
                        body: .init(byteBuffer: ByteBuffer(string: body.serialized())))
    }

    func presignedGet(_ request: Request, context: Context, headOnly: Bool) async throws -> Response {
        let key = try objectKey(try request.pathRemainder(after: "objects"))
        try verifySignature(request, method: .get, key: key)
        guard let record = try await catalogCall({ try await catalog.record(forKey: key.path) }) else {
            throw APIError.notFound("File not found: \(key.path)")
        }
        let headers: HTTPFields = [.checksumSHA256: record.sha256, .eTag: "\"\(record.sha256)\""]
        return try await objectResponse(key, size: record.size, request: request, context: context, headers: headers, headOnly: headOnly)
    }

    // MARK: Reprocess and release

    func reprocess(_ request: Request, context: Context) async throws -> Response {
        let caller = context.caller
        try Authenticator.require(.write, of: caller, for: "Reprocessing")
        var values: [String: String] = [:]
        for (name, value) in request.orderedQueryParameters {
            guard ["start_date", "end_date", "instrument", "data_level", "descriptor", "reprocessing", "algorithm"].contains(name) else {
                throw APIError.badRequest("\(name) is not a valid reprocess parameter. Valid parameters are: start_date, end_date, instrument, data_level, descriptor, reprocessing, algorithm", code: "InvalidParameter")
            }
            values[name] = value
        }
        func date(_ name: String) throws -> FileDate {
            guard let text = values[name] else { throw APIError.badRequest("\(name) is required (YYYYMMDD).", code: "InvalidParameter") }
            guard let date = FileDate(lenient: text) else { throw APIError.badRequest("\(name) '\(text)' is not a valid date: expected YYYYMMDD", code: "InvalidParameter") }
            return date
        }
        let start = try date("start_date"), end = try date("end_date")
        guard start <= end else { throw APIError.badRequest("start_date \(start) is after end_date \(end).", code: "InvalidParameter") }
        let instrument = try values["instrument"].map { text in
            guard let value = Instrument(rawValue: text) else { throw APIError.badRequest("instrument '\(text)' is not valid: expected one of \(Instrument.allCases.map(\.rawValue).joined(separator: ", "))", code: "InvalidParameter") }
            return value
        }
        let level = try values["data_level"].map { text in
            guard let value = DataLevel(rawValue: text) else { throw APIError.badRequest("data_level '\(text)' is not valid: expected one of \(DataLevel.allCases.map(\.rawValue).joined(separator: ", "))", code: "InvalidParameter") }
            return value
        }
        if level != nil && (instrument == nil || values["descriptor"] == nil) {
            throw APIError.badRequest("If data_level is provided, instrument and descriptor are required.", code: "InvalidParameter")
        }
        if values["descriptor"] != nil && instrument == nil {
            throw APIError.badRequest("If descriptor is provided, instrument is required.", code: "InvalidParameter")
        }
        let days = end.ordinal - start.ordinal + 1
        guard days <= JobLimits.maximumReprocessDays else {
            throw APIError.badRequest("start_date \(start) to end_date \(end) is \(days) days; one reprocess request may cover at most \(JobLimits.maximumReprocessDays) days.", code: "InvalidParameter")
        }
        let recorded = try await catalogCall {
            try await requestLog.record(ReprocessRequest(receivedAt: .now, requestedBy: caller.name, startDate: start, endDate: end,
                                                         instrument: instrument, dataLevel: level, descriptor: values["descriptor"],
                                                         algorithm: values["algorithm"]))
        }
        var answer: [(String, JSONValue)] = [("message", .string("Reprocess job queued")), ("request_id", .int(Int(recorded.id)))]
        if let processing {
            do {
                // Planning happens in the background, in bounded batches; the answer says how much was accepted.
                let accepted = try await processing.reprocess(recorded)
                answer.append(("product_days", .int(accepted)))
            } catch {
                throw APIError.internalError("The reprocess request \(recorded.id) was recorded but planning failed: \(error)")
            }
        }
        return .json(JSONValue.object(answer).serialized())
    }

    func release(_ request: Request, caller: Caller) async throws -> Response {
        try Authenticator.require(.write, of: caller, for: "Release")
        let parameters = Dictionary(request.orderedQueryParameters, uniquingKeysWith: { $1 })
        for name in parameters.keys where name != "release_type" && name != "manifest_file" {
            throw APIError.badRequest("\(name) is not a valid release parameter. Valid parameters are: release_type, manifest_file", code: "InvalidParameter")
        }
        guard let typeText = parameters["release_type"], let type = ReleaseType(rawValue: typeText) else {
            throw APIError.badRequest("release_type must be one of release, early-release, unrelease.", code: "InvalidParameter")
        }
        guard let manifestName = parameters["manifest_file"], !manifestName.isEmpty else {
            throw APIError.badRequest("manifest_file is required: the name of an uploaded release manifest.", code: "InvalidParameter")
        }
        let manifest = try parse((manifestName as NSString).lastPathComponent)
        guard manifest.fileClass == .release else {
            throw APIError.badRequest("\(manifest.name) is a \(manifest.fileClass.rawValue) file, not a release manifest (imap_<instrument>_<descriptor>_<start>[_<end>]_vXXX.txt).", code: "InvalidParameter")
        }
        guard try await catalogCall({ try await catalog.record(forKey: manifest.key) }) != nil else {
            throw APIError.notFound("The release manifest \(manifest.key) has not been uploaded.")
        }
        let outcome: Releaser.Outcome
        do {
            outcome = try await Releaser(catalog: catalog, store: store).apply(type, manifest: manifest)
        } catch let failure as Releaser.Failure {
            throw APIError.badRequest(failure.description, code: "InvalidManifest")
        } catch {
            throw APIError.internalError("Applying \(manifest.key) failed: \(error)")
        }
        let recorded = try await catalogCall {
            try await requestLog.record(ReleaseRequest(receivedAt: .now, requestedBy: caller.name, releaseType: type, manifestKey: manifest.key,
                                                       status: "applied"))
        }
        return .json(JSONValue.object([
            ("message", .string("Release applied")), ("request_id", .int(Int(recorded.id))), ("manifest_file", .string(manifest.key)),
            ("release_type", .string(type.rawValue)), ("changed", .array(outcome.changed.map(JSONValue.string))),
            ("withheld", .array(outcome.withheld.map(JSONValue.string))), ("unknown", .array(outcome.unknown.map(JSONValue.string))),
        ]).serialized())
    }

    // MARK: Helpers

    func parse(_ name: String) throws -> IMAPFileName {
        do {
            return try IMAPFileName.parse(name)
        } catch {
            throw APIError.badRequest("\(name) does not match ancillary, science, cadence, or SPICE file naming convention: \(error.message)", code: "InvalidFileName")
        }
    }

    func objectKey(_ path: String) throws -> ObjectKey {
        do { return try ObjectKey(path) } catch { throw APIError.badRequest(error.description, code: "InvalidKey") }
    }

    func verifySignature(_ request: Request, method: PresignedMethod, key: ObjectKey) throws {
        let parameters = Dictionary(request.orderedQueryParameters, uniquingKeysWith: { $1 })
        do {
            try store.verifyPresigned(method: method, key: key, expires: parameters[URLSigner.expiresParameter],
                                      signature: parameters[URLSigner.signatureParameter])
        } catch {
            throw APIError.forbidden(error.description, code: error == .expired ? "ExpiredToken" : "AccessDenied")
        }
    }

    /// The URL clients reach this server at: the configured public URL, else from the request's Host header.
    func baseURL(of request: Request) -> String {
        if let publicURL = configuration.publicURL { return publicURL }
        return "http://" + (request.head.authority ?? "\(configuration.host):\(configuration.port)")
    }

    /// Runs a catalog call, answering 500 when the catalog fails.
    func catalogCall<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as APIError { throw error } catch CatalogError.invalidKey {
            throw APIError.notFound("File not found, make sure you include the full path to the file in the request, e.g. /download/path/to/file/filename.pkts.")
        } catch {
            throw APIError.internalError("The catalog failed: \(error)")
        }
    }

    /// Runs a store call, mapping storage errors to HTTP answers.
    func storageCall<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as StorageError {
            switch error {
            case .notFound: throw APIError.notFound("File not found in the store.")
            case .unsatisfiableRange(let size): throw APIError(.rangeNotSatisfiable, "InvalidRange", "The requested range is outside the object's \(size) bytes.")
            default: throw APIError.internalError("The store failed: \(error)")
            }
        }
    }

    /// Runs an ingest call, mapping ingest errors to HTTP answers (409, 413, 400, 500).
    func ingestCall<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as IngestError {
            switch error {
            case .alreadyExists(let key): throw APIError.fileAlreadyExists(key)
            case .storage(.tooLarge(let limit)): throw APIError.tooLarge(limit: limit)
            case .storage(.incompleteBody(let expected, let received)):
                throw APIError.badRequest("The upload ended after \(received) of \(expected) bytes; nothing was stored.", code: "IncompleteBody")
            case .storage(.invalidKey(let key, let reason)): throw APIError.badRequest("invalid key '\(key)': \(reason)", code: "InvalidKey")
            default: throw APIError.internalError("Ingest failed: \(error)")
            }
        }
    }
}

extension Response {
    /// 200 with a JSON body.
    static func json(_ body: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
