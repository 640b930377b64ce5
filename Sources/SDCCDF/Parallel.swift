import Dispatch
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

    /// Number of cores available for parallel work.
    static var coreCount: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}

/// Carries a value the compiler cannot prove Sendable across `concurrentPerform`; callers guarantee that
/// concurrent iterations access disjoint memory.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}
