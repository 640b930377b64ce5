import Foundation
import Hummingbird
import SDCCore
import SDCCatalog

/// Portal sign-in sessions over the data center's shared session store (``PortalSessionStore``), so that every replica
/// knows every session and a restart signs nobody out.
///
/// The cookie carries only a random token; the database keeps its hash and the id of the key that signed in. The key
/// is checked again on every request, so a key revoked from the portal or with `sdc keys revoke` ends its sessions at once.
public struct PortalSessions: Sendable {
    let store: any PortalSessionStore
    /// How long a session lasts after sign-in.
    public let lifetime: Duration

    public init(store: any PortalSessionStore, lifetime: Duration = .seconds(8 * 3600)) {
        self.store = store
        self.lifetime = lifetime
    }

    /// Opens a session for a key; returns its token.
    func open(for key: APIKeyInfo) async throws -> String {
        let token = SessionToken.generate()
        let expiresAt = UTCTime(secondsSince1970: UTCTime.now.secondsSince1970 + lifetime.components.seconds)
        try await store.openSession(tokenHash: SessionToken.hash(token), keyID: key.id, expiresAt: expiresAt)
        return token
    }

    /// The live key of a session, if the session is open and its key not revoked.
    func key(for token: String) async throws -> APIKeyInfo? {
        try await store.sessionKey(tokenHash: SessionToken.hash(token), now: .now)
    }

    func close(_ token: String) async throws {
        try await store.closeSession(tokenHash: SessionToken.hash(token))
    }
}

/// The session cookie: its name and attributes, read and written with Hummingbird's cookie types.
enum SessionCookie {
    static let name = "sdc_session"

    /// The cookie opening a session: HttpOnly (no script reads it), SameSite=Lax (no cross-site form posts carry it),
    /// limited to the portal's paths, expiring with the session.
    static func opening(token: String, lifetime: Duration) -> Cookie {
        Cookie(name: name, value: token, maxAge: Int(clamping: lifetime.components.seconds), path: "/portal", httpOnly: true, sameSite: .lax)
    }

    /// The cookie ending a session: the same name and path, empty and already expired.
    static let clear = Cookie(name: name, value: "", maxAge: 0, path: "/portal", httpOnly: true, sameSite: .lax)

    /// The session token the request carries, if any.
    static func token(of request: Request) -> String? {
        guard let value = request.cookies[name]?.value, !value.isEmpty else { return nil }
        return value
    }
}
