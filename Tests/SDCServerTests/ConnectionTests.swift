import AsyncHTTPClient
import Foundation
import HummingbirdTesting
import NIOCore
import SDCServer
import Testing

struct ConnectionTests {
    /// imap-data-access opens a connection per request; a client that asks the server to close it is told so in
    /// every answer, successes and errors alike, and a client that does not ask keeps its connection.
    @Test func answersToConnectionCloseSayClose() async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        try await t.server().application().test(.live) { client in
            let port = try #require(client.port)
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                for (path, status) in [("/health/live", 200), ("/nope", 404), ("/api-key/query?instrument=swe", 401)] {
                    var closing = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                    closing.headers.add(name: "connection", value: "close")
                    let closed = try await http.execute(closing, timeout: .seconds(30))
                    _ = try await closed.body.collect(upTo: 1 << 20)
                    #expect(Int(closed.status.code) == status, "\(path)")
                    #expect(closed.headers["connection"] == ["close"], "\(path)")
                    let kept = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(30))
                    _ = try await kept.body.collect(upTo: 1 << 20)
                    #expect(Int(kept.status.code) == status && kept.headers["connection"].isEmpty, "\(path)")
                }
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }
}
