import Foundation
import SDCCore
import Testing
@testable import SDCJobs
@testable import SDCPostgres

/// A request for a job of `product` on 2024-09-24 making `products`.
private func job(_ product: ProductNode, makes products: [ProductNode], algorithmVersion: String = "1", repointing: Int? = nil,
                 inputs: [String] = ["imap_swapi_l0_raw_20240924_v001.pkts"], maxAttempts: Int = 2) -> JobRequest {
    var collection = ProcessingInputCollection()
    collection.add(type: "science", files: inputs)
    return JobRequest(product: product, startDate: FileDate(year: 2024, month: 9, day: 24)!, repointing: repointing, products: products,
                      algorithm: "imap-processing", algorithmVersion: algorithmVersion, majorVersion: 1, inputs: collection, maxAttempts: maxAttempts)
}

private let l1aHK = ProductNode("swapi", "l1a", "hk"), l1bHK = ProductNode("swapi", "l1b", "hk")

/// The production job protocol in the job stores: products at any level, versions that two producers cannot share,
/// one uniqueness key, postponement (exit 75) and refused uploads.
struct JobProtocolStoreTests {
    @Test(arguments: TestBackend.available) func jobsMakingTheSameProductNeverShareAVersion(_ backend: TestBackend) async throws {
        try await TemporaryJobStore.with(backend) { t in
            let store = t.store
            // The built-in L1A makes every SWAPI L1A product; imap_cli's L1 hk job makes l1a hk and l1b hk.
            let builtIn = try await store.submit(job(ProductNode("swapi", "l1a", "all"), makes: [l1aHK, ProductNode("swapi", "l1a", "sci")]),
                                                 highestCatalogedMinor: nil).job
            let imapCLI = try await store.submit(job(ProductNode("swapi", "l1", "hk"), makes: [l1aHK, l1bHK]), highestCatalogedMinor: nil).job
            #expect(builtIn.version == ProductVersion(major: 1, minor: 1))
            #expect(imapCLI.version == ProductVersion(major: 1, minor: 2))
            #expect(imapCLI.products == [l1aHK, l1bHK])
            #expect(imapCLI.expectedProductNames == ["imap_swapi_l1a_hk_20240924_v001.0002.cdf", "imap_swapi_l1b_hk_20240924_v001.0002.cdf"])
            // A job making only other products is not pushed up; one whose product another job makes at another level is.
            let l1bSci = try await store.submit(job(ProductNode("swapi", "l1b", "sci"), makes: [ProductNode("swapi", "l1b", "sci")]),
                                                highestCatalogedMinor: nil).job
            #expect(l1bSci.version.minor == 1)
            let l1bAll = try await store.submit(job(ProductNode("swapi", "l1b", "all"), makes: [ProductNode("swapi", "l1b", "all")]),
                                                highestCatalogedMinor: nil).job
            #expect(l1bAll.version.minor == 3)
            // Products survive the trip to a remote worker.
            let wire = try Job(wire: Data(imapCLI.wire.serialized().utf8))
            #expect(wire.products == [l1aHK, l1bHK] && wire.uniquenessKey == imapCLI.uniquenessKey)
        }
    }

    @Test(arguments: TestBackend.available) func theUniquenessKeyIsOneFieldThatTheAlgorithmDigestChanges(_ backend: TestBackend) async throws {
        try await TemporaryJobStore.with(backend) { t in
            let store = t.store
            let digest = "sha256:" + String(repeating: "ab", count: 32)
            let first = try await store.submit(job(ProductNode("swapi", "l1", "hk"), makes: [l1aHK, l1bHK], algorithmVersion: digest, repointing: 12),
                                               highestCatalogedMinor: nil)
            #expect(first.created)
            #expect(first.job.uniquenessKey == "swapi/l1/hk/20240924/12/\(digest)/\(first.job.inputsHash)/0")
            let again = try await store.submit(job(ProductNode("swapi", "l1", "hk"), makes: [l1aHK, l1bHK], algorithmVersion: digest, repointing: 12),
                                               highestCatalogedMinor: nil)
            #expect(!again.created && again.job.id == first.job.id)
            // New code (another environment digest) makes a new job, one minor version up.
            let newCode = try await store.submit(job(ProductNode("swapi", "l1", "hk"), makes: [l1aHK, l1bHK], algorithmVersion: "sha256:other",
                                                     repointing: 12), highestCatalogedMinor: nil)
            #expect(newCode.created && newCode.job.version.minor == 2)
            // The stores' SQL form of the key (used to backfill rows made before the key existed) is the same text.
            let plain = try await store.submit(job(ProductNode("mag", "l1a", "all"), makes: [ProductNode("mag", "l1a", "all")]),
                                               highestCatalogedMinor: nil).job
            let computed = try await t.strings("SELECT \(JobUniqueness.sqlExpression) FROM jobs ORDER BY id")
            #expect(computed == [first.job.uniquenessKey, newCode.job.uniquenessKey, plain.uniquenessKey])
            #expect(plain.uniquenessKey == "mag/l1a/all/20240924/-1/1/\(plain.inputsHash)/0")
        }
    }

    @Test(arguments: TestBackend.available) func postponedJobsAreRetriedLaterWithoutSpendingAttemptsUpToABound(_ backend: TestBackend) async throws {
        let clock = ManualClock()
        try await TemporaryJobStore.with(backend, clock: clock) { t in
            let store = t.store
            let submitted = try await store.submit(job(ProductNode("swapi", "l1", "hk"), makes: [l1aHK, l1bHK], maxAttempts: 1),
                                                   highestCatalogedMinor: nil).job
            for count in 1...JobLimits.maximumPostponements {
                let claimed = try #require(try await store.claim(workerID: "w", leaseSeconds: 60))
                let postponed = try await store.postpone(claimed.credential, reason: "exited with status 75", log: "[sdc] postponed\n")
                #expect(postponed.status == .queued && postponed.attempts == 0 && postponed.postponements == count)
                // Not before the back-off: 5 s, doubling.
                #expect(try await store.claim(workerID: "w", leaseSeconds: 60) == nil)
                clock.advance(seconds: JobLimits.postponementSeconds(count))
            }
            #expect(JobLimits.postponementSeconds(1) == 5 && JobLimits.postponementSeconds(2) == 10 && JobLimits.postponementSeconds(9) == 300)
            // Past the bound the postponement counts as the (last) attempt.
            let claimed = try #require(try await store.claim(workerID: "w", leaseSeconds: 60))
            #expect(claimed.job.id == submitted.id)
            let failed = try await store.postpone(claimed.credential, reason: "exited with status 75", log: "")
            #expect(failed.status == .failed && failed.attempts == 1)
            #expect(failed.error == "exited with status 75, after \(JobLimits.maximumPostponements) postponements: counted as a failed attempt")
            await #expect(throws: JobStoreError.leaseLost(submitted.id)) {
                try await store.postpone(claimed.credential, reason: "again", log: "")
            }
        }
    }

    @Test(arguments: TestBackend.available) func anUploadRefusedForAnotherProducersFileFailsTheJobNamingIt(_ backend: TestBackend) async throws {
        try await TemporaryJobStore.with(backend) { t in
            let store = t.store
            _ = try await store.submit(job(ProductNode("swapi", "l1", "hk"), makes: [l1aHK, l1bHK], maxAttempts: 2), highestCatalogedMinor: nil)
            let first = try #require(try await store.claim(workerID: "w", leaseSeconds: 60))
            let mine = "imap_swapi_l1a_hk_20240924_v001.0001.cdf", theirs = "imap_swapi_l1b_hk_20240924_v001.0001.cdf"
            #expect(try await store.recordUpload(first.credential, name: mine, exists: false) == .granted)
            // The first attempt dies after its upload; the second finds its own file: not a collision.
            _ = try await store.release(first.credential, log: "")
            let second = try #require(try await store.claim(workerID: "w", leaseSeconds: 60))
            #expect(try await store.recordUpload(second.credential, name: mine, exists: true) == .ownEarlierUpload)
            // A file this job never uploaded is another producer's: refused, recorded, and the job fails for good.
            #expect(try await store.recordUpload(second.credential, name: theirs, exists: true) == .refused)
            let product = "imap/swapi/l1a/2024/09/" + mine
            let ended = try await store.complete(second.credential, outputs: [product], log: "exit 0\n")
            #expect(ended.status == .failed && ended.error == UploadCollision.message([theirs]))
            #expect(ended.error?.contains(theirs) == true && ended.log.contains("exit 0"))
            #expect(try await store.inputs(ofProduct: product).isEmpty)
            #expect(try await store.job(authenticatedBy: second.credential) == nil)
            // An algorithm whose only product was refused fails its attempt: the failure is final, and names the file.
            _ = try await store.submit(job(ProductNode("swapi", "l1", "sci"), makes: [ProductNode("swapi", "l1a", "sci")], maxAttempts: 3),
                                       highestCatalogedMinor: nil)
            let third = try #require(try await store.claim(workerID: "w", leaseSeconds: 60))
            #expect(try await store.recordUpload(third.credential, name: "imap_swapi_l1a_sci_20240924_v001.0001.cdf", exists: true) == .refused)
            let failed = try await store.fail(third.credential, error: "exited with status 0 but made none of its products", log: "", backoffSeconds: 0)
            #expect(failed.status == .failed && failed.attempts == 1)
            #expect(failed.error == UploadCollision.message(["imap_swapi_l1a_sci_20240924_v001.0001.cdf"])
                    + "; the attempt exited with status 0 but made none of its products")
        }
    }
}
