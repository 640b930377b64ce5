import Foundation
import GRDB
import NIOCore
@testable import SDCCatalog
import SDCCore
import SDCIngest
import SDCStorage
import Testing

/// A SQLite catalog and a filesystem store in a temporary folder, and the ingestor over them.
struct IngestFixture {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-ingest-\(UUID().uuidString)")
    let catalog: SQLiteCatalog
    let store: FileSystemObjectStore
    let ingestor: Ingestor

    init() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        catalog = try SQLiteCatalog(path: root.appendingPathComponent("catalog.sqlite").path)
        store = try FileSystemObjectStore(root: root.appendingPathComponent("objects").path, signer: URLSigner(secret: SecureRandom.bytes(32)))
        ingestor = Ingestor(catalog: catalog, store: store)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

/// An upload whose object is stored but whose catalog commit fails (the database went away in between) leaves
/// nothing half-done: nothing is visible, and the client's retry succeeds once the database answers again.
struct OutageTests {
    @Test func anUploadThatCouldNotBeCatalogedIsTakenBackAndItsRetrySucceeds() async throws {
        let t = try IngestFixture()
        defer { t.remove() }
        let (catalog, store, ingestor) = (t.catalog, t.store, t.ingestor)
        let file = try IMAPFileName.parse("imap_swe_l1a_sci_20240106_v001.0001.cdf")
        func upload(_ text: String) async throws(IngestError) -> CatalogRecord {
            try await ingestor.ingest(file, body: [ByteBuffer(string: text)].async, expectedLength: Int64(text.utf8.count), maximumSize: 1 << 20)
        }
        // The database refuses to catalog science files, as a server that went away mid-upload would.
        try await catalog.pool.write { db in
            try db.execute(sql: "CREATE TRIGGER outage BEFORE INSERT ON science_files BEGIN SELECT RAISE(ABORT, 'database went away'); END")
        }
        await #expect(throws: IngestError.self) { try await upload("first attempt") }
        // Stored but not cataloged: invisible, and still reserved until it is settled.
        #expect(try await catalog.record(forKey: file.key) == nil)
        #expect(try await catalog.reservations().map(\.key) == [file.key])
        // A retry during the outage fails the same way, and takes its first attempt back first.
        await #expect(throws: IngestError.self) { try await upload("second attempt") }
        #expect(try await catalog.reservations().map(\.key) == [file.key])

        try await catalog.pool.write { db in try db.execute(sql: "DROP TRIGGER outage") }
        let record = try await upload("after the outage")
        #expect(record.size == Int64("after the outage".utf8.count))
        #expect(try await catalog.reservations().isEmpty)
        var stored = ByteBuffer()
        for try await chunk in try await store.read(ObjectKey(file.key), range: nil) { stored.writeImmutableBuffer(chunk) }
        #expect(String(buffer: stored) == "after the outage")
    }

    @Test func anUnsettledUploadIsTakenBackWhenTheNextUploadFindsTheDatabaseAgain() async throws {
        let t = try IngestFixture()
        defer { t.remove() }
        let (catalog, store, ingestor) = (t.catalog, t.store, t.ingestor)
        let lost = try IMAPFileName.parse("imap_swe_l1a_sci_20240107_v001.0001.cdf")
        try await catalog.pool.write { db in
            try db.execute(sql: "CREATE TRIGGER outage BEFORE INSERT ON science_files BEGIN SELECT RAISE(ABORT, 'database went away'); END")
        }
        await #expect(throws: IngestError.self) {
            try await ingestor.ingest(lost, body: [ByteBuffer(string: "lost")].async, expectedLength: 4, maximumSize: 1 << 20)
        }
        try await catalog.pool.write { db in try db.execute(sql: "DROP TRIGGER outage") }
        // Another file's upload, after the database is back, settles the first: its object and reservation are gone.
        let other = try IMAPFileName.parse("imap_swe_l1a_sci_20240108_v001.0001.cdf")
        _ = try await ingestor.ingest(other, body: [ByteBuffer(string: "other")].async, expectedLength: 5, maximumSize: 1 << 20)
        #expect(try await catalog.reservations().isEmpty)
        #expect(try await store.size(of: ObjectKey(lost.key)) == nil)
        #expect(try await catalog.record(forKey: lost.key) == nil)
    }
}

/// A replica killed mid-upload leaves its reservation behind; the client's retry through another process succeeds.
struct DeadUploaderTests {
    @Test func aReservationOfAnEndedProcessOfThisHostIsTakenOverAtOnce() async throws {
        let t = try IngestFixture()
        defer { t.remove() }
        let (catalog, ingestor) = (t.catalog, t.ingestor)
        // A process of this host that has ended, and one that runs (PID 1: this test's own PID would count as itself).
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        let dead = ProcessIdentity(host: ProcessIdentity.current.host, pid: ended.processIdentifier)
        let alive = ProcessIdentity(host: ProcessIdentity.current.host, pid: 1)
        let orphaned = try IMAPFileName.parse("imap_swe_l1a_sci_20240109_v001.0001.cdf")
        let held = try IMAPFileName.parse("imap_swe_l1a_sci_20240110_v001.0001.cdf")
        try await catalog.reserve(orphaned, staleAfter: 3600, owner: dead)
        try await catalog.reserve(held, staleAfter: 3600, owner: alive)

        let record = try await ingestor.ingest(orphaned, body: [ByteBuffer(string: "retried")].async, expectedLength: 7, maximumSize: 1 << 20)
        #expect(record.key == orphaned.key)
        // A live process's upload in flight is never taken over.
        await #expect(throws: IngestError.alreadyExists(key: held.key)) {
            try await ingestor.ingest(held, body: [ByteBuffer(string: "second")].async, expectedLength: 6, maximumSize: 1 << 20)
        }
        #expect(try await catalog.reservations().map(\.key) == [held.key])
    }
}
