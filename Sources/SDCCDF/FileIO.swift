#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a CDF file: either held in memory or read on demand with `pread` (thread-safe, so blocks
/// can be decoded in parallel).
final class ByteSource: Sendable {
    private enum Storage: Sendable {
        case memory([UInt8])
        case file(descriptor: Int32, path: String)
    }

    private let storage: Storage
    /// Total number of bytes.
    let count: Int

    init(bytes: [UInt8]) {
        storage = .memory(bytes)
        count = bytes.count
    }

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CDFError.io(path: path, operation: "open", errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw CDFError.io(path: path, operation: "stat", errno: code)
        }
        storage = .file(descriptor: fd, path: path)
        count = Int(info.st_size)
    }

    deinit {
        if case .file(let fd, _) = storage { close(fd) }
    }

    /// Copies `destination.count` bytes starting at `offset` into `destination`.
    func read(at offset: Int, into destination: UnsafeMutableRawBufferPointer, record: String) throws {
        guard offset >= 0, destination.count <= count, offset <= count - destination.count else {
            throw CDFError.truncated(record: record, offset: offset, needed: destination.count, available: max(0, count - max(0, offset)))
        }
        guard destination.count > 0, let base = destination.baseAddress else { return }
        switch storage {
        case .memory(let bytes):
            bytes.withUnsafeBytes { source in
                base.copyMemory(from: source.baseAddress! + offset, byteCount: destination.count)
            }
        case .file(let fd, let path):
            var done = 0
            while done < destination.count {
                let n = pread(fd, base + done, destination.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CDFError.io(path: path, operation: "read", errno: errno)
                }
                if n == 0 {
                    throw CDFError.truncated(record: record, offset: offset, needed: destination.count, available: done)
                }
                done += n
            }
        }
    }

    /// The `length` bytes at `offset`.
    func bytes(at offset: Int, count length: Int, record: String) throws -> [UInt8] {
        guard length >= 0, offset >= 0, length <= count, offset <= count - length else {
            throw CDFError.truncated(record: record, offset: offset, needed: length, available: max(0, count - max(0, offset)))
        }
        return try [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            try read(at: offset, into: UnsafeMutableRawBufferPointer(buffer), record: record)
            initialized = length
        }
    }

    /// Calls `body` with consecutive chunks of the range `[0, end)`; used for MD5 verification.
    func forEachChunk(upTo end: Int, _ body: (UnsafeRawBufferPointer) -> Void) throws {
        switch storage {
        case .memory(let bytes):
            bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<end])) }
        case .file:
            let chunk = 1 << 22
            var buffer = [UInt8](repeating: 0, count: min(chunk, max(end, 1)))
            var position = 0
            while position < end {
                let n = min(chunk, end - position)
                try buffer.withUnsafeMutableBytes { raw in
                    let part = UnsafeMutableRawBufferPointer(rebasing: raw[0..<n])
                    try read(at: position, into: part, record: "MD5 trailer")
                    body(UnsafeRawBufferPointer(part))
                }
                position += n
            }
        }
    }
}

/// A file opened for writing with both sequential appends and positioned back-patches.
final class OutputFile {
    let path: String
    private let descriptor: Int32
    /// Bytes written so far at the end of the file.
    private(set) var length = 0

    init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CDFError.io(path: path, operation: "create", errno: errno) }
        self.path = path
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Appends bytes at the end; returns the offset they were written at.
    @discardableResult
    func append(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        let start = length
        try write(bytes, at: start)
        length = start + bytes.count
        return start
    }

    @discardableResult
    func append(_ bytes: [UInt8]) throws -> Int {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// Overwrites bytes at `offset` (which must lie inside what was written or extend it).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, base + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw CDFError.io(path: path, operation: "write", errno: errno)
            }
            done += n
        }
        length = max(length, offset + bytes.count)
    }

    func write(_ bytes: [UInt8], at offset: Int) throws {
        try bytes.withUnsafeBytes { try write($0, at: offset) }
    }

    /// Reads back `[offset, offset + destination.count)`.
    func read(at offset: Int, into destination: UnsafeMutableRawBufferPointer) throws {
        guard let base = destination.baseAddress else { return }
        var done = 0
        while done < destination.count {
            let n = pread(descriptor, base + done, destination.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw CDFError.io(path: path, operation: "read", errno: errno)
            }
            if n == 0 { throw CDFError.io(path: path, operation: "read back", errno: EIO) }
            done += n
        }
    }
}

enum FileSystem {
    /// Atomically replaces `destination` with `source`.
    static func move(_ source: String, to destination: String) throws {
        guard rename(source, destination) == 0 else {
            throw CDFError.io(path: destination, operation: "rename", errno: errno)
        }
    }

    static func remove(_ path: String) {
        unlink(path)
    }
}
