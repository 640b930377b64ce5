import Foundation
import NIOCore
import NIOPosix
import SDCCDF
import SDCCore
import SDCStorage

/// Opens stored CDF objects for the CDF reader, which needs random access, through the ``ObjectStore`` protocol alone
/// (so that an S3-compatible store serves quicklooks as the filesystem store does): an object of at most
/// ``memoryLimit`` bytes is read into memory, a larger one is copied into a file in a temporary folder that is removed
/// afterwards.
///
/// File operations run on a thread pool and the caller's work (CDF decoding, plotting) on ``ProcessingPool/shared``,
/// never on Swift's cooperative pool, where blocking calls and long computations would hold up request handling.
struct CDFObjects: Sendable {
    let store: any ObjectStore
    let threadPool: NIOThreadPool
    /// Objects up to this many bytes are read into memory; larger ones are copied to a temporary file.
    var memoryLimit: Int64 = 32 << 20
    /// The folder in which each copy gets a temporary folder of its own.
    var temporaryRoot = FileManager.default.temporaryDirectory

    /// Runs `body` on the processing pool with a reader over the object stored under `key`, and returns its result.
    func withReader<T: Sendable>(of key: ObjectKey, _ body: @escaping @Sendable (CDFReader) throws -> T) async throws -> T {
        let object = try await store.read(key, range: nil)
        guard object.length > memoryLimit else {
            let bytes = try await collect(object)
            return try await ProcessingPool.shared.run { try body(CDFReader(bytes: bytes)) }
        }
        let folder = temporaryRoot.appendingPathComponent("sdc-quicklook-\(UUID().uuidString)")
        let outcome: Result<T, any Error>
        do {
            let path = try await copy(object, into: folder)
            outcome = .success(try await ProcessingPool.shared.run { try body(CDFReader(path: path)) })
        } catch {
            outcome = .failure(error)
        }
        // The folder may not exist when the copy failed early; nothing else is left to remove then.
        try? await threadPool.runIfActive { try FileManager.default.removeItem(at: folder) }
        return try outcome.get()
    }

    /// The object's bytes, refusing more than ``memoryLimit`` whatever length the store announced.
    private func collect(_ object: ObjectBody) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(max(0, object.length)))
        for try await chunk in object {
            guard Int64(bytes.count + chunk.readableBytes) <= memoryLimit else {
                throw StorageError.io("the object is longer than the \(object.length) bytes announced")
            }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return bytes
    }

    /// Copies the object into a new folder, readable by this user only; returns the file's path.
    private func copy(_ object: ObjectBody, into folder: URL) async throws -> String {
        let path = folder.appendingPathComponent("object.cdf").path
        let file = try await threadPool.runIfActive {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw StorageError.io("cannot create \(path)")
            }
            return try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        }
        do {
            for try await chunk in object {
                try await threadPool.runIfActive { try chunk.withUnsafeReadableBytes { try file.write(contentsOf: $0) } }
            }
            try await threadPool.runIfActive { try file.close() }
        } catch {
            try? await threadPool.runIfActive { try file.close() }
            throw error
        }
        return path
    }
}
