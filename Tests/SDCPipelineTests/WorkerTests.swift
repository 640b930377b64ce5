import Foundation
import SDCCore
import Synchronization
import Testing
@testable import SDCJobs
@testable import SDCPipeline

/// A worker environment that serves no inputs and reports the products a test sets.
final class FakeEnvironment: WorkerEnvironment {
    let products = Mutex<[String]>([])
    func localCopy(of name: String, in folder: URL) async throws -> URL { throw WorkerEnvironmentError(message: "no inputs here") }
    func ingestProduct(at file: URL) async throws -> String { file.lastPathComponent }
    func products(of job: Job) async throws -> [String] { products.withLock { $0 } }
    func apiURL() async throws -> String { "http://127.0.0.1:1" }
    func storeDependency(_ name: ScienceFileName, from file: URL) async throws -> Bool { true }
}

/// A job store with one queued job made by `script` (a shell script run as the external algorithm).
struct WorkerFixture {
    let folder: URL
    let jobs: SQLiteJobStore
    let environment = FakeEnvironment()
    let worker: Worker
    let job: Job

    init(script: String, environment variables: [String: String] = [:], maxAttempts: Int = 2) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-worker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        jobs = try SQLiteJobStore(path: folder.appendingPathComponent("jobs.sqlite").path)
        let path = folder.appendingPathComponent("algorithm.sh")
        try script.write(to: path, atomically: true, encoding: .utf8)
        let product = ProductNode("hit", "l1a", "all")
        let spec = AlgorithmSpec(product: product, name: "test", version: "1", majorVersion: 1, timeoutSeconds: 600, maxAttempts: maxAttempts,
                                 kind: .external(ExternalCommandConfiguration(command: ["/bin/sh", path.path], environment: variables)))
        var inputs = ProcessingInputCollection()
        inputs.add(type: "science", files: ["imap_hit_l0_raw_20250101_v001.0000.pkts"])
        job = try await jobs.submit(JobRequest(product: product, startDate: FileDate(year: 2025, month: 1, day: 1)!, algorithm: "test",
                                               algorithmVersion: "1", majorVersion: 1, inputs: inputs, maxAttempts: maxAttempts),
                                    highestCatalogedMinor: nil).job
        worker = Worker(id: "test-worker", jobs: jobs, registry: AlgorithmRegistry(algorithms: [spec]), environment: environment,
                        leaseSeconds: 60)
    }
}

struct WorkerTests {
    @Test func aSuccessfulAlgorithmCompletesItsJobWithTheUploadedProducts() async throws {
        let t = try await WorkerFixture(script: "case \"$IMAP_API_KEY\" in sdcjob_*) echo credential-ok;; esac\n")
        t.environment.products.withLock { $0 = ["imap/hit/l1a/2025/01/imap_hit_l1a_sci_20250101_v001.0001.cdf"] }
        let finished = try #require(try await t.worker.runNextJob())
        #expect(finished.status == .succeeded && finished.outputs == ["imap/hit/l1a/2025/01/imap_hit_l1a_sci_20250101_v001.0001.cdf"])
        // The algorithm ran with the job's credential as its API key.
        #expect(finished.log.contains("credential-ok"))
        #expect(try await t.worker.runNextJob() == nil)
    }

    @Test func anAlgorithmThatMakesNothingFailsWithAClearReason() async throws {
        let t = try await WorkerFixture(script: "exit 0\n", maxAttempts: 1)
        let finished = try #require(try await t.worker.runNextJob())
        #expect(finished.status == .failed && finished.error == "exited with status 0 but made none of its products: expected (hit, l1a, all) v001.0001")
    }

    @Test func aCancelledWorkerHandsItsJobBackAtOnce() async throws {
        let started = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-started-\(UUID().uuidString)").path
        let t = try await WorkerFixture(script: "touch \"$STARTED\"\nwhile true; do sleep 0.1; done\n", environment: ["STARTED": started])
        let run = Task { try await t.worker.runNextJob() }
        try await waitUntil { FileManager.default.fileExists(atPath: started) }
        run.cancel()
        let handedBack = try #require(try await run.value)
        #expect(handedBack.status == .queued && handedBack.attempts == 0 && handedBack.log.contains("handed back"))
        // Any worker may take it at once: no lease to wait out.
        #expect(try await t.jobs.claim(workerID: "other", leaseSeconds: 60)?.job.id == t.job.id)
    }
}
