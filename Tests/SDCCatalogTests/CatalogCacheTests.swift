import Foundation
import GRDB
import SDCCore
import Testing
@testable import SDCCatalog

struct KeyCacheTests {
    let info = APIKeyInfo(id: 1, name: "k", scope: .read, prefix: "sdc_abc", createdAt: .now, revokedAt: nil)

    @Test func answersAreReusedForTheirLifetimeOnly() {
        let cache = KeyCache(lifetime: .seconds(3600))
        let first = cache.key(forHash: "h")
        #expect(first.info == nil)
        cache.remember(info, hash: "h", generation: first.generation)
        #expect(cache.key(forHash: "h").info == info)
        let expiring = KeyCache(lifetime: .zero)
        expiring.remember(info, hash: "h", generation: expiring.key(forHash: "h").generation)
        #expect(expiring.key(forHash: "h").info == nil)
    }

    @Test func aLookupThatRacedARevocationIsNotRemembered() {
        let cache = KeyCache(lifetime: .seconds(3600))
        let lookup = cache.key(forHash: "h")
        cache.removeAll()
        cache.remember(info, hash: "h", generation: lookup.generation)
        #expect(cache.key(forHash: "h").info == nil)
    }

    @Test func theCacheStaysWithinItsCapacity() {
        let cache = KeyCache(lifetime: .seconds(3600), capacity: 2)
        for hash in ["a", "b", "c"] { cache.remember(info, hash: hash, generation: cache.key(forHash: hash).generation) }
        #expect(cache.key(forHash: "c").info == info)
        #expect(cache.key(forHash: "a").info == nil && cache.key(forHash: "b").info == nil)
    }

    /// A key revoked through the catalog stops working at once, even right after it was cached.
    @Test func revocationThroughTheCatalogTakesEffectAtOnce() async throws {
        let t = try TemporarySQLiteCatalog()
        let (secret, created) = try await t.catalog.createKey(name: "k", scope: .write)
        #expect(try await t.catalog.authenticate(secret: secret)?.id == created.id)
        #expect(try await t.catalog.authenticate(secret: secret)?.id == created.id)
        _ = try await t.catalog.revokeKey(String(created.id))
        #expect(try await t.catalog.authenticate(secret: secret) == nil)
    }
}

struct StatementShapesTests {
    /// Query texts beyond the capacity are prepared each time rather than kept, so the caches stay bounded.
    @Test func onlyTheFirstTextsAreCached() throws {
        let shapes = StatementShapes(capacity: 1)
        try DatabaseQueue().inDatabase { db in
            let kept = try shapes.statement("SELECT 1", in: db)
            #expect(try shapes.statement("SELECT 1", in: db) === kept)
            let other = try shapes.statement("SELECT 2", in: db)
            #expect(try shapes.statement("SELECT 2", in: db) !== other)
            #expect(try Int.fetchOne(other) == 2)
        }
    }
}
