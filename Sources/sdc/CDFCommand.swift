import ArgumentParser
import SDCCDF

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `sdc cdf`: inspect, validate and write CDF files, and convert CDF times.
struct CDFCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cdf",
        abstract: "Dump, validate and write CDF files; convert CDF times.",
        subcommands: [CDFDumpCommand.self, CDFValidateCommand.self, CDFWriteCommand.self, CDFTimeCommand.self]
    )
}

/// `sdc cdf dump FILE [--json] [--records N]`.
struct CDFDumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print global attributes, variables (type, shape, records, compression, attributes) and values.")

    @Argument(help: "The CDF file.")
    var file: String

    @Flag(help: "Print one JSON object: {\"attributes\": {...}, \"variables\": [...]}.")
    var json = false

    @Option(help: "Print only the first N records of each variable.")
    var records: Int?

    @Flag(help: "Do not verify the MD5 trailer.")
    var noChecksum = false

    func run() async throws {
        let reader = try CDFReader(path: file, options: CDFReadOptions(verifyChecksum: !noChecksum))
        let dump = CDFDump(reader: reader, recordLimit: records.map { max(0, $0) })
        if json {
            try CDFStandardOutput.emit(dump.json())
        } else {
            try CDFStandardOutput.emit(Array(dump.text().utf8))
        }
    }
}

/// `sdc cdf validate FILE`: the ISTP report; exits 1 when there are errors.
struct CDFValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a CDF against the ISTP metadata rules; exit status 1 when errors are found.")

    @Argument(help: "The CDF file.")
    var file: String

    func run() async throws {
        let reader = try CDFReader(path: file)
        let report = ISTPValidator().validate(reader)
        try CDFStandardOutput.emit(Array(report.text.utf8))
        if !report.errors.isEmpty { throw ExitCode(1) }
    }
}

/// `sdc cdf write SPEC.json OUT.cdf`: writes a CDF from a JSON description (the `dump --json` layout).
struct CDFWriteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write",
        abstract: "Write a CDF from a JSON description in the layout of `dump --json`.",
        discussion: """
            Attributes: strings are CDF_CHAR, integers CDF_INT8, floats CDF_DOUBLE; use {"type": "CDF_REAL4", \
            "value": ...} for other types. Variables take "name", "type", "dims", "record_varying", "compression" \
            ("none", "gzip", "gzip1".."gzip9"), optional "string_length", "blocking_factor", "pad", "attributes" \
            and "values" (nested per record and dimension; times may be ISO 8601 strings). A top-level \
            "md5": true adds an MD5 trailer. The file is written to a temporary name and renamed into place.
            """)

    @Argument(help: "The JSON description ('-' for standard input).")
    var spec: String

    @Argument(help: "The CDF file to create.")
    var output: String

    func run() async throws {
        let json = spec == "-" ? try CDFStandardInput.readAll() : try CDFStandardInput.readFile(spec)
        try CDFJSONSpec.write(json: json, to: output)
    }
}

/// `sdc cdf time`: converts between UTC (ISO 8601), TT2000 and CDF_EPOCH.
struct CDFTimeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "time",
        abstract: "Convert times between UTC (ISO 8601), CDF_TIME_TT2000 and CDF_EPOCH, one per line.",
        discussion: "Values come from the arguments, or from standard input (one per line) when none are given.")

    enum Scale: String, ExpressibleByArgument, CaseIterable {
        case utc, tt2000, epoch
    }

    @Option(help: "Scale of the input values: utc, tt2000 or epoch.")
    var from: Scale = .utc

    @Option(help: "Scale to print: utc, tt2000 or epoch.")
    var to: Scale = .tt2000

    @Argument(help: "Values to convert.")
    var values: [String] = []

    func run() async throws {
        let inputs = values.isEmpty
            ? String(decoding: try CDFStandardInput.readAll(), as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
            : values
        var output: [UInt8] = []
        for input in inputs {
            let text = input.trimmingCharacters(in: " \t\r")
            guard !text.isEmpty else { continue }
            let utc: CDFDateTime
            var tt2000: Int64?
            switch from {
            case .utc: utc = try CDFDateTime(iso8601: text)
            case .tt2000:
                guard let value = Int64(text) else { throw ValidationError("'\(text)' is not a TT2000 integer") }
                tt2000 = value
                utc = TT2000.utc(value)
            case .epoch:
                guard let value = Double(text) else { throw ValidationError("'\(text)' is not a CDF_EPOCH number") }
                utc = CDFEpochTime.utc(value)
            }
            let line: String
            switch to {
            case .utc: line = utc.iso8601
            case .tt2000: line = String(try tt2000 ?? TT2000.from(utc))
            case .epoch: line = String(CDFEpochTime.from(utc))
            }
            output.append(contentsOf: line.utf8)
            output.append(0x0A)
        }
        try CDFStandardOutput.emit(output)
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

/// Whole-buffer writes to standard output.
private enum CDFStandardOutput {
    static func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(1, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CDFError.io(path: "standard output", operation: "write", errno: errno)
                }
                done += n
            }
        }
    }
}

/// Reads standard input or a file completely.
private enum CDFStandardInput {
    static func readAll() throws -> [UInt8] { try drain(descriptor: 0, name: "standard input") }

    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CDFError.io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        return try drain(descriptor: fd, name: path)
    }

    private static func drain(descriptor: Int32, name: String) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CDFError.io(path: name, operation: "read", errno: errno)
            }
            if n == 0 { return result }
            result.append(contentsOf: chunk[0..<n])
        }
    }
}
