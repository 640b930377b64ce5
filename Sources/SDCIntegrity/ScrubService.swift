import Logging
import SDCAlerts
import SDCCatalog
import SDCCore
import ServiceLifecycle

/// How the background scrub runs.
public struct ScrubSchedule: Sendable, Equatable {
    /// The time one pass over the whole store should take; passes start at most once per period.
    public var period: Duration
    /// The most bytes per second a pass may read (nil: no limit beyond what the period needs).
    public var maximumBytesPerSecond: Double?
    /// The fewest bytes per second a pass reads (so that a nearly empty store is not read a byte at a time).
    public var minimumBytesPerSecond: Double = 1_048_576

    /// A schedule of one pass per `period`, at most `maximumBytesPerSecond`.
    public init(period: Duration, maximumBytesPerSecond: Double?) {
        self.period = period
        self.maximumBytesPerSecond = maximumBytesPerSecond
    }

    /// The rate at which a pass over `bytes` takes ``period``, within the minimum and the maximum.
    public func rate(forBytes bytes: Int64) -> Double {
        let seconds = max(1e-3, Double(period.components.seconds) + Double(period.components.attoseconds) * 1e-18)
        let needed = max(minimumBytesPerSecond, Double(bytes) / seconds)
        return maximumBytesPerSecond.map { min($0, needed) } ?? needed
    }
}

/// The background scrub: a ``Service`` that verifies the whole store (every cataloged object, and the store's listing
/// for orphans) once per ``ScrubSchedule/period``, paced so that a pass spreads over the period and never reads faster
/// than the schedule's maximum rate. It never changes anything; findings go to ``IntegrityStatus`` (and from there to
/// the portal and `/metrics`), to the log, and to alerts: after each pass the conditions of rule ``alertRule`` (one
/// per problem object, subject its key) are reconciled with the findings, so a new problem raises its alert and a
/// problem gone (the object restored) sends the recovery notice.
///
/// Only one replica scrubs: the holder of the `integrity-scrub` lease (``LeaseStore``), renewed while it scrubs and
/// while it waits for the next pass; another replica takes over within ``leaseSeconds`` when the holder stops.
public struct ScrubService: Service {
    let verifier: Verifier
    let leases: any LeaseStore
    let schedule: ScrubSchedule
    let status: IntegrityStatus
    let alerts: any AlertSink
    let logger: Logger
    let holder: String
    /// How long the lease lasts without renewal; it is renewed every third of that.
    let leaseSeconds: Int64
    /// The name of the lease that makes a replica the scrubber.
    public static let leaseName = "integrity-scrub"
    /// The alert rule under which integrity problems are raised.
    public static let alertRule = "integrity"

    /// A scrub of `verifier`'s store (its digester's rate limit is replaced by the schedule's pacing), taking turns
    /// through `leases` under the name `holder` (default: this process).
    public init(verifier: Verifier, leases: any LeaseStore, schedule: ScrubSchedule, status: IntegrityStatus, alerts: any AlertSink,
                logger: Logger = Logger(label: "sdc.scrub"), holder: String = ProcessIdentity.current.description, leaseSeconds: Int64 = 60) {
        self.verifier = verifier
        self.leases = leases
        self.schedule = schedule
        self.status = status
        self.alerts = alerts
        self.logger = logger
        self.holder = holder
        self.leaseSeconds = max(3, leaseSeconds)
    }

    private var renewal: Duration { .seconds(leaseSeconds) / 3 }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown { try await scrub() }
    }

    private func hold() async -> Bool {
        do {
            return try await leases.holdLease(Self.leaseName, holder: holder, seconds: leaseSeconds, now: .now)
        } catch {
            logger.warning("cannot take the scrub lease", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func scrub() async throws {
        while true {
            let held = await hold()
            status.update { $0.isScrubbing = held }
            guard held else {
                try await Task.sleep(for: renewal)
                continue
            }
            let start = ContinuousClock.now
            do {
                try await pass()
            } catch is CancellationError {
                throw CancellationError()
            } catch is LeaseLost {
                logger.notice("the scrub lease was lost to another replica: this one stops scrubbing")
                status.update {
                    $0.isScrubbing = false
                    $0.currentPass = nil
                }
                continue
            } catch {
                logger.error("scrub pass failed", metadata: ["error": "\(error)"])
                status.update {
                    $0.lastError = "\(error)"
                    $0.currentPass = nil
                }
            }
            // Wait out the rest of the period, still holding the lease so that no other replica starts a pass early.
            while ContinuousClock.now < start + schedule.period {
                try await Task.sleep(until: min(start + schedule.period, ContinuousClock.now + renewal), clock: .continuous)
                guard await hold() else {
                    status.update { $0.isScrubbing = false }
                    break
                }
            }
        }
    }

    /// The lease was taken by another replica during a pass.
    struct LeaseLost: Error {}

    /// One pass over the whole store, renewing the lease alongside; throws ``LeaseLost`` when the lease is lost.
    private func pass() async throws {
        let bytes = try await verifier.expectedBytes(.all)
        let rate = schedule.rate(forBytes: bytes)
        if let maximum = schedule.maximumBytesPerSecond, Double(bytes) / maximum > Double(schedule.period.components.seconds) {
            logger.warning("the scrub cannot cover the store within its period at its maximum rate", metadata: [
                "bytes": "\(bytes)", "maximum_bytes_per_second": "\(maximum)", "period_seconds": "\(schedule.period.components.seconds)",
            ])
        }
        let paced = Verifier(catalog: verifier.catalog,
                             digester: ObjectDigester(store: verifier.digester.store, pool: verifier.digester.pool,
                                                      limiter: ByteRateLimiter(bytesPerSecond: rate)),
                             concurrency: verifier.concurrency)
        status.update {
            $0.currentPass = (UTCTime.now, VerificationProgress(), rate)
            $0.lastError = nil
        }
        logger.info("scrub pass started", metadata: ["bytes": "\(bytes)", "bytes_per_second": "\(Int64(rate))"])
        let report = try await withThrowingTaskGroup(of: VerificationReport?.self) { group in
            group.addTask { [status] in
                try await paced.verify(.all, findOrphans: true) { status.progress($0) }
            }
            group.addTask { [renewal] in
                while true {
                    try await Task.sleep(for: renewal)
                    guard await hold() else { throw LeaseLost() }
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let report = result { return report }
            }
            throw CancellationError()
        }
        status.update {
            $0.lastPass = report
            $0.passesCompleted += 1
            $0.currentPass = nil
        }
        await alerts.reconcile(rule: Self.alertRule, conditions: report.findings.map(Self.condition))
        let counts = report.counts
        let metadata: Logger.Metadata = [
            "objects": "\(report.objectsChecked)", "bytes": "\(report.bytesChecked)", "listed": "\(report.objectsListed)",
            "corrupt": "\(counts[.corrupt] ?? 0)", "missing": "\(counts[.missing] ?? 0)", "orphaned": "\(counts[.orphaned] ?? 0)",
            "unreadable": "\(counts[.unreadable] ?? 0)",
        ]
        if report.isClean {
            logger.info("scrub pass complete: no problems", metadata: metadata)
        } else {
            logger.error("scrub pass complete: integrity problems found", metadata: metadata)
            for finding in report.findings {
                logger.error("integrity problem", metadata: ["key": "\(finding.key)", "problem": "\(finding.problem.rawValue)", "detail": "\(finding.detail)"])
            }
        }
    }

    /// The alert condition of a finding: corrupt and missing objects are critical (data is lost), orphans and
    /// unreadable objects warnings (something to look at).
    static func condition(_ finding: IntegrityFinding) -> AlertCondition {
        let severity: AlertSeverity = finding.problem == .corrupt || finding.problem == .missing ? .critical : .warning
        return AlertCondition(rule: alertRule, subject: finding.key, severity: severity,
                              summary: "\(finding.problem.rawValue) object \(finding.key): \(finding.detail)")
    }
}
