import Foundation
import NIOCore
import SDCCatalog
import SDCCore
import SDCIngest
import SDCStorage
import Testing

/// Uploads of one name at the same time, through the real catalog (SQLite) and store (files): exactly one is stored
/// and cataloged whole, every other one is refused as already existing, and nothing else is left behind.
struct UploadRaceTests {
    @Test func concurrentUploadsOfOneNameStoreExactlyOne() async throws {
        let t = try IngestFixture()
        defer { t.remove() }
        let ingestor = t.ingestor
        let file = try IMAPFileName.parse("imap_swe_l1a_sci_20240107_v001.0000.cdf")
        let bodies = (0..<8).map { writer in [UInt8](repeating: UInt8(writer), count: 4096 + writer) }
        let outcomes = await withTaskGroup(of: Result<CatalogRecord, IngestError>.self) { group in
            for body in bodies {
                group.addTask {
                    do throws(IngestError) {
                        return .success(try await ingestor.ingest(file, body: [ByteBuffer(bytes: body)].async,
                                                                  expectedLength: Int64(body.count), maximumSize: 1 << 20))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let stored = outcomes.compactMap { try? $0.get() }
        #expect(stored.count == 1)
        #expect(outcomes.allSatisfy { outcome in
            if case .failure(let error) = outcome { return error == .alreadyExists(key: file.key) }
            return true
        })
        // The one stored is whole, matches its catalog row, and is the only file; no reservation is left.
        let record = try #require(stored.first)
        #expect(try await t.catalog.record(forKey: file.key) == record)
        let object = try await t.store.measure(ObjectKey(file.key))
        #expect(object.size == record.size && object.sha256 == record.sha256)
        #expect(bodies.contains { Int64($0.count) == record.size })
        #expect(try await t.catalog.reservations().isEmpty)
        let files = (FileManager.default.enumerator(atPath: t.store.root)?.allObjects as? [String] ?? []).filter { path in
            (try? FileManager.default.attributesOfItem(atPath: t.store.root + "/" + path)[.type] as? FileAttributeType) == .typeRegular
        }
        #expect(files == [file.key])
    }
}
