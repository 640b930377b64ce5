import Foundation
import NIOCore
import NIOPosix
import SDCCore

/// What the store knows about an object after writing or looking at it.
public struct StoredObject: Sendable, Hashable {
    public var key: ObjectKey
    public var size: Int64
    /// Lowercase hex SHA-256, computed while the bytes streamed in.
    public var sha256: String
}

/// HTTP methods a presigned URL can grant.
public enum PresignedMethod: String, Sendable {
    case get = "GET"
    case put = "PUT"
}

/// An object's bytes, streamed in chunks with constant memory (each chunk is read when the consumer asks for it).
public struct ObjectBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    /// Total bytes this body will yield.
    public let length: Int64
    let produce: @Sendable () -> AnyChunkIterator

    public init(length: Int64, iterator: @escaping @Sendable () -> AnyChunkIterator) {
        self.length = length
        self.produce = iterator
    }

    /// A body of one chunk, held in memory (small objects such as notes).
    public init(_ chunk: ByteBuffer) {
        self.init(length: Int64(chunk.readableBytes)) {
            var sent = false
            return AnyChunkIterator {
                defer { sent = true }
                return sent ? nil : chunk
            }
        }
    }

    public func makeAsyncIterator() -> AnyChunkIterator { produce() }
}

/// A type-erased pull-based chunk iterator.
public struct AnyChunkIterator: AsyncIteratorProtocol {
    let nextChunk: () async throws -> ByteBuffer?
    public init(_ next: @escaping () async throws -> ByteBuffer?) { nextChunk = next }
    public mutating func next() async throws -> ByteBuffer? { try await nextChunk() }
}

/// Durable object storage. ``FileSystemObjectStore`` keeps objects on a local disk; an S3-compatible store can follow
/// behind the same protocol (presigned URLs are part of it so that clients can move bytes without the API server).
public protocol ObjectStore: Sendable {
    /// Streams `body` into a new object. The object becomes visible atomically and complete, or not at all;
    /// an existing object is never overwritten (``StorageError/alreadyExists(_:)``).
    /// - Parameters:
    ///   - expectedLength: when known (Content-Length), a body of another length is rejected.
    ///   - maximumSize: larger bodies are rejected with ``StorageError/tooLarge(limit:)``.
    func put<Body: AsyncSequence & Sendable>(
        _ key: ObjectKey, body: Body, expectedLength: Int64?, maximumSize: Int64
    ) async throws(StorageError) -> StoredObject where Body.Element == ByteBuffer

    /// The object's size, or nil when absent.
    func size(of key: ObjectKey) async throws(StorageError) -> Int64?

    /// Streams the object, or the inclusive byte `range` of it.
    func read(_ key: ObjectKey, range: ClosedRange<Int64>?) async throws(StorageError) -> ObjectBody

    /// The object, or the inclusive byte `range` of it, as a region of an open local file, when this store keeps its
    /// objects in local files, so that a server can send it with `sendfile(2)`; nil when it does not (the default:
    /// stream with ``read(_:range:)``). Throws like ``read(_:range:)`` for an absent object or a range outside it.
    func localFileRegion(_ key: ObjectKey, range: ClosedRange<Int64>?) async throws(StorageError) -> LocalFileRegion?

    /// Reads the whole object and returns its size and SHA-256 (for verification and recovery).
    func measure(_ key: ObjectKey) async throws(StorageError) -> StoredObject

    /// Removes an object (administrative; the API never deletes).
    func delete(_ key: ObjectKey) async throws(StorageError)

    /// Removes what interrupted uploads left (temporary files, unfinished multipart uploads): those of a process of
    /// this host that has ended, and any older than `seconds`; never another live process's upload in flight.
    /// Returns how many were removed.
    func removeIncompleteUploads(olderThan seconds: Int64) async throws -> Int

    /// A URL that lets its bearer GET or PUT one object until it expires.
    func presignedURL(for key: ObjectKey, method: PresignedMethod, expiresIn seconds: Int64, baseURL: String) -> String

    /// Checks a request made to a presigned URL that points at this server's `/objects/` route.
    func verifyPresigned(method: PresignedMethod, key: ObjectKey, expires: String?, signature: String?) throws(URLSigner.Refusal)
}

extension ObjectStore {
    /// Objects are not local files: nil, so servers stream with ``read(_:range:)``.
    public func localFileRegion(_ key: ObjectKey, range: ClosedRange<Int64>?) async throws(StorageError) -> LocalFileRegion? { nil }

    /// Copies an object into a new local file at `path`, streaming with constant memory and writing on NIO's thread
    /// pool; a failed or short copy leaves no file. Returns the bytes written.
    @discardableResult
    public func download(_ key: ObjectKey, to path: String, threadPool: NIOThreadPool = .singleton) async throws -> Int64 {
        let body = try await read(key, range: nil)
        return try await writeNewFile(path, from: body, expectedLength: body.length, threadPool: threadPool)
    }
}

/// Writes a stream of chunks into a new local file on NIO's thread pool (never blocking a cooperative-pool thread).
/// On an error, or when `expectedLength` is given and not met, the file is removed. Returns the bytes written.
@discardableResult
public func writeNewFile<Chunks: AsyncSequence>(_ path: String, from chunks: Chunks, expectedLength: Int64?,
                                                threadPool: NIOThreadPool = .singleton) async throws -> Int64 where Chunks.Element == ByteBuffer {
    let fileIO = NonBlockingFileIO(threadPool: threadPool)
    do {
        let written = try await fileIO.withFileHandle(_deprecatedPath: path, mode: .write, flags: .allowFileCreation(posixMode: 0o644)) { handle in
            var total: Int64 = 0
            for try await chunk in chunks {
                try await fileIO.write(fileHandle: handle, toOffset: total, buffer: chunk)
                total += Int64(chunk.readableBytes)
            }
            return total
        }
        if let expectedLength, written != expectedLength {
            throw StorageError.io("writing \(path) ended after \(written) of \(expectedLength) bytes")
        }
        return written
    } catch {
        try? FileManager.default.removeItem(atPath: path)
        throw error
    }
}
