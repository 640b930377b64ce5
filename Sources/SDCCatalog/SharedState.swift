import SDCCore

/// Web-portal sign-in sessions, kept in the catalog's database so that every replica behind a load balancer knows
/// every session and a restart signs nobody out.
///
/// Only the SHA-256 of a session token is stored (``SessionToken/hash(_:)``), beside the id of the API key that signed
/// in, never the key itself. A session lasts until it expires, is closed, or its key is revoked.
public protocol PortalSessionStore: Sendable {
    /// Records a session of the key `keyID`, known by its token's hash, until `expiresAt`; drops expired sessions.
    func openSession(tokenHash: String, keyID: Int64, expiresAt: UTCTime) async throws(CatalogError)
    /// The key of a live session: nil when there is no such session, it has expired, or its key has been revoked.
    func sessionKey(tokenHash: String, now: UTCTime) async throws(CatalogError) -> APIKeyInfo?
    /// Ends a session; nothing happens when there is none.
    func closeSession(tokenHash: String) async throws(CatalogError)
}

/// How portal session tokens are made and hashed.
public enum SessionToken {
    /// 256 random bits, hex.
    public static func generate() -> String { SecureRandom.bytes(32).hexString }

    /// The stored form of a token: its SHA-256, hex (a token carries 256 random bits, so a fast hash is as strong as a slow one).
    public static func hash(_ token: String) -> String { APIKeySecret.hash(token) }
}

/// Named, expiring leases in the shared database, so that a chore that must be done once for the whole data center
/// (exporting the gauges read from the database, say) is done by one replica at a time, and taken over by another
/// when its holder stops renewing.
public protocol LeaseStore: Sendable {
    /// Takes the lease `name` for `holder` until `now + seconds` if it is free, expired or already `holder`'s;
    /// returns whether `holder` holds it now.
    func holdLease(_ name: String, holder: String, seconds: Int64, now: UTCTime) async throws(CatalogError) -> Bool
}

/// Tells an outage of a shared backend (the database is down or unreachable: answer `503`, the client retries) from a
/// fault (answer `500`). Asked only after a request has failed, so a healthy server pays nothing for it.
public protocol BackendProbe: Sendable {
    /// Nil when the backend answers; otherwise why it does not, naming it.
    func unreachableReason() async -> String?
}
