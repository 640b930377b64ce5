import Foundation
import SDCCatalog
import SDCCore
@testable import SDCJobs
import Testing
@testable import SDCPipeline

/// SPICE and ancillary inputs (issue 11 item 3): kernels chosen by type and coverage, a day waiting visibly for a
/// missing kernel and planned when it arrives, and a newer kernel or table reprocessing the days it covers.
struct SPICEInputTests {
    static let product = ProductNode("swapi", "l1", "hk")
    static let day = FileDate(year: 2024, month: 9, day: 24)!
    static let l0 = "imap_swapi_l0_raw_20240924_v001.pkts"

    /// A catalog, job store and planner over `graph`, whose jobs make `(swapi, l1, hk)` as imap_cli does.
    struct Fixture {
        let catalog: SQLiteCatalog
        let jobs: SQLiteJobStore
        let clock = TestClock()
        let planner: Planner

        init(graph: String) throws {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-spice-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            catalog = try SQLiteCatalog(path: folder.appendingPathComponent("catalog.sqlite").path)
            jobs = try SQLiteJobStore(path: folder.appendingPathComponent("jobs.sqlite").path, clock: clock.jobClock)
            let registry = try AlgorithmRegistry.checked([JobProtocolPlanningTests.imapCLI(SPICEInputTests.product, makes: [
                ProductNode("swapi", "l1a", "hk"), ProductNode("swapi", "l1b", "hk")])])
            planner = Planner(graph: try DependencyGraph(csv: graph), registry: registry, catalog: catalog, jobs: jobs, settleMilliseconds: 500,
                              clock: clock.jobClock)
        }

        func arrive(_ names: String...) async throws {
            for name in names {
                let record = CatalogRecord(file: try IMAPFileName.parse(name), size: 1, sha256: String(repeating: "0", count: 64), ingestionDate: .now)
                try await catalog.insert([record])
                await planner.didIngest(record)
            }
        }

        /// Plans what is due after the settling delay.
        func plan() async throws -> [Job] {
            clock.advance(milliseconds: 600)
            return try await planner.planDueTriggers()
        }
    }

    @Test func aDayWaitsVisiblyForAMissingKernelAndRunsOnlyOnceItArrives() async throws {
        let t = try Fixture(graph: JobProtocolPlanningTests.graph)
        try await t.arrive(Self.l0, "imap_sclk_0000.tsc")
        #expect(try await t.plan().isEmpty)
        let waiting = try await t.jobs.waitingTriggers(limit: 10)
        #expect(waiting == [WaitingTrigger(trigger: Trigger(product: Self.product, date: Self.day, repointing: nil, campaign: 0),
                                           reason: "leapseconds kernel (spice, historical) covering 20240924")])
        #expect(try await t.jobs.jobs(matching: JobFilter()).isEmpty)
        // The leapseconds kernel does not trigger jobs (HARD_NO_TRIGGER), but the day waiting for it is planned.
        try await t.arrive("naif0012.tls")
        let created = try await t.plan()
        #expect(created.count == 1 && created.first?.inputNames.sorted() == ["imap_sclk_0000.tsc", Self.l0, "naif0012.tls"].sorted())
        #expect(try await t.jobs.waitingTriggers(limit: 10).isEmpty)
    }

    @Test func kernelsAreChosenByTypeCoverageAndNewestVersion() async throws {
        let t = try Fixture(graph: JobProtocolPlanningTests.graph + """

            ephemeris_reconstructed, spice, historical, swapi, l1, hk, HARD_NO_TRIGGER, DOWNSTREAM
            """)
        // A reconstructed ephemeris that ends before the day does not serve it: the day waits for one that covers it.
        try await t.arrive(Self.l0, "naif0012.tls", "imap_sclk_0000.tsc", "imap_sclk_0001.tsc", "imap_recon_20240901_20240910_v01.bsp")
        #expect(try await t.plan().isEmpty)
        #expect(try await t.jobs.waitingTriggers(limit: 10).map(\.reason) == ["ephemeris_reconstructed kernel (spice, historical) covering 20240924"])
        try await t.arrive("imap_recon_20240920_20240930_v01.bsp")
        let job = try #require(try await t.plan().first)
        // One SPICE group: the covering ephemeris, the newer of the two SCLK versions, the leapseconds kernel.
        #expect(job.inputNames.sorted() == [Self.l0, "imap_recon_20240920_20240930_v01.bsp", "imap_sclk_0001.tsc", "naif0012.tls"].sorted())
        #expect(job.inputs.components(separatedBy: #""type": "spice""#).count == 2)
    }

    @Test func aNewerKernelOrTableCoveringAProcessedDayReprocessesItUnderANewVersion() async throws {
        // Here the SCLK kernel and a lookup table trigger (HARD), as a configuration may say.
        let t = try Fixture(graph: """
            swapi, l0, raw, swapi, l1, hk, HARD, DOWNSTREAM
            leapseconds, spice, historical, swapi, l1, hk, HARD_NO_TRIGGER, DOWNSTREAM
            spacecraft_clock, spice, historical, swapi, l1, hk, HARD, DOWNSTREAM
            swapi, ancillary, lut-notes, swapi, l1, hk, HARD, DOWNSTREAM
            """)
        try await t.arrive(Self.l0, "naif0012.tls", "imap_sclk_0000.tsc", "imap_swapi_lut-notes_20240101_v001.csv")
        let first = try #require(try await t.plan().first)
        #expect(first.version == ProductVersion(major: 1, minor: 1))
        // A newer SCLK kernel: the day is planned again with it, one minor version up, beside the first job.
        try await t.arrive("imap_sclk_0001.tsc")
        let second = try #require(try await t.plan().first)
        #expect(second.version == ProductVersion(major: 1, minor: 2) && second.inputNames.contains("imap_sclk_0001.tsc")
                && !second.inputNames.contains("imap_sclk_0000.tsc"))
        // A newer version of the table valid that day does the same.
        try await t.arrive("imap_swapi_lut-notes_20240101_v002.csv")
        let third = try #require(try await t.plan().first)
        #expect(third.version == ProductVersion(major: 1, minor: 3) && third.inputNames.contains("imap_swapi_lut-notes_20240101_v002.csv"))
        // A table that starts after the day does not reprocess it.
        try await t.arrive("imap_swapi_lut-notes_20241001_v003.csv")
        #expect(try await t.plan().isEmpty)
        #expect(try await t.jobs.jobs(matching: JobFilter()).count == 3)
    }

    @Test func theBuiltInIMAPProfileLoadsByNameAndEveryStepRunsImapCLI() throws {
        let configuration = try PipelineConfiguration(folder: URL(fileURLWithPath: "imap"))
        #expect(configuration.source.lastPathComponent == "imap")
        #expect(configuration.graph.products == [ProductNode("glows", "l1a", "all"), ProductNode("glows", "l1b", "de"), ProductNode("glows", "l1b", "hist"),
                                                 ProductNode("mag", "l1a", "all"),
                                                 ProductNode("mag", "l1b", "burst-magi"), ProductNode("mag", "l1b", "burst-mago"),
                                                 ProductNode("mag", "l1b", "norm-magi"), ProductNode("mag", "l1b", "norm-mago"),
                                                 ProductNode("mag", "l1c", "norm-magi"), ProductNode("mag", "l1c", "norm-mago"),
                                                 ProductNode("mag", "l1d", "norm-srf"),
                                                 ProductNode("mag", "l2", "burst-srf"), ProductNode("mag", "l2", "norm-srf"),
                                                 ProductNode("swapi", "l1", "hk"), ProductNode("swapi", "l1", "sci"), ProductNode("swapi", "l2", "sci")])
        for product in configuration.graph.products {
            let algorithm = try #require(configuration.registry.algorithm(for: product))
            #expect(algorithm.installedEntry?.reference.name == "imap-processing" && algorithm.installedEntry?.entryPoint == "imap_cli")
            // The leapseconds and SCLK kernels never trigger, as in production.
            for edge in configuration.graph.inputs(of: product) where ["leapseconds", "spacecraft_clock"].contains(edge.parent.source) {
                #expect(edge.relationship == .hardNoTrigger)
            }
        }
        // MAG L1D and L2 take production's kernels: new attitude, pointing and reconstructed ephemeris kernels (and
        // for L1D the spin table) trigger them.
        let magKernels: [SPICEKernelType: Relationship] = [
            .attitudeHistory: .hard, .pointingAttitude: .hard, .ephemerisReconstructed: .hard, .ephemerisPredicted: .hardNoTrigger,
            .imapFrames: .hardNoTrigger, .scienceFrames: .hardNoTrigger, .leapseconds: .hardNoTrigger, .spacecraftClock: .hardNoTrigger,
            .planetaryEphemeris: .hardNoTrigger, .planetaryConstants: .hardNoTrigger]
        func kernels(of product: ProductNode) -> [SPICEKernelType: Relationship] {
            Dictionary(uniqueKeysWithValues: configuration.graph.inputs(of: product).compactMap { edge in edge.parent.kernelType.map { ($0, edge.relationship) } })
        }
        for mode in ["norm", "burst"] {
            let product = ProductNode("mag", "l2", "\(mode)-srf")
            #expect(kernels(of: product) == magKernels)
            #expect(configuration.registry.algorithm(for: product)?.products == ["srf", "dsrf", "gse", "gsm", "rtn"].map {
                ProductNode("mag", "l2", "\(mode)-\($0)")
            })
        }
        #expect(kernels(of: ProductNode("mag", "l1d", "norm-srf")) == magKernels.merging([.spin: .hard]) { $1 })
        #expect(configuration.registry.algorithm(for: ProductNode("mag", "l1d", "norm-srf"))?.products.count == 11)
        #expect(configuration.registry.algorithm(for: ProductNode("swapi", "l1", "hk"))?.products == [ProductNode("swapi", "l1a", "hk"),
                                                                                                      ProductNode("swapi", "l1b", "hk")])
    }
}
