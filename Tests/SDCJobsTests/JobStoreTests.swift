import Foundation
import GRDB
import SDCCore
import Synchronization
import Testing
@testable import SDCCatalog
@testable import SDCJobs
@testable import SDCPostgres

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let now = Mutex<Int64>(1_750_000_000_000)
    var jobClock: JobClock { JobClock { [self] in now.withLock { $0 } } }
    func advance(seconds: Int64) { now.withLock { $0 += seconds * 1000 } }
    var milliseconds: Int64 { now.withLock { $0 } }
}

struct PostgresJobStoreAvailability {
    @Test(.disabled(if: TestBackend.databaseURL == nil, Comment(rawValue: TestBackend.skipMessage)))
    func jobStoreTestsRunAgainstPostgreSQL() {
        #expect(TestBackend.available.contains(.postgres))
    }
}

/// A job store in a fresh SQLite file or PostgreSQL database, removed afterwards.
final class TemporaryJobStore: Sendable {
    let store: any JobStore
    let folder: URL
    /// Set for the SQLite backend.
    let sqlitePath: String?
    /// Set for the PostgreSQL backend.
    let postgres: PostgresDatabase?

    private init(backend: TestBackend, clock: ManualClock) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-jobs-\(UUID().uuidString)")
        switch backend {
        case .sqlite:
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let path = folder.appendingPathComponent("jobs.sqlite").path
            (store, sqlitePath, postgres) = (try SQLiteJobStore(path: path, clock: clock.jobClock), path, nil)
        case .postgres:
            let url = try #require(TestBackend.databaseURL, "\(TestBackend.skipMessage)")
            let database = try await PostgresDatabase.scratch(from: url)
            (store, sqlitePath, postgres) = (try await PostgresJobStore(database: database, clock: clock.jobClock), nil, database)
        }
    }

    /// Runs `body` on a new store of `backend` reading the time from `clock`, then removes the store.
    static func with(_ backend: TestBackend, clock: ManualClock = ManualClock(), _ body: (TemporaryJobStore) async throws -> Void) async throws {
        let t = try await TemporaryJobStore(backend: backend, clock: clock)
        do { try await body(t) } catch {
            try await t.remove()
            throw error
        }
        try await t.remove()
    }

    private func remove() async throws {
        try? FileManager.default.removeItem(at: folder)
        try await postgres?.dropScratch()
    }

    /// Runs a statement (`?` placeholders) on the store's database and returns the first column of every row as text.
    @discardableResult
    func strings(_ sql: String, _ values: [SQLValue] = []) async throws -> [String] {
        let query = SQLQuery(sql, values)
        if let sqlitePath {
            return try await DatabaseQueue(path: sqlitePath).write { db in
                try String.fetchAll(db, sql: query.sql, arguments: query.statementArguments)
            }
        }
        let database = try #require(postgres)
        return try await database.rows(query).map { try $0[0].decode(String.self) }
    }
}

func request(inputs: [String], campaign: Int64 = 0, maxAttempts: Int = 2) -> JobRequest {
    var collection = ProcessingInputCollection()
    collection.add(type: "science", files: inputs)
    return JobRequest(product: ProductNode("swapi", "l1a", "all"), startDate: FileDate(year: 2025, month: 1, day: 1)!,
                      algorithm: "xtce-l1a", algorithmVersion: "1", majorVersion: 1, inputs: collection, campaign: campaign,
                      maxAttempts: maxAttempts)
}

struct JobStoreTests {
    @Test(arguments: TestBackend.available) func identicalJobsAreCreatedOnce(_ backend: TestBackend) async throws {
        try await TemporaryJobStore.with(backend) { t in
            let store = t.store
            let first = try await store.submit(request(inputs: ["a.pkts"]), highestCatalogedMinor: nil)
            let second = try await store.submit(request(inputs: ["a.pkts"]), highestCatalogedMinor: nil)
            #expect(first.created && !second.created && first.job.id == second.job.id)
            #expect(first.job.version == ProductVersion(major: 1, minor: 1))
            // New inputs or a reprocessing campaign make a new job, one minor version up.
            let newInputs = try await store.submit(request(inputs: ["a.pkts", "b.csv"]), highestCatalogedMinor: nil)
            #expect(newInputs.created && newInputs.job.version.minor == 2)
            let campaign = try await store.submit(request(inputs: ["a.pkts"], campaign: 7), highestCatalogedMinor: 5)
            #expect(campaign.created && campaign.job.version.minor == 6)
            #expect(first.job.inputs == #"[{"type": "science", "files": ["a.pkts"]}]"#)
            // The IMAP dependency hash, computed independently with Python:
            // hashlib.sha256(json.dumps([{"type": "science", "files": ["a.pkts"]}]).encode()).hexdigest()[:8]
            #expect(first.job.inputsHash == "776d1679")
        }
    }

    @Test(arguments: TestBackend.available) func onlyTheClaimsCredentialFinishesTheJobAndOnlyWhileItsLeaseHolds(_ backend: TestBackend) async throws {
        let clock = ManualClock()
        try await TemporaryJobStore.with(backend, clock: clock) { t in
            let store = t.store
            let job = try await store.submit(request(inputs: ["a.pkts"], maxAttempts: 2), highestCatalogedMinor: nil).job
            let first = try #require(try await store.claim(workerID: "w1", leaseSeconds: 10))
            #expect(first.job.id == job.id && first.job.attempts == 1 && first.job.status == .running)
            #expect(first.credential.jobID == job.id)
            #expect(try await store.job(authenticatedBy: first.credential)?.id == job.id)
            // A made-up credential for the same job is refused everywhere.
            let forged = JobCredential(jobID: job.id)
            #expect(try await store.job(authenticatedBy: forged) == nil)
            await #expect(throws: JobStoreError.leaseLost(job.id)) { try await store.complete(forged, outputs: ["x"], log: "") }
            await #expect(throws: JobStoreError.leaseLost(job.id)) { try await store.renewLease(forged, leaseSeconds: 10) }
            // Once the lease expires the credential stops working and another worker takes the job over.
            clock.advance(seconds: 11)
            #expect(try await store.job(authenticatedBy: first.credential) == nil)
            let second = try #require(try await store.claim(workerID: "w2", leaseSeconds: 60))
            #expect(second.job.attempts == 2 && second.job.workerID == "w2" && second.credential != first.credential)
            await #expect(throws: JobStoreError.leaseLost(job.id)) { try await store.complete(first.credential, outputs: ["x"], log: "") }
            let failed = try await store.fail(second.credential, error: "boom", log: "trace\n", backoffSeconds: 0)
            #expect(failed.status == .failed && failed.error == "boom" && failed.log.contains("trace"))
            // The job ended: its credential is dead.
            #expect(try await store.job(authenticatedBy: second.credential) == nil)
            #expect(try await store.claim(workerID: "w3", leaseSeconds: 60) == nil)
            let retried = try await store.retry(jobID: job.id)
            #expect(retried.status == .queued && retried.attempts == 0)
        }
    }

    @Test(arguments: TestBackend.available) func credentialsAreStoredOnlyAsHashes(_ backend: TestBackend) async throws {
        try await TemporaryJobStore.with(backend) { t in
            let store = t.store
            _ = try await store.submit(request(inputs: ["a.pkts"]), highestCatalogedMinor: nil)
            let claimed = try #require(try await store.claim(workerID: "w", leaseSeconds: 60))
            let stored = try await t.strings("SELECT credential_sha256 FROM jobs WHERE credential_sha256 IS NOT NULL")
            #expect(stored == [claimed.credential.sha256] && !stored.contains(claimed.credential.secret))
            let text = try await t.strings("SELECT log || worker_id || inputs FROM jobs")
            #expect(!text.joined().contains(claimed.credential.secret))
        }
    }

    @Test(arguments: TestBackend.available) func aReleasedJobIsQueuedAgainWithoutSpendingAnAttempt(_ backend: TestBackend) async throws {
        try await TemporaryJobStore.with(backend) { t in
            let store = t.store
            let job = try await store.submit(request(inputs: ["a.pkts"], maxAttempts: 1), highestCatalogedMinor: nil).job
            let claimed = try #require(try await store.claim(workerID: "w", leaseSeconds: 60))
            let released = try await store.release(claimed.credential, log: "[sdc] handed back\n")
            #expect(released.status == .queued && released.attempts == 0 && released.log.contains("handed back"))
            #expect(try await store.job(authenticatedBy: claimed.credential) == nil)
            let again = try #require(try await store.claim(workerID: "w2", leaseSeconds: 60))
            #expect(again.job.id == job.id && again.job.attempts == 1)
        }
    }

    @Test(arguments: TestBackend.available) func failedAttemptsBackOffAndOutOfRangeNumbersAreRefused(_ backend: TestBackend) async throws {
        let clock = ManualClock()
        try await TemporaryJobStore.with(backend, clock: clock) { t in
            let store = t.store
            let job = try await store.submit(request(inputs: ["imap_swapi_l0_raw_20250101_v001.0000.pkts"], maxAttempts: 3), highestCatalogedMinor: nil).job
            let claimed = try #require(try await store.claim(workerID: "w", leaseSeconds: 60))
            // Numbers that would overflow a deadline are refused, not trapped on.
            await #expect(throws: JobStoreError.self) { try await store.fail(claimed.credential, error: "x", log: "", backoffSeconds: .max) }
            await #expect(throws: JobStoreError.self) { try await store.fail(claimed.credential, error: "x", log: "", backoffSeconds: -1) }
            await #expect(throws: JobStoreError.self) { try await store.renewLease(claimed.credential, leaseSeconds: .max) }
            await #expect(throws: JobStoreError.self) { try await store.claim(workerID: "w", leaseSeconds: 0) }
            let requeued = try await store.fail(claimed.credential, error: "transient", log: "", backoffSeconds: 3600)
            #expect(requeued.status == .queued)
            #expect(try await store.claim(workerID: "w", leaseSeconds: 60) == nil)
            await #expect(throws: JobStoreError.notRetryable(job.id, .queued)) { try await store.retry(jobID: job.id) }
            clock.advance(seconds: 3600)
            #expect(try await store.claim(workerID: "w", leaseSeconds: 60)?.job.id == job.id)
        }
    }

    @Test(arguments: TestBackend.available) func completionRecordsLineageBothWays(_ backend: TestBackend) async throws {
        try await TemporaryJobStore.with(backend) { t in
            let store = t.store
            let input = "imap_swapi_l0_raw_20250101_v001.0000.pkts"
            _ = try await store.submit(request(inputs: [input]), highestCatalogedMinor: nil).job
            let claimed = try #require(try await store.claim(workerID: "w", leaseSeconds: 60))
            let product = "imap/swapi/l1a/2025/01/imap_swapi_l1a_hk_20250101_v001.0001.cdf"
            let done = try await store.complete(claimed.credential, outputs: [product], log: "ok\n")
            #expect(done.status == .succeeded && done.outputs == [product])
            #expect(try await store.inputs(ofProduct: product) == [input])
            #expect(try await store.products(madeFrom: input) == [product])
            #expect(try await store.countsByStatus()[.succeeded] == 1)
        }
    }

    @Test(arguments: TestBackend.available) func aDamagedRowIsAnErrorNotACrash(_ backend: TestBackend) async throws {
        try await TemporaryJobStore.with(backend) { t in
            let store = t.store
            let job = try await store.submit(request(inputs: ["a.pkts"]), highestCatalogedMinor: nil).job
            try await t.strings("UPDATE jobs SET start_date = 'garbage', outputs = 'nope' WHERE id = ?", [.integer(job.id)])
            await #expect(throws: JobStoreError.corruptRow(table: "jobs", id: "\(job.id)", reason: "start_date 'garbage' is not YYYYMMDD")) {
                try await store.job(id: job.id)
            }
        }
    }

    @Test(arguments: TestBackend.available) func triggersCoalesceAndAreClaimedNotTaken(_ backend: TestBackend) async throws {
        try await TemporaryJobStore.with(backend) { t in
            let store = t.store
            let trigger = Trigger(product: ProductNode("swapi", "l1a", "all"), date: FileDate(year: 2025, month: 1, day: 1)!, repointing: nil, campaign: 0)
            try await store.addTriggers([trigger], dueMilliseconds: 2_000)
            try await store.addTriggers([trigger], dueMilliseconds: 1_000)
            #expect(try await store.nextTriggerDueMilliseconds() == 1_000)
            #expect(try await store.claimDueTriggers(nowMilliseconds: 999, limit: 10).isEmpty)
            let claimed = try await store.claimDueTriggers(nowMilliseconds: 1_000, limit: 10)
            #expect(claimed.map(\.trigger) == [trigger])
            // A planner that dies now loses nothing: the trigger comes back due once the claim lapses.
            #expect(try await store.claimDueTriggers(nowMilliseconds: 1_001, limit: 10).isEmpty)
            let lapse = 1_000 + JobLimits.triggerClaimMilliseconds
            let reclaimed = try await store.claimDueTriggers(nowMilliseconds: lapse, limit: 10)
            #expect(reclaimed.map(\.trigger) == [trigger])
            // The job and the trigger's removal are one transaction.
            let created = try await store.submit(request(inputs: ["a.pkts"]), highestCatalogedMinor: nil, completing: reclaimed[0])
            #expect(created?.created == true)
            #expect(try await store.nextTriggerDueMilliseconds() == nil)
            // The stale claim (the first planner's) cannot remove a trigger that was re-armed since.
            try await store.addTriggers([trigger], dueMilliseconds: 5_000)
            _ = try await store.submit(nil, highestCatalogedMinor: nil, completing: claimed[0])
            #expect(try await store.nextTriggerDueMilliseconds() == 5_000)
        }
    }

    @Test(arguments: TestBackend.available) func claimsAreBoundedBatches(_ backend: TestBackend) async throws {
        try await TemporaryJobStore.with(backend) { t in
            let store = t.store
            let triggers = (1...10).map { Trigger(product: ProductNode("mag", "l1a", "all"), date: FileDate(year: 2025, month: 1, day: $0)!, repointing: nil, campaign: 3) }
            try await store.addTriggers(triggers, dueMilliseconds: 0)
            #expect(try await store.claimDueTriggers(nowMilliseconds: 0, limit: 4).count == 4)
            #expect(try await store.claimDueTriggers(nowMilliseconds: 0, limit: 4).count == 4)
            #expect(try await store.claimDueTriggers(nowMilliseconds: 0, limit: 4).count == 2)
        }
    }

    @Test(arguments: TestBackend.available) func concurrentClaimersNeverGetTheSameJob(_ backend: TestBackend) async throws {
        try await TemporaryJobStore.with(backend) { t in
            let store = t.store
            // 100 jobs of one product and day, submitted at once: each gets its own minor version.
            let submitted = try await withThrowingTaskGroup(of: Job.self) { group in
                for index in 0..<100 {
                    group.addTask { try await store.submit(request(inputs: ["input-\(index).pkts"]), highestCatalogedMinor: nil).job }
                }
                return try await group.reduce(into: [Job]()) { $0.append($1) }
            }
            #expect(Set(submitted.map(\.version.minor)) == Set(1...100))
            // 8 workers claim until nothing is left: every job is claimed exactly once.
            let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var ids: [Int64] = []
                        while let claim = try await store.claim(workerID: "w\(worker)", leaseSeconds: 600) { ids.append(claim.job.id) }
                        return ids
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0 += $1 }
            }
            #expect(claimed.count == 100)
            #expect(Set(claimed) == Set(submitted.map(\.id)))
            #expect(try await store.countsByStatus()[.running] == 100)
        }
    }
}
