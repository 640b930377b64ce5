import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
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
}
