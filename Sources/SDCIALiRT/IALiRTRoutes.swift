import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SDCCatalog
import SDCCore
import SDCServer

/// The I-ALiRT API, as ialirt-data-access 0.10.0 (`ialirt_data_access/io.py`) calls it and the SDC's lambdas answer it
/// (sds-data-manager `lambda_code/IAlirtCode/`), served beside the IMAP API:
///
/// | Route | Answer |
/// |---|---|
/// | `GET /ialirt-log-query?year&doy&instance` | `{"files": [log names]}` |
/// | `GET /ialirt-packet-query?year&doy[&hh[&mm[&ss]]]` or `?time_utc_start[&time_utc_end]` | `{"files": [packets file names]}` |
/// | `GET /ialirt-archive-query?[year[&month[&day]]]&version` or `?since&version` | `{"files": [archive CDF names]}` |
/// | `GET /ialirt-download/<filetype>/<name>` (logs, packets, archive) | the file (logs and packets need an API key) |
/// | `GET /space-weather?instrument&time_utc_start&time_utc_end` | `{"meta": {...}, "data": [records]}` |
/// | `POST /ialirt-packets?instance=1` | live packets in (a write-scope API key) |
///
/// Every route is also served under `/api-key/` (which requires the `x-api-key` header), and the downloads under
/// `/api-key/api-key/` too: the client prefixes `/api-key/ialirt-download/` to its base URL for logs and packets, and
/// its README tells key holders to end that base URL with `/api-key`.
public struct IALiRTRoutes: ServerExtension {
    let ingest: IALiRTIngest
    let keys: any APIKeyStore
    /// The most records one instrument may return from one `/space-weather` query (the SDC answers 400 when DynamoDB
    /// pages); bounds the memory of a response.
    public static let recordLimit = 20_000
    /// The largest live POST (about 5,700 packets).
    public static let maximumPostBytes = 1 << 20

    public init(ingest: IALiRTIngest, keys: any APIKeyStore) {
        self.ingest = ingest
        self.keys = keys
    }

    var store: any IALiRTStore { ingest.store }

    public func addRoutes(to router: Router<SDCRequestContext>) {
        for prefix in ["", "api-key/"] {
            let needsKey = !prefix.isEmpty
            router.get("\(prefix)ialirt-log-query") { request, _ in
                _ = try await caller(request, needsKey: needsKey)
                return try await listing { () throws in try await store.logNames(prefix: try IALiRTQueries.logPrefix(parameters(request))) }
            }
            router.get("\(prefix)ialirt-packet-query") { request, _ in
                _ = try await caller(request, needsKey: needsKey)
                return try await listing { () throws in
                    let query = try IALiRTQueries.packetFiles(parameters(request))
                    var names: [String] = []
                    for instance in 1...2 {
                        names += try await store.packetFileNames(prefix: "iois_\(instance)_" + query.suffixPrefix, times: query.times)
                    }
                    return names
                }
            }
            router.get("\(prefix)ialirt-archive-query") { request, _ in
                _ = try await caller(request, needsKey: needsKey)
                return try await listing { () throws in
                    let query = try IALiRTQueries.archive(parameters(request))
                    // One archive version is made per day: version 1, built from the day's records when downloaded.
                    guard query.version == 1 else { return [] }
                    return try await store.recordDays().filter { day in
                        day.hasPrefix(query.prefix) && query.since.map { day >= $0 } ?? true
                    }.map { IALiRTQueries.archiveName(day: $0, version: 1) }
                }
            }
            router.get("\(prefix)space-weather") { request, _ in
                _ = try await caller(request, needsKey: needsKey)
                return try await spaceWeather(parameters(request))
            }
            router.post("\(prefix)ialirt-packets") { request, _ in
                try await receive(request)
            }
        }
        for prefix in ["", "api-key/", "api-key/api-key/"] {
            router.get("\(prefix)ialirt-download/:filetype/:filename") { request, context in
                let key = try await caller(request, needsKey: !prefix.isEmpty)
                return try await download(filetype: context.parameters.get("filetype") ?? "", name: context.parameters.get("filename") ?? "",
                                          authenticated: key != nil)
            }
        }
    }

    // MARK: Handlers

    /// `{"files": [...]}`, or 400 `{"error": "..."}` for a bad query (as the query lambdas answer).
    func listing(_ names: () async throws -> [String]) async throws -> Response {
        do {
            return json(.object([("files", .array(try await names().map(JSONValue.string)))]))
        } catch let error as IALiRTError {
            return json(.object([("error", .string(error.description))]), status: .badRequest)
        }
    }

    func spaceWeather(_ parameters: [String: String]) async throws -> Response {
        let query: (instruments: [String], type: String, instrument: String, start: String, end: String)
        do {
            query = try IALiRTQueries.spaceWeather(parameters, now: UTCTime.now.secondsSince1970)
        } catch {
            return json(.object([("message", .string(error.description))]), status: .badRequest)
        }
        var items: [String] = []
        for instrument in query.instruments {
            let records = try await store.records(instrument: instrument, start: query.start, end: query.end, limit: Self.recordLimit + 1)
            guard records.count <= Self.recordLimit else {
                return json(.object([("message", .string("Your request for '\(instrument)' returned more data than allowed in a single query. "
                                                              + "Please reduce the time window or filter further."))]), status: .badRequest)
            }
            items += records.map(Self.item)
        }
        // The items are spliced as text: each record's fields are stored as the JSON object they are answered as.
        let meta = JSONValue.object([("count", .int(items.count)), ("type", .string(query.type)), ("instrument", .string(query.instrument))])
        let body = "{\"meta\": \(meta.serialized()), \"data\": [" + items.joined(separator: ", ") + "]}"
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// One `/space-weather` item: `instrument`, `time_utc`, `met`, `met_in_utc`, `ttj2000ns`, then the fields.
    static func item(_ record: StoredIALiRTRecord) -> String {
        let head = JSONValue.object([
            ("instrument", .string(record.instrument)), ("time_utc", .string(record.timeUTC)), ("met", .int(Int(record.met))),
            ("met_in_utc", .string(record.timeUTC)), ("ttj2000ns", .int(Int(record.ttj2000ns))),
        ]).serialized()
        let fields = record.fieldsJSON.dropFirst().dropLast()
        return fields.isEmpty ? head : String(head.dropLast()) + ", " + fields + "}"
    }

    func download(filetype: String, name: String, authenticated: Bool) async throws -> Response {
        switch filetype {
        case "logs", "packets":
            // The SDC's download lambda: "I-ALiRT logs and packet data are not publicly downloadable."
            guard authenticated else { return text("I-ALiRT logs and packet data are not publicly downloadable.", status: .forbidden) }
            if filetype == "logs", let log = try await store.log(named: name) {
                return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: log)))
            }
            if filetype == "packets", let packets = try await store.packets(inFile: name) {
                return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: packets)))
            }
        case "archive":
            if let day = IALiRTArchive.day(ofArchiveName: name), try await store.recordDays().contains(day) {
                let bytes = try await IALiRTArchive.cdf(day: day, store: store)
                return Response(status: .ok, headers: [.contentType: "application/x-cdf"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
        case "coverage", "realtime":
            return text("File not found: this data center keeps no I-ALiRT \(filetype) files.", status: .notFound)
        default:
            return text("Unknown filetype '\(filetype)': use logs, packets, archive, coverage or realtime.", status: .badRequest)
        }
        return text("File not found: \(filetype)/\(name).", status: .notFound)
    }

    /// `POST /ialirt-packets?instance=1|2`: I-ALiRT packets back to back, with a write-scope API key.
    func receive(_ request: Request) async throws -> Response {
        guard let key = try await caller(request, needsKey: false) else {
            throw APIError.unauthorized("Posting I-ALiRT packets requires an API key with write scope (send it in the x-api-key header).")
        }
        guard key.scope >= .write else {
            throw APIError.forbidden("Posting I-ALiRT packets requires write scope; the key '\(key.name)' has \(key.scope.rawValue) scope.")
        }
        let instanceText = parameters(request)["instance"] ?? "1"
        guard let instance = Int(instanceText), instance == 1 || instance == 2 else {
            throw APIError.badRequest("Invalid instance '\(instanceText)': use 1 or 2.", code: "InvalidInstance")
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: Self.maximumPostBytes) } catch {
            throw APIError.tooLarge(limit: Int64(Self.maximumPostBytes))
        }
        let summary: IALiRTIngestSummary
        do {
            summary = try await ingest.ingestLive(Array(body.readableBytesView), instance: instance, source: "POST by API key '\(key.name)'")
        } catch let error as IALiRTError {
            throw APIError.badRequest(error.description, code: "InvalidPacket")
        }
        return json(.object([
            ("packets", .int(summary.packets)), ("records", .int(summary.records)),
            ("packet_file", .string(summary.packetFile)), ("log_file", .string(summary.logFile)),
        ]))
    }

    // MARK: Helpers

    /// The key of the request (nil for none); a wrong or revoked key is refused, and so is none when `needsKey`.
    func caller(_ request: Request, needsKey: Bool) async throws -> APIKeyInfo? {
        guard let secret = request.headers[HTTPField.Name("x-api-key")!] else {
            if needsKey { throw APIError.unauthorized("Missing API key: send it in the x-api-key header.") }
            return nil
        }
        guard let info = try await keys.authenticate(secret: secret) else {
            throw APIError.forbidden("Invalid API key: it is unknown or has been revoked.", code: "InvalidAPIKey")
        }
        return info
    }

    /// The query parameters (form-decoded; a repeated name keeps its last value).
    func parameters(_ request: Request) -> [String: String] {
        Dictionary((request.uri.query ?? "").formDecodedPairs, uniquingKeysWith: { _, last in last })
    }

    func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: value.serialized())))
    }

    func text(_ message: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: message)))
    }
}
