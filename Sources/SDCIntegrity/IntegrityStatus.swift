import SDCCore
import Synchronization

/// What the background scrub of this process knows: whether it is the scrubbing replica, the pass in progress, and
/// the last complete pass with its findings. Read by the portal page, `/metrics` and alerts; ``onChange`` hears of
/// every change (progress is reported at most once a second).
public final class IntegrityStatus: Sendable {
    /// A copy of the status at one moment.
    public struct Snapshot: Sendable, Equatable {
        /// Whether this process holds the scrub lease (only one replica scrubs).
        public var isScrubbing = false
        /// The pass in progress, if any: when it started, its progress and its rate (bytes per second).
        public var currentPass: (startedAt: UTCTime, progress: VerificationProgress, bytesPerSecond: Double)? {
            get { passStartedAt.map { ($0, progress, bytesPerSecond) } }
            set {
                passStartedAt = newValue?.startedAt
                progress = newValue?.progress ?? VerificationProgress()
                bytesPerSecond = newValue?.bytesPerSecond ?? 0
            }
        }
        private var passStartedAt: UTCTime?
        private var progress = VerificationProgress()
        private var bytesPerSecond: Double = 0
        /// The last complete pass.
        public var lastPass: VerificationReport?
        /// Complete passes since this process started.
        public var passesCompleted = 0
        /// Why the last pass failed to complete, if it did.
        public var lastError: String?

        public init() {}

        public static func == (lhs: Snapshot, rhs: Snapshot) -> Bool {
            lhs.isScrubbing == rhs.isScrubbing && lhs.passStartedAt == rhs.passStartedAt && lhs.progress == rhs.progress
                && lhs.bytesPerSecond == rhs.bytesPerSecond && lhs.lastPass == rhs.lastPass && lhs.passesCompleted == rhs.passesCompleted
                && lhs.lastError == rhs.lastError
        }

        /// Problems of the last complete pass, by kind (every kind present).
        public var problemCounts: [IntegrityProblem: Int] {
            lastPass?.counts ?? Dictionary(uniqueKeysWithValues: IntegrityProblem.allCases.map { ($0, 0) })
        }

        /// Whether the last complete pass found any problem (the "integrity errors" alert condition).
        public var hasIntegrityErrors: Bool { !(lastPass?.findings.isEmpty ?? true) }
    }

    private let state = Mutex(Snapshot())
    private let lastProgressReport = Mutex(ContinuousClock.now - .seconds(2))
    private let onChange: @Sendable (Snapshot) -> Void

    /// A status that calls `onChange` with each new snapshot.
    public init(onChange: @escaping @Sendable (Snapshot) -> Void = { _ in }) {
        self.onChange = onChange
    }

    /// The status now.
    public var snapshot: Snapshot { state.withLock { $0 } }

    func update(_ change: (inout Snapshot) -> Void) {
        let snapshot = state.withLock { state in
            change(&state)
            return state
        }
        onChange(snapshot)
    }

    /// Records progress of the pass in progress, telling ``onChange`` at most once a second.
    func progress(_ progress: VerificationProgress) {
        let now = ContinuousClock.now
        let due = lastProgressReport.withLock { last in
            guard now - last >= .seconds(1) else { return false }
            last = now
            return true
        }
        let snapshot = state.withLock { state in
            if let pass = state.currentPass { state.currentPass = (pass.startedAt, progress, pass.bytesPerSecond) }
            return state
        }
        if due { onChange(snapshot) }
    }
}
