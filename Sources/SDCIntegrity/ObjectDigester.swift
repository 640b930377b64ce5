import Crypto
import NIOCore
import SDCCore
import SDCStorage
#if canImport(Glibc)
import Glibc
#endif

/// What reading an object found.
public enum ObjectMeasurement: Sendable, Equatable {
    /// The object's size and lowercase hex SHA-256.
    case measured(size: Int64, sha256: String)
    /// The store has no object under the key.
    case absent
    /// The object could not be read: why.
    case unreadable(String)
}

/// Reads whole objects and computes their size and SHA-256 with bounded memory, hashing on the ``ProcessingPool``
/// (never on the cooperative pool, whose threads serve requests) and, when given a ``ByteRateLimiter``, no faster than
/// its rate.
///
/// Objects of a ``FileSystemObjectStore`` are read with `pread(2)` into one reused buffer on the pool's thread that
/// hashes them, a slice of ``sliceSize`` bytes per trip to the pool, which is as fast as the disk and the hash allow;
/// other stores' objects (S3) are streamed with ``ObjectStore/read(_:range:)`` and their chunks hashed on the pool
/// in slices of the same size.
public struct ObjectDigester: Sendable {
    public let store: any ObjectStore
    let pool: ProcessingPool
    let limiter: ByteRateLimiter?
    /// Bytes hashed per trip to the pool (the most memory one object's read holds).
    static let sliceSize = 4 << 20
    /// Bytes per `pread(2)`.
    static let readSize = 1 << 20

    /// A digester of `store`'s objects on `pool`, reading at most `limiter`'s rate (nil: as fast as possible).
    public init(store: any ObjectStore, pool: ProcessingPool = .shared, limiter: ByteRateLimiter? = nil) {
        self.store = store
        self.pool = pool
        self.limiter = limiter
    }

    /// Reads the object under `key` to its end. Cancellation stops the read (as `CancellationError`).
    public func measure(_ key: ObjectKey) async throws -> ObjectMeasurement {
        if let files = store as? FileSystemObjectStore { return try await measureFile(files.path(of: key)) }
        return try await measureStream(key)
    }

    private func measureFile(_ path: String) async throws -> ObjectMeasurement {
        let file: LocalFileHasher
        do {
            guard let opened = try await pool.run({ try LocalFileHasher.open(path) }) else { return .absent }
            file = opened
        } catch let error as IntegrityError {
            return .unreadable(error.description)
        }
        defer { file.close() }
        while true {
            let read: Int
            do {
                read = try await pool.run { try file.hashSlice(Self.sliceSize) }
            } catch let error as IntegrityError {
                return .unreadable(error.description)
            }
            if read == 0 { break }
            try await limiter?.consume(read)
        }
        return .measured(size: file.size, sha256: file.digest())
    }

    private func measureStream(_ key: ObjectKey) async throws -> ObjectMeasurement {
        let hasher = StreamHasher()
        do {
            var slice: [ByteBuffer] = []
            var sliceBytes = 0
            for try await chunk in try await store.read(key, range: nil) {
                slice.append(chunk)
                sliceBytes += chunk.readableBytes
                if sliceBytes >= Self.sliceSize {
                    let full = slice
                    try await pool.run { hasher.update(full) }
                    try await limiter?.consume(sliceBytes)
                    slice.removeAll(keepingCapacity: true)
                    sliceBytes = 0
                }
            }
            let rest = slice
            try await pool.run { hasher.update(rest) }
            try await limiter?.consume(sliceBytes)
        } catch StorageError.notFound {
            return .absent
        } catch let error as StorageError {
            return .unreadable(error.description)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return .unreadable("cannot read \(key.path): \(error)")
        }
        return .measured(size: hasher.size, sha256: hasher.digest())
    }
}

/// The running hash of a streamed object; updated by one pool job at a time (the caller awaits each).
private final class StreamHasher: @unchecked Sendable {
    private var hasher = SHA256()
    private(set) var size: Int64 = 0

    func update(_ chunks: [ByteBuffer]) {
        for chunk in chunks {
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            size += Int64(chunk.readableBytes)
        }
    }

    func digest() -> String { hasher.finalize().hexString }
}

/// An open local file being hashed slice by slice with one reused read buffer; used by one pool job at a time (the
/// caller awaits each), closed once by ``close()``.
private final class LocalFileHasher: @unchecked Sendable {
    private var descriptor: Int32
    private let path: String
    private var hasher = SHA256()
    private let buffer: UnsafeMutableRawBufferPointer
    private(set) var size: Int64 = 0

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
        buffer = .allocate(byteCount: ObjectDigester.readSize, alignment: 4096)
    }

    deinit {
        close()
        buffer.deallocate()
    }

    /// The file at `path` opened for reading, or nil when there is none (or it is not a regular file).
    static func open(_ path: String) throws -> LocalFileHasher? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw IntegrityError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            Glibc.close(fd)
            return nil
        }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        return LocalFileHasher(descriptor: fd, path: path)
    }

    /// Reads and hashes up to `limit` more bytes; returns how many (0 at the end of the file).
    func hashSlice(_ limit: Int) throws -> Int {
        var total = 0
        while total < limit {
            let count = pread(descriptor, buffer.baseAddress, min(buffer.count, limit - total), off_t(size))
            if count < 0 {
                if errno == EINTR { continue }
                throw IntegrityError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            size += Int64(count)
            total += count
        }
        return total
    }

    func digest() -> String { hasher.finalize().hexString }

    func close() {
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }
}
