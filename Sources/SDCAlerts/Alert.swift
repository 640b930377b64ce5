import SDCCore

/// How bad a condition is. Ordered: `info` < `warning` < `critical`.
public enum AlertSeverity: String, Sendable, Hashable, Comparable, CaseIterable {
    case info
    case warning
    case critical

    private var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .critical: 2
        }
    }

    public static func < (lhs: AlertSeverity, rhs: AlertSeverity) -> Bool { lhs.rank < rhs.rank }
}

/// Something wrong that holds until it is cleared: a telemetry limit exceeded, a failed job, a late product, a full
/// disk, a corrupt object. A condition is known by its ``rule`` and ``subject``; raising it again while it holds
/// changes nothing that anyone is told (no duplicate notification), clearing it sends one recovery notice.
public struct AlertCondition: Sendable, Hashable {
    /// The rule (or component) that raises it: a rule's `name` in the rules file, or a component's own name (the
    /// integrity scrub raises under `integrity`).
    public var rule: String
    /// What the condition is about, unique within the rule: `job 42`, `swapi SWP_HK SWP_HK.FPGA_T`,
    /// `imap/swapi/l1a/...cdf`.
    public var subject: String
    public var severity: AlertSeverity
    /// One line for people: what is wrong, with the numbers.
    public var summary: String

    public init(rule: String, subject: String, severity: AlertSeverity, summary: String) {
        self.rule = rule
        self.subject = subject
        self.severity = severity
        self.summary = summary
    }
}

/// Where components raise and clear conditions: the ``AlertEngine`` of the data center.
///
/// How another component (the integrity scrub, say) plugs in:
/// - take an `any AlertSink` in its initializer (`sdc serve` passes the engine it builds for `--alerts`, or
///   ``AlertSink/none`` without it);
/// - call ``raise(_:)`` each time it sees the problem (every scrub pass that finds the corrupt object may raise it
///   again: only the first raise notifies, while the condition holds);
/// - call ``clear(rule:subject:)`` when the problem is gone (the object reads back correct, or was deleted), which
///   sends a recovery notice if the condition was active;
/// - or, for a component that knows the full set of its problems after each pass, call
///   ``reconcile(rule:conditions:)``: it raises every condition given and clears every other of that rule.
///
/// Use a fixed `rule` name per kind of problem (`integrity`) and a stable `subject` (the object key), so that the
/// same problem is recognised from pass to pass and across restarts (the state is kept in the database).
/// Raising never throws: a failure to record is logged by the engine, and the next raise tries again.
public protocol AlertSink: Sendable {
    /// Raises `condition` (or confirms that it still holds).
    func raise(_ condition: AlertCondition) async
    /// Clears the condition `subject` of `rule`; nothing happens when it is not active.
    func clear(rule: String, subject: String) async
    /// Raises each of `conditions` (all of rule `rule`) and clears every other active condition of `rule`.
    func reconcile(rule: String, conditions: [AlertCondition]) async
}

/// The sink that drops everything, for a data center run without `--alerts`.
public struct NoAlerts: AlertSink {
    public init() {}
    public func raise(_ condition: AlertCondition) async {}
    public func clear(rule: String, subject: String) async {}
    public func reconcile(rule: String, conditions: [AlertCondition]) async {}
}

extension AlertSink where Self == NoAlerts {
    /// Drops every condition.
    public static var none: NoAlerts { NoAlerts() }
}

/// A condition as the store keeps it: active while ``resolvedAt`` is nil.
public struct Alert: Sendable, Hashable {
    public var id: Int64
    public var condition: AlertCondition
    /// When it was first raised.
    public var raisedAt: UTCTime
    /// When it was last raised (confirmed).
    public var lastSeenAt: UTCTime
    /// When it cleared; nil while active.
    public var resolvedAt: UTCTime?

    public init(id: Int64, condition: AlertCondition, raisedAt: UTCTime, lastSeenAt: UTCTime, resolvedAt: UTCTime?) {
        self.id = id
        self.condition = condition
        self.raisedAt = raisedAt
        self.lastSeenAt = lastSeenAt
        self.resolvedAt = resolvedAt
    }

    public var isActive: Bool { resolvedAt == nil }
}

/// What a notification tells: a condition began (`firing`) or ended (`resolved`).
public enum AlertTransition: String, Sendable, Hashable {
    case firing
    case resolved
}

/// A notification waiting in the store's outbox until the webhooks have it (written in the same transaction as the
/// state change, so that a crash loses none and sends none twice).
public struct AlertNotification: Sendable, Hashable {
    public var id: Int64
    public var alert: Alert
    public var transition: AlertTransition
    public var createdAt: UTCTime

    public init(id: Int64, alert: Alert, transition: AlertTransition, createdAt: UTCTime) {
        self.id = id
        self.alert = alert
        self.transition = transition
        self.createdAt = createdAt
    }
}

/// The receipt and availability of one product: how long after its Level 0 input was received the product could be
/// downloaded.
public struct ProductLatency: Sendable, Hashable {
    /// The product's storage key.
    public var key: String
    public var instrument: String
    public var level: String
    public var descriptor: String
    /// The latest Level 0 file it descends from (through the job store's lineage).
    public var sourceName: String
    /// When that Level 0 file was ingested.
    public var receivedAt: UTCTime
    /// When the product was ingested (available).
    public var availableAt: UTCTime

    public init(key: String, instrument: String, level: String, descriptor: String, sourceName: String, receivedAt: UTCTime,
                availableAt: UTCTime) {
        self.key = key
        self.instrument = instrument
        self.level = level
        self.descriptor = descriptor
        self.sourceName = sourceName
        self.receivedAt = receivedAt
        self.availableAt = availableAt
    }

    /// Seconds from receipt to availability (never negative).
    public var seconds: Int64 { max(0, availableAt.secondsSince1970 - receivedAt.secondsSince1970) }
}

/// A Level 0 file whose products are awaited (a latency rule's subject): recorded when it is ingested.
public struct AwaitedInput: Sendable, Hashable {
    /// The Level 0 file name.
    public var name: String
    public var instrument: String
    public var receivedAt: UTCTime

    public init(name: String, instrument: String, receivedAt: UTCTime) {
        self.name = name
        self.instrument = instrument
        self.receivedAt = receivedAt
    }
}

/// Why an alert-store operation failed.
public enum AlertStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case database(String)
    /// A stored row cannot be read back.
    case corruptRow(table: String, id: String, reason: String)

    public var description: String {
        switch self {
        case .database(let message): "alert database error: \(message)"
        case .corruptRow(let table, let id, let reason): "the \(table) row \(id) is damaged: \(reason)"
        }
    }
}

/// The durable state of alerting, shared by every replica: conditions (active and resolved), the notification
/// outbox, and product latencies. ``SQLiteAlertStore`` is the embedded implementation; `PostgresAlertStore` (in
/// SDCPostgres) the scaled-out one.
public protocol AlertStore: Sendable {
    /// Records that `condition` holds at `now`. When it was not active, it becomes active and a `firing`
    /// notification is queued in the same transaction; the new alert is returned. When it already held, only its
    /// last-seen time, summary and severity are updated and nil is returned (no duplicate notification).
    func raise(_ condition: AlertCondition, at now: UTCTime) async throws(AlertStoreError) -> Alert?
    /// Resolves the active condition `subject` of `rule` at `now` and queues a `resolved` notification; returns it,
    /// or nil when it was not active.
    func clear(rule: String, subject: String, at now: UTCTime) async throws(AlertStoreError) -> Alert?
    /// Active alerts, most severe then oldest first.
    func activeAlerts() async throws(AlertStoreError) -> [Alert]
    /// Recently resolved alerts, newest first.
    func resolvedAlerts(limit: Int) async throws(AlertStoreError) -> [Alert]
    /// Queued notifications, oldest first.
    func pendingNotifications(limit: Int) async throws(AlertStoreError) -> [AlertNotification]
    /// Takes a notification out of the outbox (sent, or given up on).
    func finishNotification(id: Int64, at now: UTCTime) async throws(AlertStoreError)

    /// Records a product's latency; false when it was already recorded.
    @discardableResult
    func recordLatency(_ latency: ProductLatency) async throws(AlertStoreError) -> Bool
    /// Whether a product's latency is recorded.
    func hasLatency(key: String) async throws(AlertStoreError) -> Bool
    /// Latencies of products that became available at or after `since`.
    func latencies(since: UTCTime) async throws(AlertStoreError) -> [ProductLatency]

    /// Records a Level 0 file whose products are awaited (ignored when already recorded).
    func expectProducts(of input: AwaitedInput) async throws(AlertStoreError)
    /// Level 0 files still awaited, oldest first.
    func awaitedInputs(limit: Int) async throws(AlertStoreError) -> [AwaitedInput]
    /// Stops awaiting the products of `name` (they all arrived).
    func settle(name: String) async throws(AlertStoreError)
}
