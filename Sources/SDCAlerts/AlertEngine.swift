import Logging
import SDCCore
import Synchronization

/// The data center's ``AlertSink``: records each raise and clear in the ``AlertStore`` (which de-duplicates and
/// queues the notifications durably) and wakes the deliverer, so that a new condition is sent at once.
///
/// Every process may raise and clear (an ingest listener checks telemetry limits wherever an L1A file is ingested);
/// notifications are sent by the one process that holds the `alerts` lease (``AlertEvaluator``).
public final class AlertEngine: AlertSink {
    public let store: any AlertStore
    let clock: @Sendable () -> UTCTime
    let logger: Logger
    private let wakeups = Mutex<[AsyncStream<Void>.Continuation]>([])

    /// An engine over `store`; `clock` gives the time conditions are recorded at (the system clock in service).
    public init(store: any AlertStore, clock: @escaping @Sendable () -> UTCTime = { .now }, logger: Logger = Logger(label: "sdc.alerts")) {
        self.store = store
        self.clock = clock
        self.logger = logger
    }

    public func raise(_ condition: AlertCondition) async {
        do {
            if let alert = try await store.raise(condition, at: clock()) {
                logger.warning("alert raised", metadata: Self.metadata(alert.condition))
                wake()
            }
        } catch {
            logger.error("cannot record an alert", metadata: Self.metadata(condition).merging(["error": "\(error)"]) { $1 })
        }
    }

    public func clear(rule: String, subject: String) async {
        do {
            if let alert = try await store.clear(rule: rule, subject: subject, at: clock()) {
                logger.notice("alert cleared", metadata: Self.metadata(alert.condition))
                wake()
            }
        } catch {
            logger.error("cannot clear an alert", metadata: ["rule": "\(rule)", "subject": "\(subject)", "error": "\(error)"])
        }
    }

    public func reconcile(rule: String, conditions: [AlertCondition]) async {
        let active: [Alert]
        do {
            active = try await store.activeAlerts()
        } catch {
            logger.error("cannot read the active alerts", metadata: ["rule": "\(rule)", "error": "\(error)"])
            return
        }
        let raised = Set(conditions.map(\.subject))
        for condition in conditions { await raise(condition) }
        for alert in active where alert.condition.rule == rule && !raised.contains(alert.condition.subject) {
            await clear(rule: rule, subject: alert.condition.subject)
        }
    }

    /// A stream that yields whenever a condition changed state in this process (the deliverer waits on it).
    func changes() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wakeups.withLock { $0.append(continuation) }
        return stream
    }

    /// Wakes the deliverer.
    func wake() {
        for continuation in wakeups.withLock({ $0 }) { continuation.yield() }
    }

    static func metadata(_ condition: AlertCondition) -> Logger.Metadata {
        ["rule": "\(condition.rule)", "subject": "\(condition.subject)", "severity": "\(condition.severity.rawValue)",
         "summary": "\(condition.summary)"]
    }
}
