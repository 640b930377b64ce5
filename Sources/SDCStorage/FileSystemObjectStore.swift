import Crypto
import Foundation
import NIOCore
import NIOPosix
import SDCCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Objects as files under a root folder, written crash-safely:
/// bytes stream into a nameless file (`O_TMPFILE`) in the object's folder, are flushed (`fdatasync`), then published
/// with `linkat(2)`, which fails rather than replace an existing object, and the folder is fsynced. A crash at any point
/// leaves nothing: the kernel frees a nameless file when its process dies. Where the filesystem has no `O_TMPFILE`, the
/// bytes go to a named `.incoming/<owner>.part` file (created exclusively) published with `link(2)`; a crash then
/// leaves at most a stray `.part` file, which ``removeIncompleteUploads(olderThan:)`` deletes. Never a partial object.
public struct FileSystemObjectStore: ObjectStore {
    /// The folder holding the objects.
    public let root: String
    private let signer: URLSigner
    private let threadPool: NIOThreadPool
    /// Bytes read per chunk when streaming out.
    static let readChunkSize = 256 * 1024
    /// Bytes gathered from an upload's chunks before they are written.
    static let writeSize = 256 * 1024

    private var incomingFolder: String { root + "/.incoming" }

    /// Threads for the stores' blocking calls (open, write, fsync, link) unless a store is given its own. An fsync waits
    /// for the disk, not for a CPU, and the filesystem commits concurrent fsyncs together, so many threads raise the
    /// durable uploads per second at no CPU cost, where NIO's shared pool (one thread per core) queues every upload
    /// behind a few fsyncs.
    public static let blockingIOPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    public init(root: String, signer: URLSigner, threadPool: NIOThreadPool = Self.blockingIOPool) throws(StorageError) {
        self.root = root
        self.signer = signer
        self.threadPool = threadPool
        do {
            try FileManager.default.createDirectory(atPath: root + "/.incoming", withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create the store folder \(root): \(error.localizedDescription)")
        }
    }

    /// The file that holds `key`.
    public func path(of key: ObjectKey) -> String { root + "/" + key.path }

    /// A new temporary file name: `<pid>_<process nonce>-<serial>_<host>.part`, so that recovery can tell whose it is.
    /// The nonce (random, drawn once per process) keeps the names of a later process that reuses the pid apart; the
    /// serial makes each name of this process new without asking the system for random bytes per upload.
    private var temporaryName: String {
        Self.temporaryNamePrefix + Self.temporarySerial.add(1, ordering: .relaxed).newValue.hexString(digits: 1) + Self.temporaryNameSuffix
    }

    private static let temporaryNamePrefix = "\(ProcessIdentity.current.pid)_\(UInt64.random(in: .min ... .max).hexString(digits: 16))-"
    private static let temporaryNameSuffix = "_\(ProcessIdentity.current.host).part"
    private static let temporarySerial = Atomic<UInt64>(0)

    /// The process that writes a temporary file, from its name; nil for names of another form.
    static func owner(ofTemporaryFile name: String) -> ProcessIdentity? {
        let parts = name.split(separator: "_", maxSplits: 2)
        guard parts.count == 3, let pid = Int32(parts[0]), parts[2].hasSuffix(".part") else { return nil }
        return ProcessIdentity(host: String(parts[2].dropLast(".part".count)), pid: pid)
    }

    /// Deletes the `.part` files of interrupted uploads: those of a process of this host that has ended, and any
    /// not modified for `seconds`. Another live process's upload in flight is never touched. Returns how many.
    @discardableResult
    public func removeIncompleteUploads(olderThan seconds: Int64) throws -> Int {
        let cutoff = Date(timeIntervalSinceNow: -TimeInterval(seconds))
        var removed = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: incomingFolder) {
            let path = incomingFolder + "/" + name
            let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
            guard Self.owner(ofTemporaryFile: name)?.hasEndedOnThisHost == true || modified < cutoff else { continue }
            try FileManager.default.removeItem(atPath: path)
            removed += 1
        }
        return removed
    }

    public func put<Body: AsyncSequence & Sendable>(
        _ key: ObjectKey, body: Body, expectedLength: Int64?, maximumSize: Int64
    ) async throws(StorageError) -> StoredObject where Body.Element == ByteBuffer {
        if let expectedLength, expectedLength > maximumSize { throw .tooLarge(limit: maximumSize) }
        let destination = path(of: key)
        if FileManager.default.fileExists(atPath: destination) { throw .alreadyExists(key.path) }
        // Chunks are gathered into writes of up to `writeSize` bytes, each one trip to the thread pool; the file is
        // created by the first, so a small upload is created, written, synced and published in a single trip.
        let file = UploadFile(root: root, folder: Self.folder(of: destination), fallback: incomingFolder + "/" + temporaryName)
        var pending = ByteBuffer()
        var hasher = SHA256()
        var written: Int64 = 0
        do {
            for try await chunk in body {
                written += Int64(chunk.readableBytes)
                if written > maximumSize { throw StorageError.tooLarge(limit: maximumSize) }
                if let expectedLength, written > expectedLength {
                    throw StorageError.incompleteBody(expected: expectedLength, received: written)
                }
                chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                if pending.readableBytes == 0 && chunk.readableBytes >= Self.writeSize {
                    try await run { () throws(StorageError) in try file.open().writeAll(chunk) }
                    continue
                }
                pending.writeImmutableBuffer(chunk)
                if pending.readableBytes >= Self.writeSize {
                    let batch = pending
                    pending = ByteBuffer()
                    try await run { () throws(StorageError) in try file.open().writeAll(batch) }
                }
            }
            if let expectedLength, written != expectedLength {
                throw StorageError.incompleteBody(expected: expectedLength, received: written)
            }
            let rest = pending
            try await run { () throws(StorageError) in
                let descriptor = try file.open()
                try descriptor.writeAll(rest)
                try descriptor.syncData()
                try file.publish(as: destination, key: key)
            }
        } catch {
            file.discard()
            throw (error as? StorageError) ?? .incompleteBody(expected: expectedLength ?? written, received: written)
        }
        return StoredObject(key: key, size: written, sha256: hasher.finalize().hexString)
    }

    /// The folder part of a path below the root (which always has one).
    static func folder(of path: String) -> String {
        path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
    }

    public func size(of key: ObjectKey) async throws(StorageError) -> Int64? {
        var status = stat()
        guard stat(path(of: key), &status) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw .io("cannot stat \(key.path): \(String(cString: strerror(errno)))")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(status.st_size)
    }

    public func read(_ key: ObjectKey, range: ClosedRange<Int64>?) async throws(StorageError) -> ObjectBody {
        guard let size = try await size(of: key) else { throw .notFound(key.path) }
        if size == 0 && range == nil { return ObjectBody(length: 0) { AnyChunkIterator { nil } } }
        let span = try Self.span(range, size: size)
        let filePath = path(of: key)
        let file = try await run { () throws(StorageError) in try FileDescriptor.openForReading(filePath) }
        let threadPool = threadPool
        return ObjectBody(length: span.upperBound - span.lowerBound + 1) {
            var offset = span.lowerBound
            return AnyChunkIterator {
                guard offset <= span.upperBound else { return nil }
                let count = Int(min(Int64(Self.readChunkSize), span.upperBound - offset + 1))
                let start = offset
                let chunk = try await threadPool.runIfActive { try file.read(count: count, at: start) }
                offset += Int64(chunk.readableBytes)
                return chunk
            }
        }
    }

    /// The object's file, opened on the thread pool, for `sendfile(2)`: the size and the range are checked against the
    /// open file, so the region stays valid whatever happens to the name afterwards.
    public func localFileRegion(_ key: ObjectKey, range: ClosedRange<Int64>?) async throws(StorageError) -> LocalFileRegion? {
        let filePath = path(of: key)
        return try await run { () throws(StorageError) in
            let fd = open(filePath, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                if errno == ENOENT || errno == ENOTDIR { throw .notFound(key.path) }
                throw .io("cannot open \(key.path): \(String(cString: strerror(errno)))")
            }
            let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
            var status = stat()
            guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
                try? handle.close()
                throw .notFound(key.path)
            }
            let size = Int64(status.st_size)
            if size == 0 && range == nil { return LocalFileRegion(handle: handle, offset: 0, length: 0) }
            do throws(StorageError) {
                let span = try Self.span(range, size: size)
                return LocalFileRegion(handle: handle, offset: span.lowerBound, length: span.upperBound - span.lowerBound + 1)
            } catch {
                try? handle.close()
                throw error
            }
        }
    }

    /// The inclusive span `range` (the whole object when nil) asks for in an object of `size` bytes (at least one).
    private static func span(_ range: ClosedRange<Int64>?, size: Int64) throws(StorageError) -> ClosedRange<Int64> {
        let span = range ?? 0...(size - 1)
        guard span.lowerBound >= 0, span.upperBound < size, span.lowerBound <= span.upperBound else {
            throw .unsatisfiableRange(size: size)
        }
        return span
    }

    public func delete(_ key: ObjectKey) async throws(StorageError) {
        guard unlink(path(of: key)) == 0 else {
            throw errno == ENOENT ? .notFound(key.path) : .io("cannot delete \(key.path): \(String(cString: strerror(errno)))")
        }
    }

    public func presignedURL(for key: ObjectKey, method: PresignedMethod, expiresIn seconds: Int64, baseURL: String) -> String {
        let query = signer.queryString(method: method, key: key, expiresIn: seconds, now: UTCTime.now.secondsSince1970)
        return baseURL + "/objects/" + key.path.percentEncoded(safe: "/") + "?" + query
    }

    /// Checks a presigned request made to this store's URLs.
    public func verifyPresigned(method: PresignedMethod, key: ObjectKey, expires: String?, signature: String?) throws(URLSigner.Refusal) {
        try signer.verify(method: method, key: key, expires: expires, signature: signature, now: UTCTime.now.secondsSince1970)
    }

    private func run<T: Sendable>(_ body: @Sendable @escaping () throws(StorageError) -> T) async throws(StorageError) -> T {
        do {
            return try await threadPool.runIfActive { try body() }
        } catch {
            throw (error as? StorageError) ?? .io(String(describing: error))
        }
    }
}

/// The file an upload streams into, created by the first write (on the thread pool): nameless (`O_TMPFILE`) in the
/// object's folder, or the named `fallback` where the filesystem cannot make nameless files. ``publish(as:key:)``
/// gives it the object's name; ``discard()`` drops it when the upload fails.
final class UploadFile: @unchecked Sendable {
    let root: String
    let folder: String
    let fallback: String
    // `descriptor` and `isNamed` are only accessed under `lock`.
    private var descriptor: FileDescriptor?
    private var isNamed = false
    private let lock = NSLock()

    init(root: String, folder: String, fallback: String) {
        self.root = root
        self.folder = folder
        self.fallback = fallback
    }

    /// The file, created on first use (with the object's folder, when missing).
    func open() throws(StorageError) -> FileDescriptor {
        lock.lock()
        defer { lock.unlock() }
        if let descriptor { return descriptor }
        var created = try FileDescriptor.createNameless(in: folder)
        if created == nil {
            try Folders.create(folder)
            created = try FileDescriptor.createNameless(in: folder)
        }
        guard let created else { throw .io("cannot create a file in \(folder): it is not a folder") }
        let file: FileDescriptor
        switch created {
        case .nameless(let nameless): file = nameless
        case .unsupported:
            try Folders.create(folder)
            file = try FileDescriptor.create(fallback)
            isNamed = true
        }
        descriptor = file
        return file
    }

    /// Links the finished (synced) file to `destination` (never replacing an object), removes the fallback name, and
    /// makes the entry durable: the folder is fsynced, and the folders above it up to the root once per process
    /// (``Folders``).
    func publish(as destination: String, key: ObjectKey) throws(StorageError) {
        lock.lock()
        defer { lock.unlock() }
        guard let descriptor else { throw .io("publish of \(key.path) before its file was created") }
        let result = isNamed ? link(fallback, destination) : descriptor.link(as: destination)
        let code = errno
        descriptor.close()
        if isNamed { unlink(fallback) }
        self.descriptor = nil
        guard result == 0 else {
            throw code == EEXIST ? .alreadyExists(key.path) : .io("cannot publish \(key.path): \(String(cString: strerror(code)))")
        }
        try FileDescriptor.syncFolder(folder)
        try Folders.makeDurable(folder, below: root)
    }

    /// Closes the file, and removes it when it has a name.
    func discard() {
        lock.lock()
        defer { lock.unlock() }
        guard let descriptor else { return }
        descriptor.close()
        if isNamed { unlink(fallback) }
        self.descriptor = nil
    }
}

/// Creation of the store's folders, and the durability of their entries: a folder's own entry lives in its parent, so a
/// file published into a new folder survives a power loss only once every folder above it is synced too. Each folder
/// is synced into its parent once per process (remembered in a bounded set); the store never removes folders.
enum Folders {
    private static let durable = Mutex<Set<String>>([])
    private static let rememberedLimit = 65_536

    /// Creates `folder` and any missing folders above it (folders made at the same time by other uploads are fine).
    static func create(_ folder: String) throws(StorageError) {
        var missing: [String] = []
        var current = folder
        while mkdir(current, 0o755) != 0 {
            let code = errno
            if code == EEXIST { break }
            guard code == ENOENT, let slash = current.lastIndex(of: "/"), slash > current.startIndex else {
                throw .io("cannot create \(current): \(String(cString: strerror(code)))")
            }
            missing.append(current)
            current = String(current[..<slash])
        }
        for path in missing.reversed() where mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw .io("cannot create \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Syncs the parent of `folder` and of every folder above it up to `root` (a folder above it), unless this process
    /// did already.
    static func makeDurable(_ folder: String, below root: String) throws(StorageError) {
        var current = folder
        while current.count > root.count, current.hasPrefix(root + "/"), let slash = current.lastIndex(of: "/") {
            if durable.withLock({ $0.contains(current) }) { return }
            let parent = String(current[..<slash])
            try FileDescriptor.syncFolder(parent)
            durable.withLock { remembered in
                if remembered.count >= rememberedLimit { remembered.removeAll() }
                remembered.insert(current)
            }
            current = parent
        }
    }
}

/// Linux's `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY`, `__O_TMPFILE` being the same bit on x86-64 and ARM64), which Swift's
/// Glibc module does not export.
private let openNameless: Int32 = 0o20000000 | O_DIRECTORY
/// Linux's `AT_EMPTY_PATH`, which Swift's Glibc module does not export.
private let atEmptyPath: Int32 = 0x1000

/// An open file, closed exactly once (explicitly or when the last reference goes away).
final class FileDescriptor: @unchecked Sendable {
    // `descriptor` is only mutated under `lock`.
    private var descriptor: Int32
    private let lock = NSLock()

    private init(_ descriptor: Int32) { self.descriptor = descriptor }
    deinit { close() }

    /// What opening a nameless file gave.
    enum Nameless {
        case nameless(FileDescriptor)
        /// The filesystem (or kernel) has no `O_TMPFILE`.
        case unsupported
    }

    /// A nameless file (`O_TMPFILE`) in `folder`; nil when the folder does not exist.
    static func createNameless(in folder: String) throws(StorageError) -> Nameless? {
        let fd = open(folder, openNameless | O_WRONLY | O_CLOEXEC, 0o644)
        if fd >= 0 { return .nameless(FileDescriptor(fd)) }
        switch errno {
        case ENOENT: return nil
        case EOPNOTSUPP, EISDIR: return .unsupported
        case let code: throw .io("cannot create a file in \(folder): \(String(cString: strerror(code)))")
        }
    }

    static func create(_ path: String) throws(StorageError) -> FileDescriptor {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io("cannot create \(path): \(String(cString: strerror(errno)))") }
        return FileDescriptor(fd)
    }

    static func openForReading(_ path: String) throws(StorageError) -> FileDescriptor {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open \(path): \(String(cString: strerror(errno)))") }
        return FileDescriptor(fd)
    }

    /// fsyncs a folder so that entries created in it survive a crash.
    static func syncFolder(_ path: String) throws(StorageError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open folder \(path): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw .io("cannot sync folder \(path): \(String(cString: strerror(errno)))") }
    }

    func writeAll(_ buffer: ByteBuffer) throws(StorageError) {
        let result: Int32 = buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let count = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += count
            }
            return 0
        }
        guard result == 0 else { throw .io("write failed: \(String(cString: strerror(result)))") }
    }

    /// Flushes the file's bytes and what reading them back needs (its size), without its times (`fdatasync`).
    func syncData() throws(StorageError) {
        guard fdatasync(descriptor) == 0 else { throw .io("fdatasync failed: \(String(cString: strerror(errno)))") }
    }

    /// Gives this nameless file the name `path` (never replacing one): `linkat` through `/proc/self/fd`, else with
    /// `AT_EMPTY_PATH` where `/proc` is not mounted. Returns 0, or -1 with `errno` set.
    func link(as path: String) -> Int32 {
        if linkat(AT_FDCWD, "/proc/self/fd/\(descriptor)", AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0 { return 0 }
        let code = errno
        guard code == ENOENT, access("/proc/self/fd", F_OK) != 0 else {
            errno = code
            return -1
        }
        return linkat(descriptor, "", AT_FDCWD, path, atEmptyPath)
    }

    func read(count: Int, at offset: Int64) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        let received = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { pointer -> Int in
            while true {
                let result = pread(descriptor, pointer.baseAddress!, count, off_t(offset))
                if result >= 0 { return result }
                if errno != EINTR { throw StorageError.io("read failed: \(String(cString: strerror(errno)))") }
            }
        }
        guard received > 0 else { throw StorageError.io("the object shrank while it was being read") }
        return buffer
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }
}
