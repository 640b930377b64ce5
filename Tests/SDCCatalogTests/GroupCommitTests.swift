import Foundation
import GRDB
import SDCCore
import Testing
@testable import SDCCatalog

/// An SQLite catalog in a fresh folder, removed afterwards.
final class TemporarySQLiteCatalog {
    let directory: URL
    let catalog: SQLiteCatalog

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        catalog = try SQLiteCatalog(path: directory.appendingPathComponent("catalog.sqlite").path)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}

struct GroupCommitTests {
    /// Every commit is fsynced before it returns (`synchronous = FULL` on the writer: durable through power loss), also
    /// when the database already exists.
    @Test func commitsAreSyncedToDisk() async throws {
        let t = try TemporarySQLiteCatalog()
        #expect(try await t.catalog.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
        let reopened = try SQLiteCatalog(path: t.catalog.path)
        #expect(try await reopened.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
    }

    /// Concurrent reservations share transactions, yet each succeeds or fails on its own: of two reservations of one
    /// key exactly one wins, and a refused one undoes nothing of the others.
    @Test func concurrentReservationsSucceedOrFailOneByOne() async throws {
        let t = try TemporarySQLiteCatalog()
        let catalog = t.catalog
        let files = try (0..<40).map { try IMAPFileName.parse("imap_swe_l1a_sci\($0)_20240105_v001.0000.cdf") }
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for file in files + files {
                group.addTask {
                    do {
                        try await catalog.reserve(file, staleAfter: 3600, owner: .current)
                        return true
                    } catch CatalogError.alreadyExists {
                        return false
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == files.count)
        #expect(Set(try await catalog.reservations().map(\.key)) == Set(files.map(\.key)))
        // Commits and cancellations of the same batch sizes land as well.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, file) in files.enumerated() {
                group.addTask {
                    if index.isMultiple(of: 2) {
                        try await catalog.commit(CatalogRecord(file: file, size: 1, sha256: "00", ingestionDate: .now))
                    } else {
                        try await catalog.cancelReservation(key: file.key)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await catalog.reservations().isEmpty)
        for (index, file) in files.enumerated() {
            #expect((try await catalog.record(forKey: file.key) != nil) == index.isMultiple(of: 2))
        }
    }
}
