import SDCJobs
import Testing
@testable import SDCPipeline
import SDCCore

struct DependencyGraphTests {
    static let swapi = """
        # SWAPI block of the IMAP SDC configuration
        swapi, l0, raw, swapi, l1, hk, HARD, DOWNSTREAM
        leapseconds, spice, historical, swapi, l1, hk, HARD_NO_TRIGGER, DOWNSTREAM

        swapi, l0, raw, swapi, l1, sci, HARD, DOWNSTREAM
        swapi, l1a, hk, swapi, l1, sci, HARD, DOWNSTREAM
        swapi, l1, sci, swapi, l2, sci, HARD, DOWNSTREAM
        swapi, ancillary, lut-notes, swapi, l2, sci, SOFT_NO_TRIGGER, DOWNSTREAM
        """

    @Test func triggersFollowTheRelationshipKinds() throws {
        let graph = try DependencyGraph(csv: Self.swapi)
        let l0 = try IMAPFileName.parse("imap_swapi_l0_raw_20250101_v001.0000.pkts")
        #expect(graph.triggeredProducts(by: l0) == [ProductNode("swapi", "l1", "hk"), ProductNode("swapi", "l1", "sci")])
        let kernel = try IMAPFileName.parse("naif0012.tls")
        #expect(graph.triggeredProducts(by: kernel).isEmpty)
        let lut = try IMAPFileName.parse("imap_swapi_lut-notes_20250101_v001.csv")
        #expect(graph.triggeredProducts(by: lut).isEmpty)
        #expect(graph.inputs(of: ProductNode("swapi", "l1", "hk")).map(\.relationship) == [.hard, .hardNoTrigger])
    }

    @Test(arguments: [
        ("swapi, l0, raw, swapi, l1, hk, HARD", "line 1: expected 8 comma-separated fields, found 7"),
        ("swapo, l0, raw, swapi, l1, hk, HARD, DOWNSTREAM", "line 1: unknown source 'swapo'"),
        ("swapi, l9, raw, swapi, l1, hk, HARD, DOWNSTREAM", "line 1: unknown data type 'l9'"),
        ("swapi, l0, raw, swapi, l1, hk, MAYBE, DOWNSTREAM", "line 1: unknown relationship 'MAYBE'"),
        ("swapi, l0, raw, swapi, l1, hk, HARD, SIDEWAYS", "line 1: unknown dependency type 'SIDEWAYS'"),
        ("swapi, l1, hk, swapi, l2, hk, HARD, DOWNSTREAM\nswapi, l2, hk, swapi, l1, hk, HARD, DOWNSTREAM", "cycle: "),
    ])
    func configurationErrorsNameTheLineAndTheProblem(csv: String, expected: String) {
        let error = #expect(throws: DependencyConfigError.self) { try DependencyGraph(csv: csv) }
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "")")
    }

    @Test func shippedConfigurationLoads() throws {
        let graph = try DependencyGraph(csv: PipelineConfiguration.builtInDependencies())
        for instrument in ["swapi", "mag", "glows"] {
            let l0 = try IMAPFileName.parse("imap_\(instrument)_l0_raw_20250101_v001.0000.pkts")
            #expect(graph.triggeredProducts(by: l0) == [ProductNode(instrument, "l1a", "all")])
        }
    }
}
