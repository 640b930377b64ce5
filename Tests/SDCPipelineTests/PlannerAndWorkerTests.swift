import Foundation
import SDCCatalog
import SDCCore
@testable import SDCJobs
import Synchronization
import Testing
@testable import SDCPipeline

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let now = Mutex<Int64>(1_750_000_000_000)
    var jobClock: JobClock { JobClock { [self] in now.withLock { $0 } } }
    func advance(milliseconds: Int64) { now.withLock { $0 += milliseconds } }
}

/// A catalog, a job store and a planner over a small graph (SWAPI L1A sci + a soft-trigger LUT -> L1B sci), all on a
/// manual clock, in a temporary folder.
struct PlannerFixture {
    let folder: URL
    let catalog: SQLiteCatalog
    let jobs: SQLiteJobStore
    let clock = TestClock()
    let planner: Planner

    static let graph = """
        swapi, l1a, sci, swapi, l1b, sci, HARD, DOWNSTREAM
        swapi, ancillary, lut-notes, swapi, l1b, sci, SOFT_TRIGGER, DOWNSTREAM
        """

    init(batchSize: Int = 64) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-planner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        catalog = try SQLiteCatalog(path: folder.appendingPathComponent("catalog.sqlite").path)
        jobs = try SQLiteJobStore(path: folder.appendingPathComponent("jobs.sqlite").path, clock: clock.jobClock)
        let spec = AlgorithmSpec(product: ProductNode("swapi", "l1b", "sci"), name: "test", version: "1", majorVersion: 1, timeoutSeconds: 60,
                                 maxAttempts: 2, kind: .external(ExternalCommandConfiguration(command: ["true"], environment: [:])))
        var planner = Planner(graph: try DependencyGraph(csv: Self.graph), registry: AlgorithmRegistry(algorithms: [spec]), catalog: catalog,
                              jobs: jobs, settleMilliseconds: 500, clock: clock.jobClock)
        planner.batchSize = batchSize
        self.planner = planner
    }

    /// Catalogs a file and tells the planner, as the ingest path does.
    func arrive(_ name: String) async throws {
        let record = CatalogRecord(file: try IMAPFileName.parse(name), size: 1, sha256: String(repeating: "0", count: 64), ingestionDate: .now)
        try await catalog.insert([record])
        await planner.didIngest(record)
    }
}

struct PlannerTests {
    @Test func inputsArrivingWithinTheSettlingWindowMakeOneJob() async throws {
        let t = try PlannerFixture()
        try await t.arrive("imap_swapi_l1a_sci_20250101_v001.0001.cdf")
        t.clock.advance(milliseconds: 100)
        try await t.arrive("imap_swapi_lut-notes_20250101_v001.csv")
        #expect(try await t.planner.planDueTriggers().isEmpty)  // still settling
        t.clock.advance(milliseconds: 500)
        let created = try await t.planner.planDueTriggers()
        #expect(created.count == 1)
        #expect(created.first?.inputNames.sorted() == ["imap_swapi_l1a_sci_20250101_v001.0001.cdf", "imap_swapi_lut-notes_20250101_v001.csv"])
        #expect(try await t.jobs.nextTriggerDueMilliseconds() == nil)
    }

    @Test func aPlannerThatDiesAfterClaimingLosesNoDay() async throws {
        let t = try PlannerFixture()
        for day in 1...3 { try await t.arrive("imap_swapi_l1a_sci_2025010\(day)_v001.0001.cdf") }
        t.clock.advance(milliseconds: 600)
        // Another planner claims every due trigger and dies before planning them.
        #expect(try await t.jobs.claimDueTriggers(nowMilliseconds: t.clock.jobClock.milliseconds(), limit: 100).count == 3)
        #expect(try await t.planner.planDueTriggers().isEmpty)
        t.clock.advance(milliseconds: JobLimits.triggerClaimMilliseconds)
        let created = try await t.planner.planDueTriggers()
        #expect(created.map(\.startDate.description).sorted() == ["20250101", "20250102", "20250103"])
        #expect(try await t.jobs.nextTriggerDueMilliseconds() == nil)
    }

    @Test func aTableForADayWithoutTheProductsScienceInputPlansNothing() async throws {
        let t = try PlannerFixture()
        try await t.arrive("imap_swapi_l0_raw_20250101_v001.pkts")  // SWAPI has data that day, but not the L1A the product needs
        try await t.arrive("imap_swapi_lut-notes_20250101_v001.csv")  // soft trigger, but the HARD L1A is missing
        t.clock.advance(milliseconds: 600)
        #expect(try await t.planner.planDueTriggers().isEmpty)
        #expect(try await t.jobs.nextTriggerDueMilliseconds() == nil)
        #expect(try await t.jobs.jobs(matching: JobFilter()).isEmpty)
        #expect(try await t.jobs.waitingTriggers(limit: 10).isEmpty)
    }

    @Test func reprocessingIsAcceptedAtOnceAndPlannedInBoundedBatches() async throws {
        let t = try PlannerFixture(batchSize: 4)
        for day in 1...3 { try await t.arrive("imap_swapi_l1a_sci_2025010\(day)_v001.0001.cdf") }
        t.clock.advance(milliseconds: 600)
        #expect(try await t.planner.planDueTriggers().count == 3)
        let request = ReprocessRequest(id: 9, receivedAt: .now, requestedBy: "test", startDate: FileDate(year: 2025, month: 1, day: 1)!,
                                       endDate: FileDate(year: 2025, month: 1, day: 10)!, instrument: .swapi, dataLevel: .l1b, descriptor: "sci")
        #expect(try await t.planner.reprocess(request) == 10)
        var batches: [Int] = []
        while try await t.jobs.nextTriggerDueMilliseconds() != nil {
            let claimedBefore = try await t.jobs.jobs(matching: JobFilter(limit: 1000)).count
            try await t.planner.planDueTriggers()
            batches.append(try await t.jobs.jobs(matching: JobFilter(limit: 1000)).count - claimedBefore)
            #expect(batches.count <= 3)
        }
        // Ten days in batches of four; only the three days with inputs make (campaign 9) jobs, one minor version up.
        let campaign = try await t.jobs.jobs(matching: JobFilter(limit: 1000)).filter { $0.campaign == 9 }
        #expect(campaign.count == 3 && campaign.allSatisfy { $0.version.minor == 2 })
        let tooWide = ReprocessRequest(receivedAt: .now, requestedBy: "test", startDate: FileDate(year: 1900, month: 1, day: 1)!,
                                       endDate: FileDate(year: 9999, month: 12, day: 31)!, instrument: nil, dataLevel: nil, descriptor: nil)
        await #expect(throws: Planner.ReprocessRefusal.self) { try await t.planner.reprocess(tooWide) }
    }
}

/// Polls `condition` until it holds, for at most `seconds` (observable state, never a fixed sleep).
func waitUntil(seconds: Double = 120, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimeout() }
        try await Task.sleep(for: .milliseconds(20))
    }
}

struct WaitTimeout: Error {}

struct ExternalCommandTests {
    static let job = Job(id: 1, status: .running, product: ProductNode("hit", "l1a", "all"), startDate: FileDate(year: 2025, month: 1, day: 1)!,
                         repointing: nil, version: ProductVersion(major: 1, minor: 1), algorithm: "t", algorithmVersion: "1", inputs: "[]",
                         inputsHash: "00000000", campaign: 0, attempts: 1, maxAttempts: 1, workerID: "w", leaseExpiresAt: nil,
                         notBefore: .now, createdAt: .now, startedAt: nil, finishedAt: nil, log: "", outputs: [], error: nil)

    @Test func cancellationGivesTheAlgorithmItsGracePeriodAfterSIGTERM() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-external-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let started = folder.appendingPathComponent("started").path, cleaned = folder.appendingPathComponent("cleaned-up").path
        // The algorithm needs one second after SIGTERM to clean up; the grace period is five.
        let script = folder.appendingPathComponent("algorithm.sh")
        try """
            trap 'sleep 1; echo done > "$CLEANED"; exit 0' TERM
            echo started > "$STARTED"
            while true; do sleep 0.1; done
            """.write(to: script, atomically: true, encoding: .utf8)
        let command = ExternalCommand(configuration: ExternalCommandConfiguration(command: ["/bin/sh", script.path],
                                                                                  environment: ["STARTED": started, "CLEANED": cleaned]),
                                      timeoutSeconds: 600)
        let root = folder.appendingPathComponent("job")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let run = Task {
            try await command.run(Self.job, dependency: "d.json", credentials: JobCredentials(url: "http://127.0.0.1:1", apiKey: "k"), in: root)
        }
        try await waitUntil { FileManager.default.fileExists(atPath: started) }
        run.cancel()
        await #expect(throws: CancellationError.self) { try await run.value }
        // It returned only after the algorithm had exited, and the algorithm finished its clean-up.
        #expect(FileManager.default.fileExists(atPath: cleaned))
    }

    @Test func aTimedOutAlgorithmIsKilledAfterTheGracePeriod() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-external-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let script = folder.appendingPathComponent("stubborn.sh")
        try "trap '' TERM\nwhile true; do sleep 0.1; done\n".write(to: script, atomically: true, encoding: .utf8)
        var command = ExternalCommand(configuration: ExternalCommandConfiguration(command: ["/bin/sh", script.path], environment: [:]),
                                      timeoutSeconds: 1)
        command.terminationGrace = .milliseconds(200)
        let outcome = try await command.run(Self.job, dependency: "d.json", credentials: JobCredentials(url: "http://127.0.0.1:1", apiKey: "k"),
                                            in: folder)
        #expect(outcome.timedOut && outcome.exitCode != 0)
    }
}
