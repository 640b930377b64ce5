import Crypto
import Foundation
import NIOCore
import SDCCore
import Testing
@testable import SDCStorage

/// A store in a fresh folder, removed afterwards.
final class TemporaryStore {
    let folder: URL
    let store: FileSystemObjectStore

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-store-\(UUID().uuidString)")
        store = try FileSystemObjectStore(root: folder.path, signer: URLSigner(secret: Array(repeating: 7, count: 32)))
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// Every regular file below the folder, relative paths.
    func files() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: folder.path)!
        return enumerator.compactMap { $0 as? String }.filter { path in
            var isFolder: ObjCBool = false
            FileManager.default.fileExists(atPath: folder.path + "/" + path, isDirectory: &isFolder)
            return !isFolder.boolValue
        }.sorted()
    }
}

/// Yields the given chunks as ByteBuffers, then fails if `failAfter` is set.
struct Chunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let chunks: [[UInt8]]
    var failAfter = false

    struct Disconnected: Error {}

    func makeAsyncIterator() -> AsyncThrowingStream<ByteBuffer, any Error>.Iterator {
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        for chunk in chunks { continuation.yield(ByteBuffer(bytes: chunk)) }
        continuation.finish(throwing: failAfter ? Disconnected() : nil)
        return stream.makeAsyncIterator()
    }
}

func bytes(of body: ObjectBody) async throws -> [UInt8] {
    var out: [UInt8] = []
    for try await chunk in body { out += chunk.readableBytesView }
    return out
}

func sha256Hex(_ data: [UInt8]) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

struct FileSystemObjectStoreTests {
    let key = try! ObjectKey("imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0000.cdf")

    @Test func storesStreamsAndChecksums() async throws {
        let t = try TemporaryStore()
        let content = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let chunks = stride(from: 0, to: content.count, by: 65_536).map { Array(content[$0..<min($0 + 65_536, content.count)]) }
        let stored = try await t.store.put(key, body: Chunks(chunks: chunks), expectedLength: Int64(content.count), maximumSize: 1 << 30)
        #expect(stored.size == Int64(content.count))
        #expect(stored.sha256 == sha256Hex(content))
        #expect(try await bytes(of: t.store.read(key, range: nil)) == content)
        #expect(try await bytes(of: t.store.read(key, range: 10...19)) == Array(content[10...19]))
        #expect(try await bytes(of: t.store.read(key, range: 262_140...262_150)) == Array(content[262_140...262_150]))
        #expect(try await t.store.measure(key) == stored)
        #expect(t.files() == [key.path])
    }

    @Test func neverOverwritesAnObject() async throws {
        let t = try TemporaryStore()
        _ = try await t.store.put(key, body: Chunks(chunks: [[1, 2, 3]]), expectedLength: 3, maximumSize: 100)
        await #expect(throws: StorageError.alreadyExists(key.path)) {
            try await t.store.put(key, body: Chunks(chunks: [[9]]), expectedLength: 1, maximumSize: 100)
        }
        #expect(try await bytes(of: t.store.read(key, range: nil)) == [1, 2, 3])
    }

    @Test func concurrentUploadsOfOneKeyPublishExactlyOnce() async throws {
        let t = try TemporaryStore()
        let store = t.store
        let key = key
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    (try? await store.put(key, body: Chunks(chunks: [[UInt8(writer)], [UInt8(writer)]]), expectedLength: 2, maximumSize: 10)) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        let content = try await bytes(of: t.store.read(key, range: nil))
        #expect(content.count == 2 && content[0] == content[1])
        #expect(t.files() == [key.path])
    }

    /// The files this process holds open below `folder` that have no name (nameless upload files), from `/proc/self/fd`.
    static func namelessFilesOpen(below folder: String) -> [String] {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0) }
            .filter { $0.hasPrefix(folder + "/") && $0.hasSuffix(" (deleted)") }
    }

    /// An upload in flight has no name anywhere under the root (its bytes are in a nameless file in the object's
    /// folder), so a crash cannot leave a partial file visible; it appears whole, under its key only, once published.
    @Test func anUploadInFlightHasNoNameUntilItIsPublished() async throws {
        let t = try TemporaryStore()
        let store = t.store, key = key
        let first = [UInt8](repeating: 0x5a, count: FileSystemObjectStore.writeSize), last: [UInt8] = [1, 2, 3]
        let (body, input) = AsyncStream<ByteBuffer>.makeStream()
        let upload = Task { try await store.put(key, body: body, expectedLength: Int64(first.count + last.count), maximumSize: 1 << 20) }
        input.yield(ByteBuffer(bytes: first))
        // Wait (bounded) until the first chunk is written: the process then holds the upload's file open.
        let deadline = ContinuousClock.now + .seconds(30)
        while Self.namelessFilesOpen(below: t.folder.path).isEmpty && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        let open = Self.namelessFilesOpen(below: t.folder.path)
        #expect(open.count == 1 && open.allSatisfy { $0.hasPrefix(t.folder.path + "/" + key.path.split(separator: "/").dropLast().joined(separator: "/") + "/#") })
        #expect(t.files().isEmpty)
        #expect(try await store.size(of: key) == nil)
        input.yield(ByteBuffer(bytes: last))
        input.finish()
        let stored = try await upload.value
        #expect(stored.sha256 == sha256Hex(first + last))
        #expect(t.files() == [key.path])
        #expect(try await bytes(of: store.read(key, range: nil)) == first + last)
        #expect(Self.namelessFilesOpen(below: t.folder.path).isEmpty)
    }

    @Test func rejectsBodiesOverTheLimitOrOfTheWrongLength() async throws {
        let t = try TemporaryStore()
        await #expect(throws: StorageError.tooLarge(limit: 4)) {
            try await t.store.put(key, body: Chunks(chunks: [[1, 2, 3], [4, 5]]), expectedLength: nil, maximumSize: 4)
        }
        await #expect(throws: StorageError.tooLarge(limit: 4)) {
            try await t.store.put(key, body: Chunks(chunks: []), expectedLength: 5, maximumSize: 4)
        }
        await #expect(throws: StorageError.incompleteBody(expected: 10, received: 3)) {
            try await t.store.put(key, body: Chunks(chunks: [[1, 2, 3]]), expectedLength: 10, maximumSize: 100)
        }
        await #expect(throws: StorageError.self) {
            try await t.store.put(key, body: Chunks(chunks: [[1, 2, 3]], failAfter: true), expectedLength: nil, maximumSize: 100)
        }
        // A body that breaks after its first write: the file was created, and is dropped.
        let written = [UInt8](repeating: 1, count: FileSystemObjectStore.writeSize)
        await #expect(throws: StorageError.self) {
            try await t.store.put(key, body: Chunks(chunks: [written], failAfter: true), expectedLength: nil, maximumSize: 1 << 20)
        }
        // Nothing is visible, no temporary file is left behind, and the failed uploads' files are closed.
        #expect(try await t.store.size(of: key) == nil)
        #expect(t.files().isEmpty)
        #expect(Self.namelessFilesOpen(below: t.folder.path).isEmpty)
    }

    @Test func onlyTheLeftoversOfEndedProcessesOrOldOnesAreRemoved() async throws {
        let t = try TemporaryStore()
        // A process of this host that has ended (a child that exited), this live process, and an old unnamed leftover.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let host = ProcessIdentity.current.host
        let incoming = t.folder.path + "/.incoming/"
        let dead = incoming + "\(child.processIdentifier)_A_\(host).part", live = incoming + "\(getpid())_B_\(host).part"
        let old = incoming + "crashed.part"
        for path in [dead, live, old] { FileManager.default.createFile(atPath: path, contents: Data([1, 2])) }
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: old)
        #expect(try await t.store.size(of: key) == nil)
        #expect(try t.store.removeIncompleteUploads(olderThan: 3600) == 2)
        #expect(!FileManager.default.fileExists(atPath: dead) && !FileManager.default.fileExists(atPath: old))
        // Another live process's upload in flight is left alone, until it is older than the lifetime.
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(try t.store.removeIncompleteUploads(olderThan: 0) == 1)
    }

    @Test func rangesOutsideTheObjectAreRefused() async throws {
        let t = try TemporaryStore()
        _ = try await t.store.put(key, body: Chunks(chunks: [[1, 2, 3]]), expectedLength: 3, maximumSize: 100)
        await #expect(throws: StorageError.unsatisfiableRange(size: 3)) { try await t.store.read(key, range: 3...5) }
        await #expect(throws: StorageError.notFound("imap/x")) { try await t.store.read(try ObjectKey("imap/x"), range: nil) }
    }

    @Test(arguments: ["", "/etc/passwd", "../x", "imap/../../x", "imap/./x", "imap//x", "imap/x/", "imap\\..\\x",
                      "imap/\0x", "imap/%2e%2e/x".removingPercentEncoding!, ".incoming/a.part", String(repeating: "a/", count: 600) + "b"])
    func keysThatCouldEscapeTheRootAreRejected(path: String) {
        #expect(throws: StorageError.self) { try ObjectKey(path) }
    }

    @Test func presignedURLsAreBoundToMethodKeyAndExpiry() throws {
        let signer = URLSigner(secret: Array(repeating: 1, count: 32))
        let other = try ObjectKey("imap/other")
        let signature = signer.signature(method: .put, key: key, expires: 2_000)
        try signer.verify(method: .put, key: key, expires: "2000", signature: signature, now: 1_000)
        #expect(throws: URLSigner.Refusal.badSignature) { try signer.verify(method: .get, key: key, expires: "2000", signature: signature, now: 1_000) }
        #expect(throws: URLSigner.Refusal.badSignature) { try signer.verify(method: .put, key: other, expires: "2000", signature: signature, now: 1_000) }
        #expect(throws: URLSigner.Refusal.badSignature) { try signer.verify(method: .put, key: key, expires: "2001", signature: signature, now: 1_000) }
        #expect(throws: URLSigner.Refusal.expired) { try signer.verify(method: .put, key: key, expires: "2000", signature: signature, now: 2_001) }
        #expect(throws: URLSigner.Refusal.missing) { try signer.verify(method: .put, key: key, expires: nil, signature: nil, now: 0) }
    }
}
