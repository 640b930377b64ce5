import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed set of threads for CPU-heavy work (packet decoding, CDF compression): apart from Swift's cooperative pool
/// and Dispatch's global threads, which serve requests, so that processing cannot take the threads requests need.
///
/// ``shared`` has one thread fewer than the machine has cores (at least one). A server runs a job with ``run(_:)`` and
/// the job's parallel loops (``forEach(_:width:_:)``) take their extra threads from the same pool, so all the
/// processing of a process stays on those threads. A command-line tool calls the loops from its own thread and gets
/// the pool's threads on top: all cores.
public final class ProcessingPool: @unchecked Sendable {
    /// The pool of the process: `cores - 1` threads, at least 1.
    public static let shared = ProcessingPool(threadCount: max(1, coreCount - 1), name: "sdc-proc")

    /// Number of cores available to the process.
    public static var coreCount: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Number of threads of the pool.
    public let threadCount: Int

    private let condition = NSCondition()
    private var queue: [() -> Void] = []
    private var queueStart = 0

    /// Starts `threadCount` threads (at least 1), named `name`, that run submitted work in order; they live as long as
    /// the process.
    private init(threadCount: Int, name: String) {
        self.threadCount = max(1, threadCount)
        for index in 0..<self.threadCount {
            let thread = Thread { self.serve(name: "\(name)-\(index)") }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Runs `body` on one of the pool's threads and returns its result; fails with `CancellationError` when the task
    /// is cancelled before `body` starts.
    public func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try Task.checkCancellation()
        return try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Swift.Result { try body() }) }
        }
    }

    /// Calls `body(worker, index)` for every index in `0..<count` on the calling thread and up to `width - 1` of the
    /// pool's threads that are free. Indices are handed out in order as threads become free, so a busy or preempted
    /// thread takes fewer instead of holding up the rest; the calling thread never waits for a pool thread to become
    /// free (it does all the work itself if none is). `worker` (in `0..<width`) is the running thread's slot, for
    /// per-thread state such as a compressor. `body` must only touch memory that no other index touches.
    public func forEach(_ count: Int, width: Int, _ body: (_ worker: Int, _ index: Int) -> Void) {
        let workers = min(width, count)
        guard workers > 1 else {
            for index in 0..<count { body(0, index) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            let loop = Loop(count: count, body: escapable)
            for worker in 1..<workers { submit { loop.help(as: worker) } }
            loop.work(as: 0)
            loop.finish()
        }
    }

    private func submit(_ work: @escaping () -> Void) {
        condition.lock()
        queue.append(work)
        condition.signal()
        condition.unlock()
    }

    private func serve(name: String) {
        Thread.current.name = name
        while true {
            condition.lock()
            while queueStart == queue.count { condition.wait() }
            let work = queue[queueStart]
            queueStart += 1
            if queueStart == queue.count {
                queue.removeAll(keepingCapacity: true)
                queueStart = 0
            }
            condition.unlock()
            work()
        }
    }

    /// One parallel loop: the next index, and the helpers working on it. A helper that starts after the calling
    /// thread has finished the loop returns without touching `body`, which is only valid until then.
    private final class Loop: @unchecked Sendable {
        private let count: Int
        private var body: ((Int, Int) -> Void)?
        private let condition = NSCondition()
        private var next = 0
        private var finished = false
        private var helping = 0

        init(count: Int, body: @escaping (Int, Int) -> Void) {
            self.count = count
            self.body = body
        }

        /// Runs indices as a pool thread, unless the loop is already finished.
        func help(as worker: Int) {
            condition.lock()
            guard !finished else {
                condition.unlock()
                return
            }
            helping += 1
            condition.unlock()
            work(as: worker)
            condition.lock()
            helping -= 1
            if helping == 0 { condition.broadcast() }
            condition.unlock()
        }

        /// Runs indices until none is left.
        func work(as worker: Int) {
            while let index = take() { body?(worker, index) }
        }

        /// Waits for the helpers still running an index, then drops `body`.
        func finish() {
            condition.lock()
            finished = true
            while helping > 0 { condition.wait() }
            body = nil
            condition.unlock()
        }

        private func take() -> Int? {
            condition.lock()
            defer { condition.unlock() }
            guard next < count else { return nil }
            next += 1
            return next - 1
        }
    }
}
