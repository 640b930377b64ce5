import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SDCServer
import Testing

struct UnknownRouteTests {
    @Test func unknownPathsAndMethodsGetTheAPIsJSONNotFound() async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        try await t.server().application().test(.live) { client in
            let requests: [(String, HTTPRequest.Method, HTTPFields)] = [
                ("/nope", .get, [:]), ("/api-key/nope", .get, [apiKeyHeader: t.readKey]), ("/authorized/querry?instrument=swe", .get, [:]),
                ("/query", .delete, [:]), ("/api-key/upload", .put, [apiKeyHeader: t.writeKey]), ("/objects", .post, [:]),
            ]
            for (uri, method, headers) in requests {
                let response = try await client.execute(uri: uri, method: method, headers: headers)
                #expect(response.status == .notFound, "\(method) \(uri)")
                #expect(response.headers[.contentType] == "application/json", "\(method) \(uri)")
                let json = try? JSONSerialization.jsonObject(with: Data(response.text.utf8))
                let body = try #require(json as? [String: String], "\(method) \(uri): '\(response.text)'")
                #expect(body["error"] == "NotFound", "\(method) \(uri)")
                let path = String(uri.prefix { $0 != "?" })
                #expect(body["message"] == "There is no \(method.rawValue) endpoint at \(path).", "\(method) \(uri)")
            }
        }
    }

    @Test func routesKeepTheirOwnAnswers() async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        try await t.server().application().test(.live) { client in
            let missing = try await client.execute(uri: "/api-key/download/imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0000.cdf",
                                                   method: .get, headers: [apiKeyHeader: t.readKey])
            #expect(missing.status == .notFound)
            #expect(missing.text == #"{"error": "NotFound", "message": "File not found, make sure you include the full path to the file in the request, e.g. /download/path/to/file/filename.pkts."}"#)
            #expect(try await client.execute(uri: "/api-key/query?instrument=swe", method: .get).status == .unauthorized)
            let live = try await client.execute(uri: "/health/live", method: .get)
            #expect(live.status == .ok && live.text == #"{"status": "ok"}"#)
        }
    }
}
