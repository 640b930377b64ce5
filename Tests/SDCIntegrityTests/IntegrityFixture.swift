import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NIOCore
import SDCAlerts
import SDCAssembly
import SDCCatalog
import SDCCore
import SDCIngest
import SDCIntegrity
import SDCStorage
import Synchronization
import Testing

extension Array where Element: Sendable {
    /// The elements as an async sequence (an upload body).
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}

/// A catalog and a store (the filesystem store of an embedded data center, or a new moto bucket) with files ingested
/// through the real ingest path, and ways to damage the stored objects behind the catalog's back.
struct IntegrityFixture {
    let folder: URL
    let catalog: any VerifiableCatalog & LeaseStore
    let store: any ObjectStore
    let ingestor: Ingestor

    static let names = [
        "imap_swapi_l1a_sci_20250101_v001.0001.cdf",  // a byte flipped
        "imap_swapi_l1a_sci_20250102_v001.0001.cdf",  // truncated
        "imap_swapi_l1a_sci_20250103_v001.0001.cdf",  // deleted
        "imap_swapi_l1a_sci_20250104_v001.0001.cdf",  // intact
        "imap_mag_l1a_norm-raw_20250101_v001.0001.cdf",  // intact, another instrument
    ]
    /// Where an object with no catalog row appears.
    static let orphan = "imap/swapi/l1a/2025/01/imap_swapi_l1a_sci_20250109_v001.0001.cdf"

    static func key(_ name: String) throws -> String { try IMAPFileName.parse(name).key }

    /// Content of `name`: a few hundred KiB, different per file.
    static func content(_ name: String) -> [UInt8] {
        let seed = UInt8(truncatingIfNeeded: name.hashValue & 0xFF)
        return (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    /// An embedded data center in a new temporary folder.
    static func filesystem() throws -> IntegrityFixture {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-integrity-\(UUID().uuidString)")
        let dataCenter = try DataCenter(root: folder)
        return IntegrityFixture(folder: folder, catalog: dataCenter.catalog as! SQLiteCatalog, store: dataCenter.store,
                                ingestor: dataCenter.ingestor())
    }

    /// A SQLite catalog and a new bucket on the moto server at `SDC_TEST_S3_ENDPOINT`.
    static func bucket() async throws -> IntegrityFixture {
        let endpoint = try #require(ProcessInfo.processInfo.environment["SDC_TEST_S3_ENDPOINT"])
        let bucket = "sdc-integrity-" + UUID().uuidString.lowercased().prefix(16)
        var create = URLRequest(url: try #require(URL(string: "\(endpoint)/\(bucket)")))
        create.httpMethod = "PUT"
        let (_, created) = try await URLSession.shared.data(for: create)
        try #require((created as? HTTPURLResponse)?.statusCode == 200)
        let store = S3ObjectStore(location: try S3Location(bucket: String(bucket), prefix: "archive", endpoint: endpoint, region: "us-east-1"),
                                  credentials: AWSCredentials(accessKeyID: "AKIDSDCTESTS", secretAccessKey: "sdc-tests-secret"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-integrity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let catalog = try SQLiteCatalog(path: folder.appendingPathComponent("catalog.sqlite").path)
        return IntegrityFixture(folder: folder, catalog: catalog, store: store, ingestor: Ingestor(catalog: catalog, store: store))
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    @discardableResult
    func ingest(_ name: String, _ bytes: [UInt8], released: Bool? = nil) async throws -> CatalogRecord {
        try await ingestor.ingest(try IMAPFileName.parse(name), body: [ByteBuffer(bytes: bytes)].async, expectedLength: Int64(bytes.count),
                                  maximumSize: 1 << 30, released: released)
    }

    /// Ingests ``names``, then flips a byte of the first, truncates the second, deletes the third and adds ``orphan``
    /// (and an object set aside by direct-upload ingest, which is not an orphan).
    func damage() async throws {
        for name in Self.names { try await ingest(name, Self.content(name)) }
        var flipped = Self.content(Self.names[0])
        flipped[123_456] ^= 0x01
        try await replace(Self.key(Self.names[0]), with: flipped)
        try await replace(Self.key(Self.names[1]), with: Array(Self.content(Self.names[1]).prefix(200_000)))
        try await store.delete(try ObjectKey(Self.key(Self.names[2])))
        try await put(Self.orphan, Array("not cataloged".utf8))
        try await put("rejected/imap_bad_name.pkts", Array("set aside".utf8))
    }

    /// Rewrites the object under `key` with `bytes`, as a disk error or an operator would (not through the catalog).
    func replace(_ key: String, with bytes: [UInt8]) async throws {
        if let files = store as? FileSystemObjectStore {
            // In place, as bit rot does: same inode, same name.
            let handle = try #require(FileHandle(forWritingAtPath: files.path(of: try ObjectKey(key))))
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: Data(bytes))
            try handle.close()
        } else {
            try await store.delete(try ObjectKey(key))
            try await put(key, bytes)
        }
    }

    func put(_ key: String, _ bytes: [UInt8]) async throws {
        _ = try await store.put(try ObjectKey(key), body: [ByteBuffer(bytes: bytes)].async, expectedLength: Int64(bytes.count), maximumSize: 1 << 30)
    }

    /// Every stored object with its size, SHA-256 and (filesystem) modification time and inode: to show that
    /// verification changes nothing.
    func snapshot() async throws -> [String: ObjectState] {
        var objects: [String: ObjectState] = [:]
        if let files = store as? FileSystemObjectStore {
            let enumerator = try #require(FileManager.default.enumerator(atPath: files.root))
            while let relative = enumerator.nextObject() as? String {
                var status = stat()
                guard stat(files.root + "/" + relative, &status) == 0 else { continue }
                objects[relative] = ObjectState(size: Int64(status.st_size), modified: "\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)",
                                                inode: UInt64(status.st_ino), content: FileManager.default.contents(atPath: files.root + "/" + relative))
            }
        } else if let bucket = store as? any BucketListing {
            for object in try await bucket.listObjects(under: "", continuationToken: nil, pageSize: 1000).objects {
                let measured = try await store.measure(try ObjectKey(object.name))
                objects[object.name] = ObjectState(size: measured.size, sha256: measured.sha256)
            }
        }
        return objects
    }

    /// The findings ``damage()`` must lead to.
    static func expectedFindings() throws -> [String: IntegrityProblem] {
        [try key(names[0]): .corrupt, try key(names[1]): .corrupt, try key(names[2]): .missing, orphan: .orphaned]
    }
}

/// What a snapshot keeps of one stored object.
struct ObjectState: Equatable {
    var size: Int64
    var modified: String?
    var inode: UInt64?
    var content: Data?
    var sha256: String?
}

/// An alert sink that records what it is told.
final class RecordingAlerts: AlertSink {
    let reconciled = Mutex<[(rule: String, conditions: [AlertCondition])]>([])

    func raise(_ condition: AlertCondition) async {}
    func clear(rule: String, subject: String) async {}
    func reconcile(rule: String, conditions: [AlertCondition]) async {
        reconciled.withLock { $0.append((rule, conditions)) }
    }
}

/// Polls `condition` until it holds, for at most `seconds`; fails the test naming `what` otherwise.
func waitFor(_ what: String, seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out after \(seconds) s waiting for \(what)")
    throw CancellationError()
}
