import ArgumentParser
import Foundation
import SDCPackets

/// `sdc packets`: inspect and decode CCSDS Level 0 packet files with an XTCE definition.
struct PacketsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "packets",
        abstract: "Inspect and decode CCSDS packet files.",
        subcommands: [Inspect.self, Decode.self]
    )
}

extension PacketsCommand {
    /// `sdc packets inspect FILE [--xtce DEF]`.
    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarize a packet file: APIDs, packet counts and sizes, sequence gaps, MET range, unknown and malformed packets."
        )

        @Argument(help: "The CCSDS packet file.")
        var file: String

        @Option(help: "XTCE definition; with it, packets are matched to containers and checked against their layouts.")
        var xtce: String?

        @Flag(help: "Print the report as one JSON object.")
        var json = false

        func run() async throws {
            let fileURL = URL(fileURLWithPath: file)
            let report: DecodeReport
            if let xtce {
                let decoder = PacketDecoder(definition: try PacketDefinition(contentsOf: URL(fileURLWithPath: xtce)))
                report = try decoder.inspect(fileAt: fileURL)
            } else {
                report = try PacketDecoder.survey(fileAt: fileURL)
            }
            let writer = ReportWriter()
            print(json ? writer.json(report) : writer.text(report), terminator: "")
        }
    }

    /// `sdc packets decode FILE --xtce DEF [--container NAME] [--raw] --format json|csv`.
    struct Decode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode a packet file into per-container columns.",
            discussion: """
                json: one object per line and container (and APID): \
                {"container": NAME, "apid": N, "packets": COUNT, "fields": {FIELD: [v0, v1, ...]}}, fields in \
                definition order including the CCSDS header. Derived values by default (calibrated numbers, \
                enumeration labels, booleans, strings), raw values with --raw. Binary values are lowercase hex; \
                non-finite floats are the strings "NaN", "Infinity" and "-Infinity". Damaged and unknown packets are \
                skipped and summarized on standard error.
                """
        )

        @Argument(help: "The CCSDS packet file.")
        var file: String

        @Option(help: "XTCE packet definition.")
        var xtce: String

        @Option(name: .customLong("container"), help: "Decode only this container (repeatable).")
        var containers: [String] = []

        @Flag(help: "Write raw values instead of derived ones.")
        var raw = false

        @Option(help: "Output format: json or csv.")
        var format: DecodedOutputFormat = .json

        @Option(help: "Threads for decoding (default: all cores).")
        var jobs: Int?

        func run() async throws {
            let definition = try PacketDefinition(contentsOf: URL(fileURLWithPath: xtce))
            let known = Set(definition.concreteLayouts.map(\.name))
            if let unknown = containers.first(where: { !known.contains($0) }) {
                throw ValidationError("no concrete container \(unknown) in \(xtce); it has: \(known.sorted().joined(separator: ", "))")
            }
            var options = DecodeOptions(containers: containers.isEmpty ? nil : Set(containers))
            if let jobs { options.parallelism = max(1, jobs) }
            let parallelism = options.parallelism
            let decoded = try PacketDecoder(definition: definition).decode(fileAt: URL(fileURLWithPath: file), options: options)
            let writer = DecodedOutputWriter(format: format, raw: raw)
            for (index, container) in decoded.containers.enumerated() {
                var text = try writer.render(container, parallelism: parallelism)
                if format == .csv && index > 0 { text.insert(UInt8(ascii: "\n"), at: 0) }
                FileHandle.standardOutput.write(Data(text))
            }
            let damaged = decoded.report.damage
            if !damaged.isEmpty || decoded.report.trailingBytes != nil {
                let summary = damaged.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ")
                let trailing = decoded.report.trailingBytes.map { "; \($0.count) trailing byte(s)" } ?? ""
                FileHandle.standardError.write(Data("sdc packets: skipped \(summary)\(trailing)\n".utf8))
            }
        }
    }
}

extension DecodedOutputFormat: ExpressibleByArgument {}
