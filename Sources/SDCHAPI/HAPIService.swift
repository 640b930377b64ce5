import Foundation
import Synchronization
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SDCCDF
import SDCCatalog
import SDCCore
import SDCServer
import SDCStorage

/// Who the HAPI server runs for: the `about` answer's identity.
public struct HAPIServerInfo: Sendable {
    public var id = "IMAP-SDC"
    public var title = "IMAP Science Data Center time series"
    public var contact = "IMAP SDC operators"
    public var description = "Time series of the IMAP science products (CDF) held by this data center, one dataset per logical source."

    public init() {}
}

/// A HAPI 3.3 server at `/hapi` over the data center's CDF products (HAPI-data-access-spec-3.3.0, "the spec" in
/// comments, with its section numbers): `capabilities`, `about`, `catalog`, `info` and `data` in CSV, binary and JSON.
///
/// Datasets are the logical sources of the CDFs in the catalog (``HAPIDatasets``); a data request reads the latest
/// version of each day's product in its range. The embargo is the file downloads': anonymous callers see released
/// products only, callers with a valid `x-api-key` see every product.
public struct HAPIService: ServerExtension {
    let datasets: HAPIDatasets
    let catalog: any FileCatalog
    let keys: any APIKeyStore
    let reader: HAPIDataReader
    let info: HAPIServerInfo
    let logger: Logger
    /// Parsed parameter lists by product key (the newest product of each dataset describes it).
    let parameterCache = ParameterCache()

    public init(catalog: any FileCatalog, store: any ObjectStore, keys: any APIKeyStore, info: HAPIServerInfo = HAPIServerInfo(),
                datasets: HAPIDatasets? = nil, pool: ProcessingPool = .shared, logger: Logger = Logger(label: "sdc.hapi")) {
        self.catalog = catalog
        self.keys = keys
        self.datasets = datasets ?? HAPIDatasets(catalog: catalog)
        self.info = info
        self.logger = logger
        reader = HAPIDataReader(objects: HAPIObjects(store: store, pool: pool), pool: pool, logger: logger)
    }

    public func addRoutes(to router: Router<SDCRequestContext>) {
        let hapi = router.group("hapi")
        hapi.get("capabilities") { request, _ in try handle { try capabilities(request) } }
        hapi.get("about") { request, _ in try handle { try about(request) } }
        hapi.get("catalog") { request, _ in try await handleAsync { try await catalogResponse(request) } }
        hapi.get("info") { request, _ in try await handleAsync { try await infoResponse(request) } }
        hapi.get("data") { request, context in try await handleAsync { try await data(request, context: context) } }
        hapi.get { _, _ in landingPage() }
        // §4.1: "A response of 1400 - Bad Request must also be given when the user requests an endpoint that does not exist."
        hapi.get("**") { request, _ -> Response in
            throw HAPIError(.userInputError, "\(request.uri.path) is not a HAPI endpoint (capabilities, about, catalog, info, data)")
        }
    }

    // MARK: Endpoints

    func capabilities(_ request: Request) throws -> Response {
        try Self.parameters(of: request, allowed: [])
        return HAPIResponses.json(.object(Self.preamble(HAPIStatus(.ok)) + [
            ("outputFormats", .array(HAPIFormat.allCases.map { JSONValue.string($0.rawValue) })),
            ("catalogDepthOptions", .array([.string("dataset")])),
        ]))
    }

    func about(_ request: Request) throws -> Response {
        try Self.parameters(of: request, allowed: [])
        return HAPIResponses.json(.object(Self.preamble(HAPIStatus(.ok)) + [
            ("id", .string(info.id)), ("title", .string(info.title)), ("contact", .string(info.contact)),
            ("description", .string(info.description)),
        ]))
    }

    func catalogResponse(_ request: Request) async throws -> Response {
        let values = try Self.parameters(of: request, allowed: ["depth", "resolve_references"])
        if let depth = values["depth"], depth != "dataset" {
            throw HAPIError(.unsupportedDepth, "depth '\(depth)' is not supported: this server lists datasets only (depth=dataset)")
        }
        try Self.checkResolveReferences(values)
        let visible = try await datasetCall { try await datasets.datasets(seesUnreleased: try await seesUnreleased(request)) }
        return HAPIResponses.json(.object(Self.preamble(HAPIStatus(.ok)) + [
            ("catalog", .array(visible.map { summary in
                .object([("id", .string(summary.id.description)),
                         ("title", .string("IMAP \(summary.id.instrument.rawValue.uppercased()) \(summary.id.dataLevel.rawValue.uppercased()) \(summary.id.descriptor)"))])
            })),
        ]))
    }

    func infoResponse(_ request: Request) async throws -> Response {
        let values = try Self.parameters(of: request, allowed: ["dataset", "id", "parameters", "resolve_references"])
        try Self.checkResolveReferences(values)
        let (summary, all) = try await dataset(values, seesUnreleased: try await seesUnreleased(request))
        let parameters = try all.subset(Self.parameterNames(values["parameters"]))
        return HAPIResponses.json(Self.header(summary, parameters: parameters, status: HAPIStatus(.ok), format: nil))
    }

    func data(_ request: Request, context: SDCRequestContext) async throws -> Response {
        let values = try Self.parameters(of: request, allowed: ["dataset", "id", "start", "time.min", "stop", "time.max", "parameters",
                                                                "include", "format"])
        let format = try values["format"].map { text in
            guard let format = HAPIFormat(rawValue: text) else {
                throw HAPIError(.unsupportedFormat, "format '\(text)' is not one of csv, binary, json")
            }
            return format
        } ?? .csv
        if let include = values["include"], include != "header" {
            throw HAPIError(.unsupportedInclude, "include '\(include)' is not supported: the only value is 'header'")
        }
        guard let startText = values["start"] ?? values["time.min"] else { throw HAPIError(.userInputError, "start (or time.min) is required") }
        guard let stopText = values["stop"] ?? values["time.max"] else { throw HAPIError(.userInputError, "stop (or time.max) is required") }
        let seesUnreleased = try await seesUnreleased(request)
        let (summary, all) = try await dataset(values, seesUnreleased: seesUnreleased)
        let parameters = try all.subset(Self.parameterNames(values["parameters"]))
        guard let start = HAPITime.parse(startText) else {
            throw HAPIError(.badStart, "'\(startText)' is not a HAPI time (yyyy-mm-ddThh:mm:ss.sssZ or yyyy-dddThh:mm:ss.sssZ, truncated as needed)")
        }
        guard let stop = HAPITime.parse(stopText) else {
            throw HAPIError(.badStop, "'\(stopText)' is not a HAPI time (yyyy-mm-ddThh:mm:ss.sssZ or yyyy-dddThh:mm:ss.sssZ, truncated as needed)")
        }
        guard start < stop else { throw HAPIError(.startNotBeforeStop, "start \(startText) is not before stop \(stopText)") }
        // §4.2 (1405): no data is sent outside [startDate, stopDate). A range that overlaps them is served over the
        // overlap; one entirely outside is refused, naming the dataset's dates as the spec recommends.
        guard let first = HAPITime.parse(summary.startDate), let end = HAPITime.parse(summary.stopDate), start < end, stop > first else {
            throw HAPIError(.timeOutsideRange, "\(startText) to \(stopText) is outside the dataset's \(summary.startDate) to \(summary.stopDate)")
        }
        // A product may hold the first records of the next day, so the day before the start is read too.
        let firstDay = FileDate(ordinalDay: Self.day(of: max(start, first)).ordinal - 1)
        let lastDay = Self.day(of: min(stop, end) - 1)
        let products = try await datasetCall {
            try await catalog.files(matching: summary.id.query(days: firstDay...lastDay, seesUnreleased: seesUnreleased))
        }.sorted(by: Self.productOrder)
        let plan = await reader.plan(products, parameters: parameters, start: start, stop: stop)
        let status = plan.status
        var headers = HAPIResponses.headers(contentType: format.contentType)
        if !plan.skipped.isEmpty { headers[.hapiStatusMessage] = String(status.message.prefix(1000)).replacingOccurrences(of: "\n", with: " ") }
        let includeHeader = values["include"] == "header"
        let header = Self.header(summary, parameters: parameters, status: status, format: format)
        let reader = reader
        let eventLoop = context.channel.eventLoop
        let body = ResponseBody { writer in
            var pacer = Pacer(eventLoop: eventLoop)
            switch format {
            case .json:
                var text = header.serialized(pythonStyle: false)
                text.removeLast()  // the header's closing brace: `data` is its last member (§3.7.4.3)
                try await writer.write(ByteBuffer(string: text + ", \"data\": ["))
            case .csv, .binary:
                if includeHeader { try await writer.write(ByteBuffer(string: "#" + header.serialized(pythonStyle: false) + "\n")) }
            }
            try await reader.stream(plan, parameters: parameters, format: format) { buffer in
                let count = buffer.readableBytes
                try await writer.write(buffer)
                try await pacer.sent(count)
            }
            if format == .json { try await writer.write(ByteBuffer(string: "\n]}\n")) }
            try await writer.finish(nil)
        }
        return Response(status: status.code.httpStatus, headers: headers, body: body)
    }

    func landingPage() -> Response {
        let html = """
            <!DOCTYPE html><html><head><title>\(info.title) (HAPI)</title></head><body>
            <h1>\(info.title)</h1><p>A HAPI \(hapiVersion) server. \(info.description)</p>
            <ul><li><a href="hapi/about">about</a></li><li><a href="hapi/capabilities">capabilities</a></li>
            <li><a href="hapi/catalog">catalog</a></li></ul>
            <p>Data: <code>hapi/data?dataset=ID&amp;start=YYYY-MM-DDZ&amp;stop=YYYY-MM-DDZ[&amp;parameters=a,b][&amp;format=csv|binary|json][&amp;include=header]</code></p>
            </body></html>
            """
        return Response(status: .ok, headers: HAPIResponses.headers(contentType: "text/html; charset=utf-8"),
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    // MARK: Helpers

    /// The dataset a request names (`dataset`, or HAPI 2's `id`) as the caller may see it, with its parameters.
    func dataset(_ values: [String: String], seesUnreleased: Bool) async throws -> (HAPIDatasetSummary, HAPIParameterList) {
        guard let name = values["dataset"] ?? values["id"], !name.isEmpty else { throw HAPIError(.userInputError, "dataset (or id) is required") }
        guard let id = HAPIDatasetID(name), let summary = try await datasetCall({ try await datasets.dataset(id, seesUnreleased: seesUnreleased) }) else {
            throw HAPIError(.unknownDataset, "no dataset '\(name)' (see /hapi/catalog)")
        }
        if let cached = parameterCache.get(summary.newest.key) { return (summary, cached) }
        let parameters: HAPIParameterList
        do {
            parameters = try await reader.objects.withReader(of: summary.newest) { cdf in
                try await reader.pool.run { try HAPIParameterList(reader: cdf) }
            }
        } catch {
            logger.error("HAPI cannot describe a dataset from its newest product", metadata: ["key": "\(summary.newest.key)", "error": "\(error)"])
            throw HAPIError(.internalError, "the newest product of \(name), \(summary.newest.file.name), cannot be read: \(error)")
        }
        parameterCache.set(summary.newest.key, parameters)
        return (summary, parameters)
    }

    /// Whether the caller holds a valid API key (`x-api-key`), as for file downloads; an unknown key is refused.
    func seesUnreleased(_ request: Request) async throws -> Bool {
        guard let secret = request.headers[HTTPField.Name("x-api-key")!] else { return false }
        let info: APIKeyInfo?
        do { info = try await keys.authenticate(secret: secret) } catch {
            throw HAPIError(.internalError, "the key store failed: \(error)")
        }
        guard info != nil else { throw APIError.forbidden("Invalid API key: it is unknown or has been revoked.", code: "InvalidAPIKey") }
        return true
    }

    func datasetCall<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as HAPIError { throw error } catch let error as APIError { throw error } catch {
            logger.error("HAPI catalog call failed", metadata: ["error": "\(error)"])
            throw HAPIError(.internalError, "the catalog failed: \(error)")
        }
    }

    /// The info header (§3.6.2); `format` is set when it precedes data (§3.7.2).
    static func header(_ summary: HAPIDatasetSummary, parameters: HAPIParameterList, status: HAPIStatus, format: HAPIFormat?) -> JSONValue {
        var members = preamble(status)
        if let format { members.append(("format", .string(format.rawValue))) }
        members += [
            ("startDate", .string(summary.startDate)), ("stopDate", .string(summary.stopDate)),
            ("timeStampLocation", .string("other")),
            ("description", .string("\(summary.id): the latest version of each daily product in the range.")),
            ("parameters", .array(parameters.parameters.map(\.json))),
        ]
        return .object(members)
    }

    static func preamble(_ status: HAPIStatus) -> [(String, JSONValue)] {
        [("HAPI", .string(hapiVersion)), ("status", status.json)]
    }

    /// The request's parameters; anything not in `allowed` is refused (§3.1: "must not silently ignore unrecognized
    /// request parameters"), as are repeats.
    @discardableResult
    static func parameters(of request: Request, allowed: Set<String>) throws(HAPIError) -> [String: String] {
        var values: [String: String] = [:]
        for (name, value) in (request.uri.query ?? "").formDecodedPairs {
            guard allowed.contains(name) else {
                throw HAPIError(.unknownParameterName, "'\(name)' is not a request parameter of this endpoint"
                                + (allowed.isEmpty ? "" : " (\(allowed.sorted().joined(separator: ", ")))"))
            }
            guard values[name] == nil else { throw HAPIError(.userInputError, "'\(name)' is given more than once") }
            values[name] = value
        }
        for (new, old) in [("dataset", "id"), ("start", "time.min"), ("stop", "time.max")] where values[new] != nil && values[old] != nil {
            throw HAPIError(.userInputError, "give either \(new) or its HAPI 2 alias \(old), not both")
        }
        return values
    }

    static func checkResolveReferences(_ values: [String: String]) throws(HAPIError) {
        if let value = values["resolve_references"], value != "true", value != "false" {
            throw HAPIError(.unsupportedResolveReferences, "resolve_references '\(value)' is not true or false")
        }
    }

    /// `parameters=a,b`; empty (or absent) means all (§3.6.1).
    static func parameterNames(_ text: String?) -> [String] {
        guard let text, !text.isEmpty else { return [] }
        return text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }

    /// Products by start date, then repointing, then key.
    static func productOrder(_ a: CatalogRecord, _ b: CatalogRecord) -> Bool {
        let dayA = a.file.science?.startDate.ordinal ?? 0, dayB = b.file.science?.startDate.ordinal ?? 0
        if dayA != dayB { return dayA < dayB }
        let pointingA = a.file.science?.repointing ?? 0, pointingB = b.file.science?.repointing ?? 0
        if pointingA != pointingB { return pointingA < pointingB }
        return a.key < b.key
    }

    static func day(of time: Int64) -> FileDate {
        let utc = TT2000.utc(time)
        return FileDate(year: utc.year, month: utc.month, day: utc.day) ?? FileDate(ordinalDay: 0)
    }
}

/// Runs `body`, answering a HAPI error for anything it throws that is not already an HTTP answer.
private func handle(_ body: () throws -> Response) throws -> Response {
    do { return try body() } catch let error as any HTTPResponseError { throw error } catch {
        throw HAPIError(.internalError, "\(error)")
    }
}

private func handleAsync(_ body: () async throws -> Response) async throws -> Response {
    do { return try await body() } catch let error as any HTTPResponseError { throw error } catch {
        throw HAPIError(.internalError, "\(error)")
    }
}

/// Parameter lists by product key, a few dozen at most (one per dataset's newest product).
final class ParameterCache: Sendable {
    private let entries = Mutex<[String: HAPIParameterList]>([:])

    func get(_ key: String) -> HAPIParameterList? { entries.withLock { $0[key] } }

    func set(_ key: String, _ value: HAPIParameterList) {
        entries.withLock { entries in
            if entries.count >= 256 { entries.removeAll() }
            entries[key] = value
        }
    }
}

/// Keeps a streamed response from running ahead of the connection: every `pacingBytes` it sends a marker through the
/// connection's event loop and waits for the previous one, so at most about twice that is queued beyond NIO's own
/// high-water mark (the approach of the file downloads' paced body).
struct Pacer {
    static let pacingBytes = 2 << 20
    let eventLoop: any EventLoop
    private var sinceMarker = 0
    private var previousMarker: EventLoopFuture<Void>?

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    mutating func sent(_ count: Int) async throws {
        sinceMarker += count
        guard sinceMarker >= Self.pacingBytes else { return }
        sinceMarker = 0
        let marker = eventLoop.submit {}
        try await previousMarker?.get()
        previousMarker = marker
    }
}

extension HTTPField.Name {
    /// The HAPI status message of a data response that skipped products (the header carries it too, when requested).
    static let hapiStatusMessage = Self("x-hapi-status")!
}
