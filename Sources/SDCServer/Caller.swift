import HTTPTypes
import Hummingbird
import SDCCatalog
import SDCJobs

/// The three route families imap-data-access addresses (imap-api.md §1.1).
public enum RouteFamily: String, Sendable, CaseIterable {
    /// `/X`: anonymous unless an `x-api-key` header is sent anyway.
    case open = ""
    /// `/api-key/X`: requires `x-api-key`.
    case apiKey = "api-key"
    /// `/authorized/X`: requires `Authorization: Bearer <token>`; sdc accepts its API keys as bearer tokens.
    case authorized
}

/// Who is making a request.
public enum Caller: Sendable, Equatable {
    case anonymous
    case key(APIKeyInfo)
    /// A running job's algorithm or worker, holding the job's credential: it may read everything, upload files of its
    /// job's instrument, and renew or finish its own job; nothing else.
    case job(Job, JobCredential)

    /// Whether the caller may see unreleased files.
    public var isAuthenticated: Bool { self != .anonymous }

    /// A name for logs and request records.
    public var name: String {
        switch self {
        case .anonymous: "anonymous"
        case .key(let info): "\(info.name) (\(info.prefix)…)"
        case .job(let job, _): "job \(job.id)"
        }
    }

    /// The key's scope; nil for anonymous callers and job credentials.
    public var scope: APIKeyScope? {
        if case .key(let info) = self { info.scope } else { nil }
    }
}

/// Resolves the caller of a request from its route family and headers: an API key, a job credential, or nobody.
struct Authenticator: Sendable {
    let keys: any APIKeyStore
    /// Where job credentials are checked; nil when the server runs no pipeline.
    let jobs: (any JobStore)?

    func caller(of request: Request, family: RouteFamily) async throws -> Caller {
        let apiKey = request.headers[.xAPIKey]
        let bearer = request.headers[.authorization].flatMap { header -> String? in
            header.lowercased().hasPrefix("bearer ") ? String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces) : nil
        }
        let secret: String?
        switch family {
        case .open: secret = apiKey
        case .apiKey:
            guard let apiKey else { throw APIError.unauthorized("Missing API key: send it in the x-api-key header.") }
            secret = apiKey
        case .authorized:
            guard let bearer else { throw APIError.unauthorized("Missing bearer token: send 'Authorization: Bearer <token>'.") }
            secret = bearer
        }
        guard let secret else { return .anonymous }
        if let credential = JobCredential(secret: secret), let jobs {
            let job: Job?
            do { job = try await jobs.job(authenticatedBy: credential) } catch {
                throw APIError.internalError("The job store failed while checking a job credential: \(error)")
            }
            guard let job else {
                throw APIError.forbidden("Invalid job credential: job \(credential.jobID) is not running under it (its lease ended).", code: "InvalidAPIKey")
            }
            return .job(job, credential)
        }
        guard let info = try await keys.authenticate(secret: secret) else {
            throw APIError.forbidden("Invalid API key: it is unknown or has been revoked.", code: "InvalidAPIKey")
        }
        return .key(info)
    }

    /// Requires a key with at least `scope`; `action` completes "... requires ..." messages. A job credential passes
    /// for read scope, and for more only where `job` allows it.
    static func require(_ scope: APIKeyScope, of caller: Caller, for action: String, permitting job: (Job) -> Bool = { _ in false }) throws {
        switch caller {
        case .anonymous:
            throw APIError.unauthorized("\(action) requires an API key with \(scope.rawValue) scope (send it in the x-api-key header).")
        case .key(let info) where info.scope < scope:
            throw APIError.forbidden("\(action) access denied. Your API key has \(info.scope == .read ? "read-only" : info.scope.rawValue) permissions.")
        case .key:
            return
        case .job(let running, _):
            guard scope == .read || job(running) else {
                throw APIError.forbidden("\(action) access denied. The credential of job \(running.id) allows only that job's own work.")
            }
        }
    }
}

/// Resolves the caller once per request, for every route of one family, and puts it in the request context (and its
/// name in the context's logger, so every log line of the request carries it with the request id).
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = SDCRequestContext
    let family: RouteFamily
    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.caller = try await authenticator.caller(of: request, family: family)
        context.logger[metadataKey: "caller"] = "\(context.caller.name)"
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let xAPIKey = Self("x-api-key")!
    static let checksumSHA256 = Self("x-checksum-sha256")!
}
