import Crypto
import Foundation
import NIOConcurrencyHelpers
import SDCCore
import Testing
@testable import SDCClient

/// The client against a scripted HTTP server on 127.0.0.1.
@Suite("DataAccessClient over HTTP")
struct ClientHTTPTests {
    static let scienceName = "imap_swe_l1a_sci_20240105_v001.0002.cdf"
    static let scienceKey = "imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0002.cdf"
    static let fastRetry = RetryPolicy(maximumAttempts: 3, initialBackoff: .milliseconds(1), maximumBackoff: .milliseconds(5))

    private func withClient<Result>(
        _ server: TestHTTPServer, credentials: Credentials = .anonymous, dataDirectory: String = "/nonexistent",
        _ body: (DataAccessClient) async throws -> Result
    ) async throws -> Result {
        let configuration = SDCClientConfiguration(
            url: server.baseURL, credentials: credentials, dataDirectory: dataDirectory, retry: Self.fastRetry)
        return try await DataAccessClient.withClient(configuration: configuration, body)
    }

    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "sdc-client-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    @Test func queryRequestUsesTheAPIKeyRouteAndHeader() async throws {
        try await TestHTTPServer.with({ _ in .json(#"[{"b": 1, "a": 2.50}]"#) }) { server in
            let rows = try await withClient(server, credentials: .apiKey("secret")) { client in
                try await client.query(FileQueryParameters(instrument: "swe", version: "latest"))
            }
            #expect(JSONValue.array(rows).serialized() == #"[{"b": 1, "a": 2.5}]"#)
            let request = try #require(server.requests.first)
            #expect(request.method == "GET")
            #expect(request.uri == "/api-key/query?table=science&instrument=swe&latest=true")
            #expect(request.header("x-api-key") == "secret")
            #expect(request.header("Authorization") == nil)
        }
    }

    @Test func accessTokensUseTheAuthorizedRoute() async throws {
        try await TestHTTPServer.with({ _ in .json("[]") }) { server in
            _ = try await withClient(server, credentials: .accessToken("tok")) { client in
                try await client.query(SPICEQueryParameters(kernelType: "spin"))
            }
            let request = try #require(server.requests.first)
            #expect(request.uri == "/authorized/spice-query?type=spin")
            #expect(request.header("Authorization") == "Bearer tok")
        }
    }

    @Test func serviceUnavailableIsRetriedWithBackoff() async throws {
        let calls = Counter()
        try await TestHTTPServer.with({ _ in
            calls.increment() < 3 ? .json(#"{"error": "SlowDown"}"#, status: 503) : .json("[]")
        }) { server in
            let rows = try await withClient(server) { client in try await client.query(FileQueryParameters(instrument: "mag")) }
            #expect(rows.isEmpty)
            #expect(server.requests.count == 3)
        }
    }

    @Test func persistentServiceUnavailableSurfacesTheLastAnswer() async throws {
        try await TestHTTPServer.with({ _ in .json(#"{"error": "SlowDown"}"#, status: 503) }) { server in
            await #expect(throws: SDCClientError.http(status: 503, reason: "Service Unavailable", body: #"{"error": "SlowDown"}"#)) {
                try await withClient(server) { client in try await client.query(FileQueryParameters(instrument: "mag")) }
            }
            #expect(server.requests.count == Self.fastRetry.maximumAttempts)
        }
    }

    @Test func otherErrorStatusesAreNotRetried() async throws {
        try await TestHTTPServer.with({ _ in .json(#""Not allowed""#, status: 400) }) { server in
            let error = await #expect(throws: SDCClientError.self) {
                try await withClient(server) { client in try await client.query(FileQueryParameters(instrument: "mag")) }
            }
            #expect(error?.description == #"IMAPDataAccessError('400 Bad Request: "Not allowed"')"#)
            #expect(server.requests.count == 1)
        }
    }

    @Test func largeErrorBodiesAreTruncatedNotFatal() async throws {
        try await TestHTTPServer.with({ _ in TestHTTPServer.Reply(status: 404, body: Array(repeating: 0x41, count: 3 << 20)) }) { server in
            let error = await #expect(throws: SDCClientError.self) {
                try await withClient(server) { client in try await client.query(FileQueryParameters(instrument: "mag")) }
            }
            guard case .http(404, "Not Found", let body)? = error else {
                Issue.record("unexpected \(String(describing: error))")
                return
            }
            #expect(body.utf8.count == HTTPTransport.maximumErrorBodyBytes)
            #expect(server.requests.count == 1)
        }
    }

    @Test func connectionFailuresAreRetriedThenReported() async throws {
        let server = try await TestHTTPServer.start { _ in .json("[]") }
        let url = server.baseURL
        try await server.stop()
        let configuration = SDCClientConfiguration(
            url: url, dataDirectory: "/x", retry: Self.fastRetry, connectTimeout: .milliseconds(200))
        let error = await #expect(throws: SDCClientError.self) {
            try await DataAccessClient.withClient(configuration: configuration) { client in
                try await client.query(FileQueryParameters(instrument: "mag"))
            }
        }
        #expect(error?.pythonExceptionName == "IMAPDataAccessError")
        #expect(error?.message.contains("Connection to \(url)/query") == true)
    }

    @Test func downloadStreamsToTheKeyPathAndReusesAMatchingCopy() async throws {
        let content = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let checksum = sha256(content)
        let dataDirectory = try temporaryDirectory()
        try await TestHTTPServer.with({ request in
            TestHTTPServer.Reply(status: 200, headers: [("x-checksum-sha256", checksum)], body: content)
        }) { server in
            let first = try await withClient(server, dataDirectory: dataDirectory) { client in
                try await client.download("some/dir/" + Self.scienceName)
            }
            #expect(first == DataAccessClient.Download(path: dataDirectory + "/" + Self.scienceKey, reusedLocalCopy: false, sha256: checksum))
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: first.path))) == content)
            #expect(server.requests.map(\.uri) == ["/download/" + Self.scienceKey])

            let second = try await withClient(server, dataDirectory: dataDirectory) { client in
                try await client.download(Self.scienceName)
            }
            #expect(second.reusedLocalCopy && second.sha256 == checksum)
            #expect(server.requests.map(\.method) == ["GET", "HEAD"])
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: LocalPath.parent(first.path))
            #expect(leftovers == [Self.scienceName])
        }
    }

    @Test func aDownloadCutShortIsRetriedFromTheStart() async throws {
        let content = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let dataDirectory = try temporaryDirectory()
        let calls = Counter()
        try await TestHTTPServer.with({ _ in
            TestHTTPServer.Reply(
                status: 200, headers: [("x-checksum-sha256", self.sha256(content))], body: content,
                dropConnectionAfter: calls.increment() == 1 ? 70_000 : nil)
        }) { server in
            let download = try await withClient(server, dataDirectory: dataDirectory) { client in
                try await client.download(Self.scienceName)
            }
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: download.path))) == content)
            #expect(server.requests.count == 2)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: LocalPath.parent(download.path))
            #expect(leftovers == [Self.scienceName])
        }
    }

    @Test func aStaleLocalCopyIsReplaced() async throws {
        let content = Array("fresh bytes".utf8)
        let dataDirectory = try temporaryDirectory()
        let destination = dataDirectory + "/" + Self.scienceKey
        try FileManager.default.createDirectory(atPath: LocalPath.parent(destination), withIntermediateDirectories: true)
        try Data("stale".utf8).write(to: URL(fileURLWithPath: destination))
        try await TestHTTPServer.with({ _ in
            TestHTTPServer.Reply(status: 200, headers: [("x-checksum-sha256", sha256(content))], body: content)
        }) { server in
            let download = try await withClient(server, dataDirectory: dataDirectory) { client in
                try await client.download(Self.scienceName)
            }
            #expect(!download.reusedLocalCopy)
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: destination))) == content)
            #expect(server.requests.map(\.method) == ["HEAD", "GET"])
        }
    }

    @Test func corruptedDownloadsAreNotSaved() async throws {
        let dataDirectory = try temporaryDirectory()
        try await TestHTTPServer.with({ _ in
            TestHTTPServer.Reply(status: 200, headers: [("x-checksum-sha256", String(repeating: "0", count: 64))], body: [1, 2, 3])
        }) { server in
            let error = await #expect(throws: SDCClientError.self) {
                try await withClient(server, dataDirectory: dataDirectory) { client in try await client.download(Self.scienceName) }
            }
            guard case .checksumMismatch(let key, _, _)? = error else {
                Issue.record("unexpected \(String(describing: error))")
                return
            }
            #expect(key == Self.scienceKey)
            let folder = dataDirectory + "/" + LocalPath.parent(Self.scienceKey)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder)
            #expect(leftovers.isEmpty)
        }
    }

    @Test func redirectsAreFollowedWithTheAPIKey() async throws {
        let content = Array("redirected".utf8)
        let dataDirectory = try temporaryDirectory()
        try await TestHTTPServer.with({ request in
            if request.uri.hasPrefix("/api-key/download/") {
                return TestHTTPServer.Reply(status: 302, headers: [
                    ("Location", "/objects/\(Self.scienceKey)?X-Sdc-Expires=1&X-Sdc-Signature=abc"),
                    ("x-checksum-sha256", self.sha256(content)),
                ], body: Array(#"{"download_url": "x"}"#.utf8))
            }
            return TestHTTPServer.Reply(status: 200, body: content)
        }) { server in
            let download = try await withClient(server, credentials: .apiKey("k"), dataDirectory: dataDirectory) { client in
                try await client.download(Self.scienceName)
            }
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: download.path))) == content)
            #expect(server.requests.map(\.uri) == [
                "/api-key/download/" + Self.scienceKey, "/objects/\(Self.scienceKey)?X-Sdc-Expires=1&X-Sdc-Signature=abc",
            ])
            #expect(server.requests.allSatisfy { $0.header("x-api-key") == "k" })
        }
    }

    @Test func unparsableNamesFailBeforeAnyRequest() async throws {
        try await TestHTTPServer.with({ _ in .json("[]") }) { server in
            let error = await #expect(throws: SDCClientError.self) {
                try await withClient(server) { client in try await client.download("dir/not_an_imap_file.txt") }
            }
            #expect(error?.description
                == "ValueError('Invalid file type for not_an_imap_file.txt. It does not matchany file formats.')")
            #expect(server.requests.isEmpty)
        }
    }

    @Test func uploadAsksForAURLThenStreamsTheFile() async throws {
        let directory = try temporaryDirectory()
        let path = directory + "/" + Self.scienceName
        let content = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try Data(content).write(to: URL(fileURLWithPath: path))
        let received = Counter()
        try await TestHTTPServer.with({ request in
            if request.method == "GET" {
                return .json(#""http://127.0.0.1:\#(request.header("Host")!.split(separator: ":").last!)/put/\#(Self.scienceKey)?sig=1""#)
            }
            received.add(request.body.count)
            return TestHTTPServer.Reply(status: 200)
        }) { server in
            try await withClient(server, credentials: .apiKey("w")) { client in try await client.upload(path) }
            let requests = server.requests
            #expect(requests.map(\.method) == ["GET", "PUT"])
            #expect(requests[0].uri == "/api-key/upload/" + Self.scienceName)
            #expect(requests[1].uri == "/put/\(Self.scienceKey)?sig=1")
            #expect(requests[1].header("Content-Length") == String(content.count))
            #expect(requests[1].header("x-api-key") == "w")
            #expect(requests[1].body == content)
        }
    }

    @Test func uploadConflictsReportTheServerBody() async throws {
        let directory = try temporaryDirectory()
        let path = directory + "/" + Self.scienceName
        try Data([1]).write(to: URL(fileURLWithPath: path))
        let body = #"{"error": "FileAlreadyExists", "message": "The file 'x' already exists."}"#
        try await TestHTTPServer.with({ _ in .json(body, status: 409) }) { server in
            await #expect(throws: SDCClientError.http(status: 409, reason: "Conflict", body: body)) {
                try await withClient(server, credentials: .apiKey("w")) { client in try await client.upload(path) }
            }
            #expect(server.requests.count == 1)
        }
    }

    @Test func uploadRefusalsHappenBeforeAnyRequest() async throws {
        let directory = try temporaryDirectory()
        let legacy = directory + "/imap_swe_l1a_sci_20240105_v001.cdf"
        try Data([1]).write(to: URL(fileURLWithPath: legacy))
        try await TestHTTPServer.with({ _ in .json("[]") }) { server in
            await #expect(throws: SDCClientError.invalidArgument("Invalid science file imap_swe_l1a_sci_20240105_v001.cdf.")) {
                try await withClient(server) { client in try await client.upload(legacy) }
            }
            await #expect(throws: SDCClientError.fileNotFound(path: directory + "/missing.cdf")) {
                try await withClient(server) { client in try await client.upload(directory + "/./missing.cdf") }
            }
            #expect(server.requests.isEmpty)
        }
    }

    @Test func reprocessPostsItsParametersAndNeedsJSONBack() async throws {
        try await TestHTTPServer.with({ request in
            request.uri.contains("instrument") ? .json(#"{"message": "Reprocess job queued"}"#) : .json("not json")
        }) { server in
            try await withClient(server, credentials: .apiKey("k")) { client in
                try await client.reprocess(ReprocessParameters(startDate: "20250101", endDate: "20250102", instrument: "swe"))
            }
            let request = try #require(server.requests.first)
            #expect(request.method == "POST")
            #expect(request.uri == "/api-key/reprocess?start_date=20250101&end_date=20250102&instrument=swe&reprocessing=True")
            #expect(request.header("Content-Length") == "0")
            let error = await #expect(throws: SDCClientError.self) {
                try await withClient(server) { client in
                    try await client.reprocess(ReprocessParameters(startDate: "20250101", endDate: "20250102"))
                }
            }
            #expect(error?.pythonExceptionName == "JSONDecodeError")
        }
    }
}

/// A thread-safe counter for server closures.
final class Counter: Sendable {
    private let value = NIOLockedValueBox(0)

    /// Adds one and returns the new count.
    func increment() -> Int { value.withLockedValue { $0 += 1; return $0 } }

    func add(_ amount: Int) { value.withLockedValue { $0 += amount } }
}
