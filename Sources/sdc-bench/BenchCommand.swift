import ArgumentParser

/// `sdc-bench`: timing harness for scripts/bench. Each subcommand measures one library on generated input
/// and prints machine-readable results; scripts/bench runs the peer Python tool on the same input and prints ratios.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdc-bench",
        abstract: "Benchmarks for sdc's libraries (run through scripts/bench).",
        subcommands: [PacketsBench.self, CDFBench.self, CatalogBench.self, APIBench.self, MixedBench.self, ScaleOutBench.self]
    )
}
