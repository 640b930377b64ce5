import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SDCCatalog
import SDCCore
import SDCAssembly
import SDCIngest
import SDCServer
import Synchronization
import Testing

/// A data center in a temporary folder with a write, a read and an admin key.
struct TestDataCenter {
    let root: URL
    let dataCenter: DataCenter
    let writeKey: String
    let readKey: String

    init() async throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-server-\(UUID().uuidString)")
        dataCenter = try DataCenter(root: root)
        writeKey = try await dataCenter.catalog.createKey(name: "writer", scope: .write).secret
        readKey = try await dataCenter.catalog.createKey(name: "reader", scope: .read).secret
    }

    func server(_ configure: (inout ServerConfiguration) -> Void = { _ in }, listeners: [any IngestListener] = []) -> DataCenterServer {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configure(&configuration)
        return DataCenterServer(configuration: configuration, ingestor: dataCenter.ingestor(listeners: listeners),
                                keys: dataCenter.catalog, requestLog: dataCenter.catalog)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

/// Records ingested keys (stands in for the pipeline trigger).
actor IngestRecorder: IngestListener {
    var keys: [String] = []
    func didIngest(_ record: CatalogRecord) async { keys.append(record.key) }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: Any { try! JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) }
}

/// The path and query of an absolute URL, for the test client.
func pathAndQuery(_ url: String) -> String {
    let components = URLComponents(string: url)!
    return components.percentEncodedPath + "?" + (components.percentEncodedQuery ?? "")
}

extension TestClientProtocol {
    /// Upload through the two-step flow; returns the PUT response.
    func upload(_ name: String, _ bytes: [UInt8], key: String, prefix: String = "/api-key") async throws -> TestResponse {
        let grant = try await execute(uri: "\(prefix)/upload/\(name)", method: .get, headers: [HTTPField.Name("x-api-key")!: key])
        #expect(grant.status == .ok, "\(grant.text)")
        let url = try #require(grant.json as? String)
        return try await execute(uri: pathAndQuery(url), method: .put, headers: [.contentType: "", .contentLength: "\(bytes.count)"],
                                 body: ByteBuffer(bytes: bytes))
    }
}

let apiKeyHeader = HTTPField.Name("x-api-key")!

struct ServerTests {
    let science = "imap_swe_l1a_sci_20240105_v001.0000.cdf"
    let scienceKey = "imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0000.cdf"

    @Test func uploadIndexesTheFileAndNotifiesListeners() async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        let recorder = IngestRecorder()
        try await t.server(listeners: [recorder]).application().test(.live) { client in
            let put = try await client.upload(science, Array("payload".utf8), key: t.writeKey)
            #expect(put.status == .ok)
            #expect(put.headers[HTTPField.Name("x-checksum-sha256")!] == "239f59ed55e737c77147cf55ad0c1b030b6d7ee748a7426952f9b852d5a935e5")
            let rows = try await client.execute(uri: "/api-key/query?instrument=swe", method: .get, headers: [apiKeyHeader: t.readKey])
            let row = try #require((rows.json as? [[String: Any]])?.first)
            #expect(row["file_path"] as? String == scienceKey)
            #expect(row["released"] as? Bool == false)
            let again = try await client.execute(uri: "/api-key/upload/\(science)", method: .get, headers: [apiKeyHeader: t.writeKey])
            #expect(again.status == .conflict && again.text.contains("FileAlreadyExists"))
        }
        #expect(await recorder.keys == [scienceKey])
    }

    @Test func authenticationFollowsTheRouteFamily() async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        try await t.server().application().test(.live) { client in
            #expect(try await client.execute(uri: "/api-key/query?instrument=swe", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/api-key/query?instrument=swe", method: .get, headers: [apiKeyHeader: "bad"]).status == .forbidden)
            #expect(try await client.execute(uri: "/authorized/query?instrument=swe", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/authorized/query?instrument=swe", method: .get,
                                             headers: [.authorization: "Bearer \(t.readKey)"]).status == .ok)
            #expect(try await client.execute(uri: "/upload/\(science)", method: .get).status == .unauthorized)
            let readOnly = try await client.execute(uri: "/api-key/upload/\(science)", method: .get, headers: [apiKeyHeader: t.readKey])
            #expect(readOnly.status == .forbidden && readOnly.text.contains("read-only permissions"))
            // A revoked key stops working at once.
            let (secret, info) = try await t.dataCenter.catalog.createKey(name: "temp", scope: .write)
            #expect(try await client.execute(uri: "/api-key/query?instrument=swe", method: .get, headers: [apiKeyHeader: secret]).status == .ok)
            _ = try await t.dataCenter.catalog.revokeKey(String(info.id))
            #expect(try await client.execute(uri: "/api-key/query?instrument=swe", method: .get, headers: [apiKeyHeader: secret]).status == .forbidden)
        }
    }

    @Test func downloadsStreamWithRangesOrRedirect() async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try await t.server().application().test(.live) { client in
            #expect(try await client.upload(science, bytes, key: t.writeKey).status == .ok)
            let whole = try await client.execute(uri: "/api-key/download/\(scienceKey)", method: .get, headers: [apiKeyHeader: t.readKey])
            #expect(whole.status == .ok && Array(buffer: whole.body) == bytes)
            let part = try await client.execute(uri: "/api-key/download/\(scienceKey)", method: .get,
                                                headers: [apiKeyHeader: t.readKey, .range: "bytes=-10"])
            #expect(part.status == .partialContent && Array(buffer: part.body) == Array(bytes.suffix(10)))
            #expect(part.headers[.contentRange] == "bytes 299990-299999/300000")
            let outside = try await client.execute(uri: "/api-key/download/\(scienceKey)", method: .get,
                                                   headers: [apiKeyHeader: t.readKey, .range: "bytes=300000-"])
            #expect(outside.status == .rangeNotSatisfiable)
            let head = try await client.execute(uri: "/api-key/download/\(scienceKey)", method: .head, headers: [apiKeyHeader: t.readKey])
            #expect(head.status == .ok && head.headers[.contentLength] == "300000" && head.body.readableBytes == 0)
            #expect(try await client.execute(uri: "/download/\(scienceKey)", method: .get).status == .forbidden)
        }
        try await t.server { $0.downloadMode = .redirect }.application().test(.live) { client in
            let redirect = try await client.execute(uri: "/api-key/download/\(scienceKey)", method: .get, headers: [apiKeyHeader: t.readKey])
            #expect(redirect.status == .found)
            let location = try #require(redirect.headers[.location])
            let followed = try await client.execute(uri: pathAndQuery(location), method: .get, headers: [apiKeyHeader: t.readKey])
            #expect(followed.status == .ok && Array(buffer: followed.body) == bytes)
            #expect(try await client.execute(uri: pathAndQuery(location), method: .put, body: ByteBuffer(bytes: [1])).status == .forbidden)
        }
    }

    @Test func doubledSlashesAndPrefixesReachTheSameRoutes() async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        try await t.server().application().test(.live) { client in
            for uri in ["/query?instrument=swe", "//query?instrument=swe", "/api-key//query?instrument=swe"] {
                let response = try await client.execute(uri: uri, method: .get, headers: [apiKeyHeader: t.readKey])
                #expect(response.status == .ok && response.text == "[]", "\(uri)")
            }
        }
    }

    @Test func overloadedServerAnswersSlowDown() async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        try await t.server { $0.maximumConcurrentRequests = 0 }.application().test(.live) { client in
            let response = try await client.execute(uri: "/query?instrument=swe", method: .get)
            #expect(response.status == .serviceUnavailable && response.text.contains("SlowDown"))
        }
    }

    @Test func errorsHaveACodeAndAMessage() async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        try await t.server().application().test(.live) { client in
            let response = try await client.execute(uri: "/query?instrument=nope", method: .get)
            #expect(response.status == .badRequest)
            let body = try #require(response.json as? [String: String])
            #expect(body["error"] == "InvalidParameter")
            #expect(body["message"]?.hasPrefix("instrument 'nope' is not valid: expected one of codice") == true)
        }
    }
}

/// Remembers every file the ingest path announces.
final class RecordingListener: IngestListener {
    let keys = Mutex<[String]>([])
    func didIngest(_ record: CatalogRecord) async { keys.withLock { $0.append(record.key) } }
}

struct RecoveryTests {
    /// The identity of a process of this host that has ended.
    static func endedProcess() throws -> ProcessIdentity {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        return ProcessIdentity(host: ProcessIdentity.current.host, pid: child.processIdentifier)
    }

    @Test func recoveryCatalogsAndAnnouncesCompleteObjectsOfEndedProcessesAndLeavesLiveUploadsAlone() async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        let complete = try IMAPFileName.parse("imap_swe_l1a_sci_20240105_v001.0000.cdf")
        let partial = try IMAPFileName.parse("imap_swe_l1a_sci_20240106_v001.0000.cdf")
        let inFlight = try IMAPFileName.parse("imap_swe_l1a_sci_20240107_v001.0000.cdf")
        // A process that died after publishing one object but before cataloging it, and before publishing another;
        // and an upload in flight in this (live) process, as another replica's would be.
        let dead = try Self.endedProcess()
        try await t.dataCenter.catalog.reserve(complete, staleAfter: 3600, owner: dead)
        try await t.dataCenter.catalog.reserve(partial, staleAfter: 3600, owner: dead)
        try await t.dataCenter.catalog.reserve(inFlight, staleAfter: 3600)
        let objects = t.root.appendingPathComponent("objects").path
        let objectPath = objects + "/" + complete.key
        try FileManager.default.createDirectory(atPath: (objectPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("complete".utf8).write(to: URL(fileURLWithPath: objectPath))
        let incoming = objects + "/.incoming/"
        FileManager.default.createFile(atPath: incoming + "\(dead.pid)_X_\(dead.host).part", contents: Data([1]))
        let livePart = incoming + "\(getpid())_Y_\(dead.host).part"
        FileManager.default.createFile(atPath: livePart, contents: Data([1]))

        let listener = RecordingListener()
        let report = try await t.dataCenter.recover(through: t.dataCenter.ingestor(listeners: [listener]), logger: .init(label: "test"))
        #expect(report.completed == [complete.key] && report.abandoned == [partial.key] && report.temporaryFilesRemoved == 1)
        let record = try #require(try await t.dataCenter.catalog.record(forKey: complete.key))
        #expect(record.size == 8 && record.sha256 == "eebbf6457e46a7f63acdf9b97390f790ba443d60cfa44b607da7e5c40aa1cc1d")
        #expect(try await t.dataCenter.catalog.record(forKey: partial.key) == nil)
        // The recovered file reached the listeners (the pipeline plans it like any arrival).
        #expect(listener.keys.withLock { $0 } == [complete.key])
        // The live upload keeps its reservation and its temporary file.
        #expect(try await t.dataCenter.catalog.reservedKeys() == [inFlight.key])
        #expect(FileManager.default.fileExists(atPath: livePart))
    }
}
