import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SDCCatalog
import SDCCore
import SDCStorage

/// Where the routes of SWxSOC-style missions hand arriving files (the SWxSOC flow, in the pipeline).
public protocol MissionIntake: Sendable {
    /// Stores `body` as `name` in `mission`'s incoming area and sorts it: into its instrument's area (the record), or
    /// aside with the reason (the rejected file).
    func receive(mission: MissionProfile, name: String, body: ObjectBody, expectedLength: Int64?) async throws
        -> Result<MissionFileRecord, RejectedFile>
}

/// The API of the missions a data center hosts beside IMAP (issue 14), under `/missions`:
///
/// | Route | What |
/// |---|---|
/// | `GET /missions` | the hosted missions: name, grammar, levels, instruments |
/// | `PUT /missions/<m>/upload/<name>` | upload (write key): sorted into the instrument's area, or kept aside with the reason (400) |
/// | `GET /missions/<m>/query?instrument=&level=&descriptor=&start_time=&end_time=` | files with status and lineage |
/// | `GET /missions/<m>/download/<key>` | a file's bytes |
/// | `GET /missions/<m>/rejected` | the files kept aside (write key) |
///
/// IMAP's own routes stay as they are. When other missions are hosted, a middleware in front of them answers 400 for
/// another mission's file name (naming the mission and its route) and 403 for a key limited to other missions; when
/// IMAP is not among the hosted missions, it answers 404 `MissionNotHosted` for every IMAP route.
public struct MissionRoutes: ServerExtension {
    public let missions: MissionSet
    public let catalog: any MissionCatalog
    public let intake: any MissionIntake
    let authenticator: Authenticator
    let storeReader: @Sendable (String) async throws -> ObjectBody?

    public init(missions: MissionSet, catalog: any MissionCatalog, intake: any MissionIntake, keys: any APIKeyStore,
                read: @escaping @Sendable (String) async throws -> ObjectBody?) {
        self.missions = missions
        self.catalog = catalog
        self.intake = intake
        self.authenticator = Authenticator(keys: keys, jobs: nil)
        self.storeReader = read
    }

    public func addMiddleware(to router: Router<SDCRequestContext>) {
        router.add(middleware: IMAPRouteGuard(missions: missions, authenticator: authenticator))
    }

    public func addRoutes(to router: Router<SDCRequestContext>) {
        router.get("missions") { _, _ in Response.json(listing.serialized()) }
        let group = router.group("missions/:mission")
        group.put("upload/**") { request, context in try await upload(request, context: context) }
        group.get("query") { request, context in try await query(request, context: context) }
        group.get("download/**") { request, context in try await download(request, context: context) }
        group.get("rejected") { request, context in try await rejected(request, context: context) }
    }

    var listing: JSONValue {
        .array(missions.missions.map { mission in
            .object([
                ("name", .string(mission.name)), ("grammar", .string(mission.grammar.rawValue)),
                ("levels", .array(mission.levels.map(JSONValue.string))),
                ("instruments", .array(mission.instruments.map { .object([("name", .string($0.name)), ("shortname", .string($0.shortName))]) })),
            ])
        })
    }

    /// The hosted SWxSOC mission the request addresses, and its caller (who must be allowed to reach it).
    private func mission(_ request: Request, context: SDCRequestContext) async throws -> (MissionProfile, Caller) {
        let name = context.parameters.get("mission") ?? ""
        guard let mission = missions.mission(named: name) else {
            throw APIError.notFound("Mission '\(name)' is not hosted here: hosted missions are \(missions.names.joined(separator: ", ")).")
        }
        guard mission.grammar == .swxsoc else {
            throw APIError.badRequest("IMAP is served by the IMAP routes (/query, /upload, /download), not under /missions/imap.", code: "WrongMission")
        }
        let caller = try await authenticator.caller(of: request, family: .open)
        if case .key(let info) = caller { try Self.checkAccess(key: info, mission: mission.name) }
        return (mission, caller)
    }

    func upload(_ request: Request, context: SDCRequestContext) async throws -> Response {
        let (mission, caller) = try await mission(request, context: context)
        try Authenticator.require(.write, of: caller, for: "Upload")
        let path = try request.pathRemainder(after: "upload")
        guard let name = path.split(separator: "/").last.map(String.init), !name.isEmpty else {
            throw APIError.badRequest("No filename given for the upload: PUT /missions/\(mission.name)/upload/<name>.")
        }
        if let owner = missions.owner(of: name) ?? missions.unhostedOwner(of: name), owner.name != mission.name {
            throw APIError.badRequest(wrongMissionMessage(name, owner: owner), code: "WrongMission")
        }
        let outcome: Result<MissionFileRecord, RejectedFile>
        do {
            let length = request.headers[.contentLength].flatMap { Int64($0) }
            let body = ObjectBody(length: length ?? -1) { [body = request.body] in
                var chunks = body.makeAsyncIterator()
                return AnyChunkIterator { try await chunks.next() }
            }
            outcome = try await intake.receive(mission: mission, name: name, body: body, expectedLength: length)
        } catch let error as IngestAlreadyExists {
            throw APIError.fileAlreadyExists(error.key)
        } catch let error as StorageError {
            switch error {
            case .tooLarge(let limit): throw APIError.tooLarge(limit: limit)
            case .incompleteBody(let expected, let received):
                throw APIError.badRequest("The upload ended after \(received) of \(expected) bytes; nothing was stored.", code: "IncompleteBody")
            case .invalidKey(let key, let reason): throw APIError.badRequest("invalid key '\(key)': \(reason)", code: "InvalidKey")
            default: throw APIError.internalError("The store failed: \(error)")
            }
        }
        switch outcome {
        case .success(let record):
            return .json(JSONValue.object([
                ("file_path", .string(record.key)), ("mission", .string(mission.name)), ("instrument", .string(record.file.instrument.name)),
                ("level", .string(record.file.level)), ("size", .int(Int(record.size))), ("sha256", .string(record.sha256)),
                ("status", .string("pending")),
            ]).serialized())
        case .failure(let rejected):
            var error = APIError.badRequest("\(rejected.reason). The file is kept aside as \(rejected.key).", code: "InvalidFileName")
            error.headers[.rejectedKey] = rejected.key
            throw error
        }
    }

    func query(_ request: Request, context: SDCRequestContext) async throws -> Response {
        let (mission, _) = try await mission(request, context: context)
        var query = MissionFileQuery(mission: mission.name)
        for (name, value) in request.orderedQueryParameters {
            switch name {
            case "instrument":
                guard let instrument = mission.instrument(named: value) else {
                    throw APIError.badRequest("instrument '\(value)' is not a \(mission.name) instrument: expected one of \(mission.instruments.map(\.name).joined(separator: ", "))", code: "InvalidParameter")
                }
                query.instrument = instrument.name
            case "level":
                guard mission.levels.contains(value) else {
                    throw APIError.badRequest("level '\(value)' is not a \(mission.name) level: expected one of \(mission.levels.joined(separator: ", "))", code: "InvalidParameter")
                }
                query.level = value
            case "descriptor": query.descriptor = value
            case "start_time", "end_time":
                guard let time = SWxSOCTime(iso: value) else {
                    throw APIError.badRequest("\(name) '\(value)' is not YYYY-MM-DD[THH:MM:SS]", code: "InvalidParameter")
                }
                if name == "start_time" { query.startTime = time } else { query.endTime = time }
            default:
                throw APIError.badRequest("\(name) is not a valid query parameter. Valid parameters are: instrument, level, descriptor, start_time, end_time", code: "InvalidParameter")
            }
        }
        let rows: [(record: MissionFileRecord, status: MissionFileStatus)]
        do { rows = try await catalog.files(matching: query) } catch { throw APIError.internalError("The mission catalog failed: \(error)") }
        return .json(JSONValue.array(rows.map { Self.row($0.record, $0.status) }).serialized())
    }

    static func row(_ record: MissionFileRecord, _ status: MissionFileStatus) -> JSONValue {
        let file = record.file
        return .object([
            ("file_path", .string(record.key)), ("mission", .string(file.mission)), ("instrument", .string(file.instrument.name)),
            ("level", .string(file.level)), ("mode", .string(file.mode)), ("descriptor", .string(file.descriptor)),
            ("time", .string(file.time.isot)), ("version", .string(file.version?.text)), ("test", .bool(file.isTest)),
            ("size", .int(Int(record.size))), ("sha256", .string(record.sha256)), ("ingestion_date", .string(record.ingestionDate.iso8601)),
            ("status", .string(status.state.rawValue)), ("status_message", .string(status.message)),
            ("processing_time", status.processingSeconds.map(JSONValue.double) ?? .null),
            ("origins", .array(record.origins.map(JSONValue.string))),
        ])
    }

    func download(_ request: Request, context: SDCRequestContext) async throws -> Response {
        let (mission, _) = try await mission(request, context: context)
        let key = try request.pathRemainder(after: "download")
        guard key.hasPrefix(mission.name + "/") else {
            throw APIError.badRequest("'\(key)' is not a \(mission.name) storage key: keys start with '\(mission.name)/'.", code: "WrongMission")
        }
        let record: MissionFileRecord?
        do { record = try await catalog.record(forKey: key) } catch { throw APIError.internalError("The mission catalog failed: \(error)") }
        guard let record, let body = try await storeReader(key) else { throw APIError.notFound("File not found: \(key)") }
        let headers: HTTPFields = [.contentType: "application/octet-stream", .contentLength: String(record.size),
                                   .eTag: "\"\(record.sha256)\"", .checksumSHA256: record.sha256]
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: Int(record.size)) { writer in
            for try await chunk in body { try await writer.write(chunk) }
            try await writer.finish(nil)
        })
    }

    func rejected(_ request: Request, context: SDCRequestContext) async throws -> Response {
        let (mission, caller) = try await mission(request, context: context)
        try Authenticator.require(.write, of: caller, for: "Listing rejected files")
        let files: [RejectedFile]
        do { files = try await catalog.rejected(mission: mission.name) } catch { throw APIError.internalError("The mission catalog failed: \(error)") }
        return .json(JSONValue.array(files.map { file in
            .object([("file_path", .string(file.key)), ("name", .string(file.name)), ("reason", .string(file.reason)),
                     ("received_at", .string(file.receivedAt.iso8601)), ("size", .int(Int(file.size))), ("sha256", .string(file.sha256))])
        }).serialized())
    }
}

extension MissionRoutes {
    /// Refuses a key limited to other missions (403 `MissionNotAllowed`); anonymous callers and unlimited keys reach
    /// every hosted mission. The one check of the mission routes, which the portal's mission pages make too.
    public static func checkAccess(key: APIKeyInfo?, mission: String) throws(APIError) {
        guard let key, !key.allows(mission: mission) else { return }
        throw .forbidden("Your API key is limited to \(key.missions?.joined(separator: ", ") ?? "") and cannot reach \(mission).", code: "MissionNotAllowed")
    }
}

/// A mission intake's "this name is still in the incoming area" (answered 409).
public struct IngestAlreadyExists: Error, Sendable {
    public let key: String
    public init(key: String) { self.key = key }
}

/// "hermes_... is a HERMES file name: ..." for a name sent to another mission's routes.
func wrongMissionMessage(_ name: String, owner: MissionProfile) -> String {
    if owner.grammar == .imap {
        return "\(name) is an IMAP file name: upload it with the IMAP routes (/upload/\(name))."
    }
    return "\(name) is a \(owner.name.uppercased()) file name: upload it to /missions/\(owner.name)/upload/\(name)."
}

/// In front of IMAP's routes when other missions are hosted: another mission's file name gets 400 naming the mission
/// and its route (instead of the IMAP grammar's complaint), and a key limited to other missions gets 403. When IMAP is
/// not hosted (`--missions hermes`), every IMAP route answers 404 naming the hosted missions' routes.
struct IMAPRouteGuard: RouterMiddleware {
    typealias Context = SDCRequestContext
    let missions: MissionSet
    let authenticator: Authenticator
    /// The first path segments of IMAP's API (after an `api-key`/`authorized` family prefix).
    static let imapRoutes: Set<String> = ["query", "spice-query", "repoint-table", "spin-table", "thruster-table", "download",
                                          "upload", "reprocess", "release"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var segments = request.uri.path.split(separator: "/")
        var family = RouteFamily.open
        if let first = segments.first, let prefixed = RouteFamily(rawValue: String(first)), prefixed != .open {
            family = prefixed
            segments.removeFirst()
        }
        guard let route = segments.first.map(String.init), Self.imapRoutes.contains(route) else { return try await next(request, context) }
        guard missions.hostsIMAP else {
            let hosted = missions.missions.map { "/missions/\($0.name)/" }.joined(separator: ", ")
            throw APIError(.notFound, "MissionNotHosted",
                           "IMAP is not hosted here, so /\(route) is not served: this data center hosts \(missions.names.joined(separator: ", ")) (routes \(hosted)).")
        }
        if route == "upload" || route == "download", segments.count > 1, let name = segments.last.map(String.init)?.percentDecoded(),
           let owner = missions.owner(of: name) ?? missions.unhostedOwner(of: name), owner.grammar != .imap {
            throw APIError.badRequest(wrongMissionMessage(name, owner: owner), code: "WrongMission")
        }
        // Only keys are checked here; anything else (a job credential, a missing or unknown key) is left to the
        // route family's own authentication, which answers as it always does.
        if request.headers[.xAPIKey] != nil || request.headers[.authorization] != nil,
           case .key(let info)? = try? await authenticator.caller(of: request, family: family), !info.allows(mission: "imap") {
            throw APIError.forbidden("Your API key is limited to \(info.missions?.joined(separator: ", ") ?? "") and cannot reach imap.", code: "MissionNotAllowed")
        }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    /// Where a refused upload is kept aside.
    static let rejectedKey = Self("x-sdc-rejected-key")!
}
