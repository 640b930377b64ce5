import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NIOCore
import SDCCatalog
import SDCCore
import SDCIngest
import SDCStorage
import Synchronization
import Testing

/// Reading S3 event notifications, in every shape they are delivered in.
struct BucketEventParsingTests {
    func parse(_ text: String) throws -> BucketNotification { try BucketNotification(parsing: Array(text.utf8)) }

    @Test func readsObjectCreatedRecordsWithURLEncodedKeys() throws {
        let notification = try parse("""
            {"Records": [
              {"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
               "s3": {"bucket": {"name": "mission"}, "object": {"key": "archive/imap/a+b%2Bc%C3%A9.pkts", "size": 12, "eTag": "x"}}},
              {"eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "mission"}, "object": {"key": "gone"}}},
              {"eventName": "ObjectCreated:CompleteMultipartUpload", "s3": {"bucket": {"name": "mission"}, "object": {"key": "big"}}}
            ]}
            """)
        #expect(notification.events == [
            BucketEvent(eventName: "ObjectCreated:Put", bucket: "mission", object: "archive/imap/a b+cé.pkts", size: 12),
            BucketEvent(eventName: "ObjectCreated:CompleteMultipartUpload", bucket: "mission", object: "big", size: nil),
        ])
        #expect(notification.ignored == 1)
    }

    @Test func unwrapsSNSAndReadsTestEventsConfirmationsAndEventBridge() throws {
        let inner = #"{"Records":[{"eventName":"ObjectCreated:Copy","s3":{"bucket":{"name":"b1"},"object":{"key":"k%201","size":3}}}]}"#
        let sns = JSONValue.object([("Type", .string("Notification")), ("MessageId", .string("1")), ("Message", .string(inner))]).serialized()
        #expect(try parse(sns).events == [BucketEvent(eventName: "ObjectCreated:Copy", bucket: "b1", object: "k 1", size: 3)])
        #expect(try parse(#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b1"}"#) == BucketNotification())
        let confirmation = try parse(#"{"Type":"SubscriptionConfirmation","SubscribeURL":"https://sns.example/confirm?t=1"}"#)
        #expect(confirmation.subscribeURL == "https://sns.example/confirm?t=1" && confirmation.events.isEmpty)
        let bridge = try parse(#"{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b1"},"object":{"key":"imap/x.pkts","size":5}}}"#)
        #expect(bridge.events == [BucketEvent(eventName: "ObjectCreated:EventBridge", bucket: "b1", object: "imap/x.pkts", size: 5)])
    }

    @Test(arguments: [
        ("{\"Records\": [", "the body is not JSON"),
        ("[1, 2]", "the body is not a JSON object"),
        ("{\"records\": []}", "Records is missing"),
        ("{\"Records\": {}}", "Records is not an array"),
        ("{\"Records\": [{\"s3\": {}}]}", "Records[0].eventName is missing"),
        ("{\"Records\": [{\"eventName\": \"ObjectCreated:Put\"}]}", "Records[0].s3 is missing"),
        ("{\"Records\": [{\"eventName\": \"ObjectCreated:Put\", \"s3\": {\"object\": {\"key\": \"k\"}}}]}", "Records[0].s3.bucket.name is missing"),
        ("{\"Records\": [{\"eventName\": \"ObjectCreated:Put\", \"s3\": {\"bucket\": {\"name\": \"b\"}, \"object\": {}}}]}", "Records[0].s3.object.key is missing"),
        ("{\"Records\": [{\"eventName\": \"ObjectCreated:Put\", \"s3\": {\"bucket\": {\"name\": \"b\"}, \"object\": {\"key\": \"a%zz\"}}}]}", "'a%zz' is not a URL-encoded object key"),
        ("{\"Records\": [{\"eventName\": \"ObjectCreated:Put\", \"s3\": {\"bucket\": {\"name\": \"b\"}, \"object\": {\"key\": \"a\", \"size\": -1}}}]}", "Records[0].s3.object.size is not a byte count"),
        ("{\"Type\": \"Notification\", \"Message\": \"{nope\"}", "Message of the SNS notification is not JSON"),
        ("{\"Type\": \"Notification\", \"Message\": \"{}\"}", "Message.Records is missing"),
    ])
    func malformedNotificationsNameTheProblem(_ body: String, _ expected: String) {
        #expect {
            try parse(body)
        } throws: { error in
            (error as? BucketEventError)?.description.contains(expected) == true
        }
    }
}

/// Records what it is told: as a listener, the keys of the files ingested.
final class Recorder: IngestListener, Sendable {
    private let items = Mutex<[String]>([])
    func append(_ item: String) { items.withLock { $0.append(item) } }
    func didIngest(_ record: CatalogRecord) async { append(record.key) }
    var all: [String] { items.withLock { $0 } }
}

/// Direct-to-bucket ingest against moto and a real SQLite catalog.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SDC_TEST_S3_ENDPOINT"] != nil,
                "SDC_TEST_S3_ENDPOINT is not set: scripts/test starts moto (scripts/lib/moto.sh) and sets it"))
struct BucketIngestTests {
    let store: S3ObjectStore
    let catalog: SQLiteCatalog
    let heard = Recorder()
    let ingest: BucketIngest
    let outcomes = Recorder()

    static let l0 = "imap_swe_l0_raw_20240105_v001.pkts"
    static let l0Key = "imap/swe/l0/2024/01/imap_swe_l0_raw_20240105_v001.pkts"

    init() async throws {
        let endpoint = try #require(ProcessInfo.processInfo.environment["SDC_TEST_S3_ENDPOINT"])
        let bucket = "sdc-ingest-" + UUID().uuidString.lowercased().prefix(16)
        var create = URLRequest(url: try #require(URL(string: "\(endpoint)/\(bucket)")))
        create.httpMethod = "PUT"
        let (_, created) = try await URLSession.shared.data(for: create)
        try #require((created as? HTTPURLResponse)?.statusCode == 200)
        store = S3ObjectStore(location: try S3Location(bucket: String(bucket), prefix: "archive", endpoint: endpoint, region: "us-east-1"),
                              credentials: AWSCredentials(accessKeyID: "AKIDSDCTESTS", secretAccessKey: "sdc-tests-secret"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-bucket-ingest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        catalog = try SQLiteCatalog(path: folder.appendingPathComponent("catalog.sqlite").path)
        let outcomes = outcomes
        ingest = BucketIngest(ingestor: Ingestor(catalog: catalog, store: store, listeners: [heard]), bucket: store) { outcome in
            outcomes.append(outcome.label)
        }
    }

    /// Writes an object straight into the bucket, as a client with a presigned URL (or anyone with bucket access) does.
    func putDirectly(_ name: String, _ text: String) async throws {
        _ = try await store.put(try ObjectKey(name), body: [ByteBuffer(string: text)].async, expectedLength: Int64(text.utf8.count),
                                maximumSize: 1 << 20)
    }

    func listedNames() async throws -> [String] {
        try await store.listObjects(under: "", continuationToken: nil, pageSize: 1000).objects.map(\.name).sorted()
    }

    @Test func aReservedUploadIsCatalogedOnceHoweverOftenItIsAnnounced() async throws {
        let file = try IMAPFileName.parse(Self.l0)
        try await ingest.ingestor.reserveDirectUpload(file)
        // Asking for the URL again (a client's retry) keeps the reservation.
        try await ingest.ingestor.reserveDirectUpload(file)
        try await putDirectly(Self.l0Key, "packets")
        #expect(try await ingest.ingest(Self.l0Key, size: 7) == .ingested(Self.l0Key))
        let record = try #require(try await catalog.record(forKey: Self.l0Key))
        #expect(record.size == 7)
        #expect(record.sha256 == "6e4cadce54be0b2cc248697d0c99bfd2fabe0aeb0e712718f1b60dcfdaf70a0a") // sha256sum of 'packets'
        #expect(try await catalog.reservations().isEmpty)
        // The same event again, and the reconciler's pass: no-ops.
        #expect(try await ingest.ingest(Self.l0Key, size: 7) == .alreadyCataloged(Self.l0Key))
        let pass = try await BucketReconciler(ingest: ingest, interval: .seconds(60)).reconcile()
        #expect(pass.listed == 1 && pass.ingested.isEmpty && pass.rejected.isEmpty && pass.failed.isEmpty)
        #expect(heard.all == [Self.l0Key])
        // A name stored or cataloged cannot be reserved again.
        await #expect(throws: IngestError.alreadyExists(key: Self.l0Key)) { try await ingest.ingestor.reserveDirectUpload(file) }
    }

    @Test func theSHA256IsTheObjects() async throws {
        let file = try IMAPFileName.parse(Self.l0)
        try await ingest.ingestor.reserveDirectUpload(file)
        let text = String(repeating: "0123456789abcdef", count: 1 << 16)
        try await putDirectly(Self.l0Key, text)
        _ = try await ingest.ingest(Self.l0Key, size: nil)
        let record = try #require(try await catalog.record(forKey: Self.l0Key))
        #expect(record.size == Int64(text.utf8.count))
        #expect(record.sha256 == (try await store.measure(ObjectKey(Self.l0Key))).sha256)
    }

    @Test func replicasRacingOnOneObjectCatalogItOnce() async throws {
        try await ingest.ingestor.reserveDirectUpload(try IMAPFileName.parse(Self.l0))
        try await putDirectly(Self.l0Key, "packets")
        let outcomes = try await withThrowingTaskGroup(of: BucketIngest.Outcome.self) { group in
            for _ in 0..<4 { group.addTask { try await ingest.ingest(Self.l0Key, size: 7) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .ingested(Self.l0Key) }.count == 1)
        #expect(outcomes.filter { $0 == .alreadyCataloged(Self.l0Key) }.count == 3)
        #expect(heard.all == [Self.l0Key])
    }

    @Test(arguments: [
        ("imap/swe/l0/2024/01/imap_swe_l9_raw_20240105_v001.pkts", "invalid data level"),
        ("imap/swe/l0/2024/01/notes.txt", "does not match"),
        ("imap/mag/l0/2024/01/imap_swe_l0_raw_20240105_v001.pkts", "is not the storage key"),
        ("imap/swe/l0/2024/01/imap_swe_l0_raw_20240106_v001.pkts", "no /upload request reserved"),
    ])
    func objectsThatMustNotBeCatalogedAreSetAsideWithTheirReason(_ name: String, _ reason: String) async throws {
        try await putDirectly(name, "foreign")
        let outcome = try await ingest.ingest(name, size: 7)
        guard case .rejected(name, let given) = outcome else { Issue.record("\(name): \(outcome)"); return }
        #expect(given.contains(reason), "\(given)")
        #expect(try await listedNames() == ["rejected/" + name, "rejected/" + name + ".reason"])
        #expect(try await catalog.counts().values.reduce(0, +) == 0)
        #expect(heard.all.isEmpty)
        #expect(outcomes.all == ["rejected"])
        // Announced again after it was moved: nothing left to do.
        #expect(try await ingest.ingest(name, size: 7) == .gone(name))
    }

    /// PUTs `text` to a presigned URL with a plain HTTP client, as imap-data-access does (no extra headers).
    func putPresigned(_ url: String, _ text: String) async throws {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = "PUT"
        let (_, response) = try await URLSession.shared.upload(for: request, from: Data(text.utf8))
        try #require((response as? HTTPURLResponse)?.statusCode == 200)
    }

    @Test func aPresignedPutLandsInTheBucketAndAnOverwriteAfterCatalogingIsReported() async throws {
        try await ingest.ingestor.reserveDirectUpload(try IMAPFileName.parse(Self.l0))
        let url = store.presignedURL(for: try ObjectKey(Self.l0Key), method: .put, expiresIn: 600, baseURL: "http://sdc.invalid")
        #expect(url.hasPrefix(store.location.endpoint.url + "/" + store.location.bucket + "/archive/" + Self.l0Key + "?"))
        // Only the host is signed: a client's plain PUT matches the signature (a signed If-None-Match would not).
        #expect(url.contains("X-Amz-SignedHeaders=host&"))
        try await putPresigned(url, "packets")
        let pass = try await BucketReconciler(ingest: ingest, interval: .seconds(60)).reconcile()
        #expect(pass.ingested == [Self.l0Key])
        // The URL still lives: S3 lets its holder overwrite. The catalog keeps the first object's record, and the
        // reconciler reports the change (bucket versioning keeps the first bytes).
        try await putPresigned(url, "other packets")
        #expect(try await ingest.ingest(Self.l0Key, size: 13) == .changedAfterCataloging(Self.l0Key))
        #expect(try await catalog.record(forKey: Self.l0Key)?.size == 7)
        #expect(heard.all == [Self.l0Key])
        #expect(outcomes.all == ["ingested", "changed_after_cataloging"])
    }

    @Test func anUploadInFlightThroughSdcIsLeftToIt() async throws {
        // A relayed upload (or a worker's product) reserves for this process, and its object appears before its commit.
        try await catalog.reserve(try IMAPFileName.parse(Self.l0), staleAfter: 3600)
        try await putDirectly(Self.l0Key, "packets")
        #expect(try await ingest.ingest(Self.l0Key, size: 7) == .inFlight(Self.l0Key))
        #expect(try await listedNames() == [Self.l0Key])
        #expect(try await catalog.record(forKey: Self.l0Key) == nil)
    }

    @Test func theReconcilerPagesThroughTheUploadFolder() async throws {
        var reserved: [String] = []
        for day in 1...5 {
            let file = try IMAPFileName.parse("imap_swe_l0_raw_2024010\(day)_v001.pkts")
            try await ingest.ingestor.reserveDirectUpload(file)
            try await putDirectly(file.key, "day \(day)")
            reserved.append(file.key)
        }
        try await putDirectly("imap/stray.txt", "stray")
        let pass = try await BucketReconciler(ingest: ingest, interval: .seconds(60), pageSize: 2).reconcile()
        #expect(pass.listed == 6)
        #expect(pass.ingested.sorted() == reserved)
        #expect(pass.rejected == ["imap/stray.txt"])
        #expect(pass.failed.isEmpty)
        #expect(Set(heard.all) == Set(reserved))
        for key in reserved { #expect(try await catalog.record(forKey: key) != nil) }
        let again = try await BucketReconciler(ingest: ingest, interval: .seconds(60), pageSize: 2).reconcile()
        #expect(again.listed == 5 && again.ingested.isEmpty && again.rejected.isEmpty)
    }
}
