import Foundation
import NIOCore
import SDCCatalog
import SDCCore
@testable import SDCJobs
import SDCStorage
import Testing
@testable import SDCPipeline

/// Products partitioned by repointing (`partition: repoint`, as production plans GLOWS): the pointing of a day comes
/// from the newest repoint table, the job carries it, and its daily inputs are still read by day.
struct RepointPartitionTests {
    static let table = """
        # a comment line
        repoint_start_sec_sclk,repoint_start_subsec_sclk,repoint_end_sec_sclk,repoint_end_subsec_sclk,repoint_start_utc,repoint_end_utc,repoint_id
        482370618,0,482372388,0,2025-04-14 23:30:15.000,2025-04-15 00:29:45.000,105
        482457018,0,482458788,0,2025-04-15 23:30:15.000,2025-04-16 00:29:45.000,106
        482543418,0,482545188,0,2025-04-16 23:30:15.000,2025-04-17 00:29:45.000,107
        """

    @Test func theRepointingOfADayIsThePointingUnderWayAtNoon() throws {
        let table = try RepointTable(csv: Self.table, name: "imap_2025_107_01.repoint.csv")
        #expect(table.repoints.map(\.id) == [105, 106, 107])
        #expect(table.repointing(on: FileDate(year: 2025, month: 4, day: 16)!) == 106)
        #expect(table.repointing(on: FileDate(year: 2025, month: 4, day: 20)!) == 107)
        #expect(table.repointing(on: FileDate(year: 2025, month: 4, day: 14)!) == nil)
    }

    @Test func aMalformedRepointTableIsRefusedNamingTheRow() {
        #expect(throws: RepointTable.FormatError(description: "t.csv: the header must name the columns repoint_id and repoint_end_utc")) {
            try RepointTable(csv: "a,b\n1,2\n", name: "t.csv")
        }
        #expect(throws: RepointTable.FormatError.self) { try RepointTable(csv: "repoint_end_utc,repoint_id\n2025-04-16,106\n", name: "t.csv") }
        do {
            _ = try RepointTable(csv: "repoint_end_utc,repoint_id\n2025-04-16 00:29:45,106\nlater,107\n", name: "t.csv")
            Issue.record("a row without a time was accepted")
        } catch {
            #expect(error.description.hasPrefix("t.csv: row 3 needs 2 fields"))
        }
    }

    @Test func theNewestRepointTableIsTheOneReachingFurthest() throws {
        let names = ["imap_2025_106_01.repoint.csv", "imap_2025_107_01.repoint.csv", "imap_2025_107_02.repoint.csv", "imap_2025_100_03.repoint.csv"]
        let tables = try names.map { try IMAPFileName.parse($0) }
        #expect(RepointTable.newest(of: tables)?.name == "imap_2025_107_02.repoint.csv")
    }

    @Test func anUnknownPartitionIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-partition-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("algorithms.yaml")
        func entry(_ partition: String) -> String {
            """
            algorithms:
              - product: {instrument: glows, level: l1b, descriptor: hist}
                name: imap-processing
                version: "1.0.40"
                command: [imap_cli]
                partition: \(partition)
            """
        }
        try entry("repoint").write(to: file, atomically: true, encoding: .utf8)
        #expect(try AlgorithmRegistry(contentsOf: file).algorithm(for: ProductNode("glows", "l1b", "hist"))?.partition == .repoint)
        try entry("weekly").write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: AlgorithmRegistryError(message: "(glows, l1b, hist): partition 'weekly' is not one of daily, repoint")) {
            try AlgorithmRegistry(contentsOf: file)
        }
    }

    @Test func aRepointPartitionedJobWaitsForTheTableThenCarriesThePointingAndReadsItsDailyInputByDay() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-repoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let catalog = try SQLiteCatalog(path: folder.appendingPathComponent("catalog.sqlite").path)
        let clock = TestClock()
        let jobs = try SQLiteJobStore(path: folder.appendingPathComponent("jobs.sqlite").path, clock: clock.jobClock)
        let store = try FileSystemObjectStore(root: folder.appendingPathComponent("objects").path, signer: URLSigner(secret: SecureRandom.bytes(32)))
        let product = ProductNode("glows", "l1b", "de")
        var spec = JobProtocolPlanningTests.imapCLI(product, makes: [])
        spec.partition = .repoint
        let graph = """
            glows, l1a, de, glows, l1b, de, HARD, DOWNSTREAM
            repoint, repoint, historical, glows, l1b, de, HARD_NO_TRIGGER, DOWNSTREAM
            """
        let planner = Planner(graph: try DependencyGraph(csv: graph), registry: try AlgorithmRegistry.checked([spec]), catalog: catalog,
                              jobs: jobs, objects: store, clock: clock.jobClock)
        func arrive(_ name: String, content: String = "") async throws {
            let file = try IMAPFileName.parse(name)
            let body = AsyncStream<ByteBuffer> { continuation in
                continuation.yield(ByteBuffer(string: content))
                continuation.finish()
            }
            _ = try await store.put(ObjectKey(file.key), body: body, expectedLength: Int64(content.utf8.count), maximumSize: 1 << 20)
            let record = CatalogRecord(file: file, size: Int64(content.utf8.count), sha256: String(repeating: "0", count: 64), ingestionDate: .now)
            try await catalog.insert([record])
            await planner.didIngest(record)
        }
        func plan() async throws -> [Job] {
            clock.advance(milliseconds: 600)
            return try await planner.planDueTriggers()
        }

        try await arrive("imap_glows_l1a_de_20250416_v001.0001.cdf")
        #expect(try await plan().isEmpty)
        #expect(try await jobs.waitingTriggers(limit: 10).map(\.reason) == ["repoint kernel (repoint, historical) covering 20250416"])
        // The table does not trigger, but the day waiting for it is planned, under the pointing that began that day.
        try await arrive("imap_2025_107_01.repoint.csv", content: Self.table)
        let job = try #require(try await plan().first)
        #expect(job.repointing == 106 && job.startDate == FileDate(year: 2025, month: 4, day: 16))
        #expect(job.inputNames.sorted() == ["imap_2025_107_01.repoint.csv", "imap_glows_l1a_de_20250416_v001.0001.cdf"])
        #expect(job.expectedProductNames == ["imap_glows_l1b_de_20250416-repoint00106_v001.0001.cdf"])
        #expect(job.dependencyFileName?.name.hasSuffix("_20250416-repoint00106_v001.0001.json") == true)
    }
}
