import Dispatch
import Foundation

/// Wraps values shared by concurrently running tasks that each touch a disjoint part of them.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}

/// Runs independent tasks on up to `parallelism` threads, handing out task indices in order.
enum ParallelTasks {
    static func run(count: Int, parallelism: Int, _ body: @Sendable (Int) -> Void) {
        let workers = min(parallelism, count)
        guard workers > 1 else {
            for index in 0..<count { body(index) }
            return
        }
        let next = NextIndex()
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let index = next.take(below: count) { body(index) }
        }
    }

    /// A shared counter: each task index is taken exactly once.
    private final class NextIndex: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0

        func take(below limit: Int) -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard value < limit else { return nil }
            value += 1
            return value - 1
        }
    }
}
