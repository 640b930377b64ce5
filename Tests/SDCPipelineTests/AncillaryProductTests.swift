import Foundation
import HummingbirdTesting
import SDCAssembly
import SDCCatalog
import SDCCore
import SDCServer
import Testing
@testable import SDCJobs
@testable import SDCPipeline

/// A job's ancillary outputs (MAG L1D's spin offsets, which imap_cli uploads as `imap_mag_spin-offsets_<day>_<day>_vNNN.cdf`)
/// are products of the job, with lineage, found through both worker environments; an older ancillary file of the same
/// descriptor made by someone else is not adopted; optional products not made are not reported as missed.
struct AncillaryProductTests {
    static let product = ProductNode("mag", "l1d", "norm-srf")
    static let spinOffsets = ProductNode("mag", "ancillary", "spin-offsets")
    static let gradiometry = ProductNode("mag", "ancillary", "gradiometry-offsets-norm")

    /// A fake imap_cli: uploads the science product and the spin-offsets ancillary file it is told to make, through the
    /// API with the job's credential (IMAP_DATA_ACCESS_URL, IMAP_API_KEY), as imap-data-access does.
    static let script = """
        import json, os, sys, urllib.request
        arguments = sys.argv[1:]
        day, version = arguments[arguments.index("--start-date") + 1], arguments[arguments.index("--version") + 1]
        base, key = os.environ["IMAP_DATA_ACCESS_URL"], os.environ["IMAP_API_KEY"]
        minor = "v%03d" % int(version.split(".")[1])
        for name in [f"imap_mag_l1d_norm-srf_{day}_{version}.cdf", f"imap_mag_spin-offsets_{day}_{day}_{minor}.cdf"]:
            grant = urllib.request.Request(f"{base}/api-key/upload/{name}", headers={"x-api-key": key})
            url = json.load(urllib.request.urlopen(grant))
            urllib.request.urlopen(urllib.request.Request(url, data=b"made by the job", method="PUT", headers={"x-api-key": key}))
            print("uploaded", name)
        """

    @Test func aJobsAncillaryOutputsAreItsProductsWithLineageThroughBothEnvironments() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-ancillary-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let dataCenter = try DataCenter(root: root)
        let writeKey = try await dataCenter.catalog.createKey(name: "worker", scope: .write).secret
        let scriptFile = root.appendingPathComponent("imap_cli.py")
        try Self.script.write(to: scriptFile, atomically: true, encoding: .utf8)
        var spec = AlgorithmSpec(product: Self.product, name: "imap-processing", version: "1.0.40", majorVersion: 1, timeoutSeconds: 60,
                                 maxAttempts: 1, kind: .external(ExternalCommandConfiguration(command: ["python3", scriptFile.path], environment: [:])),
                                 makes: [Self.product, Self.spinOffsets, Self.gradiometry])
        spec.optionalProducts = [Self.gradiometry]
        // Someone else's spin offsets, valid from 1 September on with the version the jobs will write, cataloged an hour
        // before the jobs were made: not theirs.
        let older = "imap_mag_spin-offsets_20240901_v001.cdf"
        try await dataCenter.catalog.insert([CatalogRecord(file: try IMAPFileName.parse(older), size: 1, sha256: String(repeating: "0", count: 64),
                                                           ingestionDate: UTCTime(secondsSince1970: UTCTime.now.secondsSince1970 - 3600))])
        var jobs: [Job] = []
        for day in [24, 25] {
            var inputs = ProcessingInputCollection()
            inputs.add(type: "science", files: ["imap_mag_l1c_norm-mago_202409\(day)_v001.0001.cdf"])
            inputs.add(type: "ancillary", files: ["imap_mag_l1d-calibration_20240101_v001.cdf"])
            jobs.append(try await dataCenter.jobs.submit(JobRequest(product: Self.product, startDate: FileDate(year: 2024, month: 9, day: day)!,
                                                                    products: spec.products, algorithm: spec.name, algorithmVersion: spec.version,
                                                                    majorVersion: 1, inputs: inputs, maxAttempts: 1), highestCatalogedMinor: nil).job)
        }
        // The dependency document versions the ancillary descriptor too: imap_cli names the file with its minor.
        #expect(jobs[0].dependencyDocument.json.contains(#""spin-offsets": {"major_version": 1, "minor_version": 1}"#))
        let (queued, registry) = (jobs, AlgorithmRegistry(algorithms: [spec]))
        var configuration = ServerConfiguration()
        configuration.port = 0
        let server = DataCenterServer(configuration: configuration, ingestor: dataCenter.ingestor(), keys: dataCenter.catalog,
                                      requestLog: dataCenter.catalog, processing: ProcessingHooks(jobs: dataCenter.jobs, gate: ClaimGate()) { _ in 0 })
        try await server.application().test(.live) { client in
            let url = "http://127.0.0.1:\(try #require(client.port))"
            let remote = RemoteDataCenter(baseURL: url, apiKey: writeKey)
            let environments: [(String, any WorkerEnvironment)] = [
                ("in-process", LocalWorkerEnvironment(ingestor: dataCenter.ingestor()) { url }),
                ("remote", RemoteWorkerEnvironment(remote)),
            ]
            for ((name, environment), job) in zip(environments, queued) {
                let worker = Worker(id: name, jobs: dataCenter.jobs, registry: registry, environment: environment,
                                    leaseSeconds: 60)
                let done = try #require(try await worker.runNextJob())
                #expect(done.id == job.id && done.status == .succeeded, "\(name): \(done.error ?? "") \(done.log)")
                let day = job.startDate.description
                let science = "imap/mag/l1d/2024/09/imap_mag_l1d_norm-srf_\(day)_v001.0001.cdf"
                let ancillary = "imap/ancillary/mag/imap_mag_spin-offsets_\(day)_\(day)_v001.cdf"
                // Both uploads are the job's products, the older spin offsets are not.
                #expect(done.outputs.sorted() == [ancillary, science], "\(name)")
                // Lineage to the job's inputs, for the ancillary file as for the science product.
                let lineage = try await dataCenter.jobs.inputs(ofProduct: ancillary)
                #expect(lineage == job.inputNames.sorted(), "\(name)")
                #expect(try await dataCenter.jobs.inputs(ofProduct: "imap/ancillary/mag/\(older)").isEmpty)
                // Every required product was made; the optional gradiometry offsets are noted apart, not as missed.
                #expect(done.log.contains("[sdc] made 2 of 3 declared products; optional, not made: "
                                          + "imap_mag_gradiometry-offsets-norm_\(day)_\(day)_v001.cdf\n"), "\(name): \(done.log)")
                #expect(!done.log.contains("; not made:"), "\(name)")
            }
            try await remote.shutdown()
        }
    }

    @Test func aNewJobsVersionIsAboveTheAncillaryFilesOfItsDayWhateverTheirMajor() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-ancillary-version-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let catalog = try SQLiteCatalog(path: folder.appendingPathComponent("catalog.sqlite").path)
        let jobs = try SQLiteJobStore(path: folder.appendingPathComponent("jobs.sqlite").path)
        let spec = AlgorithmSpec(product: Self.product, name: "imap-processing", version: "2", majorVersion: 2, timeoutSeconds: 60, maxAttempts: 1,
                                 kind: .external(ExternalCommandConfiguration(command: ["imap_cli"], environment: [:])),
                                 makes: [Self.product, Self.spinOffsets])
        let planner = Planner(graph: try DependencyGraph(csv: "mag, l1c, norm-mago, mag, l1d, norm-srf, HARD, DOWNSTREAM"),
                              registry: try AlgorithmRegistry.checked([spec]), catalog: catalog, jobs: jobs)
        // Major 1 made v003 spin offsets for the day (and another day's v007, which does not count); no major 2 product yet.
        for name in ["imap_mag_l1c_norm-mago_20240924_v001.0001.cdf", "imap_mag_l1d_norm-srf_20240924_v001.0003.cdf",
                     "imap_mag_spin-offsets_20240924_20240924_v003.cdf", "imap_mag_spin-offsets_20240925_20240925_v007.cdf"] {
            try await catalog.insert([CatalogRecord(file: try IMAPFileName.parse(name), size: 1, sha256: String(repeating: "0", count: 64),
                                                    ingestionDate: .now)])
        }
        let job = try #require(try await planner.plan(Self.product, date: FileDate(year: 2024, month: 9, day: 24)!, repointing: nil, campaign: 0))
        // imap_cli names the spin offsets v004 (the minor of v002.0004), not v003, which exists.
        #expect(job.version == ProductVersion(major: 2, minor: 4))
        #expect(job.expectedProductNames == ["imap_mag_l1d_norm-srf_20240924_v002.0004.cdf", "imap_mag_spin-offsets_20240924_20240924_v004.cdf"])
    }

    @Test func makesEntriesDeclareAncillaryAndOptionalProducts() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("algorithms.yaml")
        func registry(_ makes: String) throws -> AlgorithmRegistry {
            try """
                algorithms:
                  - product: {instrument: mag, level: l1d, descriptor: norm-srf}
                    name: imap-processing
                    version: "1.0.40"
                    command: [imap_cli]
                    makes: \(makes)
                """.write(to: file, atomically: true, encoding: .utf8)
            return try AlgorithmRegistry(contentsOf: file)
        }
        let spec = try #require(try registry("[l1d norm-srf, optional l1d burst-srf, ancillary spin-offsets, optional ancillary gradiometry-offsets-norm]")
            .algorithm(for: Self.product))
        #expect(spec.products == [Self.product, ProductNode("mag", "l1d", "burst-srf"), Self.spinOffsets, Self.gradiometry])
        #expect(spec.optionalProducts == [ProductNode("mag", "l1d", "burst-srf"), Self.gradiometry])
        for bad in ["[ancillary]", "[optional]", "[optional optional l1d x]", "[ancilary spin-offsets]", "[ancillary spin_offsets]"] {
            #expect(throws: AlgorithmRegistryError.self, "\(bad)") { try registry(bad) }
        }
        // The built-in profile declares MAG L1D's ancillary outputs, the gradiometry offsets and burst frames optional.
        let l1d = try #require(try PipelineConfiguration(folder: URL(fileURLWithPath: "imap")).registry.algorithm(for: Self.product))
        #expect(l1d.products.filter { $0.dataType == "ancillary" }.map(\.descriptor)
                == ["spin-offsets", "gradiometry-offsets-norm", "gradiometry-offsets-burst"])
        #expect(l1d.optionalProducts == Set(["gradiometry-offsets-norm", "gradiometry-offsets-burst"].map { ProductNode("mag", "ancillary", $0) }
                                            + ["srf", "dsrf", "gse", "rtn"].map { ProductNode("mag", "l1d", "burst-\($0)") }))
    }
}
