import Crypto
import SDCCore

/// What an API key may do. Scopes are ordered: `admin` can do everything `write` can, `write` everything `read` can.
public enum APIKeyScope: String, Sendable, Codable, CaseIterable, Comparable {
    /// Query and download, including unreleased files.
    case read
    /// Also upload, reprocess and release.
    case write
    /// Also manage keys.
    case admin

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: APIKeyScope, rhs: APIKeyScope) -> Bool { lhs.rank < rhs.rank }
}

/// A stored API key. The key itself is never stored: only its SHA-256 and a short prefix to recognise it by.
public struct APIKeyInfo: Sendable, Hashable {
    public var id: Int64
    public var name: String
    public var scope: APIKeyScope
    /// The first characters of the key, safe to display.
    public var prefix: String
    public var createdAt: UTCTime
    public var revokedAt: UTCTime?
    /// The missions the key may reach (`imap`, `hermes`, ...); nil: every mission the data center hosts.
    public var missions: [String]?

    public var isRevoked: Bool { revokedAt != nil }

    /// Whether the key may reach `mission`'s files and routes.
    public func allows(mission: String) -> Bool { missions?.contains(mission) ?? true }

    /// A stored key as a catalog backend reads it back.
    package init(id: Int64, name: String, scope: APIKeyScope, prefix: String, createdAt: UTCTime, revokedAt: UTCTime?,
                 missions: [String]? = nil) {
        self.id = id
        self.name = name
        self.scope = scope
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.missions = missions
    }

    /// The stored form of ``missions``: names joined by commas, nil for every mission.
    package static func missionsColumn(_ missions: [String]?) -> String? { missions?.joined(separator: ",") }

    /// ``missions`` read back from its stored form.
    package static func missions(fromColumn text: String?) -> [String]? {
        text.map { $0.split(separator: ",").map(String.init) }
    }
}

/// Why a key operation failed.
public enum APIKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownKey(String)
    case database(String)

    public var description: String {
        switch self {
        case .unknownKey(let reference): "no API key matches '\(reference)' (give its id or prefix, see `sdc keys list`)"
        case .database(let message): "API key database error: \(message)"
        }
    }
}

/// API keys with scopes, stored hashed.
public protocol APIKeyStore: Sendable {
    /// Creates a key; the returned secret is shown once and never stored.
    func createKey(name: String, scope: APIKeyScope) async throws(APIKeyError) -> (secret: String, info: APIKeyInfo)
    /// The live (not revoked) key with this secret, if any.
    func authenticate(secret: String) async throws(APIKeyError) -> APIKeyInfo?
    func listKeys() async throws(APIKeyError) -> [APIKeyInfo]
    /// Revokes the key with this id or prefix.
    func revokeKey(_ reference: String) async throws(APIKeyError) -> APIKeyInfo
    /// Limits the key with this id or prefix to `missions` (nil: every mission).
    func limitKey(_ reference: String, toMissions missions: [String]?) async throws(APIKeyError) -> APIKeyInfo
}

/// How secrets are made and hashed.
public enum APIKeySecret {
    /// `sdc_` followed by 43 URL-safe base64 characters (256 random bits).
    public static func generate() -> String {
        "sdc_" + base64URL(SecureRandom.bytes(32))
    }

    /// Lowercase hex SHA-256 of the secret. Keys carry 256 random bits, so a fast hash is as strong as a slow one.
    public static func hash(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).hexString
    }

    /// The displayable prefix of a secret.
    public static func prefix(of secret: String) -> String { String(secret.prefix(10)) }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var out = ""
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                out.append(alphabet[(buffer >> bits) & 63])
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (6 - bits)) & 63]) }
        return out
    }
}
