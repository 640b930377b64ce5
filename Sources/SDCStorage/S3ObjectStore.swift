import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import SDCCore

/// Objects in an S3 bucket (AWS or any S3-compatible server), through the S3 REST API with path-style addressing and
/// Signature Version 4.
///
/// - Uploads stream: the body is cut into parts as it arrives, so at most one part is in memory. A body that fits in
///   one part is sent with a single `PutObject`, a larger one as a multipart upload, one part after another; the
///   SHA-256 is computed on the way. The object appears complete or not at all, and never replaces another:
///   `If-None-Match: *` makes the `PutObject` or `CompleteMultipartUpload` fail (412) when the key exists. Any failure
///   aborts the multipart upload, so no part is left behind (``removeIncompleteUploads(olderThan:)`` clears the
///   uploads of a process that died).
/// - Presigned URLs point at the bucket, which checks them: ``verifyPresigned(method:key:expires:signature:)`` refuses
///   every request, since this server's `/objects/` route serves none of this store's URLs.
public struct S3ObjectStore: BucketListing {
    /// The bucket, prefix, endpoint and region.
    public let location: S3Location
    let signer: SigV4Signer
    /// Signs and checks the URLs of uploads relayed through this server; nil for direct-to-bucket uploads.
    let uploadRelay: URLSigner?
    let httpClient: HTTPClient
    /// Bytes per part of a multipart upload (the size of the one part held in memory), unless the size limit needs
    /// larger parts to stay within S3's 10,000 parts.
    public let partSize: Int

    /// S3's smallest part (all but the last part of an upload).
    public static let minimumPartSize = 5 << 20
    /// The part size unless told otherwise: 8 MiB, enough for 80 GB in S3's 10,000 parts.
    public static let defaultPartSize = 8 << 20
    static let maximumPartSize: Int64 = 5 << 30
    static let maximumParts: Int64 = 10_000
    /// S3 refuses presigned URLs valid for longer than seven days.
    public static let maximumPresignedLifetime: Int64 = 7 * 86_400
    /// Bytes of an error reply kept for the message.
    static let maximumErrorBodyBytes = 64 << 10
    /// Bytes of a `ListObjectsV2` page read: 1,000 entries of 1,024-byte keys with their XML fit with room to spare.
    static let maximumListingBytes = 4 << 20
    /// Time allowed for a whole request and its reply; stalled connections are caught by the client's connect and
    /// read timeouts instead.
    static let requestDeadline = TimeAmount.hours(24)

    /// The HTTP client settings the store expects: no redirects followed (S3 answers a wrong region with one),
    /// connect and read timeouts.
    public static var httpClientConfiguration: HTTPClient.Configuration {
        HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(60)))
    }

    /// One client for every store of the process, living as long as it.
    public static let sharedHTTPClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpClientConfiguration)

    /// A store on `location` signing with `credentials`. `partSize` is raised to S3's minimum of 5 MiB.
    ///
    /// With an `uploadRelay`, presigned PUT URLs point at this server's `/objects/` route, signed by it: uploads
    /// stream through the server into the bucket and are cataloged as they arrive (the default of `sdc serve`).
    /// Without one they point at the bucket itself (direct-to-bucket uploads, which something else must catalog).
    public init(location: S3Location, credentials: AWSCredentials, uploadRelay: URLSigner? = nil,
                httpClient: HTTPClient = S3ObjectStore.sharedHTTPClient, partSize: Int = S3ObjectStore.defaultPartSize) {
        self.location = location
        self.uploadRelay = uploadRelay
        self.signer = SigV4Signer(credentials: credentials, region: location.region)
        self.httpClient = httpClient
        self.partSize = max(partSize, Self.minimumPartSize)
    }

    // MARK: Writing

    /// Streams `body` into a new object: one `PutObject` when it fits in one part, else a multipart upload sent part by
    /// part; both conditional on the key being free (`If-None-Match: *`), so an existing object is never replaced
    /// (``StorageError/alreadyExists(_:)``). A body over `maximumSize`, or not of `expectedLength`, fails like the
    /// filesystem store's, and a failed multipart upload is aborted.
    public func put<Body: AsyncSequence & Sendable>(
        _ key: ObjectKey, body: Body, expectedLength: Int64?, maximumSize: Int64
    ) async throws(StorageError) -> StoredObject where Body.Element == ByteBuffer {
        if let expectedLength, expectedLength > maximumSize { throw .tooLarge(limit: maximumSize) }
        if try await size(of: key) != nil { throw .alreadyExists(key.path) }
        let object = location.objectName(of: key)
        let partSize = partSize(forAtMost: expectedLength ?? maximumSize)
        var reader = PartReader(iterator: body.makeAsyncIterator(), expectedLength: expectedLength, maximumSize: maximumSize)
        let first = try await reader.nextPart(size: partSize)
        if reader.finished {
            let response = try await send(.PUT, object: object, headers: [("If-None-Match", "*")], payload: first, operation: "PutObject")
            switch response.status.code {
            case 200: await drain(response)
            case 412:
                await drain(response)
                throw .alreadyExists(key.path)
            default: throw await failure("PutObject", object: object, response: response)
            }
            return StoredObject(key: key, size: reader.total, sha256: reader.digest)
        }
        let uploadID = try await createMultipartUpload(object)
        do throws(StorageError) {
            var etags: [String] = []
            var part = first
            while part.bytes.readableBytes > 0 {
                etags.append(try await uploadPart(object, uploadID: uploadID, number: etags.count + 1, part: part))
                if reader.finished { break }
                part = try await reader.nextPart(size: partSize)
            }
            try await completeMultipartUpload(object, key: key, uploadID: uploadID, etags: etags)
        } catch {
            // Not cancelled with the caller: the parts must go whatever happens to the upload's task.
            let store = self
            await Task { try? await store.abortMultipartUpload(object, uploadID: uploadID) }.value
            throw error
        }
        return StoredObject(key: key, size: reader.total, sha256: reader.digest)
    }

    /// The part size for a body of at most `limit` bytes: ``partSize``, or more when 10,000 such parts would not hold it.
    func partSize(forAtMost limit: Int64) -> Int {
        Int(min(max(Int64(partSize), limit / Self.maximumParts + 1), Self.maximumPartSize))
    }

    private func createMultipartUpload(_ object: String) async throws(StorageError) -> String {
        let response = try await send(.POST, object: object, query: [("uploads", "")], operation: "CreateMultipartUpload")
        guard response.status.code == 200 else { throw await failure("CreateMultipartUpload", object: object, response: response) }
        let reply = await text(of: response.body)
        guard let uploadID = S3XML.value("UploadId", in: reply[...]), !uploadID.isEmpty else {
            throw .io("S3 CreateMultipartUpload of \(location.display(object)) at \(location.endpoint) answered no UploadId")
        }
        return uploadID
    }

    /// Sends one part; returns its ETag.
    private func uploadPart(_ object: String, uploadID: String, number: Int, part: (bytes: ByteBuffer, sha256: String)) async throws(StorageError) -> String {
        let response = try await send(.PUT, object: object, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                                      payload: part, operation: "UploadPart")
        guard response.status.code == 200 else { throw await failure("UploadPart \(number)", object: object, response: response) }
        await drain(response)
        guard let etag = response.headers.first(name: "ETag") else {
            throw .io("S3 UploadPart \(number) of \(location.display(object)) at \(location.endpoint) answered no ETag")
        }
        return etag
    }

    private func completeMultipartUpload(_ object: String, key: ObjectKey, uploadID: String, etags: [String]) async throws(StorageError) {
        let parts = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(S3XML.escape($0.element))</ETag></Part>" }
        let document = Array(("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                              + parts.joined() + "</CompleteMultipartUpload>").utf8)
        let response = try await send(.POST, object: object, query: [("uploadId", uploadID)], headers: [("If-None-Match", "*")],
                                      payload: (ByteBuffer(bytes: document), SHA256.hash(data: document).hexString),
                                      operation: "CompleteMultipartUpload")
        switch response.status.code {
        case 412:
            await drain(response)
            throw .alreadyExists(key.path)
        case 200:
            // S3 may answer 200 and report a failure in the body, which it sends once the parts are joined.
            let reply = await text(of: response.body)
            guard let error = S3XML.elements("Error", in: reply[...]).first else { return }
            let code = S3XML.value("Code", in: error)
            if code == "PreconditionFailed" { throw .alreadyExists(key.path) }
            throw .io("S3 CompleteMultipartUpload of \(location.display(object)) at \(location.endpoint) failed: "
                      + Self.summary(status: 200, code: code, message: S3XML.value("Message", in: error)))
        default: throw await failure("CompleteMultipartUpload", object: object, response: response)
        }
    }

    private func abortMultipartUpload(_ object: String, uploadID: String) async throws(StorageError) {
        let response = try await send(.DELETE, object: object, query: [("uploadId", uploadID)], operation: "AbortMultipartUpload")
        guard response.status.code == 204 || response.status.code == 200 else {
            throw await failure("AbortMultipartUpload", object: object, response: response)
        }
        await drain(response)
    }

    // MARK: Reading

    /// `HeadObject`: the object's size, or nil when S3 answers 404.
    public func size(of key: ObjectKey) async throws(StorageError) -> Int64? {
        let object = location.objectName(of: key)
        let response = try await send(.HEAD, object: object, operation: "HeadObject")
        switch response.status.code {
        case 200:
            guard let length = response.headers.first(name: "Content-Length").flatMap({ Int64($0) }) else {
                throw .io("S3 HeadObject of \(location.display(object)) at \(location.endpoint) answered no Content-Length")
            }
            return length
        case 404: return nil
        default: throw await headFailure(object: object, status: response.status.code)
        }
    }

    /// Streams the object (`GetObject`), or the inclusive byte `range` of it, as the reply arrives. A range reaching
    /// past the end is refused like the filesystem store does (``StorageError/unsatisfiableRange(size:)``). Iterating the
    /// body a second time asks S3 again, for the same version of the object (`If-Match` on its ETag).
    public func read(_ key: ObjectKey, range: ClosedRange<Int64>?) async throws(StorageError) -> ObjectBody {
        if let range, range.lowerBound < 0 {
            guard let size = try await size(of: key) else { throw .notFound(key.path) }
            throw .unsatisfiableRange(size: size)
        }
        let object = location.objectName(of: key)
        let first = try await get(object, key: key, range: range, ifMatch: nil)
        let handoff = BodyHandoff(first.response.body)
        let etag = first.response.headers.first(name: "ETag")
        let store = self
        return ObjectBody(length: first.length) {
            if let body = handoff.take() {
                var iterator = body.makeAsyncIterator()
                return AnyChunkIterator { try await iterator.next() }
            }
            var iterator: HTTPClientResponse.Body.AsyncIterator?
            return AnyChunkIterator {
                if iterator == nil {
                    iterator = try await store.get(object, key: key, range: range, ifMatch: etag).response.body.makeAsyncIterator()
                }
                return try await iterator?.next()
            }
        }
    }

    /// `GetObject` of `object`, or of `range` of it; the reply once its status and length are checked.
    private func get(_ object: String, key: ObjectKey, range: ClosedRange<Int64>?, ifMatch etag: String?) async throws(StorageError)
        -> (response: HTTPClientResponse, length: Int64) {
        var headers: [(name: String, value: String)] = []
        if let range { headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        if let etag { headers.append(("If-Match", etag)) }
        let response = try await send(.GET, object: object, headers: headers, operation: "GetObject")
        let length = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
        switch (response.status.code, range) {
        case (200, nil):
            guard let length else { break }
            return (response, length)
        case (206, let range?):
            // S3 shortens a range that reaches past the end; the filesystem store refuses it, and so does this one.
            guard let length, let total = Self.totalSize(inContentRange: response.headers.first(name: "Content-Range")) else { break }
            guard range.upperBound < total else { throw .unsatisfiableRange(size: total) }
            return (response, length)
        case (416, _):
            if let total = Self.totalSize(inContentRange: response.headers.first(name: "Content-Range")) { throw .unsatisfiableRange(size: total) }
            guard let size = try await size(of: key) else { throw .notFound(key.path) }
            throw .unsatisfiableRange(size: size)
        case (404, _):
            let reply = await errorReply(response)
            if reply.code == "NoSuchKey" { throw .notFound(key.path) }
            throw failure("GetObject", object: object, reply: reply)
        case (412, _):
            await drain(response)
            throw .io("S3 GetObject of \(location.display(object)) at \(location.endpoint): the object changed while it was read")
        default:
            throw await failure("GetObject", object: object, response: response)
        }
        throw .io("S3 GetObject of \(location.display(object)) at \(location.endpoint) answered HTTP \(response.status.code) "
                  + "without the Content-Length and Content-Range it needs")
    }

    /// The `N` of a `Content-Range: bytes A-B/N` or `bytes */N` header.
    static func totalSize(inContentRange header: String?) -> Int64? {
        guard let header, let slash = header.lastIndex(of: "/") else { return nil }
        return Int64(header[header.index(after: slash)...])
    }

    /// `DeleteObject`; an absent object is ``StorageError/notFound(_:)`` (S3 itself would not say).
    public func delete(_ key: ObjectKey) async throws(StorageError) {
        guard try await size(of: key) != nil else { throw .notFound(key.path) }
        let object = location.objectName(of: key)
        let response = try await send(.DELETE, object: object, operation: "DeleteObject")
        guard response.status.code == 204 || response.status.code == 200 else {
            throw await failure("DeleteObject", object: object, response: response)
        }
        await drain(response)
    }

    // MARK: Presigned URLs

    /// An S3 presigned URL (query-string Signature Version 4) for `GET` or `PUT` of the object, pointing at the bucket;
    /// `seconds` is kept within 1 second and S3's 7 days. With an upload relay, a `PUT` URL is instead this server's
    /// (`baseURL`/objects/..., signed by the relay).
    public func presignedURL(for key: ObjectKey, method: PresignedMethod, expiresIn seconds: Int64, baseURL: String) -> String {
        if method == .put, let uploadRelay {
            let query = uploadRelay.queryString(method: .put, key: key, expiresIn: seconds, now: UTCTime.now.secondsSince1970)
            return baseURL + "/objects/" + key.path.percentEncoded(safe: "/") + "?" + query
        }
        return presignedURL(for: key, method: method, expiresIn: seconds, at: .now)
    }

    /// The presigned URL as signed at `time`.
    func presignedURL(for key: ObjectKey, method: PresignedMethod, expiresIn seconds: Int64, at time: UTCTime) -> String {
        let request = SigV4Signer.Request(method: method.rawValue, host: location.endpoint.hostHeader,
                                          path: location.path(of: location.objectName(of: key)))
        let lifetime = min(max(seconds, 1), Self.maximumPresignedLifetime)
        return location.endpoint.url + request.encodedPath + "?" + signer.presignedQuery(for: request, expiresIn: lifetime, at: time)
    }

    /// Checks a relayed upload's URL; refuses every other request, since this store's other presigned URLs point at
    /// the bucket, which checks them itself.
    public func verifyPresigned(method: PresignedMethod, key: ObjectKey, expires: String?, signature: String?) throws(URLSigner.Refusal) {
        guard method == .put, let uploadRelay else { throw .servedByBucket }
        try uploadRelay.verify(method: .put, key: key, expires: expires, signature: signature, now: UTCTime.now.secondsSince1970)
    }

    // MARK: Listing and setting aside

    /// The most keys S3 returns in one `ListObjectsV2` page.
    public static let maximumPageSize = 1000

    /// `ListObjectsV2` of the objects under `PREFIX/prefix`: one page of at most `pageSize` (1 to 1,000) objects, names
    /// relative to the store's prefix.
    public func listObjects(under prefix: String, continuationToken: String?, pageSize: Int) async throws(StorageError) -> ObjectListingPage {
        let storePrefix = location.prefix.map { $0 + "/" } ?? ""
        var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", storePrefix + prefix),
                                                      ("max-keys", String(min(max(pageSize, 1), Self.maximumPageSize)))]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let response = try await send(.GET, object: nil, query: query, operation: "ListObjectsV2")
        guard response.status.code == 200 else { throw await failure("ListObjectsV2", object: storePrefix + prefix, response: response) }
        let reply = await text(of: response.body, limit: Self.maximumListingBytes)[...]
        guard reply.utf8.count < Self.maximumListingBytes else {
            throw .io("S3 ListObjectsV2 of \(location.display(storePrefix + prefix)) at \(location.endpoint) answered a page larger than "
                      + "\(Self.maximumListingBytes) bytes")
        }
        var objects: [ListedObject] = []
        for entry in S3XML.elements("Contents", in: reply) {
            guard let object = S3XML.value("Key", in: entry), object.hasPrefix(storePrefix),
                  let size = S3XML.value("Size", in: entry).flatMap({ Int64($0) }) else {
                throw .io("S3 ListObjectsV2 of \(location.display(storePrefix + prefix)) at \(location.endpoint) answered an entry "
                          + "without a Key under the prefix and a Size: \(entry.prefix(200))")
            }
            objects.append(ListedObject(name: String(object.dropFirst(storePrefix.count)), size: size))
        }
        guard S3XML.value("IsTruncated", in: reply) == "true" else { return ObjectListingPage(objects: objects, continuationToken: nil) }
        guard let next = S3XML.value("NextContinuationToken", in: reply), !next.isEmpty else {
            throw .io("S3 ListObjectsV2 of \(location.display(storePrefix + prefix)) at \(location.endpoint) answered a truncated page "
                      + "without a NextContinuationToken")
        }
        return ObjectListingPage(objects: objects, continuationToken: next)
    }

    /// The name under this store's prefix of `object` in `bucket`; nil for another bucket or outside the prefix.
    public func storeName(bucket: String, object: String) -> String? {
        guard bucket == location.bucket else { return nil }
        guard let prefix = location.prefix else { return object }
        guard object.hasPrefix(prefix + "/") else { return nil }
        return String(object.dropFirst(prefix.count + 1))
    }

    /// `CopyObject` to `folder/name`, `PutObject` of `folder/name.reason`, then `DeleteObject` of the original; nil when
    /// the original is already gone (`NoSuchKey`). The names need not be valid ``ObjectKey``s: a foreign object may
    /// be named anything S3 accepts. `CopyObject` copies at most 5 GB; a larger object fails here and stays in place.
    public func setAside(_ name: String, into folder: String, reason: String) async throws(StorageError) -> String? {
        let source = location.prefix.map { $0 + "/" + name } ?? name
        let target = folder + "/" + name
        let destination = location.prefix.map { $0 + "/" + target } ?? target
        let copySource = location.path(of: source).percentEncoded(safe: "/")
        let copied = try await send(.PUT, object: destination, headers: [("x-amz-copy-source", copySource)], operation: "CopyObject")
        switch copied.status.code {
        case 200:
            // S3 may answer 200 and report a failure in the body.
            let reply = await text(of: copied.body)
            if reply.contains("<Error>") {
                throw failure("CopyObject from \(location.display(source))", object: destination,
                              reply: ErrorReply(status: 200, code: S3XML.value("Code", in: reply[...]), message: S3XML.value("Message", in: reply[...])))
            }
        case 404:
            let reply = await errorReply(copied)
            if reply.code == "NoSuchKey" { return nil }
            throw failure("CopyObject from \(location.display(source))", object: destination, reply: reply)
        default:
            throw await failure("CopyObject from \(location.display(source))", object: destination, response: copied)
        }
        let text = Array((reason + "\n").utf8)
        let explained = try await send(.PUT, object: destination + ".reason", headers: [("Content-Type", "text/plain; charset=utf-8")],
                                       payload: (ByteBuffer(bytes: text), SHA256.hash(data: text).hexString), operation: "PutObject")
        guard explained.status.code == 200 else { throw await failure("PutObject", object: destination + ".reason", response: explained) }
        await drain(explained)
        let deleted = try await send(.DELETE, object: source, operation: "DeleteObject")
        guard deleted.status.code == 204 || deleted.status.code == 200 else { throw await failure("DeleteObject", object: source, response: deleted) }
        await drain(deleted)
        return target
    }

    // MARK: Incomplete uploads

    /// A multipart upload begun under this store's prefix and neither completed nor aborted.
    public struct IncompleteUpload: Sendable, Hashable {
        /// The S3 object name (with the store's prefix).
        public let object: String
        /// S3's identifier of the upload.
        public let uploadID: String
        /// When S3 says the upload began; nil when its reply could not be read.
        public let initiated: Date?
    }

    /// `ListMultipartUploads` under this store's prefix, every page.
    public func incompleteUploads() async throws(StorageError) -> [IncompleteUpload] {
        var uploads: [IncompleteUpload] = []
        var markers: [(name: String, value: String)] = []
        while true {
            var query: [(name: String, value: String)] = [("uploads", "")]
            if let prefix = location.prefix { query.append(("prefix", prefix + "/")) }
            let response = try await send(.GET, object: nil, query: query + markers, operation: "ListMultipartUploads")
            guard response.status.code == 200 else { throw await failure("ListMultipartUploads", object: nil, response: response) }
            let reply = await text(of: response.body)[...]
            for upload in S3XML.elements("Upload", in: reply) {
                guard let object = S3XML.value("Key", in: upload), let uploadID = S3XML.value("UploadId", in: upload) else { continue }
                uploads.append(IncompleteUpload(object: object, uploadID: uploadID, initiated: S3XML.value("Initiated", in: upload).flatMap(Self.parseTime)))
            }
            guard S3XML.value("IsTruncated", in: reply) == "true", let key = S3XML.value("NextKeyMarker", in: reply),
                  let uploadID = S3XML.value("NextUploadIdMarker", in: reply) else { return uploads }
            markers = [("key-marker", key), ("upload-id-marker", uploadID)]
        }
    }

    /// Aborts the multipart uploads under this store's prefix begun more than `seconds` ago (those of a process that
    /// died mid-upload); younger ones, perhaps another replica's upload in flight, and undated ones are left alone.
    /// Returns how many were aborted.
    @discardableResult
    public func removeIncompleteUploads(olderThan seconds: Int64) async throws(StorageError) -> Int {
        let stale = Self.uploads(try await incompleteUploads(), initiatedBefore: Date(timeIntervalSinceNow: -TimeInterval(seconds)))
        for upload in stale { try await abortMultipartUpload(upload.object, uploadID: upload.uploadID) }
        return stale.count
    }

    /// The uploads known to have begun before `cutoff`.
    static func uploads(_ uploads: [IncompleteUpload], initiatedBefore cutoff: Date) -> [IncompleteUpload] {
        uploads.filter { upload in upload.initiated.map { $0 < cutoff } ?? false }
    }

    /// An S3 timestamp: `2024-01-05T12:34:56.000Z`, with or without the fraction.
    static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    // MARK: Requests

    /// Sends one signed request to the bucket (`object` nil) or to one of its objects, with an optional body and its
    /// SHA-256. Only an endpoint that cannot be reached throws; S3's answers, errors included, are returned.
    func send(_ method: HTTPMethod, object: String?, query: [(name: String, value: String)] = [],
              headers: [(name: String, value: String)] = [], payload: (bytes: ByteBuffer, sha256: String)? = nil,
              operation: String) async throws(StorageError) -> HTTPClientResponse {
        let target = SigV4Signer.Request(method: method.rawValue, host: location.endpoint.hostHeader, path: location.path(of: object),
                                         query: query, headers: headers)
        var request = HTTPClientRequest(url: location.endpoint.url + target.target)
        request.method = method
        request.headers.add(name: "Host", value: location.endpoint.hostHeader)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        for (name, value) in signer.signedHeaders(for: target, payloadSHA256: payload?.sha256 ?? SigV4Signer.emptyPayloadSHA256, at: .now) {
            request.headers.add(name: name, value: value)
        }
        if let payload {
            request.body = .bytes(payload.bytes)
        } else if method == .PUT || method == .POST {
            request.headers.add(name: "Content-Length", value: "0")
        }
        do {
            return try await httpClient.execute(request, deadline: .now() + Self.requestDeadline)
        } catch {
            if Task.isCancelled { throw .io("S3 \(operation) of \(location.display(object)) was cancelled") }
            throw .io("cannot reach the S3 endpoint \(location.endpoint) for \(operation) of \(location.display(object)): \(error)")
        }
    }

    /// S3's error reply: status, and the `Code` and `Message` of its XML body when it has one.
    struct ErrorReply {
        var status: UInt
        var code: String?
        var message: String?
    }

    private func errorReply(_ response: HTTPClientResponse) async -> ErrorReply {
        let body = await text(of: response.body)[...]
        return ErrorReply(status: response.status.code, code: S3XML.value("Code", in: body), message: S3XML.value("Message", in: body))
    }

    /// The error for a failed reply, naming the operation, the object, the endpoint and S3's code and message.
    private func failure(_ operation: String, object: String?, response: HTTPClientResponse) async -> StorageError {
        failure(operation, object: object, reply: await errorReply(response))
    }

    private func failure(_ operation: String, object: String?, reply: ErrorReply) -> StorageError {
        .io("S3 \(operation) of \(location.display(object)) at \(location.endpoint) failed: "
            + Self.summary(status: reply.status, code: reply.code, message: reply.message))
    }

    /// A `HEAD` reply carries no body, so the error's code and message come from a one-byte `GET` of the same object.
    private func headFailure(object: String, status: UInt) async -> StorageError {
        let detail = try? await send(.GET, object: object, headers: [("Range", "bytes=0-0")], operation: "GetObject")
        guard let detail, detail.status.code >= 400 else {
            return .io("S3 HeadObject of \(location.display(object)) at \(location.endpoint) failed: HTTP \(status)")
        }
        return failure("HeadObject", object: object, reply: await errorReply(detail))
    }

    static func summary(status: UInt, code: String?, message: String?) -> String {
        "HTTP \(status)" + (code.map { " \($0)" } ?? "") + (message.map { ": \($0)" } ?? "")
    }

    /// Reads a short reply to its end, so that its connection can serve the next request.
    private func drain(_ response: HTTPClientResponse) async {
        _ = await text(of: response.body)
    }

    /// The first `limit` bytes of a reply body as text (64 KiB by default: S3's XML replies but listings are smaller);
    /// the rest is not read.
    private func text(of body: HTTPClientResponse.Body, limit: Int = S3ObjectStore.maximumErrorBodyBytes) async -> String {
        var collected = ByteBuffer()
        do {
            for try await chunk in body {
                var chunk = chunk
                collected.writeBuffer(&chunk)
                if collected.readableBytes >= limit { break }
            }
        } catch {
            // A reply cut short still tells what it has.
        }
        return String(buffer: collected)
    }
}

/// Cuts an upload body into parts as it arrives, counting and hashing it and enforcing the size limits on the way.
struct PartReader<Iterator: AsyncIteratorProtocol> where Iterator.Element == ByteBuffer {
    var iterator: Iterator
    let expectedLength: Int64?
    let maximumSize: Int64
    /// The rest of a chunk that straddled the end of the previous part.
    private var pending: ByteBuffer?
    private var hasher = SHA256()
    /// Bytes received so far.
    private(set) var total: Int64 = 0
    /// Whether the body has ended (and had the expected length).
    private(set) var finished = false

    init(iterator: Iterator, expectedLength: Int64?, maximumSize: Int64) {
        self.iterator = iterator
        self.expectedLength = expectedLength
        self.maximumSize = maximumSize
    }

    /// The SHA-256 of the whole body, once it has ended.
    var digest: String { hasher.finalize().hexString }

    /// The next `size` bytes, fewer only at the end of the body (then ``finished`` is set), with their SHA-256.
    mutating func nextPart(size: Int) async throws(StorageError) -> (bytes: ByteBuffer, sha256: String) {
        var part = ByteBufferAllocator().buffer(capacity: min(size, S3ObjectStore.defaultPartSize))
        var partHasher = SHA256()
        while part.readableBytes < size {
            var chunk: ByteBuffer
            if let rest = pending {
                chunk = rest
                pending = nil
            } else {
                guard !finished, let next = try await nextChunk() else { break }
                chunk = next
            }
            guard var slice = chunk.readSlice(length: min(chunk.readableBytes, size - part.readableBytes)) else { break }
            slice.withUnsafeReadableBytes { partHasher.update(bufferPointer: $0) }
            part.writeBuffer(&slice)
            if chunk.readableBytes > 0 { pending = chunk }
        }
        return (part, partHasher.finalize().hexString)
    }

    /// The next chunk, counted and hashed; nil (and ``finished`` set) at the end of a body of the expected length.
    private mutating func nextChunk() async throws(StorageError) -> ByteBuffer? {
        let chunk: ByteBuffer?
        do {
            chunk = try await iterator.next()
        } catch {
            throw (error as? StorageError) ?? .incompleteBody(expected: expectedLength ?? total, received: total)
        }
        guard let chunk else {
            if let expectedLength, total != expectedLength { throw .incompleteBody(expected: expectedLength, received: total) }
            finished = true
            return nil
        }
        total += Int64(chunk.readableBytes)
        if total > maximumSize { throw .tooLarge(limit: maximumSize) }
        if let expectedLength, total > expectedLength { throw .incompleteBody(expected: expectedLength, received: total) }
        chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        return chunk
    }
}

/// Hands a reply body to the first iteration of an ``ObjectBody``, exactly once (a reply body can be read only once).
private final class BodyHandoff: @unchecked Sendable {
    // `body` is only read and cleared under `lock`.
    private var body: HTTPClientResponse.Body?
    private let lock = NSLock()

    init(_ body: HTTPClientResponse.Body) { self.body = body }

    func take() -> HTTPClientResponse.Body? {
        lock.lock()
        defer { lock.unlock() }
        let taken = body
        body = nil
        return taken
    }
}
