import Foundation
import NIOCore
import Testing
@testable import SDCStorage

/// The bytes a region designates, read from its open handle.
func bytes(of region: LocalFileRegion) throws -> [UInt8] {
    try region.handle.withUnsafeFileDescriptor { fd in
        var out = [UInt8](repeating: 0, count: Int(region.length))
        let count = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Int(region.length), off_t(region.offset)) }
        return Array(out.prefix(max(0, count)))
    }
}

struct LocalFileRegionTests {
    let key = try! ObjectKey("imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0000.cdf")

    @Test func theFileSystemStoreExposesObjectsAsFileRegions() async throws {
        let t = try TemporaryStore()
        let content = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        _ = try await t.store.put(key, body: Chunks(chunks: [content]), expectedLength: Int64(content.count), maximumSize: 1 << 30)
        let spans: [(ClosedRange<Int64>?, ArraySlice<UInt8>)] = [
            (nil, content[...]), (0...0, content[0...0]), (10...19, content[10...19]),
            (299_990...299_999, content[299_990...299_999]), (299_999...299_999, content[299_999...299_999]),
        ]
        for (range, expected) in spans {
            let region = try #require(try await t.store.localFileRegion(key, range: range))
            defer { region.close() }
            #expect(region.offset == range?.lowerBound ?? 0 && region.length == Int64(expected.count))
            #expect(try bytes(of: region) == Array(expected), "\(String(describing: range))")
        }
    }

    @Test func regionsRefuseWhatReadsRefuse() async throws {
        let t = try TemporaryStore()
        _ = try await t.store.put(key, body: Chunks(chunks: [[1, 2, 3]]), expectedLength: 3, maximumSize: 100)
        await #expect(throws: StorageError.unsatisfiableRange(size: 3)) { try await t.store.localFileRegion(key, range: 3...5) }
        await #expect(throws: StorageError.unsatisfiableRange(size: 3)) { try await t.store.localFileRegion(key, range: 2...3) }
        await #expect(throws: StorageError.notFound("imap/x")) { try await t.store.localFileRegion(try ObjectKey("imap/x"), range: nil) }
        // A folder is not an object.
        await #expect(throws: StorageError.notFound("imap/swe")) { try await t.store.localFileRegion(try ObjectKey("imap/swe"), range: nil) }
    }

    @Test func aRegionClosesItsFileOnceWhetherClosedOrDropped() async throws {
        let t = try TemporaryStore()
        _ = try await t.store.put(key, body: Chunks(chunks: [[1, 2, 3]]), expectedLength: 3, maximumSize: 100)
        let closed = try #require(try await t.store.localFileRegion(key, range: nil))
        closed.close()
        closed.close()
        #expect(!closed.handle.isOpen)
        var dropped = try await t.store.localFileRegion(key, range: nil)
        let handle = try #require(dropped?.handle)
        withExtendedLifetime(dropped) { #expect(handle.isOpen) }
        dropped = nil
        #expect(!handle.isOpen)
    }
}
