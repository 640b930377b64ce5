import Foundation
import Logging
import SDCCatalog
import SDCCore
import SDCJobs
import ServiceLifecycle
import Synchronization

/// Told what alerting sees, to export it (``/metrics``).
public protocol AlertObserver: Sendable {
    /// The active alerts after an evaluation pass.
    func alertsEvaluated(active: [Alert])
    /// A notification was delivered to (or given up on by) a webhook of `format`.
    func notificationSent(format: Webhook.Format, delivered: Bool)
    /// A product's latency was recorded.
    func latencyRecorded(_ latency: ProductLatency)
    /// The latency percentiles of the last 30 days, against `requirement` seconds.
    func latencySummarized(_ summaries: [LatencySummary], requirement: Int64)
}

/// The periodic side of alerting, a ServiceLifecycle `Service` of `sdc serve --alerts`: every `evaluate_every` it
/// checks the jobs (failures, repeated failures, a stalled queue, lost workers), the awaited products (latency), the
/// storage, records product latencies, and sends the queued notifications to the webhooks; it also sends at once
/// whatever an ``AlertEngine`` of this process raises or clears in between.
///
/// With several replicas on one database, only the holder of the `alerts` lease (``LeaseStore``) evaluates and
/// sends; another takes over within the lease time (three intervals, at least 30 s) after it stops.
public struct AlertEvaluator: Service {
    let rules: AlertRules
    let engine: AlertEngine
    let jobs: any JobStore
    let leases: any LeaseStore
    let tracker: LatencyTracker
    let delivery: WebhookDelivery
    let observer: (any AlertObserver)?
    let holder: String
    let logger: Logger
    private let leading = LeaderFlag()

    public init(rules: AlertRules, engine: AlertEngine, jobs: any JobStore, catalog: any FileCatalog, leases: any LeaseStore,
                delivery: WebhookDelivery, observer: (any AlertObserver)? = nil, holder: String = ProcessIdentity.current.description,
                logger: Logger = Logger(label: "sdc.alerts")) {
        self.rules = rules
        self.engine = engine
        self.jobs = jobs
        self.leases = leases
        self.tracker = LatencyTracker(jobs: jobs, catalog: catalog, store: engine.store)
        self.delivery = delivery
        self.observer = observer
        self.holder = holder
        self.logger = logger
    }

    private final class LeaderFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    var leaseSeconds: Int64 { max(30, 3 * rules.evaluationInterval.components.seconds) }

    public func run() async throws {
        let changes = engine.changes()
        // Both loops end when the task is cancelled, which graceful shutdown does.
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        await pass()
                        engine.wake()
                        do { try await Task.sleep(for: rules.evaluationInterval) } catch { return }
                    }
                }
                // The only sender, so that a notification is never sent twice by two deliveries at once.
                group.addTask {
                    for await _ in changes where leading.value.load(ordering: .relaxed) {
                        await deliverPending()
                    }
                }
            }
        }
    }

    /// One evaluation: take (or keep) the lease and, holding it, evaluate; returns whether this process holds it.
    /// Failures are logged; the next pass tries again.
    @discardableResult
    func pass() async -> Bool {
        do {
            let leader = try await leases.holdLease("alerts", holder: holder, seconds: leaseSeconds, now: engine.clock())
            leading.value.store(leader, ordering: .relaxed)
            guard leader else { return false }
            try await evaluate()
            return true
        } catch {
            logger.error("alert evaluation failed", metadata: ["error": "\(error)"])
            return leading.value.load(ordering: .relaxed)
        }
    }

    /// Checks every periodic rule once and records new product latencies.
    public func evaluate() async throws {
        let now = engine.clock()
        for latency in try await tracker.recordNewProducts() { observer?.latencyRecorded(latency) }
        let recent = try await engine.store.latencies(since: UTCTime(secondsSince1970: now.secondsSince1970 - 30 * 86_400))
        observer?.latencySummarized(LatencySummary.summarize(recent, requirement: rules.latencyRequirement), requirement: rules.latencyRequirement)

        let failed = try await jobs.jobs(matching: JobFilter(status: .failed, limit: 500))
        let queued = try await jobs.jobs(matching: JobFilter(status: .queued, limit: 500))
        let running = try await jobs.jobs(matching: JobFilter(status: .running, limit: 500))
        var awaitedRules: [Instrument: [(AlertRule, [DataLevel], Int64)]] = [:]
        for rule in rules.rules {
            switch rule.kind {
            case .jobFailed:
                await engine.reconcile(rule: rule.name, conditions: failed.map { job in
                    AlertCondition(rule: rule.name, subject: "job \(job.id)", severity: rule.severity,
                                   summary: "job \(job.id) (\(Self.describe(job))) failed after \(job.attempts) attempt(s): \(job.error ?? "no reason recorded")")
                })
            case .jobFailingRepeatedly(let attempts):
                let byProduct = Dictionary(grouping: (failed + queued + running).filter { $0.error != nil }) { "\($0.product.path) \($0.startDate)" }
                await engine.reconcile(rule: rule.name, conditions: byProduct.sorted { $0.key < $1.key }.compactMap { subject, group in
                    let total = group.reduce(0) { $0 + $1.attempts }
                    guard total >= attempts, let last = group.max(by: { $0.id < $1.id }) else { return nil }
                    return AlertCondition(rule: rule.name, subject: subject, severity: rule.severity,
                                          summary: "\(subject): \(total) failed attempts over \(group.count) job(s); last error: \(last.error ?? "")")
                })
            case .latency(let instrument, let levels, let within):
                awaitedRules[instrument, default: []].append((rule, levels, within))
            case .queueStalled(let seconds):
                let due = queued.filter { $0.notBefore <= now }
                let waits = due.map { (job: $0, wait: now.secondsSince1970 - max($0.createdAt, $0.notBefore).secondsSince1970) }
                if let oldest = waits.max(by: { $0.wait < $1.wait }), oldest.wait > seconds {
                    await engine.raise(AlertCondition(rule: rule.name, subject: "queue", severity: rule.severity,
                                                      summary: "\(due.count) job(s) are due and waiting; job \(oldest.job.id) has waited \(DurationText.describe(oldest.wait)) for a worker"))
                } else {
                    await engine.clear(rule: rule.name, subject: "queue")
                }
            case .workerLost:
                let lost = running.filter { ($0.leaseExpiresAt ?? now) < now }
                await engine.reconcile(rule: rule.name, conditions: lost.map { job in
                    AlertCondition(rule: rule.name, subject: "worker \(job.workerID ?? "unknown")", severity: rule.severity,
                                   summary: "worker \(job.workerID ?? "unknown") stopped renewing its lease on job \(job.id) (\(Self.describe(job))) at \(job.leaseExpiresAt?.iso8601 ?? "?")")
                })
            case .storage(let path, let percent):
                let used = try Self.usedPercent(path)
                if used > percent {
                    await engine.raise(AlertCondition(rule: rule.name, subject: path, severity: rule.severity,
                                                      summary: "the filesystem of \(path) is \(String(format: "%.1f", used))% full (threshold \(percent.plain)%)"))
                } else {
                    await engine.clear(rule: rule.name, subject: path)
                }
            case .limit, .xtceAlarms:
                break  // checked as L1A files are ingested (AlertIngestChecks)
            }
        }
        if !awaitedRules.isEmpty { try await checkAwaited(awaitedRules, now: now) }
        observer?.alertsEvaluated(active: try await engine.store.activeAlerts())
    }

    /// Latency rules: each awaited Level 0 file whose products at a rule's levels are not all available within the
    /// rule's time raises `<file> <level>`; once they all are, the conditions clear and the file is no longer awaited.
    private func checkAwaited(_ awaitedRules: [Instrument: [(AlertRule, [DataLevel], Int64)]], now: UTCTime) async throws {
        for input in try await engine.store.awaitedInputs(limit: 1000) {
            guard let instrument = Instrument(rawValue: input.instrument), let instrumentRules = awaitedRules[instrument] else { continue }
            let available = try await descendantLevels(of: input.name)
            var complete = true
            for (rule, levels, within) in instrumentRules {
                for level in levels {
                    let subject = "\(input.name) \(level.rawValue)"
                    if available.contains(level) {
                        await engine.clear(rule: rule.name, subject: subject)
                        continue
                    }
                    complete = false
                    let waited = now.secondsSince1970 - input.receivedAt.secondsSince1970
                    if waited > within {
                        await engine.raise(AlertCondition(
                            rule: rule.name, subject: subject, severity: rule.severity,
                            summary: "no \(instrument.rawValue) \(level.rawValue) product from \(input.name) \(DurationText.describe(waited)) after it was received "
                                + "at \(input.receivedAt.iso8601) (requirement \(DurationText.describe(within)))"))
                    }
                }
            }
            if complete { try await engine.store.settle(name: input.name) }
        }
    }

    /// The levels of every product descending from the file `name` (following lineage down).
    private func descendantLevels(of name: String) async throws -> Set<DataLevel> {
        var levels: Set<DataLevel> = []
        var pending = [name]
        var seen: Set<String> = [name]
        while let next = pending.popLast() {
            for key in try await jobs.products(madeFrom: next) {
                let productName = String(key.split(separator: "/").last ?? "")
                guard let file = try? IMAPFileName.parse(productName), seen.insert(productName).inserted else { continue }
                if let level = file.science?.dataLevel { levels.insert(level) }
                pending.append(productName)
            }
        }
        return levels
    }

    /// Sends every queued notification, oldest first (only the lease holder calls it, from one task at a time).
    func deliverPending() async {
        do {
            while !Task.isCancelled {
                let batch = try await engine.store.pendingNotifications(limit: 50)
                if batch.isEmpty { return }
                for notification in batch {
                    await delivery.deliver(notification)
                    if Task.isCancelled { return }
                    try await engine.store.finishNotification(id: notification.id, at: engine.clock())
                }
            }
        } catch {
            logger.error("cannot read the alert outbox", metadata: ["error": "\(error)"])
        }
    }

    static func describe(_ job: Job) -> String {
        "\(job.product.source) \(job.product.dataType) \(job.product.descriptor) \(job.startDate), \(job.algorithm) \(job.algorithmVersion)"
    }

    /// How full the filesystem holding `path` is, in percent.
    static func usedPercent(_ path: String) throws -> Double {
        let attributes = try FileManager.default.attributesOfFileSystem(forPath: path)
        guard let size = (attributes[.systemSize] as? NSNumber)?.doubleValue, let free = (attributes[.systemFreeSize] as? NSNumber)?.doubleValue,
              size > 0 else { return 0 }
        return (size - free) / size * 100
    }
}

/// Durations as alert messages, the alerts page and `sdc alerts` write them.
public enum DurationText {
    /// `45s`, `12m`, `3h05m`, `2d04h`.
    public static func describe(_ seconds: Int64) -> String {
        switch seconds {
        case ..<120: "\(seconds)s"
        case ..<7200: "\(seconds / 60)m"
        case ..<172_800: "\(seconds / 3600)h\(String(format: "%02d", seconds % 3600 / 60))m"
        default: "\(seconds / 86_400)d\(String(format: "%02d", seconds % 86_400 / 3600))h"
        }
    }
}
