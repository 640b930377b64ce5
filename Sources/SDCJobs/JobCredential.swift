import Crypto
import SDCCore

/// The secret a claim issues: `sdcjob_<job id>_<64 hex digits>`. The job store keeps only its SHA-256; the job id in
/// the clear lets a request's credential be checked with one row lookup.
public struct JobCredential: Sendable, Hashable, CustomStringConvertible {
    static let prefix = "sdcjob_"

    /// The whole secret, as sent in `x-api-key` or as a bearer token.
    public let secret: String
    public let jobID: Int64

    /// A fresh random credential for `jobID`.
    public init(jobID: Int64) {
        self.jobID = jobID
        secret = Self.prefix + String(jobID) + "_" + SecureRandom.bytes(32).hexString
    }

    /// Parses a presented secret; nil when it is not a job credential's shape.
    public init?(secret: String) {
        guard secret.hasPrefix(Self.prefix) else { return nil }
        let parts = secret.dropFirst(Self.prefix.count).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, let id = Int64(parts[0]), id > 0, parts[1].count == 64,
              parts[1].allSatisfy(\.isHexDigit) else { return nil }
        self.jobID = id
        self.secret = secret
    }

    /// Whether a presented secret has a job credential's prefix (and so is never an API key).
    public static func looksLikeCredential(_ secret: String) -> Bool { secret.hasPrefix(prefix) }

    /// What the store keeps: the lowercase hex SHA-256 of the secret.
    public var sha256: String { SHA256.hash(data: Array(secret.utf8)).hexString }

    /// Never prints the secret.
    public var description: String { "credential of job \(jobID)" }
}
