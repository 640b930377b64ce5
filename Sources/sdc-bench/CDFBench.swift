import ArgumentParser
import SDCCDF

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `sdc-bench cdf`: writes and reads the CDF benchmark datasets and prints one JSON object of timings.
///
/// Cases (each uncompressed and GZIP level 6): `epoch_f64` = a TT2000 `Epoch` plus a float64 variable,
/// `f32x32` = a float32 variable of 32 values per record. Input comes from raw little-endian files in
/// `--data` (`epoch.i64`, `value.f64`, `matrix.f32`, as scripts/bench.d/cdf.sh writes them for both tools),
/// or is generated when `--data` is omitted. Times are the best of `--repeats` runs.
struct CDFBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cdf",
        abstract: "Time CDF writing and reading (epoch+float64 and 32-wide float32, plain and GZIP).")

    @Option(help: "Records per dataset.")
    var records = 1_000_000

    @Option(help: "Folder with epoch.i64, value.f64 and matrix.f32 (raw little-endian) to use as input.")
    var data: String?

    @Option(help: "Folder for the CDF files written.")
    var output = "/tmp"

    @Option(help: "Runs per measurement; the best is reported.")
    var repeats = 3

    func run() async throws {
        let epochs: [Int64]
        let values: [Double]
        let matrix: [Float]
        if let data {
            epochs = try Self.load(data + "/epoch.i64", count: records)
            values = try Self.load(data + "/value.f64", count: records)
            matrix = try Self.load(data + "/matrix.f32", count: records * 32)
        } else {
            var random = SystemRandomNumberGenerator()
            epochs = (0..<records).map { 797_947_269_184_000_000 + Int64($0) * 1_000_000_000 }
            values = (0..<records).map { _ in Double.random(in: -1...1, using: &random) }
            matrix = (0..<(records * 32)).map { _ in Float.random(in: -1...1, using: &random) }
        }
        var results: [String] = []
        for compression in [CDFCompression.none, .gzip6] {
            let suffix = compression == .none ? "plain" : "gzip"
            let epochPath = "\(output)/sdc_bench_epoch_f64_\(suffix).cdf"
            let matrixPath = "\(output)/sdc_bench_f32x32_\(suffix).cdf"
            let writeEpoch = try best {
                try CDFWriter.write(to: epochPath) { writer in
                    try writer.writeVariable(CDFVariableSpec(name: "Epoch", dataType: .tt2000, compression: compression), values: .int64(epochs))
                    try writer.writeVariable(CDFVariableSpec(name: "value", dataType: .real8, compression: compression), values: .double(values))
                }
            }
            let readEpoch = try best {
                let reader = try CDFReader(path: epochPath)
                let e = try reader.values(of: "Epoch")
                let v = try reader.values(of: "value")
                precondition(e.count == records && v.count == records)
            }
            let writeMatrix = try best {
                try CDFWriter.write(to: matrixPath) { writer in
                    try writer.writeVariable(CDFVariableSpec(name: "matrix", dataType: .real4, dimensions: [32], compression: compression),
                                             values: .float(matrix))
                }
            }
            let readMatrix = try best {
                let reader = try CDFReader(path: matrixPath)
                let m = try reader.values(of: "matrix")
                precondition(m.count == records * 32)
            }
            results.append("\"epoch_f64_\(suffix)\": {\"write_s\": \(writeEpoch), \"read_s\": \(readEpoch), \"bytes\": \(Self.size(epochPath))}")
            results.append("\"f32x32_\(suffix)\": {\"write_s\": \(writeMatrix), \"read_s\": \(readMatrix), \"bytes\": \(Self.size(matrixPath))}")
        }
        print("{" + results.joined(separator: ", ") + "}")
    }

    private func best(_ body: () throws -> Void) throws -> Double {
        var fastest = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = ContinuousClock.now
            try body()
            let elapsed = ContinuousClock.now - start
            fastest = min(fastest, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return fastest
    }

    private static func load<T>(_ path: String, count: Int) throws -> [T] {
        guard let file = fopen(path, "rb") else { throw ValidationError("cannot open \(path)") }
        defer { fclose(file) }
        return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let read = fread(buffer.baseAddress, MemoryLayout<T>.stride, count, file)
            guard read == count else { throw ValidationError("\(path) holds \(read) values, expected \(count)") }
            initialized = count
        }
    }

    private static func size(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : -1
    }
}
