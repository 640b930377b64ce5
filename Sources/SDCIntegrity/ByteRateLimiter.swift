import Synchronization

/// Limits a stream of reads to a number of bytes per second: a token bucket holding at most one second's worth, so
/// that reads may come in bursts of up to a second of budget but never run ahead of the rate over longer spans.
/// Callers wait (``consume(_:)`` sleeps, never blocks a thread) once the budget is spent.
public final class ByteRateLimiter: Sendable {
    /// The rate, in bytes per second (more than 0).
    public let bytesPerSecond: Double
    /// When the bytes consumed so far have been paid for.
    private let paidUntil: Mutex<ContinuousClock.Instant>

    /// A limiter at `bytesPerSecond` (values below 1 count as 1).
    public init(bytesPerSecond: Double) {
        self.bytesPerSecond = max(1, bytesPerSecond)
        paidUntil = Mutex(ContinuousClock.now - .seconds(1))
    }

    /// Accounts for `bytes` just read, waiting as long as the rate requires before returning. Throws
    /// `CancellationError` when the task is cancelled while waiting.
    public func consume(_ bytes: Int) async throws {
        let now = ContinuousClock.now
        let cost = Duration.seconds(Double(bytes) / bytesPerSecond)
        let ready = paidUntil.withLock { paid in
            paid = max(paid, now - .seconds(1)) + cost
            return paid
        }
        if ready > now { try await Task.sleep(until: ready, clock: .continuous) }
    }
}
