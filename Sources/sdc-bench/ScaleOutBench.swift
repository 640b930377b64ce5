import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import SDCCatalog
import SDCCore
import SDCJobs
import SDCPostgres
import Synchronization

/// The scale-out benchmarks of scripts/bench (scaleout-*.sh): the same measurement on SQLite and PostgreSQL, or on
/// one replica and two.
struct ScaleOutBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaleout", abstract: "Scale-out benchmarks: catalog fill, HTTP query latency, uploads over replicas, job claims.",
        subcommands: [ScaleOutFill.self, ScaleOutQueries.self, ScaleOutUploads.self, ScaleOutClaims.self])
}

/// A small deterministic random number generator (SplitMix64), so that every target gets the same requests.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D4_9BB4_9133_11EB
        return z ^ (z >> 31)
    }
}

/// The science files of the synthetic catalog, in order: every day from ``CatalogBench/firstDay``, every instrument,
/// level and descriptor of ``CatalogBench``, version 1.0 (and 1.1 on one day in ten), each named by
/// ``ScienceFileName`` and parsed back by ``IMAPFileName``, as an upload would be.
struct SyntheticCatalog: Sequence, IteratorProtocol {
    let files: Int
    let ingested = UTCTime.now
    private var produced = 0
    private var day = 0, instrument = 0, level = 0, descriptor = 0, minor = 0

    init(files: Int) { self.files = files }

    static func minors(day: Int, descriptor: String) -> Int { (day + descriptor.count) % 10 == 0 ? 2 : 1 }

    /// The file names the catalog holds for `day` (an index from the first day) and `descriptor`, newest last.
    static func name(day: Int, instrument: Instrument, level: DataLevel, descriptor: String, minor: Int) -> String {
        ScienceFileName(instrument: instrument, dataLevel: level, descriptor: descriptor,
                        startDate: FileDate(ordinalDay: CatalogBench.firstDay.ordinal + day),
                        version: ProductVersion(major: 1, minor: minor), fileExtension: "cdf").name
    }

    mutating func next() -> CatalogRecord? {
        guard produced < files else { return nil }
        let descriptorName = CatalogBench.descriptors[descriptor]
        let name = Self.name(day: day, instrument: CatalogBench.instruments[instrument], level: CatalogBench.levels[level],
                             descriptor: descriptorName, minor: minor)
        // Advance: minor, descriptor, level, instrument, day.
        minor += 1
        if minor == Self.minors(day: day, descriptor: descriptorName) {
            minor = 0
            descriptor += 1
            if descriptor == CatalogBench.descriptors.count {
                descriptor = 0
                level += 1
                if level == CatalogBench.levels.count {
                    level = 0
                    instrument += 1
                    if instrument == CatalogBench.instruments.count { instrument = 0; day += 1 }
                }
            }
        }
        produced += 1
        guard let file = try? IMAPFileName.parse(name) else { preconditionFailure("generated an invalid file name: \(name)") }
        return CatalogRecord(file: file, size: 1_000_000, sha256: String(repeating: "0", count: 64), ingestionDate: ingested)
    }
}

/// `sdc-bench scaleout fill`: fills an empty catalog, SQLite (`--root`) or PostgreSQL (`--database`), through
/// ``FileCatalog/insert(_:)`` with the records of ``SyntheticCatalog``. With `--copy` it instead prints, for `psql`, the
/// same rows as `COPY ... FROM STDIN` blocks: the columns and values of the catalog's own `INSERT`
/// (``CatalogSchema/insertion(_:)``), so the rows are those an insert would write, about 30 times faster.
struct ScaleOutFill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fill", abstract: "Fill an empty SQLite or PostgreSQL catalog with synthetic science files.")

    @Option(help: "The data center folder whose catalog.sqlite to fill (without --database).")
    var root: String?

    @Option(help: "The PostgreSQL database to fill: postgres://USER@HOST:PORT/DB.")
    var database: String?

    @Option(help: "Number of science files.")
    var files = 1_000_000

    @Option(help: "Records per insert transaction.")
    var batch = 10_000

    @Option(help: "Insert transactions in flight at once (PostgreSQL; SQLite has one writer).")
    var concurrency = 4

    @Flag(help: "Print the rows as a psql script of COPY blocks instead of inserting them (run `fill --database URL --files 0` first to create the tables).")
    var copy = false

    func run() async throws {
        if copy {
            printCopyScript()
            return
        }
        let start = ContinuousClock.now
        if let database {
            let connection = try await PostgresDatabase.connect(url: database)
            do {
                try await fill(try await PostgresCatalog(database: connection), concurrency: concurrency)
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        } else {
            guard let root else { throw ValidationError("give --root or --database") }
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try await fill(try SQLiteCatalog(path: root + "/catalog.sqlite"), concurrency: 1)
        }
        let seconds = milliseconds(ContinuousClock.now - start) / 1000
        print(#"{"backend": "\#(database == nil ? "sqlite" : "postgres")", "files": \#(files), "fill_s": \#(String(format: "%.1f", seconds)), "files_per_s": \#(Int(Double(files) / seconds))}"#)
    }

    private func printCopyScript() {
        var output = ""
        var header = ""
        func flush() {
            FileHandle.standardOutput.write(Data(output.utf8))
            output.removeAll(keepingCapacity: true)
        }
        for record in SyntheticCatalog(files: files) {
            let insertion = CatalogSchema.insertion(record)
            // "INSERT INTO table (columns) VALUES (...)" -> "COPY table (columns) FROM STDIN;"
            let copy = "COPY " + insertion.sql.dropFirst("INSERT INTO ".count).prefix { $0 != ")" } + ") FROM STDIN;\n"
            if copy != header {
                if !header.isEmpty { output += "\\.\n" }
                output += copy
                header = copy
            }
            output += insertion.values.map(Self.copyText).joined(separator: "\t") + "\n"
            if output.utf8.count > 1 << 20 { flush() }
        }
        if !header.isEmpty { output += "\\.\n" }
        flush()
    }

    /// A value in COPY's text format.
    private static func copyText(_ value: SQLValue) -> String {
        switch value {
        case .null: return "\\N"
        case .integer(let number): return String(number)
        case .boolean(let flag): return flag ? "t" : "f"
        case .text(let text):
            var escaped = ""
            for character in text.unicodeScalars {
                switch character {
                case "\\": escaped += "\\\\"
                case "\t": escaped += "\\t"
                case "\n": escaped += "\\n"
                case "\r": escaped += "\\r"
                default: escaped.unicodeScalars.append(character)
                }
            }
            return escaped
        }
    }

    private func fill(_ catalog: some FileCatalog, concurrency: Int) async throws {
        var records = SyntheticCatalog(files: files).makeIterator()
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            while true {
                var chunk: [CatalogRecord] = []
                chunk.reserveCapacity(batch)
                while chunk.count < batch, let record = records.next() { chunk.append(record) }
                if chunk.isEmpty { break }
                if inFlight == max(1, concurrency) {
                    try await group.next()
                    inFlight -= 1
                }
                group.addTask { [chunk] in try await catalog.insert(chunk) }
                inFlight += 1
            }
            try await group.waitForAll()
        }
    }
}

/// A server under test: a label, its base URL and an API key.
struct Target: Sendable {
    var label: String
    var url: String
    var key: String

    /// Parses `LABEL=URL=KEY`.
    init(argument: String) throws {
        let parts = argument.split(separator: "=", maxSplits: 2).map(String.init)
        guard parts.count == 3 else { throw ValidationError("--target must be LABEL=URL=KEY, not \(argument)") }
        (label, url, key) = (parts[0], parts[1], parts[2])
    }
}

/// `sdc-bench scaleout queries`: /query latency of the kinds of query imap-data-access makes, the same random queries
/// sent to every target in turn (so that the machine's load hits all alike).
struct ScaleOutQueries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queries", abstract: "HTTP /query p50/p99 per kind of query, the same queries on each target.")

    @Option(help: "LABEL=URL=KEY of a server whose catalog `scaleout fill` filled (repeat; the ratio is each one's p99 over the first's).")
    var target: [String]

    @Option(help: "Timed queries of each kind on each target.")
    var queries = 1_000

    @Option(help: "Untimed queries of each kind on each target first (to warm the caches, as in a serving data center).")
    var warmup = 50

    @Option(help: "Files in the catalogs (as filled by `scaleout fill`).")
    var files = 1_000_000

    @Option(help: "Seed of the query sequence.")
    var seed: UInt64 = 10

    enum Kind: String, CaseIterable {
        case range = "instrument + data_level + 30-day range"
        case descriptor = "instrument + descriptor + 30-day range"
        case latest = "instrument + data_level + descriptor + 30-day range, version=latest"
        case file = "one file_path"
    }

    func run() async throws {
        let targets = try target.map(Target.init(argument:))
        guard !targets.isEmpty else { throw ValidationError("give at least one --target") }
        let days = CatalogBench.days(for: files)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        var timings = [[Kind: [Double]]](repeating: [:], count: targets.count)
        var rows = [[Kind: Int]](repeating: [:], count: targets.count)
        var generator = SeededGenerator(state: seed)
        do {
            for index in 0..<((warmup + queries) * Kind.allCases.count) {
                let timed = index >= warmup * Kind.allCases.count
                let kind = Kind.allCases[index % Kind.allCases.count]
                let query = Self.parameters(kind, days: days, using: &generator)
                for (position, target) in targets.enumerated() {
                    var request = HTTPClientRequest(url: "\(target.url)/api-key/query?\(query)")
                    request.headers.add(name: "x-api-key", value: target.key)
                    let start = ContinuousClock.now
                    let response = try await client.execute(request, timeout: .seconds(30))
                    let body = try await response.body.collect(upTo: 64 << 20)
                    let elapsed = milliseconds(ContinuousClock.now - start)
                    guard response.status == .ok,
                          let matches = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [Any] else {
                        throw ValidationError("\(target.label): /query?\(query) answered \(response.status)")
                    }
                    if kind == .file, matches.count != 1 {
                        throw ValidationError("\(target.label): /query?\(query) found \(matches.count) files, not 1: is the catalog filled?")
                    }
                    if timed {
                        timings[position][kind, default: []].append(elapsed)
                        rows[position][kind, default: 0] += matches.count
                    }
                }
            }
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        for kind in Kind.allCases + [nil] {
            var fields = [#""query": "\#(kind?.rawValue ?? "all kinds")""#]
            var p99s: [Double] = []
            for (position, target) in targets.enumerated() {
                let samples = kind.map { timings[position][$0] ?? [] } ?? timings[position].values.flatMap { $0 }
                let percentiles = Percentiles(samples)
                p99s.append(percentiles.at(0.99))
                let rowCount = kind.map { rows[position][$0] ?? 0 } ?? rows[position].values.reduce(0, +)
                fields.append(#""\#(target.label)": \#(percentiles.json), "\#(target.label)_rows_per_query": \#(rowCount / max(1, samples.count))"#)
            }
            for (position, target) in targets.enumerated().dropFirst() {
                fields.append(#""p99_\#(target.label)_over_\#(targets[0].label)": \#(String(format: "%.2f", p99s[position] / p99s[0]))"#)
            }
            print("{" + fields.joined(separator: ", ") + "}")
        }
    }

    /// The query string of one query of `kind` over a catalog of `days` days.
    static func parameters(_ kind: Kind, days: Int, using generator: inout SeededGenerator) -> String {
        let instrument = CatalogBench.instruments.randomElement(using: &generator)!
        let level = CatalogBench.levels.randomElement(using: &generator)!
        let descriptor = CatalogBench.descriptors.randomElement(using: &generator)!
        let first = Int.random(in: 0..<max(1, days - 30), using: &generator)
        let range = "start_date=\(FileDate(ordinalDay: CatalogBench.firstDay.ordinal + first))&end_date=\(FileDate(ordinalDay: CatalogBench.firstDay.ordinal + first + 29))"
        switch kind {
        case .range:
            return "table=science&instrument=\(instrument.rawValue)&data_level=\(level.rawValue)&\(range)"
        case .descriptor:
            return "table=science&instrument=\(instrument.rawValue)&descriptor=\(descriptor)&\(range)"
        case .latest:
            return "table=science&instrument=\(instrument.rawValue)&data_level=\(level.rawValue)&descriptor=\(descriptor)&\(range)&version=latest"
        case .file:
            let name = SyntheticCatalog.name(day: first, instrument: instrument, level: level, descriptor: descriptor, minor: 0)
            let key = (try? IMAPFileName.parse(name))?.key ?? name
            return "table=science&file_path=\(key.percentEncoded())"
        }
    }
}

/// `sdc-bench scaleout uploads`: small two-step uploads (GET /upload, then PUT to the URL it answers) by `--clients`
/// concurrent clients for `--seconds`, each GET sent to the next server of `--url` in turn (round robin).
struct ScaleOutUploads: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "uploads", abstract: "Small uploads per second over one or more replicas (round robin).")

    @Option(help: "Base URL of a replica (repeat for round robin).")
    var url: [String]

    @Option(help: "An API key with write scope (valid on every replica).")
    var apiKey: String

    @Option(help: "Concurrent clients in all.")
    var clients = 16

    @Option(help: "Seconds to upload for.")
    var seconds = 15

    @Option(help: "Smallest file in bytes.")
    var minSize = 4_096

    @Option(help: "Largest file in bytes.")
    var maxSize = 65_536

    func run() async throws {
        guard !url.isEmpty else { throw ValidationError("give at least one --url") }
        let urls = url
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        let payload = (0..<maxSize).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let runID = String(UInt32.random(in: 0..<UInt32.max), radix: 16)
        let counters = UploadCounters()
        let deadline = ContinuousClock.now + .seconds(seconds)
        let start = ContinuousClock.now
        let (minSize, maxSize, apiKey) = (minSize, maxSize, self.apiKey)
        var timings: [Double] = []
        do {
            timings = try await withThrowingTaskGroup(of: [Double].self) { group in
                for _ in 0..<clients {
                    group.addTask {
                        var own: [Double] = []
                        while ContinuousClock.now < deadline {
                            let index = counters.next.add(1, ordering: .relaxed).oldValue
                            let size = Int.random(in: minSize...maxSize)
                            let name = "imap_swe_l1a_up\(runID)-\(index)_20250101_v001.0000.cdf"
                            let begin = ContinuousClock.now
                            var grant = HTTPClientRequest(url: "\(urls[index % urls.count])/api-key/upload/\(name)")
                            grant.headers.add(name: "x-api-key", value: apiKey)
                            let grantResponse = try await client.execute(grant, timeout: .seconds(60))
                            let body = try await grantResponse.body.collect(upTo: 1 << 16)
                            guard grantResponse.status == .ok,
                                  let target = try JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: .fragmentsAllowed) as? String
                            else { throw ValidationError("GET /upload/\(name) answered \(grantResponse.status)") }
                            var put = HTTPClientRequest(url: target)
                            put.method = .PUT
                            put.body = .bytes(ByteBuffer(bytes: payload[0..<size]))
                            let putResponse = try await client.execute(put, timeout: .seconds(60))
                            _ = try await putResponse.body.collect(upTo: 1 << 16)
                            guard putResponse.status == .ok else { throw ValidationError("PUT of \(name) answered \(putResponse.status)") }
                            own.append(milliseconds(ContinuousClock.now - begin))
                            counters.bytes.add(size, ordering: .relaxed)
                        }
                        return own
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        let elapsed = milliseconds(ContinuousClock.now - start) / 1000
        print(#"{"replicas": \#(urls.count), "clients": \#(clients), "bytes": "\#(minSize)-\#(maxSize)", "files": \#(timings.count), "files_per_s": \#(String(format: "%.1f", Double(timings.count) / elapsed)), "mib_per_s": \#(String(format: "%.2f", Double(counters.bytes.load(ordering: .relaxed)) / elapsed / 1_048_576)), "upload_latency": \#(Percentiles(timings).json)}"#)
    }
}

/// What the clients of ``ScaleOutUploads`` share: the next file number and the bytes uploaded.
final class UploadCounters: Sendable {
    let next = Atomic<Int>(0)
    let bytes = Atomic<Int>(0)
}

/// `sdc-bench scaleout claims`: seeds `--jobs` queued jobs through ``JobStore/submit(_:highestCatalogedMinor:)``, then
/// `--workers` concurrent claimers claim and complete them as fast as they can; counts claims per job (a double claim
/// is a job claimed twice, which must never happen) and checks the store agrees (every job succeeded on attempt 1).
struct ScaleOutClaims: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "claims", abstract: "Job claims per second with concurrent workers, counting double claims.")

    @Option(help: "A folder for jobs.sqlite (without --database; must not hold one).")
    var root: String?

    @Option(help: "An empty PostgreSQL database: postgres://USER@HOST:PORT/DB.")
    var database: String?

    @Option(help: "Jobs to seed.")
    var jobs = 4_000

    @Option(help: "Concurrent claimers.")
    var workers = 8

    func run() async throws {
        if let database {
            let connection = try await PostgresDatabase.connect(url: database)
            do {
                try await measure(try await PostgresJobStore(database: connection), backend: "postgres")
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        } else {
            guard let root else { throw ValidationError("give --root or --database") }
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try await measure(try SQLiteJobStore(path: root + "/jobs.sqlite"), backend: "sqlite")
        }
    }

    private func measure(_ store: some JobStore, backend: String) async throws {
        let seedStart = ContinuousClock.now
        for index in 0..<jobs {
            var inputs = ProcessingInputCollection()
            inputs.add(type: "science", files: ["imap_swapi_l0_raw_\(FileDate(ordinalDay: CatalogBench.firstDay.ordinal + index))_v001.pkts"])
            let request = JobRequest(product: ProductNode("swapi", "l1a", "all"), startDate: FileDate(ordinalDay: CatalogBench.firstDay.ordinal + index),
                                     algorithm: "bench", algorithmVersion: "1", majorVersion: 1, inputs: inputs, maxAttempts: 3)
            guard try await store.submit(request, highestCatalogedMinor: nil).created else {
                throw ValidationError("job \(index) was not created: the job store is not empty")
            }
        }
        let seeded = milliseconds(ContinuousClock.now - seedStart) / 1000
        let start = ContinuousClock.now
        let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var ids: [Int64] = []
                    while let claim = try await store.claim(workerID: "bench-\(worker)", leaseSeconds: 600) {
                        ids.append(claim.job.id)
                        _ = try await store.complete(claim.credential, outputs: [], log: "")
                    }
                    return ids
                }
            }
            return try await group.reduce(into: [Int64]()) { $0 += $1 }
        }
        let elapsed = milliseconds(ContinuousClock.now - start) / 1000
        var claimsPerJob: [Int64: Int] = [:]
        for id in claimed { claimsPerJob[id, default: 0] += 1 }
        let doubleClaims = claimsPerJob.values.reduce(0) { $0 + max(0, $1 - 1) }
        let succeeded = try await store.countsByStatus()[.succeeded] ?? 0
        let all = try await store.jobs(matching: JobFilter(limit: jobs + 1))
        let notOnce = all.filter { $0.attempts != 1 || $0.status != .succeeded }.count
        print(#"{"backend": "\#(backend)", "workers": \#(workers), "jobs": \#(jobs), "seed_jobs_per_s": \#(Int(Double(jobs) / seeded)), "claims": \#(claimed.count), "distinct_jobs_claimed": \#(claimsPerJob.count), "double_claims": \#(doubleClaims), "succeeded": \#(succeeded), "jobs_not_run_exactly_once": \#(notOnce), "claims_per_s": \#(String(format: "%.0f", Double(claimed.count) / elapsed))}"#)
        guard doubleClaims == 0, claimsPerJob.count == jobs, succeeded == jobs, notOnce == 0 else {
            throw ValidationError("\(backend): \(doubleClaims) double claims, \(claimsPerJob.count) of \(jobs) jobs claimed, \(succeeded) succeeded, \(notOnce) not run exactly once")
        }
    }
}
