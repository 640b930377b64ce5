import Foundation
import Glibc
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SDCIngest
import SDCServer
import Testing

/// The pieces made cheaper for the mixed-load benchmark still answer and write exactly what they did.
struct ServerCostTests {
    /// On a channel without NIO's HTTP/1 encoder (Hummingbird's in-memory router test channel), a local file region
    /// is sent through the body writer: whole objects and ranges arrive byte for byte, from a store that only offers
    /// file regions (reading through user space fails).
    @Test func fileRegionsGoThroughTheBodyWriterWithoutAnHTTP1Encoder() async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        let name = "imap_swe_l1a_sci_20240105_v001.0000.cdf"
        let key = "imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0000.cdf"
        // Larger than two of the writer's chunks and not a multiple of them.
        let bytes = (0..<(600 * 1024 + 3)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let store = DownloadPathStore(inner: t.dataCenter.store, path: .sendfile)
        let server = DataCenterServer(configuration: ServerConfiguration(), ingestor: Ingestor(catalog: t.dataCenter.catalog, store: store),
                                      keys: t.dataCenter.catalog, requestLog: t.dataCenter.catalog)
        try await server.application().test(.router) { client in
            #expect(try await client.upload(name, bytes, key: t.writeKey).status == .ok)
            let whole = try await client.execute(uri: "/api-key/download/\(key)", method: .get, headers: [apiKeyHeader: t.readKey])
            #expect(whole.status == .ok)
            #expect(Array(buffer: whole.body) == bytes)
            let range = try await client.execute(uri: "/api-key/download/\(key)", method: .get,
                                                 headers: [apiKeyHeader: t.readKey, .range: "bytes=262140-524300"])
            #expect(range.status == .partialContent && range.headers[.contentRange] == "bytes 262140-524300/\(bytes.count)")
            #expect(Array(buffer: range.body) == Array(bytes[262140...524300]))
        }
    }

    /// ``StandardErrorLogHandler`` writes the lines swift-log's `StreamLogHandler` writes: level, label, sorted
    /// metadata (handler, provider, per-line and error), source and message, and a timestamp of the same form.
    @Test func logHandlerWritesStreamLogHandlerLines() throws {
        var pipe: [Int32] = [0, 0]
        try #require(Glibc.pipe(&pipe) == 0)
        defer { close(pipe[0]) }
        let provider = Logger.MetadataProvider { ["provided": "p"] }
        var fast = StandardErrorLogHandler(label: "sdc.test", fileDescriptor: pipe[1], metadataProvider: provider)
        let stream = CollectingStream()
        var reference = StreamLogHandler(label: "sdc.test", stream: stream, metadataProvider: provider)
        fast[metadataKey: "caller"] = "bench (sdc_abc…)"
        reference[metadataKey: "caller"] = "bench (sdc_abc…)"
        struct Failure: Error, CustomStringConvertible { var description: String { "disk full" } }
        let events = [
            LogEvent(level: .info, message: "request", metadata: ["path": "/api-key/query", "status": "200", "duration_ms": "1.5"],
                     source: "SDCServer", file: #fileID, function: #function, line: #line),
            LogEvent(level: .error, message: "ingest failed", error: Failure(), metadata: nil,
                     source: "SDCIngest", file: #fileID, function: #function, line: #line),
            LogEvent(level: .warning, message: "no metadata of its own", metadata: nil,
                     source: "sdc", file: #fileID, function: #function, line: #line),
        ]
        for event in events {
            fast.log(event: event)
            reference.log(event: event)
        }
        close(pipe[1])
        var written: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while case let count = read(pipe[0], &chunk, chunk.count), count > 0 { written += chunk[..<count] }
        let fastLines = String(decoding: written, as: UTF8.self).split(separator: "\n")
        let referenceLines = stream.text.split(separator: "\n")
        #expect(fastLines.count == events.count)
        // The timestamp is the first word; the lines may straddle a second, so the rest is compared.
        #expect(fastLines.map { $0.drop { $0 != " " } } == referenceLines.map { $0.drop { $0 != " " } })
        let timestamp = try #require(fastLines.first?.split(separator: " ").first)
        #expect(timestamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}/) != nil)
    }
}

/// A text stream that keeps what is written, for `StreamLogHandler`.
final class CollectingStream: TextOutputStream, @unchecked Sendable {
    private let lock = NSLock()
    private var collected = ""

    var text: String { lock.withLock { collected } }

    func write(_ string: String) { lock.withLock { collected += string } }
}
