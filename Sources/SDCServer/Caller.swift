import HTTPTypes
import Hummingbird
import SDCCatalog

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

    /// Whether the caller may see unreleased files.
    public var isAuthenticated: Bool { self != .anonymous }

    /// A name for logs and request records.
    public var name: String {
        switch self {
        case .anonymous: "anonymous"
        case .key(let info): "\(info.name) (\(info.prefix)…)"
        }
    }

    public var scope: APIKeyScope? {
        if case .key(let info) = self { info.scope } else { nil }
    }
}

/// Resolves the caller of a request from its route family and headers.
struct Authenticator: Sendable {
    let keys: any APIKeyStore

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
        guard let info = try await keys.authenticate(secret: secret) else {
            throw APIError.forbidden("Invalid API key: it is unknown or has been revoked.", code: "InvalidAPIKey")
        }
        return .key(info)
    }

    /// Requires a key with at least `scope`; `action` completes "... requires ..." messages.
    static func require(_ scope: APIKeyScope, of caller: Caller, for action: String) throws {
        switch caller {
        case .anonymous:
            throw APIError.unauthorized("\(action) requires an API key with \(scope.rawValue) scope (send it in the x-api-key header).")
        case .key(let info) where info.scope < scope:
            throw APIError.forbidden("\(action) access denied. Your API key has \(info.scope == .read ? "read-only" : info.scope.rawValue) permissions.")
        case .key:
            return
        }
    }
}

extension HTTPField.Name {
    static let xAPIKey = Self("x-api-key")!
    static let checksumSHA256 = Self("x-checksum-sha256")!
}
