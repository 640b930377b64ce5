import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import SDCCore
import Synchronization

/// `sdc-bench mixed`: many concurrent clients making the requests imap-data-access makes (two-step uploads of
/// 4–64 KiB, queries, downloads), each on a new connection as the real client does; prints requests per second and
/// latency percentiles. Bounded by a duration and a request count; stops by itself.
struct MixedBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mixed", abstract: "Requests/s and latency of a running sdc under mixed load.")

    @Option(help: "Base URL of the server.")
    var url: String

    @Option(help: "An API key with write scope.")
    var apiKey: String

    @Option(help: "Concurrent clients.")
    var clients = 64

    @Option(help: "Seconds of timed load.")
    var seconds = 20.0

    @Option(help: "Most timed operations (the run stops at whichever bound comes first).")
    var maxOperations = 500_000

    @Option(help: "Files uploaded before the timed load, for the downloads.")
    var seedFiles = 256

    @Option(help: "Smallest upload in bytes.")
    var minimumSize = 4_096

    @Option(help: "Largest upload in bytes.")
    var maximumSize = 65_536

    @Option(help: "The operations to mix, in equal parts (comma-separated: upload, query, download).")
    var mix = "upload,query,download"

    @Flag(inversion: .prefixedNo, help: "Open a new connection per request, as imap-data-access does.")
    var newConnections = true

    /// The operations of the mix, each one or two HTTP requests.
    enum Operation: String, CaseIterable {
        case upload, query, download
    }

    /// What one client measured.
    struct Tally: Sendable {
        var latencies: [String: [Double]] = [:]
        var failures: [String] = []
        var requests: Int { latencies.values.reduce(0) { $0 + $1.count } }
    }

    func run() async throws {
        guard clients > 0, seconds > 0, minimumSize > 0, maximumSize >= minimumSize else {
            throw ValidationError("clients and seconds must be positive, and 0 < minimum-size <= maximum-size")
        }
        guard !operations.isEmpty, operations.count == mix.split(separator: ",").count else {
            throw ValidationError("--mix takes a comma-separated list of \(Operation.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = clients
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            try await measure(client)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    private var operations: [Operation] { mix.split(separator: ",").compactMap { Operation(rawValue: String($0)) } }

    private func measure(_ client: HTTPClient) async throws {
        let runID = Int.random(in: 0..<90_000)
        let seeded = try await seed(client, runID: runID)
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let budget = OperationBudget(maxOperations)
        let operations = operations
        let start = ContinuousClock.now
        let tallies = try await withThrowingTaskGroup(of: Tally.self) { group in
            for index in 0..<clients {
                group.addTask {
                    var tally = Tally()
                    var generator = SystemRandomNumberGenerator()
                    var serial = 0
                    while ContinuousClock.now < deadline, budget.take() {
                        let operation = operations.randomElement(using: &generator) ?? .query
                        do {
                            switch operation {
                            case .upload:
                                serial += 1
                                let size = Int.random(in: minimumSize...maximumSize, using: &generator)
                                let day = Int.random(in: 0..<365, using: &generator)
                                try await upload(client, name: fileName(runID: runID, client: index, serial: serial, day: day), size: size, tally: &tally)
                            case .query:
                                let day = FileDate(ordinalDay: CatalogBench.firstDay.ordinal + Int.random(in: 0..<365, using: &generator))
                                try await timed("query", client, path: "/api-key/query?instrument=swe&data_level=l1a&start_date=\(day)&end_date=\(day)",
                                                tally: &tally)
                            case .download:
                                let key = seeded.randomElement(using: &generator) ?? ""
                                try await timed("download", client, path: "/api-key/download/\(key)", tally: &tally)
                            }
                        } catch {
                            tally.failures.append("\(operation.rawValue): \(error)")
                        }
                    }
                    return tally
                }
            }
            return try await group.reduce(into: [Tally]()) { $0.append($1) }
        }
        let elapsed = milliseconds(ContinuousClock.now - start) / 1000
        report(tallies, elapsed: elapsed)
    }

    private func fileName(runID: Int, client: Int, serial: Int, day: Int) -> String {
        "imap_swe_l1a_mix\(runID)-\(client)x\(serial)_\(FileDate(ordinalDay: CatalogBench.firstDay.ordinal + day))_v001.0000.cdf"
    }

    /// Uploads `seedFiles` files (16 at a time) and returns their keys.
    private func seed(_ client: HTTPClient, runID: Int) async throws -> [String] {
        try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<16 {
                group.addTask {
                    var tally = Tally()
                    var keys: [String] = []
                    for serial in stride(from: worker, to: seedFiles, by: 16) {
                        let file = try IMAPFileName.parse(fileName(runID: runID, client: -1, serial: serial, day: serial % 365))
                        try await upload(client, name: file.name, size: Int.random(in: minimumSize...maximumSize), tally: &tally)
                        if let failure = tally.failures.first { throw ValidationError("seeding failed: \(failure)") }
                        keys.append(file.key)
                    }
                    return keys
                }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
    }

    /// GET /upload (the presigned URL), then PUT the bytes to it, as imap-data-access's `upload` does.
    private func upload(_ client: HTTPClient, name: String, size: Int, tally: inout Tally) async throws {
        let grant = try await timed("upload_url", client, path: "/api-key/upload/\(name)", tally: &tally)
        guard let target = try JSONSerialization.jsonObject(with: Data(grant.readableBytesView), options: .fragmentsAllowed) as? String else {
            throw ValidationError("the upload URL answer is not a JSON string")
        }
        let payload = ByteBuffer(repeating: UInt8(truncatingIfNeeded: size), count: size)
        try await timed("upload_put", client, absoluteURL: target, body: payload, tally: &tally)
    }

    /// One timed request (a PUT of `body` when given, else a GET); a status other than 200 is a failure. Returns the body.
    @discardableResult
    private func timed(_ kind: String, _ client: HTTPClient, path: String = "", absoluteURL: String? = nil, body: ByteBuffer? = nil,
                       tally: inout Tally) async throws -> ByteBuffer {
        var request = HTTPClientRequest(url: absoluteURL ?? url + path)
        request.headers.add(name: "x-api-key", value: apiKey)
        if newConnections { request.headers.add(name: "connection", value: "close") }
        if let body {
            request.method = .PUT
            request.headers.add(name: "content-type", value: "")
            request.body = .bytes(body)
        }
        let start = ContinuousClock.now
        let response = try await client.execute(request, timeout: .seconds(60))
        let received = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else {
            throw ValidationError("\(kind) answered \(response.status): \(String(buffer: received).prefix(200))")
        }
        tally.latencies[kind, default: []].append(milliseconds(ContinuousClock.now - start))
        return received
    }

    private func report(_ tallies: [Tally], elapsed: Double) {
        var merged: [String: [Double]] = [:]
        for tally in tallies { merged.merge(tally.latencies) { $0 + $1 } }
        let failures = tallies.flatMap(\.failures)
        guard merged.values.contains(where: { !$0.isEmpty }) else {
            print(#"{"requests": 0, "failures": \#(failures.count)}"#)
            for failure in failures.prefix(5) { print("failure: \(failure)") }
            return
        }
        let all = Percentiles(merged.values.flatMap { $0 })
        let kinds = merged.keys.sorted().map { #""\#($0)": \#(Percentiles(merged[$0] ?? []).json)"# }.joined(separator: ", ")
        let requests = all.sorted.count
        print(String(format: #"{"clients": %d, "new_connections": %@, "seconds": %.1f, "requests": %d, "requests_per_s": %.0f, "latency": %@, "by_kind": {%@}, "failures": %d}"#,
                     clients, newConnections ? "true" : "false", elapsed, requests, Double(requests) / elapsed, all.json, kinds, failures.count))
        for failure in failures.prefix(5) { print("failure: \(failure)") }
    }
}

/// A shared count of operations still allowed.
final class OperationBudget: Sendable {
    private let remaining: Mutex<Int>

    init(_ count: Int) { remaining = Mutex(count) }

    /// Takes one operation from the budget; false when it is spent.
    func take() -> Bool {
        remaining.withLock { value in
            guard value > 0 else { return false }
            value -= 1
            return true
        }
    }
}
