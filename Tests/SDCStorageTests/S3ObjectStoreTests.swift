import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import SDCCore
import Testing
@testable import SDCStorage

/// The S3 endpoints scripts/test starts (scripts/lib/moto.sh): moto, open, and one that checks signatures.
enum MotoServer {
    static let environment = ProcessInfo.processInfo.environment
    static let endpoint = environment["SDC_TEST_S3_ENDPOINT"]
    static let authEndpoint = environment["SDC_TEST_S3_AUTH_ENDPOINT"]
    static let authCredentials = environment["SDC_TEST_S3_AUTH_ACCESS_KEY_ID"].flatMap { id in
        environment["SDC_TEST_S3_AUTH_SECRET_ACCESS_KEY"].map { AWSCredentials(accessKeyID: id, secretAccessKey: $0) }
    }
    /// moto checks no credentials on the open endpoint.
    static let anyCredentials = AWSCredentials(accessKeyID: "AKIDSDCTESTS", secretAccessKey: "sdc-tests-secret")
    static let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: S3ObjectStore.httpClientConfiguration)

    /// A store on a new bucket of `endpoint` (under `prefix`); the bucket is created with the same credentials.
    static func store(endpoint: String?, credentials: AWSCredentials? = anyCredentials, prefix: String? = "archive/v1",
                      partSize: Int = S3ObjectStore.minimumPartSize) async throws -> S3ObjectStore {
        let endpoint = try #require(endpoint)
        let bucket = "sdc-test-" + UUID().uuidString.lowercased().prefix(18)
        let location = try S3Location(bucket: String(bucket), prefix: prefix, endpoint: endpoint, region: "us-east-1")
        let store = S3ObjectStore(location: location, credentials: try #require(credentials), httpClient: httpClient, partSize: partSize)
        let created = try await store.send(.PUT, object: nil, operation: "CreateBucket")
        try #require(created.status.code == 200, "CreateBucket answered \(created.status.code)")
        return store
    }

    /// The same bucket and prefix with other credentials or another endpoint.
    static func sibling(of store: S3ObjectStore, credentials: AWSCredentials, endpoint: String? = nil) throws -> S3ObjectStore {
        let location = try S3Location(bucket: store.location.bucket, prefix: store.location.prefix,
                                      endpoint: endpoint ?? store.location.endpoint.url, region: store.location.region)
        return S3ObjectStore(location: location, credentials: credentials, httpClient: httpClient, partSize: store.partSize)
    }

    /// How many parts of `upload` S3 holds (`ListParts`).
    static func partCount(_ store: S3ObjectStore, _ upload: S3ObjectStore.IncompleteUpload) async throws -> Int {
        let response = try await store.send(.GET, object: upload.object, query: [("uploadId", upload.uploadID)], operation: "ListParts")
        let reply = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return S3XML.elements("Part", in: reply[...]).count
    }
}

/// A body of `length` bytes of a fixed pattern, made chunk by chunk when the store asks for it (never held whole);
/// `beforeChunk` runs before the chunk at each offset is handed over.
struct PatternBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let length: Int64
    var chunkSize = 256 * 1024
    var beforeChunk: (@Sendable (Int64) async throws -> Void)?

    static func byte(at offset: Int64) -> UInt8 { UInt8(truncatingIfNeeded: offset &* 31 &+ offset >> 11) }

    static func bytes(_ range: ClosedRange<Int64>) -> [UInt8] { range.map(byte(at:)) }

    /// The SHA-256 of the first `length` bytes of the pattern, computed a chunk at a time.
    static func sha256(length: Int64) -> String {
        var hasher = SHA256()
        var offset: Int64 = 0
        while offset < length {
            let end = Swift.min(offset + (1 << 20), length)
            hasher.update(data: (offset..<end).map(byte(at:)))
            offset = end
        }
        var hex: [UInt8] = []
        hex.appendHex(hasher.finalize())
        return String(decoding: hex, as: UTF8.self)
    }

    func makeAsyncIterator() -> AnyChunkIterator {
        var offset: Int64 = 0
        return AnyChunkIterator {
            guard offset < length else { return nil }
            try await beforeChunk?(offset)
            let end = Swift.min(offset + Int64(chunkSize), length)
            let chunk = ByteBuffer(bytes: (offset..<end).map(Self.byte(at:)))
            offset = end
            return chunk
        }
    }
}

/// A value set once from inside a body and read by the test afterwards.
final class Observation<Value: Sendable>: @unchecked Sendable {
    // `value` is only read and written under `lock`.
    private var stored: Value?
    private let lock = NSLock()

    var value: Value? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

@Suite(.enabled(if: MotoServer.endpoint != nil, "SDC_TEST_S3_ENDPOINT is not set: scripts/test starts moto (scripts/lib/moto.sh) and sets it"))
struct S3ObjectStoreTests {
    let key: ObjectKey

    init() throws { key = try ObjectKey("imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0000.cdf") }

    @Test func storesReadsRangesMeasuresAndDeletes() async throws {
        let store = try await MotoServer.store(endpoint: MotoServer.endpoint)
        let content = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let chunks = stride(from: 0, to: content.count, by: 65_536).map { Array(content[$0..<min($0 + 65_536, content.count)]) }
        for key in [key, try ObjectKey("odd names/a b+c=d&é 漢字.txt")] {
            let stored = try await store.put(key, body: Chunks(chunks: chunks), expectedLength: Int64(content.count), maximumSize: 1 << 30)
            #expect(stored == StoredObject(key: key, size: Int64(content.count), sha256: sha256Hex(content)))
            #expect(try await store.size(of: key) == Int64(content.count))
            #expect(try await bytes(of: store.read(key, range: nil)) == content)
            #expect(try await bytes(of: store.read(key, range: 10...19)) == Array(content[10...19]))
            #expect(try await bytes(of: store.read(key, range: 699_990...699_999)) == Array(content[699_990...]))
            #expect(try await store.measure(key) == stored)
        }
        // Stored under the prefix, as the bucket shows without one.
        let root = try MotoServer.sibling(of: store, credentials: MotoServer.anyCredentials)
        let bare = S3ObjectStore(location: try S3Location(bucket: root.location.bucket, endpoint: root.location.endpoint.url, region: "us-east-1"),
                                 credentials: MotoServer.anyCredentials, httpClient: MotoServer.httpClient)
        #expect(try await bare.size(of: ObjectKey("archive/v1/" + key.path)) == Int64(content.count))

        try await store.delete(key)
        #expect(try await store.size(of: key) == nil)
        await #expect(throws: StorageError.notFound(key.path)) { try await store.delete(key) }
        await #expect(throws: StorageError.notFound(key.path)) { try await store.read(key, range: nil) }
        await #expect(throws: StorageError.notFound(key.path)) { try await store.measure(key) }
    }

    @Test func rangesOutsideTheObjectAreRefusedAndEmptyObjectsRead() async throws {
        let store = try await MotoServer.store(endpoint: MotoServer.endpoint)
        _ = try await store.put(key, body: Chunks(chunks: [Array(0..<100)]), expectedLength: 100, maximumSize: 1000)
        await #expect(throws: StorageError.unsatisfiableRange(size: 100)) { try await store.read(key, range: 90...100) }
        await #expect(throws: StorageError.unsatisfiableRange(size: 100)) { try await store.read(key, range: 100...120) }
        await #expect(throws: StorageError.unsatisfiableRange(size: 100)) { try await store.read(key, range: -1...5) }

        let empty = try ObjectKey("empty.txt")
        let stored = try await store.put(empty, body: Chunks(chunks: []), expectedLength: 0, maximumSize: 1000)
        #expect(stored.size == 0 && stored.sha256 == SigV4Signer.emptyPayloadSHA256)
        let body = try await store.read(empty, range: nil)
        #expect(body.length == 0)
        #expect(try await bytes(of: body).isEmpty)
        await #expect(throws: StorageError.unsatisfiableRange(size: 0)) { try await store.read(empty, range: 0...0) }
    }

    @Test func aBodyCanBeReadTwice() async throws {
        let store = try await MotoServer.store(endpoint: MotoServer.endpoint)
        _ = try await store.put(key, body: PatternBody(length: 300_000), expectedLength: 300_000, maximumSize: 1 << 20)
        let body = try await store.read(key, range: 1000...200_999)
        #expect(body.length == 200_000)
        let first = try await bytes(of: body)
        #expect(first == PatternBody.bytes(1000...200_999))
        #expect(try await bytes(of: body) == first)
    }

    @Test func largeBodiesStreamThroughMultipartPartByPart() async throws {
        let store = try await MotoServer.store(endpoint: MotoServer.endpoint)
        let length: Int64 = 20 << 20
        let partSize = Int64(store.partSize)
        // When the body is asked for the first bytes of the third part, S3 must already hold the first two: the store
        // sends each part before it reads the next.
        let partsHeld = Observation<Int>()
        let body = PatternBody(length: length, chunkSize: 100_000) { offset in
            guard offset >= 2 * partSize, partsHeld.value == nil else { return }
            let uploads = try await store.incompleteUploads()
            try #require(uploads.count == 1)
            partsHeld.value = try await MotoServer.partCount(store, uploads[0])
        }
        let stored = try await store.put(key, body: body, expectedLength: nil, maximumSize: 1 << 30)
        #expect(stored == StoredObject(key: key, size: length, sha256: PatternBody.sha256(length: length)))
        #expect(partsHeld.value == 2)
        #expect(try await store.incompleteUploads().isEmpty)
        #expect(try await store.size(of: key) == length)
        #expect(try await store.measure(key) == stored)
        let boundary = partSize - 10...partSize + 10
        #expect(try await bytes(of: store.read(key, range: boundary)) == PatternBody.bytes(boundary))
    }

    @Test func neverOverwritesAnObject() async throws {
        let store = try await MotoServer.store(endpoint: MotoServer.endpoint)
        _ = try await store.put(key, body: Chunks(chunks: [[1, 2, 3]]), expectedLength: 3, maximumSize: 100)
        await #expect(throws: StorageError.alreadyExists(key.path)) {
            try await store.put(key, body: Chunks(chunks: [[9]]), expectedLength: 1, maximumSize: 100)
        }
        await #expect(throws: StorageError.alreadyExists(key.path)) {
            try await store.put(key, body: PatternBody(length: 6 << 20), expectedLength: 6 << 20, maximumSize: 1 << 30)
        }
        #expect(try await bytes(of: store.read(key, range: nil)) == [1, 2, 3])
        #expect(try await store.incompleteUploads().isEmpty)
    }

    /// Another writer publishes the key after the store checked it was free: the conditional write itself refuses.
    @Test(arguments: [Int64(1000), 7 << 20])
    func theConditionalWriteRefusesAKeyTakenMeanwhile(_ length: Int64) async throws {
        let store = try await MotoServer.store(endpoint: MotoServer.endpoint)
        let key = key
        // For a multipart upload, the other writer wins while the second part is read, before the upload completes.
        let raceAt: Int64 = length > store.partSize ? Int64(store.partSize) : 0
        let body = PatternBody(length: length, chunkSize: 64 * 1024) { offset in
            guard offset == raceAt else { return }
            _ = try await store.put(key, body: Chunks(chunks: [[7, 7, 7]]), expectedLength: 3, maximumSize: 100)
        }
        await #expect(throws: StorageError.alreadyExists(key.path)) {
            try await store.put(key, body: body, expectedLength: length, maximumSize: 1 << 30)
        }
        #expect(try await bytes(of: store.read(key, range: nil)) == [7, 7, 7])
        #expect(try await store.incompleteUploads().isEmpty)
    }

    @Test func failedUploadsLeaveNoObjectAndNoParts() async throws {
        let store = try await MotoServer.store(endpoint: MotoServer.endpoint)
        // Shorter than announced, in a single part and across parts.
        await #expect(throws: StorageError.incompleteBody(expected: 100, received: 50)) {
            try await store.put(key, body: PatternBody(length: 50), expectedLength: 100, maximumSize: 1 << 30)
        }
        await #expect(throws: StorageError.incompleteBody(expected: 12 << 20, received: 10 << 20)) {
            try await store.put(key, body: PatternBody(length: 10 << 20), expectedLength: 12 << 20, maximumSize: 1 << 30)
        }
        // Longer than announced, over the limit, and a client that goes away after the first part.
        await #expect(throws: StorageError.incompleteBody(expected: 6 << 20, received: (6 << 20) + (256 << 10))) {
            try await store.put(key, body: PatternBody(length: 8 << 20), expectedLength: 6 << 20, maximumSize: 1 << 30)
        }
        await #expect(throws: StorageError.tooLarge(limit: 6 << 20)) {
            try await store.put(key, body: PatternBody(length: 8 << 20), expectedLength: nil, maximumSize: 6 << 20)
        }
        await #expect(throws: StorageError.tooLarge(limit: 10)) {
            try await store.put(key, body: PatternBody(length: 8 << 20), expectedLength: 11, maximumSize: 10)
        }
        let disconnecting = PatternBody(length: 8 << 20) { offset in
            if offset >= 6 << 20 { throw Chunks.Disconnected() }
        }
        await #expect(throws: StorageError.incompleteBody(expected: 6 << 20, received: 6 << 20)) {
            try await store.put(key, body: disconnecting, expectedLength: nil, maximumSize: 1 << 30)
        }
        #expect(try await store.size(of: key) == nil)
        #expect(try await store.incompleteUploads().isEmpty)
    }

    @Test func incompleteUploadsAreListedAndOldOnesAborted() async throws {
        let store = try await MotoServer.store(endpoint: MotoServer.endpoint)
        let object = store.location.objectName(of: key)
        let response = try await store.send(.POST, object: object, query: [("uploads", "")], operation: "CreateMultipartUpload")
        #expect(response.status.code == 200)
        let uploads = try await store.incompleteUploads()
        #expect(uploads.map(\.object) == [object])
        // moto dates every upload 2010-11-10T20:48:33Z, so this one counts as old.
        #expect(uploads.first?.initiated == Date(timeIntervalSince1970: 1_289_422_113))
        #expect(try await store.removeIncompleteUploads(olderThan: 3600) == 1)
        #expect(try await store.incompleteUploads().isEmpty)
    }

    @Test func presignedURLsWorkWithAPlainHTTPClient() async throws {
        let store = try await MotoServer.store(endpoint: MotoServer.endpoint)
        let key = try ObjectKey("imap/presigned dir/a+b é.cdf")
        _ = try await store.put(key, body: Chunks(chunks: [Array("downloaded".utf8)]), expectedLength: 10, maximumSize: 100)
        let getURL = store.presignedURL(for: key, method: .get, expiresIn: 600, baseURL: "http://unused.example")
        #expect(getURL.hasPrefix(store.location.endpoint.url + "/" + store.location.bucket + "/archive/v1/imap/presigned%20dir/a%2Bb%20%C3%A9.cdf?"))
        #expect(getURL.contains("X-Amz-Expires=600&"))
        let download = try await MotoServer.httpClient.execute(HTTPClientRequest(url: getURL), timeout: .seconds(30))
        #expect(download.status.code == 200)
        #expect(String(buffer: try await download.body.collect(upTo: 1 << 20)) == "downloaded")

        let uploaded = try ObjectKey("imap/uploaded via url.cdf")
        var upload = HTTPClientRequest(url: store.presignedURL(for: uploaded, method: .put, expiresIn: 600, baseURL: ""))
        upload.method = .PUT
        upload.body = .bytes(ByteBuffer(string: "uploaded"))
        let answer = try await MotoServer.httpClient.execute(upload, timeout: .seconds(30))
        #expect(answer.status.code == 200)
        #expect(try await store.measure(uploaded) == StoredObject(key: uploaded, size: 8, sha256: sha256Hex(Array("uploaded".utf8))))
        // A week at most, S3's limit.
        #expect(store.presignedURL(for: key, method: .get, expiresIn: 30 * 86_400, baseURL: "").contains("X-Amz-Expires=604800&"))
        #expect(throws: URLSigner.Refusal.servedByBucket) {
            try store.verifyPresigned(method: .get, key: key, expires: "1", signature: "x")
        }
    }

    @Test func anUnreachableEndpointIsNamedInTheError() async throws {
        // A port that was free a moment ago: nothing listens there.
        let store = try await MotoServer.store(endpoint: MotoServer.endpoint)
        let closed = try S3ObjectStore(location: S3Location(bucket: store.location.bucket, endpoint: "http://127.0.0.1:\(Self.closedPort())", region: "us-east-1"),
                                       credentials: MotoServer.anyCredentials, httpClient: MotoServer.httpClient)
        do {
            _ = try await closed.put(key, body: Chunks(chunks: [[1]]), expectedLength: 1, maximumSize: 10)
            Issue.record("a put to a closed port succeeded")
        } catch {
            #expect(error.description.contains("cannot reach the S3 endpoint \(closed.location.endpoint)"), "\(error)")
            #expect(error.description.contains("s3://\(store.location.bucket)/"), "\(error)")
        }
    }

    /// A loopback port with no listener: bound, read and closed again.
    static func closedPort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socket >= 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// The choice of uploads old enough to abort, which moto cannot show (it dates every upload 2010-11-10).
struct S3IncompleteUploadTests {
    @Test func onlyUploadsBegunBeforeTheCutoffAreStale() {
        let now = Date()
        let young = S3ObjectStore.IncompleteUpload(object: "a", uploadID: "1", initiated: now.addingTimeInterval(-60))
        let old = S3ObjectStore.IncompleteUpload(object: "b", uploadID: "2", initiated: now.addingTimeInterval(-7200))
        let undated = S3ObjectStore.IncompleteUpload(object: "c", uploadID: "3", initiated: nil)
        #expect(S3ObjectStore.uploads([young, old, undated], initiatedBefore: now.addingTimeInterval(-3600)) == [old])
        #expect(S3ObjectStore.parseTime("2024-01-05T12:34:56.250Z") == Date(timeIntervalSince1970: 1_704_458_096.25))
        #expect(S3ObjectStore.parseTime("2024-01-05T12:34:56Z") == Date(timeIntervalSince1970: 1_704_458_096))
        #expect(S3ObjectStore.parseTime("yesterday") == nil)
    }
}

/// Against the moto endpoint that checks every signature as AWS does.
@Suite(.enabled(if: MotoServer.authEndpoint != nil && MotoServer.authCredentials != nil,
                "SDC_TEST_S3_AUTH_ENDPOINT is not set: scripts/test starts moto (scripts/lib/moto.sh) and sets it"))
struct S3SignatureCheckingTests {
    let key: ObjectKey

    init() throws { key = try ObjectKey("imap/signed dir/a+b=c&é 漢字.cdf") }

    @Test func everyOperationIsAcceptedWithTheRightCredentials() async throws {
        let store = try await MotoServer.store(endpoint: MotoServer.authEndpoint, credentials: MotoServer.authCredentials)
        let length: Int64 = (6 << 20) + 123
        let stored = try await store.put(key, body: PatternBody(length: length), expectedLength: length, maximumSize: 1 << 30)
        #expect(stored.sha256 == PatternBody.sha256(length: length))
        let small = try ObjectKey("imap/small.txt")
        _ = try await store.put(small, body: Chunks(chunks: [[1, 2, 3]]), expectedLength: 3, maximumSize: 10)
        #expect(try await store.size(of: key) == length)
        #expect(try await bytes(of: store.read(key, range: 5...9)) == PatternBody.bytes(5...9))
        #expect(try await store.measure(key) == stored)
        #expect(try await store.incompleteUploads().isEmpty)
        try await store.delete(small)
        #expect(try await store.size(of: small) == nil)
    }

    @Test(arguments: [("wrong secret", "SignatureDoesNotMatch"), ("unknown key", "InvalidAccessKeyId")])
    func wrongCredentialsGiveAClearErrorAndCreateNothing(_ mistake: String, _ code: String) async throws {
        let store = try await MotoServer.store(endpoint: MotoServer.authEndpoint, credentials: MotoServer.authCredentials)
        let good = try #require(MotoServer.authCredentials)
        let wrong = mistake == "wrong secret"
            ? AWSCredentials(accessKeyID: good.accessKeyID, secretAccessKey: good.secretAccessKey + "x")
            : AWSCredentials(accessKeyID: "AKIAUNKNOWNKEY000000", secretAccessKey: good.secretAccessKey)
        let intruder = try MotoServer.sibling(of: store, credentials: wrong)
        for length: Int64 in [100, 6 << 20] {
            do {
                _ = try await intruder.put(key, body: PatternBody(length: length), expectedLength: length, maximumSize: 1 << 30)
                Issue.record("a put with the \(mistake) succeeded")
            } catch {
                #expect(error.description.contains(code), "\(error)")
                #expect(error.description.contains("s3://\(store.location.bucket)/archive/v1/\(key.path)"), "\(error)")
                #expect(error.description.contains(store.location.endpoint.url), "\(error)")
            }
        }
        await #expect(throws: StorageError.self) { try await intruder.read(key, range: nil) }
        #expect(try await store.size(of: key) == nil)
        #expect(try await store.incompleteUploads().isEmpty)
    }
}
