import Synchronization

/// Whether a process still hands out jobs. A data center that is shutting down closes it first, so that neither its
/// own workers nor remote workers (through the job API) claim a job it would then have to hand back.
public final class ClaimGate: Sendable {
    private let closed = Atomic<Bool>(false)

    public init() {}

    /// Stops new claims, for good.
    public func close() { closed.store(true, ordering: .relaxed) }

    public var isOpen: Bool { !closed.load(ordering: .relaxed) }
}
