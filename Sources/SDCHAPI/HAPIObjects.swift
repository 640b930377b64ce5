import Foundation
import SDCCDF
import SDCCatalog
import SDCCore
import SDCStorage

/// Opens stored CDF products for the CDF reader, which needs random access: a file of the filesystem store is read
/// in place (on demand, with `pread`); an object of another store (S3) is read into memory when it has at most
/// ``memoryLimit`` bytes, else copied to a temporary file removed afterwards. Decoding runs on the processing pool,
/// never on Swift's cooperative pool.
struct HAPIObjects: Sendable {
    let store: any ObjectStore
    let pool: ProcessingPool
    var memoryLimit: Int64 = 64 << 20
    var temporaryRoot = FileManager.default.temporaryDirectory

    /// Runs `body` with a reader over the product `record`; the reader is valid only during `body`.
    func withReader<T: Sendable>(of record: CatalogRecord, _ body: (CDFReader) async throws -> T) async throws -> T {
        let key = try ObjectKey(record.key)
        if let files = store as? FileSystemObjectStore {
            let path = files.path(of: key)
            return try await body(try await pool.run { try CDFReader(path: path) })
        }
        let object = try await store.read(key, range: nil)
        if object.length <= memoryLimit {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(max(0, object.length)))
            for try await chunk in object {
                guard Int64(bytes.count + chunk.readableBytes) <= memoryLimit else {
                    throw StorageError.io("\(record.key) is longer than the \(object.length) bytes announced")
                }
                bytes.append(contentsOf: chunk.readableBytesView)
            }
            let copy = bytes
            return try await body(try await pool.run { try CDFReader(bytes: copy) })
        }
        let folder = temporaryRoot.appendingPathComponent("sdc-hapi-\(UUID().uuidString)")
        let path = folder.appendingPathComponent("object.cdf").path
        let outcome: Result<T, any Error>
        do {
            try await pool.run {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            }
            try await store.download(key, to: path)
            outcome = .success(try await body(try await pool.run { try CDFReader(path: path) }))
        } catch {
            outcome = .failure(error)
        }
        // The folder may not exist when the copy failed early; nothing else is left to remove then.
        _ = try? await pool.run { try FileManager.default.removeItem(at: folder) }
        return try outcome.get()
    }
}
