import Foundation
import SDCCatalog
import SDCCore
@testable import SDCJobs
import Testing
@testable import SDCPipeline

/// SPICE descriptors `historical` and `best` (pipeline.md §2), and production's rule that a job requesting several
/// ephemeris types needs one kernel of any of them, planned on a real SQLite catalog and job store.
struct SPICEBestTests {
    typealias Fixture = SPICEInputTests.Fixture
    static let l0 = SPICEInputTests.l0
    static let clock = ["naif0012.tls", "imap_sclk_0000.tsc"]

    static func graph(_ lines: String) -> String { JobProtocolPlanningTests.graph + "\n" + lines }

    @Test func historicalTakesOnlyTheEdgesOwnTypeAndWaitsForIt() async throws {
        let t = try Fixture(graph: Self.graph("attitude_history, spice, historical, swapi, l1, hk, HARD_NO_TRIGGER, DOWNSTREAM"))
        try await t.arrive(Self.l0, Self.clock[0], Self.clock[1], "imap_2024_268_2024_268_01.ap.bc")
        #expect(try await t.plan().isEmpty)
        #expect(try await t.jobs.waitingTriggers(limit: 10).map(\.reason) == ["attitude_history kernel (spice, historical) covering 20240924"])
        try await t.arrive("imap_2024_268_2024_268_01.ah.bc")
        let job = try #require(try await t.plan().first)
        #expect(job.inputNames.sorted() == ([Self.l0, "imap_2024_268_2024_268_01.ah.bc"] + Self.clock).sorted())
    }

    @Test func bestTakesThePredictionWhereNoReconstructionCoversTheDayAndTheReconstructionWhereOneDoes() async throws {
        let t = try Fixture(graph: Self.graph("""
            attitude_history, spice, best, swapi, l1, hk, HARD_NO_TRIGGER, DOWNSTREAM
            ephemeris_reconstructed, spice, best, swapi, l1, hk, HARD_NO_TRIGGER, DOWNSTREAM
            """))
        // Nothing of either kind: the day waits, naming the stand-ins it would take.
        try await t.arrive(Self.l0, Self.clock[0], Self.clock[1], "imap_recon_20240901_20240910_v01.bsp")
        #expect(try await t.plan().isEmpty)
        #expect(try await t.jobs.waitingTriggers(limit: 10).map(\.reason) == [
            "attitude_history kernel (spice, best: or attitude_predict) covering 20240924; "
                + "ephemeris_reconstructed kernel (spice, best: or ephemeris_predicted, ephemeris_90days, ephemeris_long, ephemeris_nominal) covering 20240924"])
        // Predictions arrive: they wake the waiting day (they trigger nothing themselves) and stand in for both.
        try await t.arrive("imap_2024_268_2024_268_01.ap.bc", "imap_pred_20240920_20241020_v01.bsp", "imap_90days_20240901_20241130_v01.bsp")
        let predicted = try #require(try await t.plan().first)
        #expect(predicted.inputNames.sorted() == ([Self.l0, "imap_2024_268_2024_268_01.ap.bc", "imap_pred_20240920_20241020_v01.bsp"]
                + Self.clock).sorted())
        // A reconstruction covering the day wins over the prediction (the same edge, asked again for that day).
        try await t.arrive("imap_recon_20240920_20240930_v01.bsp")
        let files = try await t.planner.inputFiles(for: ProductNode("ephemeris_reconstructed", "spice", "best"),
                                                   date: SPICEInputTests.day, repointing: nil)
        #expect(files.map(\.name) == ["imap_recon_20240920_20240930_v01.bsp"])
    }

    @Test func aStandInKernelWakesWaitingDaysButNeverTriggersAJob() throws {
        let graph = try DependencyGraph(csv: Self.graph("attitude_history, spice, best, swapi, l1, hk, HARD, DOWNSTREAM"))
        let history = try IMAPFileName.parse("imap_2024_268_2024_268_01.ah.bc")
        let prediction = try IMAPFileName.parse("imap_2024_268_2024_268_01.ap.bc")
        #expect(graph.triggeredProducts(by: history) == [SPICEInputTests.product])
        #expect(graph.triggeredProducts(by: prediction).isEmpty)
        #expect(graph.consumers(of: prediction) == [SPICEInputTests.product])
        // Under `historical` a prediction is no input at all.
        let historical = try DependencyGraph(csv: Self.graph("attitude_history, spice, historical, swapi, l1, hk, HARD, DOWNSTREAM"))
        #expect(historical.consumers(of: prediction).isEmpty)
    }

    @Test func aJobRequestingSeveralEphemerisTypesNeedsOneOfThemAsProductionDoes() async throws {
        // MAG L2's production inputs: the reconstructed ephemeris (triggering) and the predicted one.
        let t = try Fixture(graph: Self.graph("""
            ephemeris_reconstructed, spice, historical, swapi, l1, hk, HARD, DOWNSTREAM
            ephemeris_predicted, spice, historical, swapi, l1, hk, HARD_NO_TRIGGER, DOWNSTREAM
            """))
        try await t.arrive(Self.l0, Self.clock[0], Self.clock[1])
        #expect(try await t.plan().isEmpty)
        #expect(try await t.jobs.waitingTriggers(limit: 10).map(\.reason) == [
            "an ephemeris kernel (ephemeris_reconstructed or ephemeris_predicted) covering 20240924"])
        // The prediction alone is enough.
        try await t.arrive("imap_pred_20240920_20241020_v01.bsp")
        let job = try #require(try await t.plan().first)
        #expect(job.inputNames.sorted() == ([Self.l0, "imap_pred_20240920_20241020_v01.bsp"] + Self.clock).sorted())
        // With both, both are inputs (as production's metakernel query returns them).
        try await t.arrive("imap_recon_20240920_20240930_v01.bsp")
        let both = try #require(try await t.plan().first)
        #expect(both.inputNames.contains("imap_recon_20240920_20240930_v01.bsp") && both.inputNames.contains("imap_pred_20240920_20241020_v01.bsp"))
    }

    @Test func aSPICEDescriptorOtherThanHistoricalOrBestIsAConfigurationError() {
        let error = #expect(throws: DependencyConfigError.self) {
            try DependencyGraph(csv: Self.graph("attitude_history, spice, newest, swapi, l1, hk, HARD, DOWNSTREAM"))
        }
        #expect(error?.message == "SPICE descriptor 'newest' in (attitude_history, spice, newest): expected historical or best")
    }
}
