import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SDCIngest
import SDCServer
import SDCStorage
import Testing

/// A store (the filesystem store in these tests) with one download path taken away, to show which path a download took.
struct DownloadPathStore: ObjectStore {
    /// How objects may leave the store.
    enum Path: String, CaseIterable, CustomTestStringConvertible {
        /// Only as local file regions (`sendfile`): reading through user space fails.
        case sendfile
        /// Only as streamed chunks, like a store without local files (S3).
        case stream

        var testDescription: String { rawValue }
    }

    let inner: any ObjectStore
    let path: Path

    func put<Body: AsyncSequence & Sendable>(
        _ key: ObjectKey, body: Body, expectedLength: Int64?, maximumSize: Int64
    ) async throws(StorageError) -> StoredObject where Body.Element == ByteBuffer {
        try await inner.put(key, body: body, expectedLength: expectedLength, maximumSize: maximumSize)
    }

    func size(of key: ObjectKey) async throws(StorageError) -> Int64? { try await inner.size(of: key) }

    func read(_ key: ObjectKey, range: ClosedRange<Int64>?) async throws(StorageError) -> ObjectBody {
        guard path == .stream else { throw .io("this store only sends local file regions") }
        return try await inner.read(key, range: range)
    }

    func localFileRegion(_ key: ObjectKey, range: ClosedRange<Int64>?) async throws(StorageError) -> LocalFileRegion? {
        path == .sendfile ? try await inner.localFileRegion(key, range: range) : nil
    }

    func measure(_ key: ObjectKey) async throws(StorageError) -> StoredObject { try await inner.measure(key) }
    func delete(_ key: ObjectKey) async throws(StorageError) { try await inner.delete(key) }
    func removeIncompleteUploads(olderThan seconds: Int64) async throws -> Int { try await inner.removeIncompleteUploads(olderThan: seconds) }

    func presignedURL(for key: ObjectKey, method: PresignedMethod, expiresIn seconds: Int64, baseURL: String) -> String {
        inner.presignedURL(for: key, method: method, expiresIn: seconds, baseURL: baseURL)
    }

    func verifyPresigned(method: PresignedMethod, key: ObjectKey, expires: String?, signature: String?) throws(URLSigner.Refusal) {
        try inner.verifyPresigned(method: method, key: key, expires: expires, signature: signature)
    }
}

struct DownloadTests {
    let science = "imap_swe_l1a_sci_20240105_v001.0000.cdf"
    let scienceKey = "imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0000.cdf"

    /// Whole files and every kind of range, one after another on one connection (so a body one byte too long or too
    /// short would corrupt the next answer), through sendfile and through the streamed path.
    @Test(arguments: DownloadPathStore.Path.allCases)
    func downloadsServeWholeFilesAndRanges(path: DownloadPathStore.Path) async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        // Several MiB, so that both paths cross their chunk and pacing sizes; an odd size, so that no range is aligned.
        let size = 5 * 1024 * 1024 + 7
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        let checksum = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let store = DownloadPathStore(inner: t.dataCenter.store, path: path)
        var configuration = ServerConfiguration()
        configuration.port = 0
        let server = DataCenterServer(configuration: configuration, ingestor: Ingestor(catalog: t.dataCenter.catalog, store: store),
                                      keys: t.dataCenter.catalog, requestLog: t.dataCenter.catalog)
        try await server.application().test(.live) { client in
            #expect(try await client.upload(science, bytes, key: t.writeKey).status == .ok)
            let uri = "/api-key/download/\(scienceKey)"
            let whole = try await client.execute(uri: uri, method: .get, headers: [apiKeyHeader: t.readKey])
            #expect(whole.status == .ok && whole.headers[.contentLength] == "\(size)")
            #expect(whole.headers[HTTPField.Name("x-checksum-sha256")!] == checksum)
            #expect(whole.body.readableBytes == size && Array(buffer: whole.body) == bytes)

            let last = size - 1
            let ranges: [(header: String, first: Int, last: Int)] = [
                ("bytes=0-0", 0, 0), ("bytes=10-19", 10, 19), ("bytes=262140-2097200", 262_140, 2_097_200),
                ("bytes=\(last)-\(last)", last, last), ("bytes=\(size - 10)-", size - 10, last), ("bytes=-10", size - 10, last),
                ("bytes=\(last - 99)-\(size + 1_000)", last - 99, last), ("bytes=-\(size + 1)", 0, last), ("bytes=0-", 0, last),
            ]
            for range in ranges {
                let part = try await client.execute(uri: uri, method: .get, headers: [apiKeyHeader: t.readKey, .range: range.header])
                #expect(part.status == .partialContent, "\(range.header)")
                #expect(part.headers[.contentRange] == "bytes \(range.first)-\(range.last)/\(size)", "\(range.header)")
                #expect(part.headers[.contentLength] == "\(range.last - range.first + 1)", "\(range.header)")
                #expect(Array(buffer: part.body) == Array(bytes[range.first...range.last]), "\(range.header)")
            }
            for unsatisfiable in ["bytes=\(size)-", "bytes=\(size + 5)-\(size + 10)", "bytes=-0"] {
                let refused = try await client.execute(uri: uri, method: .get, headers: [apiKeyHeader: t.readKey, .range: unsatisfiable])
                #expect(refused.status == .rangeNotSatisfiable, "\(unsatisfiable)")
                #expect(refused.text.contains("InvalidRange"), "\(unsatisfiable)")
            }
            let head = try await client.execute(uri: uri, method: .head, headers: [apiKeyHeader: t.readKey, .range: "bytes=-10"])
            #expect(head.status == .partialContent && head.headers[.contentLength] == "10" && head.body.readableBytes == 0)

            // The connection is still in step: the next answer is whole and correct.
            let query = try await client.execute(uri: "/api-key/query?instrument=swe", method: .get, headers: [apiKeyHeader: t.readKey])
            #expect(query.status == .ok && query.text.contains(scienceKey))
        }
    }

    /// Presigned GET URLs (redirected downloads) take the same path.
    @Test(arguments: DownloadPathStore.Path.allCases)
    func presignedDownloadsServeWholeFilesAndRanges(path: DownloadPathStore.Path) async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.downloadMode = .redirect
        let store = DownloadPathStore(inner: t.dataCenter.store, path: path)
        let server = DataCenterServer(configuration: configuration, ingestor: Ingestor(catalog: t.dataCenter.catalog, store: store),
                                      keys: t.dataCenter.catalog, requestLog: t.dataCenter.catalog)
        try await server.application().test(.live) { client in
            #expect(try await client.upload(science, bytes, key: t.writeKey).status == .ok)
            let redirect = try await client.execute(uri: "/api-key/download/\(scienceKey)", method: .get, headers: [apiKeyHeader: t.readKey])
            let location = pathAndQuery(try #require(redirect.headers[.location]))
            let whole = try await client.execute(uri: location, method: .get)
            #expect(whole.status == .ok && Array(buffer: whole.body) == bytes)
            let tail = try await client.execute(uri: location, method: .get, headers: [.range: "bytes=299995-"])
            #expect(tail.status == .partialContent && Array(buffer: tail.body) == Array(bytes.suffix(5)))
            #expect(try await client.execute(uri: location, method: .get, headers: [.range: "bytes=300000-"]).status == .rangeNotSatisfiable)
        }
    }
}
