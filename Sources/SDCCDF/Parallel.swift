import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs independent iterations on all cores.
enum Parallel {
    /// Calls `body` for every index in `0..<count`, concurrently; `body` must only touch memory that no other
    /// iteration touches (disjoint output regions). Rethrows the error of the lowest failing index.
    static func forEach(_ count: Int, _ body: (Int) throws -> Void) throws {
        guard count > 1 else {
            if count == 1 { try body(0) }
            return
        }
        let failures = UnsafeMutableBufferPointer<(any Error)?>.allocate(capacity: count)
        failures.initialize(repeating: nil)
        defer {
            failures.deinitialize()
            failures.deallocate()
        }
        withoutActuallyEscaping(body) { escapable in
            let work = UncheckedSendable(value: escapable)
            let slots = UncheckedSendable(value: failures)
            DispatchQueue.concurrentPerform(iterations: count) { index in
                do { try work.value(index) } catch { slots.value[index] = error }
            }
        }
        if let failure = failures.lazy.compactMap({ $0 }).first { throw failure }
    }

    /// Calls `body(worker, index)` for every index in `0..<count` on up to `workers` threads. Indices are handed out
    /// in order as threads become free, so a thread that the system preempts (other processes on the cores) takes
    /// fewer instead of holding up the rest; `worker` (in `0..<workers`) is the calling thread's slot, for per-thread
    /// state such as a compressor. `body` must only touch memory that no other index touches.
    static func forEach(_ count: Int, workers: Int, _ body: (_ worker: Int, _ index: Int) -> Void) {
        let workers = min(workers, count)
        guard workers > 1 else {
            for index in 0..<count { body(0, index) }
            return
        }
        let next = Atomic<Int>(0)
        withoutActuallyEscaping(body) { escapable in
            let work = UncheckedSendable(value: escapable)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                while true {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < count else { return }
                    work.value(worker, index)
                }
            }
        }
    }

    /// Number of cores available for parallel work.
    static var coreCount: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}

/// Carries a value the compiler cannot prove Sendable across `concurrentPerform`; callers guarantee that
/// concurrent iterations access disjoint memory.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}
