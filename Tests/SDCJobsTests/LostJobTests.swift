import Foundation
import Testing
@testable import SDCCatalog
@testable import SDCJobs
@testable import SDCPostgres

/// A job whose worker died on its last attempt ends failed once its lease expires, on both backends. (On
/// PostgreSQL this once failed on every call: a `?` in a string literal was numbered as a placeholder, so no worker on
/// the database could claim anything after a lease expired.)
struct LostJobTests {
    @Test(arguments: TestBackend.available) func aJobLostOnItsLastAttemptEndsFailedNamingTheWorker(_ backend: TestBackend) async throws {
        let clock = ManualClock()
        try await TemporaryJobStore.with(backend, clock: clock) { t in
            let store = t.store
            let job = try await store.submit(request(inputs: ["lost.pkts"], maxAttempts: 1), highestCatalogedMinor: nil).job
            #expect(try await store.expireLostJobs().isEmpty)
            _ = try #require(try await store.claim(workerID: "host-42-0", leaseSeconds: 10))
            #expect(try await store.expireLostJobs().isEmpty, "the lease still holds")
            clock.advance(seconds: 11)
            let lost = try await store.expireLostJobs()
            #expect(lost.map(\.id) == [job.id])
            let ended = try #require(try await store.job(id: job.id))
            #expect(ended.status == .failed && ended.log.contains("worker host-42-0 lost its lease"), "\(ended.log)")
            #expect(try await store.claim(workerID: "w2", leaseSeconds: 10) == nil)
        }
    }
}
