import Foundation
import SDCCatalog
import SDCCore
import Synchronization
import Testing
@testable import SDCJobs
@testable import SDCPipeline

/// The production job protocol (pipeline.md §3): how jobs are planned, what the algorithm receives, how its run ends.
struct JobProtocolPlanningTests {
    static let graph = """
        swapi, l0, raw, swapi, l1, hk, HARD, DOWNSTREAM
        leapseconds, spice, historical, swapi, l1, hk, HARD_NO_TRIGGER, DOWNSTREAM
        spacecraft_clock, spice, historical, swapi, l1, hk, HARD_NO_TRIGGER, DOWNSTREAM
        """
    static let l1aHK = ProductNode("swapi", "l1a", "hk"), l1bHK = ProductNode("swapi", "l1b", "hk")

    static func imapCLI(_ product: ProductNode, makes: [ProductNode]) -> AlgorithmSpec {
        AlgorithmSpec(product: product, name: "imap-processing", version: "1.0.40", majorVersion: 1, timeoutSeconds: 60, maxAttempts: 1,
                      kind: .external(ExternalCommandConfiguration(command: ["imap_cli"], environment: [:])), makes: makes)
    }

    @Test func everyKernelGoesIntoOneSpiceGroupAndTheDocumentVersionsEveryProduct() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-protocol-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let catalog = try SQLiteCatalog(path: folder.appendingPathComponent("catalog.sqlite").path)
        let jobs = try SQLiteJobStore(path: folder.appendingPathComponent("jobs.sqlite").path)
        let registry = try AlgorithmRegistry.checked([Self.imapCLI(ProductNode("swapi", "l1", "hk"), makes: [Self.l1aHK, Self.l1bHK])])
        let planner = Planner(graph: try DependencyGraph(csv: Self.graph), registry: registry, catalog: catalog, jobs: jobs)
        // An L1B product of an earlier run is cataloged: the new job's version is above it, for L1A and L1B alike.
        for name in ["naif0012.tls", "imap_sclk_0000.tsc", "imap_swapi_l0_raw_20240924_v001.pkts", "imap_swapi_l1b_hk_20240924_v001.0004.cdf"] {
            try await catalog.insert([CatalogRecord(file: try IMAPFileName.parse(name), size: 1, sha256: String(repeating: "0", count: 64),
                                                    ingestionDate: .now)])
        }
        let job = try #require(try await planner.plan(ProductNode("swapi", "l1", "hk"), date: FileDate(year: 2024, month: 9, day: 24)!,
                                                      repointing: nil, campaign: 0))
        // Two groups, as imap_cli's SWAPI L1 hk expects (it refuses any other count), hashed as Python serializes them.
        #expect(job.inputs == #"[{"type": "science", "files": ["imap_swapi_l0_raw_20240924_v001.pkts"]}, {"type": "spice", "files": ["naif0012.tls", "imap_sclk_0000.tsc"]}]"#)
        #expect(job.inputsHash == "bd8573ca")
        #expect(job.products == [Self.l1aHK, Self.l1bHK] && job.version == ProductVersion(major: 1, minor: 5))
        // json.dumps({"dependency": [...], "version": {"hk": {"major_version": 1, "minor_version": 5}}})
        #expect(job.dependencyDocument.json == #"{"dependency": [{"type": "science", "files": ["imap_swapi_l0_raw_20240924_v001.pkts"]}, {"type": "spice", "files": ["naif0012.tls", "imap_sclk_0000.tsc"]}], "version": {"hk": {"major_version": 1, "minor_version": 5}}}"#)
        // The dependency file is named as the batch starter names it, and sdc's naming grammar files it where imap_cli
        // downloads it from.
        let name = try #require(job.dependencyFileName).name
        #expect(name == "imap_swapi_l1_hk-bd8573ca_20240924_v001.0005.json")
        let parsed = try IMAPFileName.parse(name)
        #expect(parsed.fileClass == .dependency && parsed.key == "imap/dependency/swapi/l1/2024/09/\(name)")
        #expect(job.expectedProductNames == ["imap_swapi_l1a_hk_20240924_v001.0005.cdf", "imap_swapi_l1b_hk_20240924_v001.0005.cdf"])
    }

    @Test func aRepointingJobsDependencyFileCarriesItsRepointing() throws {
        let name = try #require(DependencyDocument.fileName(for: ProductNode("ultra", "l1c", "all"), startDate: FileDate(year: 2025, month: 5, day: 1)!,
                                                            repointing: 42, version: ProductVersion(major: 2, minor: 3), inputsHash: "0123abcd"))
        #expect(name.name == "imap_ultra_l1c_all-0123abcd_20250501-repoint00042_v002.0003.json")
        #expect(try IMAPFileName.parse(name.name).fileClass == .dependency)
        var inputs = ProcessingInputCollection()
        inputs.add(type: "spice", files: ["a.tls"])
        inputs.add(type: "science", files: ["s1.cdf"])
        inputs.add(type: "spice", files: ["b.tsc", "a.tls"])
        inputs.add(type: "science", files: ["s2.cdf"])
        #expect(inputs.groups.map(\.type) == ["spice", "science", "science"] && inputs.groups[0].files == ["a.tls", "b.tsc"])
        let document = DependencyDocument(inputs: inputs, products: [ProductNode("ultra", "l1c", "a"), ProductNode("ultra", "l1b", "a"),
                                                                      ProductNode("ultra", "l1c", "b")], version: ProductVersion(major: 2, minor: 3))
        #expect(document.json.hasSuffix(#""version": {"a": {"major_version": 2, "minor_version": 3}, "b": {"major_version": 2, "minor_version": 3}}}"#))
    }

    @Test func twoProducersOfOneProductAreRefusedWhenTheConfigurationLoads() throws {
        let xtce = XTCEL1AConfiguration(xtce: URL(fileURLWithPath: "/x.xml"), attributesFolder: URL(fileURLWithPath: "/"), variableAttributeFiles: [],
                                        products: ["SWP_HK": "hk", "SWP_SCI": "sci"], epochOffsetNanoseconds: 0)
        let builtIn = AlgorithmSpec(product: ProductNode("swapi", "l1a", "all"), name: "xtce-l1a", version: "1", majorVersion: 1,
                                    timeoutSeconds: 60, maxAttempts: 1, kind: .xtceL1A(xtce))
        #expect(builtIn.products == [Self.l1aHK, ProductNode("swapi", "l1a", "sci")])
        let imapCLI = Self.imapCLI(ProductNode("swapi", "l1", "hk"), makes: [Self.l1aHK, Self.l1bHK])
        #expect(throws: AlgorithmRegistryError(message: "(swapi, l1a, hk) made by xtce-l1a for (swapi, l1a, all) and (swapi, l1a, hk) made by "
                                               + "imap-processing for (swapi, l1, hk) are the same product: give each product one producer")) {
            try AlgorithmRegistry.checked([builtIn, imapCLI])
        }
        // Without the built-in L1A, imap_cli is the one producer of both.
        let registry = try AlgorithmRegistry.checked([imapCLI])
        #expect(registry.producer(of: Self.l1bHK)?.product == ProductNode("swapi", "l1", "hk"))
    }

    @Test func aConfigurationMustListWhatAnAllOrL1JobMakes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("algorithms.yaml")
        try """
            algorithms:
              - product: {instrument: swapi, level: l1, descriptor: hk}
                name: imap-processing
                version: "1.0.40"
                command: [imap_cli]
            """.write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: AlgorithmRegistryError.self) { try AlgorithmRegistry(contentsOf: file) }
        try """
            algorithms:
              - product: {instrument: swapi, level: l1, descriptor: hk}
                name: imap-processing
                version: "1.0.40"
                command: [imap_cli]
                makes: [l1a hk, l1b hk]
            """.write(to: file, atomically: true, encoding: .utf8)
        let registry = try AlgorithmRegistry(contentsOf: file)
        #expect(registry.algorithm(for: ProductNode("swapi", "l1", "hk"))?.products == [Self.l1aHK, Self.l1bHK])
    }
}

/// A worker environment that records the dependency files it is given and reports the products a test sets.
final class RecordingEnvironment: WorkerEnvironment {
    let products = Mutex<[String]>([])
    let dependencies = Mutex<[(name: String, contents: String)]>([])
    func localCopy(of name: String, in folder: URL) async throws -> URL { throw WorkerEnvironmentError(message: "no inputs here") }
    func ingestProduct(at file: URL) async throws -> String { file.lastPathComponent }
    func products(of job: Job) async throws -> [String] { products.withLock { $0 } }
    func apiURL() async throws -> String { "http://127.0.0.1:1" }
    func storeDependency(_ name: ScienceFileName, from file: URL) async throws -> Bool {
        let contents = try String(contentsOf: file, encoding: .utf8)
        return dependencies.withLock { recorded in
            recorded.append((name.name, contents))
            return recorded.filter { $0.name == name.name }.count == 1
        }
    }
}

struct JobProtocolRunTests {
    /// A worker over a SQLite job store with one queued `(swapi, l1, hk)` job run by `script`, on a manual clock.
    struct Fixture {
        let jobs: SQLiteJobStore
        let environment = RecordingEnvironment()
        let worker: Worker
        let job: Job
        let clock = TestClock()
        let folder: URL

        init(script: String, maxAttempts: Int = 2) async throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-run-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            jobs = try SQLiteJobStore(path: folder.appendingPathComponent("jobs.sqlite").path, clock: clock.jobClock)
            let path = folder.appendingPathComponent("algorithm.sh")
            try script.write(to: path, atomically: true, encoding: .utf8)
            let product = ProductNode("swapi", "l1", "hk")
            var spec = JobProtocolPlanningTests.imapCLI(product, makes: [JobProtocolPlanningTests.l1aHK, JobProtocolPlanningTests.l1bHK])
            spec.kind = .external(ExternalCommandConfiguration(command: ["/bin/sh", path.path], environment: ["MARKER": folder.appendingPathComponent("ran").path]))
            spec.maxAttempts = maxAttempts
            var inputs = ProcessingInputCollection()
            inputs.add(type: "science", files: ["imap_swapi_l0_raw_20240924_v001.pkts"])
            inputs.add(type: "spice", files: ["naif0012.tls"])
            inputs.add(type: "spice", files: ["imap_sclk_0000.tsc"])
            job = try await jobs.submit(JobRequest(product: product, startDate: FileDate(year: 2024, month: 9, day: 24)!, products: spec.products,
                                                   algorithm: spec.name, algorithmVersion: spec.version, majorVersion: 1, inputs: inputs,
                                                   maxAttempts: maxAttempts), highestCatalogedMinor: nil).job
            worker = Worker(id: "w", jobs: jobs, executor: JobRunner(registry: AlgorithmRegistry(algorithms: [spec]), environment: environment),
                            leaseSeconds: 60)
        }
    }

    @Test func exit75PostponesTheJobAndEveryAttemptRunsInAFreshEmptyFolderWithTheDependencyFileByName() async throws {
        let t = try await Fixture(script: """
            echo "cwd=[$(ls -A)] data=[$(ls -A "$IMAP_DATA_DIR")] at $(pwd)"
            echo "args: $*"
            touch stale.cdf "$IMAP_DATA_DIR/stale.cdf"
            if [ ! -e "$MARKER" ]; then touch "$MARKER"; echo "503 SlowDown"; exit 75; fi
            """)
        let postponed = try #require(try await t.worker.runNextJob())
        #expect(postponed.status == .queued && postponed.attempts == 0 && postponed.postponements == 1)
        #expect(postponed.log.contains("postponed") && postponed.log.contains("exited with status 75 (retry later)"))
        // Not before the back-off.
        #expect(try await t.worker.runNextJob() == nil)
        t.clock.advance(milliseconds: JobLimits.postponementSeconds(1) * 1000)
        t.environment.products.withLock { $0 = ["imap/swapi/l1a/2024/09/imap_swapi_l1a_hk_20240924_v001.0001.cdf"] }
        let done = try #require(try await t.worker.runNextJob())
        #expect(done.status == .succeeded && done.attempts == 1)
        // Both attempts started in empty folders, and not the same ones.
        let starts = done.log.split(separator: "\n").filter { $0.hasPrefix("cwd=") }
        #expect(starts.count == 2 && starts.allSatisfy { $0.hasPrefix("cwd=[] data=[] at ") } && Set(starts).count == 2)
        // The algorithm got the dependency file's name (not inline JSON), which was stored with the document.
        let name = "imap_swapi_l1_hk-\(t.job.inputsHash)_20240924_v001.0001.json"
        #expect(done.log.contains("--version v001.0001 --dependency \(name) --upload-to-sdc"))
        let stored = t.environment.dependencies.withLock { $0 }
        #expect(stored.map(\.name) == [name, name] && stored.allSatisfy { $0.contents == t.job.dependencyDocument.json })
        #expect(done.log.contains("[sdc] dependency file \(name) stored") && done.log.contains("already stored, reused"))
        // One of the two declared products was made: noted, not failed.
        #expect(done.log.contains("not made: imap_swapi_l1b_hk_20240924_v001.0001.cdf"))
    }

    @Test func anAlgorithmThatExitsZeroHavingMadeNothingFailsNamingWhatWasExpected() async throws {
        let t = try await Fixture(script: "echo nothing to do\n", maxAttempts: 1)
        let failed = try #require(try await t.worker.runNextJob())
        let message = "exited with status 0 but made none of its products: expected imap_swapi_l1a_hk_20240924_v001.0001.cdf, "
            + "imap_swapi_l1b_hk_20240924_v001.0001.cdf"
        #expect(failed.status == .failed && failed.error == message && failed.log.contains("[sdc] " + message))
    }
}
