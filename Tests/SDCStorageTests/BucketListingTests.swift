import Foundation
import NIOCore
import SDCCore
import Testing
@testable import SDCStorage

/// Listing, recognizing and setting aside objects of the S3 store, against moto.
@Suite(.enabled(if: MotoServer.endpoint != nil, "SDC_TEST_S3_ENDPOINT is not set: scripts/test starts moto (scripts/lib/moto.sh) and sets it"))
struct BucketListingTests {
    func put(_ store: S3ObjectStore, _ name: String, _ text: String) async throws {
        _ = try await store.put(try ObjectKey(name), body: Chunks(chunks: [Array(text.utf8)]), expectedLength: Int64(text.utf8.count),
                                maximumSize: 1 << 20)
    }

    @Test func listsEveryPageUnderThePrefixWithNamesRelativeToTheStore() async throws {
        let store = try await MotoServer.store(endpoint: MotoServer.endpoint)
        let names = (0..<5).map { "imap/swe/l0/2024/01/imap_swe_l0_raw_2024010\($0 + 1)_v001.pkts" } + ["imap/odd name & <x>.txt"]
        for (index, name) in names.enumerated() { try await put(store, name, String(repeating: "x", count: index + 1)) }
        try await put(store, "rejected/elsewhere.txt", "not listed")
        // Outside the store's prefix, in the same bucket: never listed.
        let outside = try S3ObjectStore(location: S3Location(bucket: store.location.bucket, endpoint: store.location.endpoint.url, region: "us-east-1"),
                                        credentials: MotoServer.anyCredentials, httpClient: MotoServer.httpClient)
        try await put(outside, "imap/outside.txt", "outside")

        var pages: [ObjectListingPage] = []
        var token: String?
        repeat {
            let page = try await store.listObjects(under: "imap/", continuationToken: token, pageSize: 2)
            pages.append(page)
            token = page.continuationToken
        } while token != nil
        #expect(pages.map(\.objects.count) == [2, 2, 2])
        let listed = pages.flatMap(\.objects)
        #expect(Set(listed.map(\.name)) == Set(names))
        for (index, name) in names.enumerated() {
            #expect(listed.first { $0.name == name }?.size == Int64(index + 1))
        }
        #expect(try await store.listObjects(under: "imap/none/", continuationToken: nil, pageSize: 1000) == ObjectListingPage(objects: [], continuationToken: nil))
    }

    @Test func recognizesItsOwnObjectsInEvents() async throws {
        let location = try S3Location(bucket: "mission", prefix: "archive/v1", endpoint: "http://127.0.0.1:9", region: "us-east-1")
        let store = S3ObjectStore(location: location, credentials: MotoServer.anyCredentials, httpClient: MotoServer.httpClient)
        #expect(store.storeName(bucket: "mission", object: "archive/v1/imap/a.pkts") == "imap/a.pkts")
        #expect(store.storeName(bucket: "mission", object: "archive/v2/imap/a.pkts") == nil)
        #expect(store.storeName(bucket: "mission", object: "archive/v1") == nil)
        #expect(store.storeName(bucket: "other", object: "archive/v1/imap/a.pkts") == nil)
        let root = S3ObjectStore(location: try S3Location(bucket: "mission", endpoint: "http://127.0.0.1:9", region: "us-east-1"),
                                 credentials: MotoServer.anyCredentials, httpClient: MotoServer.httpClient)
        #expect(root.storeName(bucket: "mission", object: "imap/a.pkts") == "imap/a.pkts")
    }

    @Test func setsAnObjectAsideWithItsReasonOnce() async throws {
        let store = try await MotoServer.store(endpoint: MotoServer.endpoint)
        // A name no ObjectKey accepts, as a foreign client may write one.
        let name = "imap/.hidden/bad name+é.pkts"
        let created = try await store.send(.PUT, object: "archive/v1/" + name, payload: (ByteBuffer(string: "foreign"), sha256Hex(Array("foreign".utf8))),
                                           operation: "PutObject")
        try #require(created.status.code == 200)
        let moved = try await store.setAside(name, into: "rejected", reason: "badly named: é")
        #expect(moved == "rejected/" + name)
        let listed = try await store.listObjects(under: "", continuationToken: nil, pageSize: 1000).objects.map(\.name)
        #expect(listed.sorted() == ["rejected/" + name, "rejected/" + name + ".reason"])
        let reason = try await store.send(.GET, object: "archive/v1/rejected/" + name + ".reason", operation: "GetObject")
        #expect(String(buffer: try await reason.body.collect(upTo: 1 << 10)) == "badly named: é\n")
        let copy = try await store.send(.GET, object: "archive/v1/rejected/" + name, operation: "GetObject")
        #expect(String(buffer: try await copy.body.collect(upTo: 1 << 10)) == "foreign")
        // Already gone: another replica set it aside first.
        #expect(try await store.setAside(name, into: "rejected", reason: "again") == nil)
    }
}

/// The listing and the move aside with wrong credentials, against the moto endpoint that checks signatures.
@Suite(.enabled(if: MotoServer.authEndpoint != nil && MotoServer.authCredentials != nil,
                "SDC_TEST_S3_AUTH_ENDPOINT is not set: scripts/test starts moto (scripts/lib/moto.sh) and sets it"))
struct BucketListingCredentialTests {
    @Test func wrongCredentialsGiveAClearErrorAndMoveNothing() async throws {
        let store = try await MotoServer.store(endpoint: MotoServer.authEndpoint, credentials: MotoServer.authCredentials)
        let good = try #require(MotoServer.authCredentials)
        let key = try ObjectKey("imap/badly-named.txt")
        _ = try await store.put(key, body: Chunks(chunks: [[1, 2, 3]]), expectedLength: 3, maximumSize: 10)
        let intruder = try MotoServer.sibling(of: store, credentials: AWSCredentials(accessKeyID: good.accessKeyID, secretAccessKey: "wrong"))
        do {
            _ = try await intruder.listObjects(under: "imap/", continuationToken: nil, pageSize: 10)
            Issue.record("a listing with a wrong secret succeeded")
        } catch {
            #expect(error.description.contains("ListObjectsV2"), "\(error)")
            #expect(error.description.contains("SignatureDoesNotMatch"), "\(error)")
            #expect(error.description.contains(store.location.endpoint.url), "\(error)")
        }
        do {
            _ = try await intruder.setAside(key.path, into: "rejected", reason: "test")
            Issue.record("a move aside with a wrong secret succeeded")
        } catch {
            #expect(error.description.contains("CopyObject"), "\(error)")
            #expect(error.description.contains("SignatureDoesNotMatch"), "\(error)")
        }
        #expect(try await store.listObjects(under: "", continuationToken: nil, pageSize: 10).objects.map(\.name) == [key.path])
    }
}
