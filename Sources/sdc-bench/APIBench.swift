import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import SDCCore

/// `sdc-bench api`: measures a running server: `/query` latency and small-file uploads per second.
struct APIBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "api", abstract: "HTTP query latency and small-upload rate of a running sdc.")

    @Option(help: "Base URL of the server.")
    var url: String

    @Option(help: "An API key with write scope.")
    var apiKey: String

    @Option(help: "Timed /query requests (instrument + level + 30-day range; use a catalog filled by `sdc-bench catalog`).")
    var queries = 1_000

    @Option(help: "Files to upload.")
    var uploads = 2_000

    @Option(help: "Size of each uploaded file in bytes.")
    var uploadSize = 4_096

    @Option(help: "Concurrent uploads.")
    var concurrency = 8

    @Option(help: "Number of days the catalog spans (as filled by `sdc-bench catalog`).")
    var days = CatalogBench.days(for: 1_000_000)

    func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            let latency = try await queryLatency(client)
            let rate = try await uploadRate(client)
            print(#"{"query_latency": \#(latency.json), "uploads": {"files": \#(uploads), "bytes_each": \#(uploadSize), "concurrency": \#(concurrency), "files_per_s": \#(String(format: "%.1f", rate))}}"#)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    private func queryLatency(_ client: HTTPClient) async throws -> Percentiles {
        var timings: [Double] = []
        for _ in 0..<queries {
            let instrument = CatalogBench.instruments.randomElement()!.rawValue
            let level = CatalogBench.levels.randomElement()!.rawValue
            let first = FileDate(ordinalDay: CatalogBench.firstDay.ordinal + Int.random(in: 0..<max(1, days - 30)))
            let last = FileDate(ordinalDay: first.ordinal + 29)
            var request = HTTPClientRequest(url: "\(url)/api-key/query?table=science&instrument=\(instrument)&data_level=\(level)&start_date=\(first)&end_date=\(last)")
            request.headers.add(name: "x-api-key", value: apiKey)
            let start = ContinuousClock.now
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 64 << 20)
            guard response.status == .ok else { throw ValidationError("query answered \(response.status)") }
            timings.append(milliseconds(ContinuousClock.now - start))
        }
        return Percentiles(timings)
    }

    private func uploadRate(_ client: HTTPClient) async throws -> Double {
        let payload = ByteBuffer(bytes: (0..<uploadSize).map { UInt8(truncatingIfNeeded: $0) })
        let runID = Int.random(in: 0..<90_000)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    for index in stride(from: worker, to: uploads, by: concurrency) {
                        let name = "imap_swe_l1a_bench\(runID)-\(index)_20250101_v001.0000.cdf"
                        var grant = HTTPClientRequest(url: "\(url)/api-key/upload/\(name)")
                        grant.headers.add(name: "x-api-key", value: apiKey)
                        let grantResponse = try await client.execute(grant, timeout: .seconds(30))
                        let body = try await grantResponse.body.collect(upTo: 1 << 16)
                        guard grantResponse.status == .ok,
                              let target = try JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: .fragmentsAllowed) as? String
                        else { throw ValidationError("upload URL request answered \(grantResponse.status)") }
                        var put = HTTPClientRequest(url: target)
                        put.method = .PUT
                        put.body = .bytes(payload)
                        let putResponse = try await client.execute(put, timeout: .seconds(30))
                        _ = try await putResponse.body.collect(upTo: 1 << 16)
                        guard putResponse.status == .ok else { throw ValidationError("PUT answered \(putResponse.status)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(uploads) / (milliseconds(ContinuousClock.now - start) / 1000)
    }
}
