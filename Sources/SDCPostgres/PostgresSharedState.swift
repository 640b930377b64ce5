import Foundation
import PostgresNIO
import SDCCatalog
import SDCCore

extension PostgresCatalog: PortalSessionStore {
    public func openSession(tokenHash: String, keyID: Int64, expiresAt: UTCTime) async throws(CatalogError) {
        let now = UTCTime.now.secondsSince1970
        _ = try await database.transaction({ transaction in
            try await transaction.rows(SQLQuery("DELETE FROM portal_sessions WHERE expires_at <= ?", [.integer(now)]))
            try await transaction.rows(SQLQuery("INSERT INTO portal_sessions (token_hash, key_id, expires_at) VALUES (?, ?, ?)",
                                                [.text(tokenHash), .integer(keyID), .integer(expiresAt.secondsSince1970)]))
        }, failure: CatalogError.database)
    }

    public func sessionKey(tokenHash: String, now: UTCTime) async throws(CatalogError) -> APIKeyInfo? {
        let rows = try await database.rows(SQLQuery("""
            SELECT api_keys.* FROM portal_sessions JOIN api_keys ON api_keys.id = portal_sessions.key_id
            WHERE portal_sessions.token_hash = ? AND portal_sessions.expires_at > ? AND api_keys.revoked_at IS NULL
            """, [.text(tokenHash), .integer(now.secondsSince1970)]), failure: CatalogError.database)
        return try rows.first.map { row throws(CatalogError) in try Self.keyInfo(row) }
    }

    public func closeSession(tokenHash: String) async throws(CatalogError) {
        _ = try await database.rows(SQLQuery("DELETE FROM portal_sessions WHERE token_hash = ?", [.text(tokenHash)]),
                                    failure: CatalogError.database)
    }
}

extension PostgresCatalog: LeaseStore {
    public func holdLease(_ name: String, holder: String, seconds: Int64, now: UTCTime) async throws(CatalogError) -> Bool {
        let (expiresAt, overflow) = now.secondsSince1970.addingReportingOverflow(seconds)
        guard !overflow, seconds > 0 else { throw .database("a lease of \(seconds) s cannot be held") }
        let rows = try await database.transaction({ transaction in
            try await transaction.rows(SQLQuery(SharedStateSQL.holdLease,
                                                [.text(name), .text(holder), .integer(expiresAt), .integer(now.secondsSince1970)]))
            return try await transaction.rows(SQLQuery("SELECT holder FROM leases WHERE name = ?", [.text(name)]))
        }, failure: CatalogError.database)
        let current: String? = try rows.first.map { row throws(CatalogError) in try Self.cell(row, "holder", in: "leases") }
        return current == holder
    }
}

extension PostgresCatalog {
    /// The secret `name` that every replica shares (the URL-signing secret, say): 32 random bytes made by whichever
    /// replica asks first (`ON CONFLICT DO NOTHING`, so replicas starting together agree), the same for all after.
    public func sharedSecret(named name: String) async throws(CatalogError) -> [UInt8] {
        let candidate = Data(SecureRandom.bytes(32)).base64EncodedString()
        let rows = try await database.transaction({ transaction in
            try await transaction.rows(SQLQuery("INSERT INTO shared_secrets (name, secret) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                                                [.text(name), .text(candidate)]))
            return try await transaction.rows(SQLQuery("SELECT secret FROM shared_secrets WHERE name = ?", [.text(name)]))
        }, failure: CatalogError.database)
        let stored: String? = try rows.first.map { row throws(CatalogError) in try Self.cell(row, "secret", in: "shared_secrets") }
        guard let stored, let secret = Data(base64Encoded: stored), secret.count >= 32 else {
            throw .database("the shared secret '\(name)' is missing or damaged in shared_secrets")
        }
        return Array(secret)
    }
}
