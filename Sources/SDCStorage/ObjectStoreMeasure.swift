import Crypto
import SDCCore

extension ObjectStore {
    /// Reads the whole object with ``read(_:range:)``, hashing it on the way: the size and SHA-256 of any store's object.
    public func measure(_ key: ObjectKey) async throws(StorageError) -> StoredObject {
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            for try await chunk in try await read(key, range: nil) {
                chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                size += Int64(chunk.readableBytes)
            }
        } catch {
            throw (error as? StorageError) ?? .io("cannot read \(key.path): \(error)")
        }
        return StoredObject(key: key, size: size, sha256: hasher.finalize().hexString)
    }
}
