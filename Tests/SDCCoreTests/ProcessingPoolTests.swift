import Foundation
import Synchronization
import Testing
import SDCCore

/// The processing pool: work runs on its own threads, loops visit every index once, and loops started from every
/// pool thread at once (a saturated pool) still finish, on the calling threads.
@Suite("Processing pool")
struct ProcessingPoolTests {
    private static func onPoolThread() -> Bool { Thread.current.name?.hasPrefix("sdc-proc-") == true }

    @Test func poolHasOneThreadFewerThanCores() {
        #expect(ProcessingPool.shared.threadCount == max(1, ProcessingPool.coreCount - 1))
    }

    @Test func runExecutesOnAPoolThread() async throws {
        #expect(try await ProcessingPool.shared.run { Self.onPoolThread() })
        #expect(!Self.onPoolThread())
    }

    @Test func loopVisitsEveryIndexOnceOnTheCallerAndPoolThreads() {
        let count = 5_000
        let width = 4
        var visits = [Int](repeating: 0, count: count)
        var slots = [Int](repeating: -1, count: count)
        let caller = Thread.current
        let strayThreads = Atomic<Int>(0)
        visits.withUnsafeMutableBufferPointer { visits in
            slots.withUnsafeMutableBufferPointer { slots in
                ProcessingPool.shared.forEach(count, width: width) { worker, index in
                    visits[index] += 1
                    slots[index] = worker
                    if Thread.current !== caller && !Self.onPoolThread() { strayThreads.add(1, ordering: .relaxed) }
                }
            }
        }
        #expect(visits.allSatisfy { $0 == 1 })
        #expect(slots.allSatisfy { (0..<width).contains($0) })
        #expect(strayThreads.load(ordering: .relaxed) == 0)
    }

    @Test func loopsFromEveryPoolThreadAtOnceFinish() async throws {
        let jobs = ProcessingPool.shared.threadCount * 3
        let sums = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<jobs {
                group.addTask {
                    try await ProcessingPool.shared.run {
                        var values = [Int](repeating: 0, count: 300)
                        values.withUnsafeMutableBufferPointer { values in
                            ProcessingPool.shared.forEach(300, width: ProcessingPool.coreCount + 2) { _, index in
                                values[index] = index
                            }
                        }
                        return values.reduce(0, +)
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(sums == Array(repeating: 300 * 299 / 2, count: jobs))
    }
}
