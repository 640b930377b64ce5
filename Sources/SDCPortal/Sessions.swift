import Foundation
import Hummingbird
import SDCCore
import Synchronization

/// Portal sign-in sessions, kept in memory on this server (a restart signs everyone out; several servers behind a
/// load balancer would need a shared store).
///
/// The cookie carries only a random token. The API key stays on the server and is checked again on every request,
/// so a key revoked from the portal or with `sdc keys revoke` ends its sessions at once.
public final class SessionStore: Sendable {
    struct Session: Sendable {
        let secret: String
        let expires: ContinuousClock.Instant
    }

    /// How long a session lasts after sign-in.
    public let lifetime: Duration
    private let sessions = Mutex<[String: Session]>([:])

    public init(lifetime: Duration = .seconds(8 * 3600)) {
        self.lifetime = lifetime
    }

    /// Opens a session for an API key secret; returns its token.
    func open(secret: String) -> String {
        let token = Self.newToken()
        let now = ContinuousClock.now
        let session = Session(secret: secret, expires: now + lifetime)
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expires > now }
            sessions[token] = session
        }
        return token
    }

    /// The API key secret of a live session.
    func secret(for token: String) -> String? {
        let now = ContinuousClock.now
        return sessions.withLock { sessions in
            guard let session = sessions[token] else { return nil }
            guard session.expires > now else {
                sessions[token] = nil
                return nil
            }
            return session.secret
        }
    }

    func close(_ token: String) {
        _ = sessions.withLock { $0.removeValue(forKey: token) }
    }

    /// 256 random bits, hex.
    private static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.hexString
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
