import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed set of threads for CPU-heavy work (packet decoding, CDF compression): apart from Swift's cooperative pool
/// and Dispatch's and NIO's threads, which serve requests, and at a lower scheduling priority than they are, so that
/// processing takes only the CPU time that requests leave.
///
/// ``shared`` has one thread per core, niced 10 below the rest of the process (Linux: each thread's nice value; on
/// two cores the kernel then gives a request thread about 90 % of a core against a pool thread instead of half);
/// `SDC_PROCESSING_THREADS` and `SDC_PROCESSING_NICE` change that (see ``Configuration``). A server runs a job with
/// ``run(_:)`` and the job's parallel loops (``forEach(_:width:_:)``) take their extra threads from the same pool, so
/// all the processing of a process stays on those threads. A command-line tool calls the loops from its own thread
/// and gets the pool's threads on top.
public final class ProcessingPool: @unchecked Sendable {
    /// The pool of the process, configured from the environment (``Configuration/init(environment:)``); an invalid
    /// setting is reported on standard error and the defaults are used.
    public static let shared: ProcessingPool = {
        let configuration: Configuration
        do {
            configuration = try Configuration(environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("sdc: \(error); the processing pool uses its defaults\n".utf8))
            configuration = Configuration()
        }
        return ProcessingPool(configuration, name: "sdc-proc")
    }()

    /// Number of cores available to the process.
    public static var coreCount: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// How many threads a pool has and how much lower their priority is.
    public struct Configuration: Sendable, Equatable {
        /// The nice increment of ``shared`` unless `SDC_PROCESSING_NICE` says otherwise.
        public static let defaultNiceness = 10
        /// The largest nice increment (Linux's lowest priority is nice 19).
        public static let maximumNiceness = 19

        /// Number of threads (at least 1).
        public var threadCount: Int
        /// How many nice levels below the thread that starts the pool its threads run, in `0...19` (0: the same
        /// priority; the result is capped at nice 19). Raising a thread's nice value needs no privilege.
        public var niceness: Int

        /// `threadCount` threads (default: one per core) at `niceness` (default 10) below the starting thread.
        public init(threadCount: Int = ProcessingPool.coreCount, niceness: Int = Configuration.defaultNiceness) {
            self.threadCount = max(1, threadCount)
            self.niceness = min(max(0, niceness), Self.maximumNiceness)
        }

        /// The configuration set by `SDC_PROCESSING_THREADS` (a positive number of threads) and `SDC_PROCESSING_NICE`
        /// (a nice increment in `0...19`); an unset or empty variable keeps its default.
        public init(environment: [String: String]) throws(ConfigurationError) {
            self.init(threadCount: try Self.integer("SDC_PROCESSING_THREADS", in: environment, range: 1...4096) ?? ProcessingPool.coreCount,
                      niceness: try Self.integer("SDC_PROCESSING_NICE", in: environment, range: 0...Self.maximumNiceness) ?? Self.defaultNiceness)
        }

        private static func integer(_ name: String, in environment: [String: String], range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw ConfigurationError(message: "\(name)=\(text) is not a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }
    }

    /// Why the environment's pool settings were refused.
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Number of threads of the pool.
    public let threadCount: Int
    /// How many nice levels below the thread that started the pool its threads run (see ``Configuration/niceness``).
    public let niceness: Int

    private let condition = NSCondition()
    private var queue: [() -> Void] = []
    private var queueStart = 0
    private var threads: Set<pthread_t> = []

    /// Starts the configured number of threads, named `name-<index>`, that lower their own priority and then run
    /// submitted work in order; they live as long as the process.
    package init(_ configuration: Configuration, name: String) {
        threadCount = configuration.threadCount
        niceness = configuration.niceness
        for index in 0..<threadCount {
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

    /// Whether the calling thread is one of the pool's threads.
    public var isCurrentThread: Bool {
        condition.lock()
        defer { condition.unlock() }
        return threads.contains(pthread_self())
    }

    private func serve(name: String) {
        // Known by its pthread id: Foundation's `Thread.current.name` of a thread that names itself at start-up does
        // not always read back (the name is for `ps` and `perf`).
        Thread.current.name = name
        condition.lock()
        threads.insert(pthread_self())
        condition.unlock()
        lowerPriority(of: name)
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

    /// Lowers the calling pool thread's priority by ``niceness``. Linux keeps a nice value per thread, and
    /// `setpriority(PRIO_PROCESS, 0, _)` sets the calling thread's; elsewhere the thread gets the utility quality of
    /// service. A refusal is reported on standard error: the thread then runs at the process's priority.
    private func lowerPriority(of name: String) {
        guard niceness > 0 else { return }
        #if os(Linux)
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        errno = 0
        let current = getpriority(which, 0)  // -1 is a valid nice value: errno tells a failure
        var failure = errno
        if failure == 0, setpriority(which, 0, min(current + Int32(niceness), Int32(Configuration.maximumNiceness))) != 0 {
            failure = errno
        }
        if failure != 0 {
            FileHandle.standardError.write(Data("sdc: \(name) could not lower its priority by \(niceness): \(String(cString: strerror(failure)))\n".utf8))
        }
        #else
        Thread.current.qualityOfService = .utility
        #endif
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
