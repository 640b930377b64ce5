import Crypto
import NIOCore
import SDCCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file's bytes as an async sequence of buffers, read chunk by chunk so uploads of any size stream from disk.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let path: String
    let chunkSize: Int
    /// Called with the size of each chunk as it is handed to the HTTP client.
    let onChunk: @Sendable (Int) -> Void

    init(path: String, chunkSize: Int = 256 * 1024, onChunk: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.path = path
        self.chunkSize = chunkSize
        self.onChunk = onChunk
    }

    func makeAsyncIterator() -> Iterator { Iterator(path: path, chunkSize: chunkSize, onChunk: onChunk) }

    final class Iterator: AsyncIteratorProtocol {
        private let path: String
        private let chunkSize: Int
        private let onChunk: @Sendable (Int) -> Void
        private var descriptor: Int32 = -1
        private var finished = false

        init(path: String, chunkSize: Int, onChunk: @escaping @Sendable (Int) -> Void) {
            self.path = path
            self.chunkSize = chunkSize
            self.onChunk = onChunk
        }

        deinit {
            if descriptor >= 0 { close(descriptor) }
        }

        func next() async throws -> ByteBuffer? {
            if finished { return nil }
            if descriptor < 0 {
                descriptor = open(path, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else {
                    throw SDCClientError.fileSystem(operation: "open", path: path, reason: LocalPath.lastErrorDescription())
                }
            }
            var buffer = ByteBufferAllocator().buffer(capacity: chunkSize)
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: chunkSize) { raw in
                var result: Int
                repeat {
                    result = read(descriptor, raw.baseAddress, Swift.min(raw.count, chunkSize))
                } while result < 0 && errno == EINTR
                return result
            }
            guard count >= 0 else {
                throw SDCClientError.fileSystem(operation: "read", path: path, reason: LocalPath.lastErrorDescription())
            }
            if count == 0 {
                finished = true
                close(descriptor)
                descriptor = -1
                return nil
            }
            onChunk(count)
            return buffer
        }
    }
}

/// A download in progress: bytes go to a temporary file next to the destination while their SHA-256 is
/// computed; `commit` renames the file into place atomically. A download that is not committed leaves nothing.
final class PartialDownload {
    let destination: String
    let temporaryPath: String
    private var descriptor: Int32
    private var hasher = SHA256()
    private(set) var byteCount: Int64 = 0

    init(destination: String) throws(SDCClientError) {
        self.destination = destination
        try LocalPath.createDirectories(LocalPath.parent(destination))
        var path = ""
        var fd: Int32 = -1
        for _ in 0..<16 {
            path = destination + ".part-" + String(UInt32.random(in: .min ... .max), radix: 16)
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw .fileSystem(operation: "create", path: path, reason: LocalPath.lastErrorDescription())
        }
        self.temporaryPath = path
        self.descriptor = fd
    }

    func write(_ buffer: ByteBuffer) throws(SDCClientError) {
        let failure: String? = buffer.withUnsafeReadableBytes { raw in
            hasher.update(bufferPointer: raw)
            return writeAll(descriptor, raw)
        }
        if let failure { throw .fileSystem(operation: "write", path: temporaryPath, reason: failure) }
        byteCount += Int64(buffer.readableBytes)
    }

    /// The SHA-256 of everything written so far, lowercase hex.
    var sha256: String { hasher.finalize().hexString }

    /// Moves the file to `destination`, replacing what was there.
    func commit() throws(SDCClientError) {
        close(descriptor)
        descriptor = -1
        guard rename(temporaryPath, destination) == 0 else {
            let reason = LocalPath.lastErrorDescription()
            unlink(temporaryPath)
            throw .fileSystem(operation: "move the download to", path: destination, reason: reason)
        }
    }

    deinit {
        if descriptor >= 0 {
            close(descriptor)
            unlink(temporaryPath)
        }
    }
}

/// Writes all of `bytes`, retrying on interruption; the `strerror` text on failure.
private func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> String? {
    var offset = 0
    while offset < bytes.count {
        let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            return LocalPath.lastErrorDescription()
        }
        offset += written
    }
    return nil
}

/// The SHA-256 of the file at `path`, lowercase hex.
func sha256OfFile(at path: String) throws(SDCClientError) -> String {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
        throw .fileSystem(operation: "open", path: path, reason: LocalPath.lastErrorDescription())
    }
    defer { close(descriptor) }
    var hasher = SHA256()
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { chunk.deallocate() }
    while true {
        let count = read(descriptor, chunk.baseAddress, chunk.count)
        if count < 0 {
            if errno == EINTR { continue }
            throw .fileSystem(operation: "read", path: path, reason: LocalPath.lastErrorDescription())
        }
        if count == 0 { break }
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
    }
    return hasher.finalize().hexString
}
