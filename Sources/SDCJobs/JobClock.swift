import Foundation

/// Where the job store and the planner read the time: the system clock in service, a manual clock in tests.
public struct JobClock: Sendable {
    /// Milliseconds since 1970.
    public let milliseconds: @Sendable () -> Int64

    public init(milliseconds: @escaping @Sendable () -> Int64) {
        self.milliseconds = milliseconds
    }

    /// The system's wall clock.
    public static let system = JobClock { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// Whole seconds since 1970.
    public var seconds: Int64 { milliseconds() / 1000 }
}
