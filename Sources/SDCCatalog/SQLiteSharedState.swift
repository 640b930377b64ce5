import GRDB
import SDCCore

extension SQLiteCatalog: PortalSessionStore {
    public func openSession(tokenHash: String, keyID: Int64, expiresAt: UTCTime) async throws(CatalogError) {
        let now = UTCTime.now.secondsSince1970
        try await write { db in
            try db.execute(sql: "DELETE FROM portal_sessions WHERE expires_at <= ?", arguments: [now])
            try db.execute(sql: "INSERT INTO portal_sessions (token_hash, key_id, expires_at) VALUES (?, ?, ?)",
                           arguments: [tokenHash, keyID, expiresAt.secondsSince1970])
        }
    }

    public func sessionKey(tokenHash: String, now: UTCTime) async throws(CatalogError) -> APIKeyInfo? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT api_keys.* FROM portal_sessions JOIN api_keys ON api_keys.id = portal_sessions.key_id
                WHERE portal_sessions.token_hash = ? AND portal_sessions.expires_at > ? AND api_keys.revoked_at IS NULL
                """), arguments: [tokenHash, now.secondsSince1970]).map(Self.keyInfo)
        }
    }

    public func closeSession(tokenHash: String) async throws(CatalogError) {
        try await write { db in try db.execute(sql: "DELETE FROM portal_sessions WHERE token_hash = ?", arguments: [tokenHash]) }
    }
}

extension SQLiteCatalog: LeaseStore {
    public func holdLease(_ name: String, holder: String, seconds: Int64, now: UTCTime) async throws(CatalogError) -> Bool {
        let (expiresAt, overflow) = now.secondsSince1970.addingReportingOverflow(seconds)
        guard !overflow, seconds > 0 else { throw .database("a lease of \(seconds) s cannot be held") }
        return try await write { db in
            try db.execute(sql: SharedStateSQL.holdLease, arguments: [name, holder, expiresAt, now.secondsSince1970])
            return try String.fetchOne(db, sql: "SELECT holder FROM leases WHERE name = ?", arguments: [name]) == holder
        }
    }
}

/// Statements shared by the SQLite and PostgreSQL backends.
package enum SharedStateSQL {
    /// Takes a lease (name, holder, expires_at) if free, expired (before the 4th argument, now) or the holder's own.
    package static let holdLease = """
        INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
        WHERE leases.holder = excluded.holder OR leases.expires_at <= ?
        """
}
