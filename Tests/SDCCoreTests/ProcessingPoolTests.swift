import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import SDCCore

/// The processing pool: work runs on its own threads, loops visit every index once, and loops started from every
/// pool thread at once (a saturated pool) still finish, on the calling threads.
@Suite("Processing pool")
struct ProcessingPoolTests {
    private static func onPoolThread() -> Bool { ProcessingPool.shared.isCurrentThread }

    @Test func defaultsAreOneThreadPerCoreTenNiceLevelsDown() throws {
        let defaults = try ProcessingPool.Configuration(environment: [:])
        #expect(defaults == ProcessingPool.Configuration(threadCount: ProcessingPool.coreCount, niceness: 10))
        // The shared pool follows the environment, and falls back to the defaults when a setting is invalid.
        let shared = (try? ProcessingPool.Configuration(environment: ProcessInfo.processInfo.environment)) ?? defaults
        #expect(ProcessingPool.shared.threadCount == shared.threadCount)
        #expect(ProcessingPool.shared.niceness == shared.niceness)
    }

    @Test func environmentSetsThreadsAndNiceness() throws {
        let configuration = try ProcessingPool.Configuration(environment: ["SDC_PROCESSING_THREADS": "3", "SDC_PROCESSING_NICE": " 0 "])
        #expect(configuration == ProcessingPool.Configuration(threadCount: 3, niceness: 0))
        #expect(try ProcessingPool.Configuration(environment: ["SDC_PROCESSING_NICE": ""]).niceness == 10)
    }

    @Test(arguments: [("SDC_PROCESSING_NICE", "20"), ("SDC_PROCESSING_NICE", "-1"), ("SDC_PROCESSING_NICE", "low"),
                      ("SDC_PROCESSING_THREADS", "0"), ("SDC_PROCESSING_THREADS", "2.5")])
    func environmentOutOfRangeIsRefusedByName(name: String, value: String) {
        #expect {
            try ProcessingPool.Configuration(environment: [name: value])
        } throws: { error in
            "\(error)".hasPrefix("\(name)=\(value) is not a whole number in ")
        }
    }

    #if os(Linux)
    /// The nice value of the calling thread, from the kernel's own record of it (field 19 of
    /// `/proc/thread-self/stat`, after the parenthesised command name), and from `getpriority`.
    private static func threadNiceness() throws -> (stat: Int?, getpriority: Int, errno: Int32) {
        let stat = try String(contentsOfFile: "/proc/thread-self/stat", encoding: .utf8)
        let fields = stat[(stat.lastIndex(of: ")") ?? stat.startIndex)...].split(separator: " ")
        errno = 0
        let priority = Int(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0))
        return (fields.count > 17 ? Int(fields[17]) : nil, priority, errno)
    }

    @Test func poolThreadsRunNicedBelowTheStartingThreadWhichKeepsItsPriority() async throws {
        let startingNiceness = try #require(try Self.threadNiceness().stat)
        let pool = ProcessingPool(ProcessingPool.Configuration(threadCount: 1, niceness: 5), name: "sdc-proc-test-niced")
        let expected = min(19, startingNiceness + 5)
        let inside = try await pool.run { try Self.threadNiceness() }
        #expect(inside.stat == expected)
        #expect(inside.getpriority == expected && inside.errno == 0)
        #expect(try Self.threadNiceness().stat == startingNiceness)
    }

    @Test func poolWithoutNicenessKeepsTheStartingThreadsPriority() async throws {
        let starting = try #require(try Self.threadNiceness().stat)
        let pool = ProcessingPool(ProcessingPool.Configuration(threadCount: 1, niceness: 0), name: "sdc-proc-test-plain")
        #expect(try await pool.run { try Self.threadNiceness() }.stat == starting)
    }

    @Test func sharedPoolThreadsRunNicedBelowTheProcess() async throws {
        // The main thread's nice value is the process's: the shared pool's threads run `niceness` below it.
        let stat = try String(contentsOfFile: "/proc/self/stat", encoding: .utf8)
        let fields = stat[(stat.lastIndex(of: ")") ?? stat.startIndex)...].split(separator: " ")
        let process = try #require(fields.count > 17 ? Int(fields[17]) : nil)
        let inside = try await ProcessingPool.shared.run { try Self.threadNiceness() }
        #expect(inside.stat == min(19, process + ProcessingPool.shared.niceness))
    }
    #endif

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
