import Foundation
import Testing
@testable import SDCCatalog
import SDCCore
@testable import SDCPostgres

/// State every replica shares through the database: portal sessions, leases, the URL-signing secret, and the probe
/// that tells a database outage from a fault.
struct SharedStateTests {
    @Test(arguments: TestBackend.available) func sessionsStoreOnlyTokenHashesAndEndWithTheirKey(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            let (_, key) = try await t.catalog.createKey(name: "scientist", scope: .read)
            let token = SessionToken.generate()
            let now = UTCTime.now
            try await t.catalog.openSession(tokenHash: SessionToken.hash(token), keyID: key.id,
                                            expiresAt: UTCTime(secondsSince1970: now.secondsSince1970 + 3600))
            #expect(try await t.catalog.sessionKey(tokenHash: SessionToken.hash(token), now: now)?.id == key.id)
            #expect(try await t.scalar("SELECT COUNT(*) FROM portal_sessions WHERE token_hash = ?", [.text(token)]) == 0)
            // Unknown tokens, expired sessions and revoked keys all sign out.
            #expect(try await t.catalog.sessionKey(tokenHash: SessionToken.hash(token + "0"), now: now) == nil)
            let later = UTCTime(secondsSince1970: now.secondsSince1970 + 3600)
            #expect(try await t.catalog.sessionKey(tokenHash: SessionToken.hash(token), now: later) == nil)
            _ = try await t.catalog.revokeKey(String(key.id))
            #expect(try await t.catalog.sessionKey(tokenHash: SessionToken.hash(token), now: now) == nil)
        }
    }

    @Test(arguments: TestBackend.available) func closedAndExpiredSessionsAreRemoved(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            let (_, key) = try await t.catalog.createKey(name: "ops", scope: .admin)
            let now = UTCTime.now.secondsSince1970
            try await t.catalog.openSession(tokenHash: "expired", keyID: key.id, expiresAt: UTCTime(secondsSince1970: now - 1))
            try await t.catalog.openSession(tokenHash: "open", keyID: key.id, expiresAt: UTCTime(secondsSince1970: now + 60))
            // Opening a session dropped the expired one.
            #expect(try await t.scalar("SELECT COUNT(*) FROM portal_sessions") == 1)
            try await t.catalog.closeSession(tokenHash: "open")
            #expect(try await t.catalog.sessionKey(tokenHash: "open", now: .now) == nil)
            #expect(try await t.scalar("SELECT COUNT(*) FROM portal_sessions") == 0)
        }
    }

    @Test(arguments: TestBackend.available) func aLeaseHasOneHolderUntilItExpires(_ backend: TestBackend) async throws {
        try await TemporaryCatalog.with(backend) { t in
            // (holder, seconds after the start, whether it holds the lease afterwards)
            let steps: [(String, Int64, Bool)] = [
                ("a", 0, true), ("b", 10, false),
                ("a", 20, true),  // the holder renews
                ("b", 49, false), ("b", 50, true),  // not renewed: taken over once expired
                ("a", 51, false),  // and the old holder no longer holds it
            ]
            for (holder, seconds, holds) in steps {
                let held = try await t.catalog.holdLease("metrics", holder: holder, seconds: 30, now: Self.at(seconds))
                #expect(held == holds, "\(holder) at \(seconds) s")
            }
            let other = try await t.catalog.holdLease("other", holder: "b", seconds: 30, now: Self.at(20))
            #expect(other, "another lease name is independent")
            await #expect(throws: CatalogError.self) { try await t.catalog.holdLease("metrics", holder: "a", seconds: 0, now: Self.at(52)) }
        }
    }

    /// `seconds` after a fixed start.
    static func at(_ seconds: Int64) -> UTCTime { UTCTime(secondsSince1970: 1_800_000_000 + seconds) }

    @Test(.disabled(if: TestBackend.databaseURL == nil, Comment(rawValue: TestBackend.skipMessage)))
    func replicasShareOneSigningSecret() async throws {
        let url = try #require(TestBackend.databaseURL)
        let database = try await PostgresDatabase.scratch(from: url)
        defer { Task { try? await database.dropScratch() } }
        // Two replicas asking at once get the same secret.
        async let first = PostgresCatalog(database: database).sharedSecret(named: "url-signing")
        async let second = PostgresCatalog(database: database).sharedSecret(named: "url-signing")
        let (a, b) = try await (first, second)
        #expect(a == b && a.count == 32)
        #expect(try await PostgresCatalog(database: database).sharedSecret(named: "other") != a)
    }

    @Test(.disabled(if: TestBackend.databaseURL == nil, Comment(rawValue: TestBackend.skipMessage)))
    func theProbeTellsAnAnsweringDatabaseFromAnUnreachableOne() async throws {
        let url = try #require(TestBackend.databaseURL)
        let database = try await PostgresDatabase.scratch(from: url)
        defer { Task { try? await database.dropScratch() } }
        #expect(await database.probe.unreachableReason() == nil)
        var elsewhere = database.location
        elsewhere.port = 1
        let reason = try #require(await PostgresProbe(location: elsewhere).unreachableReason())
        #expect(reason.hasPrefix("database '\(database.location.database)' at 127.0.0.1:1: "), "\(reason)")
    }
}
