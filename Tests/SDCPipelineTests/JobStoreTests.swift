import Foundation
import Testing
@testable import SDCPipeline
import SDCCore

func temporaryJobStore() throws -> SQLiteJobStore {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-jobs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return try SQLiteJobStore(path: folder.appendingPathComponent("jobs.sqlite").path)
}

func request(inputs: [String], campaign: Int64 = 0, maxAttempts: Int = 2) -> JobRequest {
    var collection = ProcessingInputCollection()
    collection.add(type: "science", files: inputs)
    return JobRequest(product: ProductNode("swapi", "l1a", "all"), startDate: FileDate(year: 2025, month: 1, day: 1)!,
                      algorithm: "xtce-l1a", algorithmVersion: "1", majorVersion: 1, inputs: collection, campaign: campaign,
                      maxAttempts: maxAttempts)
}

struct JobStoreTests {
    @Test func identicalJobsAreCreatedOnce() async throws {
        let store = try temporaryJobStore()
        let first = try await store.submit(request(inputs: ["a.pkts"]), highestCatalogedMinor: nil)
        let second = try await store.submit(request(inputs: ["a.pkts"]), highestCatalogedMinor: nil)
        #expect(first.created && !second.created && first.job.id == second.job.id)
        #expect(first.job.version == ProductVersion(major: 1, minor: 1))
        // New inputs or a reprocessing campaign make a new job, one minor version up.
        let newInputs = try await store.submit(request(inputs: ["a.pkts", "b.csv"]), highestCatalogedMinor: nil)
        #expect(newInputs.created && newInputs.job.version.minor == 2)
        let campaign = try await store.submit(request(inputs: ["a.pkts"], campaign: 7), highestCatalogedMinor: 5)
        #expect(campaign.created && campaign.job.version.minor == 6)
        #expect(first.job.inputsHash.count == 8 && first.job.inputs == #"[{"type": "science", "files": ["a.pkts"]}]"#)
    }

    @Test func leasesExpireAndJobsAreRetriedUpToTheLimit() async throws {
        let store = try temporaryJobStore()
        let job = try await store.submit(request(inputs: ["a.pkts"], maxAttempts: 2), highestCatalogedMinor: nil).job
        let claimed = try #require(try await store.claim(workerID: "w1", leaseSeconds: -1))
        #expect(claimed.id == job.id && claimed.attempts == 1 && claimed.status == .running)
        // The lease (already expired) lets another worker take the job over; the first worker's result is refused.
        let takenOver = try #require(try await store.claim(workerID: "w2", leaseSeconds: 60))
        #expect(takenOver.attempts == 2 && takenOver.workerID == "w2")
        await #expect(throws: JobStoreError.leaseLost(job.id)) {
            try await store.complete(jobID: job.id, workerID: "w1", outputs: ["x"], log: "")
        }
        let failed = try await store.fail(jobID: job.id, workerID: "w2", error: "boom", log: "trace\n", backoffSeconds: 0)
        #expect(failed.status == .failed && failed.error == "boom" && failed.log.contains("trace"))
        #expect(try await store.claim(workerID: "w3", leaseSeconds: 60) == nil)
        let retried = try await store.retry(jobID: job.id)
        #expect(retried.status == .queued && retried.attempts == 0)
    }

    @Test func failedAttemptsBackOff() async throws {
        let store = try temporaryJobStore()
        let job = try await store.submit(request(inputs: ["imap_swapi_l0_raw_20250101_v001.0000.pkts"], maxAttempts: 3), highestCatalogedMinor: nil).job
        _ = try await store.claim(workerID: "w", leaseSeconds: 60)
        let requeued = try await store.fail(jobID: job.id, workerID: "w", error: "transient", log: "", backoffSeconds: 3600)
        #expect(requeued.status == .queued)
        #expect(try await store.claim(workerID: "w", leaseSeconds: 60) == nil)
        await #expect(throws: JobStoreError.notRetryable(job.id, .queued)) { try await store.retry(jobID: job.id) }
    }

    @Test func completionRecordsLineageBothWays() async throws {
        let store = try temporaryJobStore()
        let input = "imap_swapi_l0_raw_20250101_v001.0000.pkts"
        let job = try await store.submit(request(inputs: [input]), highestCatalogedMinor: nil).job
        _ = try await store.claim(workerID: "w", leaseSeconds: 60)
        let product = "imap/swapi/l1a/2025/01/imap_swapi_l1a_hk_20250101_v001.0001.cdf"
        let done = try await store.complete(jobID: job.id, workerID: "w", outputs: [product], log: "ok\n")
        #expect(done.status == .succeeded && done.outputs == [product])
        #expect(try await store.inputs(ofProduct: product) == [input])
        #expect(try await store.products(madeFrom: input) == [product])
        #expect(try await store.countsByStatus()[.succeeded] == 1)
    }

    @Test func triggersCoalesce() async throws {
        let store = try temporaryJobStore()
        let product = ProductNode("swapi", "l1a", "all")
        let day = FileDate(year: 2025, month: 1, day: 1)!
        try await store.addTrigger(product: product, date: day, repointing: nil, campaign: 0, dueMilliseconds: 2_000)
        try await store.addTrigger(product: product, date: day, repointing: nil, campaign: 0, dueMilliseconds: 1_000)
        #expect(try await store.nextTriggerDueMilliseconds() == 1_000)
        #expect(try await store.takeDueTriggers(nowMilliseconds: 999).isEmpty)
        #expect(try await store.takeDueTriggers(nowMilliseconds: 1_000).count == 1)
        #expect(try await store.nextTriggerDueMilliseconds() == nil)
    }
}
