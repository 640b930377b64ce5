import Foundation
import SDCCore
import SDCIntegrity
import SDCStorage
import Synchronization
import Testing

/// Verification finds each kind of damage on both stores, and changes nothing.
struct VerifierTests {
    func checkFindsEveryProblemAndChangesNothing(_ t: IntegrityFixture) async throws {
        try await t.damage()
        let before = try await t.snapshot()
        let progress = ProgressLog()
        let verifier = Verifier(catalog: t.catalog, digester: ObjectDigester(store: t.store), concurrency: 2)
        let report = try await verifier.verify(.all) { progress.record($0) }
        let found = Dictionary(uniqueKeysWithValues: report.findings.map { ($0.key, $0.problem) })
        #expect(found == (try IntegrityFixture.expectedFindings()))
        #expect(report.objectsChecked == IntegrityFixture.names.count)
        #expect(report.objectsListed == 6)  // four surviving objects, the orphan and the set-aside object
        let corrupt = try #require(report.findings.first { $0.key == (try IntegrityFixture.key(IntegrityFixture.names[1])) })
        #expect(corrupt.detail.contains("200000 bytes, the catalog 300000"))
        let flipped = try #require(report.findings.first { $0.key == (try IntegrityFixture.key(IntegrityFixture.names[0])) })
        #expect(flipped.detail.contains("SHA-256"))
        let after = try await t.snapshot()
        #expect(after == before)
        #expect(progress.last?.objectsChecked == IntegrityFixture.names.count && progress.last?.problems == 4)

        // One instrument: its files, and orphans under its folder only.
        let swapi = try await verifier.verify(.instruments([.swapi]))
        #expect(swapi.objectsChecked == 4 && swapi.findings.count == 4)
        let mag = try await verifier.verify(.instruments([.mag]))
        #expect(mag.objectsChecked == 1 && mag.isClean)
        #expect(try await t.snapshot() == before)
    }

    @Test func theFilesystemStore() async throws {
        let t = try IntegrityFixture.filesystem()
        defer { t.remove() }
        try await checkFindsEveryProblemAndChangesNothing(t)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["SDC_TEST_S3_ENDPOINT"] != nil,
                   "SDC_TEST_S3_ENDPOINT is not set: scripts/test starts moto (scripts/lib/moto.sh) and sets it"))
    func anS3Bucket() async throws {
        let t = try await IntegrityFixture.bucket()
        defer { t.remove() }
        try await checkFindsEveryProblemAndChangesNothing(t)
    }

    @Test func anUploadInFlightIsNotAnOrphan() async throws {
        let t = try IntegrityFixture.filesystem()
        defer { t.remove() }
        let name = "imap_swapi_l1a_sci_20250109_v001.0001.cdf"
        try await t.catalog.reserve(try IMAPFileName.parse(name), staleAfter: 3600)
        try await t.put(IntegrityFixture.orphan, Array("uploading".utf8))
        let verifier = Verifier(catalog: t.catalog, digester: ObjectDigester(store: t.store), concurrency: 1)
        #expect(try await verifier.verify(.all).isClean)
        try await t.catalog.cancelReservation(key: IntegrityFixture.orphan)
        #expect(try await verifier.verify(.all).findings.map(\.problem) == [.orphaned])
    }

    @Test func aRateLimitIsKept() async throws {
        let limiter = ByteRateLimiter(bytesPerSecond: 4_000_000)
        let start = ContinuousClock.now
        for _ in 0..<12 { try await limiter.consume(500_000) }  // 6 MB at 4 MB/s, one second of burst: at least 0.5 s
        // Only the lower bound is a property of the limiter; how much longer it takes depends on the machine's load.
        #expect(ContinuousClock.now - start >= .milliseconds(480))
    }
}

/// The progress reports of a run.
final class ProgressLog: Sendable {
    private let reports = Mutex<[VerificationProgress]>([])
    func record(_ progress: VerificationProgress) { reports.withLock { $0.append(progress) } }
    var last: VerificationProgress? { reports.withLock { $0.last } }
}
