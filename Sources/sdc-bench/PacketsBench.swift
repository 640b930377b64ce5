import ArgumentParser
import Foundation
import SDCPackets
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `sdc-bench packets FILE --xtce DEF`: decodes a packet file repeatedly, single-threaded and in parallel, and
/// prints one JSON object with the best times, packets/s, fields/s, the decoded output size and peak RSS.
struct PacketsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "packets",
        abstract: "Time XTCE packet decoding (raw values, and raw plus derived values)."
    )

    @Argument(help: "The CCSDS packet file.")
    var file: String

    @Option(help: "XTCE packet definition.")
    var xtce: String

    @Option(help: "Timed repetitions per configuration (the best is reported).")
    var iterations = 5

    @Option(help: "Threads for the parallel runs (default: all cores).")
    var jobs = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Decode raw values once, single-threaded, and report only sizes and memory (peak RSS is per process).")
    var memoryOnly = false

    func run() async throws {
        let url = URL(fileURLWithPath: file)
        let loadStart = DispatchTime.now()
        let definition = try PacketDefinition(contentsOf: URL(fileURLWithPath: xtce))
        let decoder = PacketDecoder(definition: definition)
        let loadSeconds = Self.seconds(since: loadStart)
        let baselineBytes = Self.currentResidentBytes()

        let reference = try decoder.decode(fileAt: url, options: DecodeOptions(parallelism: 1))
        let packets = reference.containers.reduce(0) { $0 + $1.count }
        let fields = reference.containers.reduce(0) { $0 + $1.count * $1.fields.count }
        let outputBytes = reference.containers.reduce(0) { total, container in
            total + container.fields.reduce(0) { $0 + Self.byteSize(of: $1.raw) }
        }

        var result: [String: Any] = [
            "file": file, "bytes": reference.report.byteCount, "packets": packets, "fields": fields,
            "xtce_load_seconds": loadSeconds, "decoded_output_bytes": outputBytes, "baseline_rss_bytes": baselineBytes,
        ]
        if !memoryOnly {
            for (label, threads) in [("single_thread", 1), ("parallel", max(1, jobs))] {
                for derived in [false, true] {
                    let seconds = try best(of: iterations) {
                        let decoded = try decoder.decode(fileAt: url, options: DecodeOptions(parallelism: threads))
                        if derived {
                            for container in decoded.containers { _ = try container.derivedColumns(parallelism: threads) }
                        }
                    }
                    result[derived ? "\(label)_with_derived" : label] = [
                        "threads": threads, "seconds": seconds,
                        "packets_per_s": Double(packets) / seconds, "fields_per_s": Double(fields) / seconds,
                    ]
                }
            }
        }
        result["peak_rss_bytes"] = Self.peakResidentBytes()
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    private func best(of count: Int, _ body: () throws -> Void) throws -> Double {
        var fastest = Double.infinity
        for _ in 0..<max(1, count) {
            let start = DispatchTime.now()
            try body()
            fastest = min(fastest, Self.seconds(since: start))
        }
        return fastest
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    /// Bytes held by a column's values.
    private static func byteSize(of column: Column) -> Int {
        switch column {
        case let .uint8(values): values.count
        case let .int8(values): values.count
        case let .boolean(values): values.count
        case let .uint16(values): values.count * 2
        case let .int16(values): values.count * 2
        case let .uint32(values): values.count * 4
        case let .int32(values): values.count * 4
        case let .float32(values): values.count * 4
        case let .uint64(values): values.count * 8
        case let .int64(values): values.count * 8
        case let .float64(values): values.count * 8
        case let .string(values): values.reduce(0) { $0 + 16 + $1.utf8.count }
        case let .bytes(values): values.bytes.count + values.offsets.count * 8
        }
    }

    /// Resident memory now (Linux `/proc/self/statm`; the peak elsewhere).
    private static func currentResidentBytes() -> Int {
        #if os(Linux)
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
           let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
            return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        }
        #endif
        return peakResidentBytes()
    }

    private static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return usage.ru_maxrss
        #endif
    }
}
