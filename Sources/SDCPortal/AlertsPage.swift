import Foundation
import Hummingbird
import NIOCore
import Prometheus
import SDCAlerts
import SDCCore
import SDCServer
import Synchronization

/// The alerts and the data latency: `/portal/alerts` for people (active alerts, recently resolved ones, and the
/// Level 0 receipt → product availability percentiles per instrument and level against the requirement),
/// `/portal/alerts.json` for programs. Public, like the dashboard.
public struct AlertsPage: ServerExtension {
    let portal: Portal
    let store: any AlertStore
    /// The latency requirement, seconds (IMAP: 24 hours).
    let requirement: Int64

    /// Served beside `portal`, whose sign-in state and layout the page shares.
    public init(portal: Portal, store: any AlertStore, requirement: Int64 = 86_400) {
        self.portal = portal
        self.store = store
        self.requirement = requirement
    }

    /// What the page shows.
    struct Snapshot: Sendable {
        var active: [Alert]
        var resolved: [Alert]
        var latency: [LatencySummary]
    }

    func snapshot(now: UTCTime = .now) async throws -> Snapshot {
        let recent = try await store.latencies(since: UTCTime(secondsSince1970: now.secondsSince1970 - 30 * 86_400))
        return Snapshot(active: try await store.activeAlerts(), resolved: try await store.resolvedAlerts(limit: 50),
                        latency: LatencySummary.summarize(recent, requirement: requirement))
    }

    public func addRoutes(to router: Router<SDCRequestContext>) {
        router.get("portal/alerts") { request, _ in
            try await portal.page(request, title: "Alerts", body: Self.body(try await snapshot(), requirement: requirement))
        }
        router.get("portal/alerts.json") { _, _ in
            let json = Self.json(try await snapshot(), requirement: requirement).serialized()
            return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: json)))
        }
    }

    static func alertJSON(_ alert: Alert) -> JSONValue {
        .object([
            ("id", .int(Int(alert.id))), ("rule", .string(alert.condition.rule)), ("subject", .string(alert.condition.subject)),
            ("severity", .string(alert.condition.severity.rawValue)), ("summary", .string(alert.condition.summary)),
            ("raised_at", .string(alert.raisedAt.iso8601)), ("last_seen_at", .string(alert.lastSeenAt.iso8601)),
            ("resolved_at", .string(alert.resolvedAt?.iso8601)),
        ])
    }

    static func json(_ snapshot: Snapshot, requirement: Int64) -> JSONValue {
        .object([
            ("active", .array(snapshot.active.map(alertJSON))),
            ("resolved", .array(snapshot.resolved.map(alertJSON))),
            ("latency_requirement_seconds", .int(Int(requirement))),
            ("latency", .array(snapshot.latency.map { summary in
                .object([
                    ("instrument", .string(summary.instrument)), ("level", .string(summary.level)), ("count", .int(summary.count)),
                    ("p50_seconds", .int(Int(summary.p50))), ("p90_seconds", .int(Int(summary.p90))), ("p99_seconds", .int(Int(summary.p99))),
                    ("max_seconds", .int(Int(summary.maximum))), ("within_requirement", .int(summary.withinRequirement)),
                ])
            })),
        ])
    }

    static func body(_ snapshot: Snapshot, requirement: Int64) -> HTML {
        func rows(_ alerts: [Alert], resolved: Bool) -> [HTML] {
            alerts.map { alert in
                """
                <tr class="alert severity-\(alert.condition.severity.rawValue)" id="alert-\(alert.id)"><td>\(alert.condition.severity.rawValue)</td>\
                <td>\(alert.condition.rule)</td><td>\(alert.condition.subject)</td><td>\(alert.condition.summary)</td>\
                <td>\(alert.raisedAt.iso8601)</td><td>\(resolved ? alert.resolvedAt?.iso8601 ?? "" : alert.lastSeenAt.iso8601)</td></tr>
                """
            }
        }
        let active: HTML = snapshot.active.isEmpty
            ? "<p class=\"muted\" id=\"no-alerts\">No active alerts.</p>"
            : """
              <table id="active-alerts"><thead><tr><th>Severity</th><th>Rule</th><th>Subject</th><th>Summary</th><th>Raised</th>\
              <th>Last seen</th></tr></thead><tbody>\(rows(snapshot.active, resolved: false))</tbody></table>
              """
        let resolved: HTML = snapshot.resolved.isEmpty
            ? "<p class=\"muted\">None.</p>"
            : """
              <table id="resolved-alerts"><thead><tr><th>Severity</th><th>Rule</th><th>Subject</th><th>Summary</th><th>Raised</th>\
              <th>Resolved</th></tr></thead><tbody>\(rows(snapshot.resolved, resolved: true))</tbody></table>
              """
        let latencyRows: [HTML] = snapshot.latency.map { summary in
            let share = summary.count == 0 ? 100.0 : Double(summary.withinRequirement) / Double(summary.count) * 100
            return """
                <tr class="latency\(summary.p99 > requirement ? " late" : "")" id="latency-\(summary.instrument)-\(summary.level)">\
                <td>\(summary.instrument)</td><td>\(summary.level)</td><td>\(summary.count)</td><td>\(DurationText.describe(summary.p50))</td>\
                <td>\(DurationText.describe(summary.p90))</td><td>\(DurationText.describe(summary.p99))</td><td>\(DurationText.describe(summary.maximum))</td>\
                <td>\(String(format: "%.1f", share))%</td></tr>
                """
        }
        let latency: HTML = latencyRows.isEmpty
            ? "<p class=\"muted\" id=\"no-latency\">No product with a known Level 0 receipt in the last 30 days.</p>"
            : """
              <table id="latency"><thead><tr><th>Instrument</th><th>Level</th><th>Products</th><th>p50</th><th>p90</th><th>p99</th>\
              <th>Max</th><th>Within \(DurationText.describe(requirement))</th></tr></thead><tbody>\(latencyRows)</tbody></table>
              """
        return """
            <h2>Active</h2>\(active)
            <h2>Data latency</h2>
            <p>Level 0 receipt → product availability over the last 30 days (products traced to their Level 0 input through \
            the job lineage), against the \(DurationText.describe(requirement)) requirement.</p>\(latency)
            <h2>Recently resolved</h2>\(resolved)
            """
    }
}

/// Exports what alerting sees in this process's `/metrics` registry (``ServerMetrics/registry``, with its
/// `instance` label):
/// - `sdc_alerts_active{rule,severity}`: active conditions (set by the replica that evaluates);
/// - `sdc_alerts_notifications_total{format,outcome}`: webhook deliveries (`delivered`, `failed`);
/// - `sdc_latency_product_seconds{instrument,level}`: histogram of Level 0 receipt → availability, per product;
/// - `sdc_latency_quantile_seconds{instrument,level,quantile}` (0.5, 0.9, 0.99 over 30 days),
///   `sdc_latency_within_requirement_ratio{instrument,level}` and `sdc_latency_requirement_seconds`.
public final class AlertMetrics: AlertObserver {
    let metrics: ServerMetrics
    /// Label sets of `sdc_alerts_active` set so far, so that a cleared rule goes back to 0.
    private let activeLabels = Mutex<Set<[String]>>([])
    static let latencyBuckets: [Double] = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 2 * 86_400, 7 * 86_400]

    public init(metrics: ServerMetrics) { self.metrics = metrics }

    private func descriptor(_ subsystem: String, _ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "sdc", subsystem: subsystem, metricName: name, unitName: unit, helpText: help)
    }

    public func alertsEvaluated(active: [Alert]) {
        let counts = Dictionary(grouping: active) { [$0.condition.rule, $0.condition.severity.rawValue] }.mapValues(\.count)
        let all = activeLabels.withLock { known in
            known.formUnion(counts.keys)
            return known
        }
        for labels in all {
            metrics.registry.makeGauge(descriptor: descriptor("alerts", "active", "", "Active alert conditions by rule and severity."),
                                       labels: metrics.processLabels([("rule", labels[0]), ("severity", labels[1])]))
                .set(Double(counts[labels] ?? 0))
        }
    }

    public func notificationSent(format: Webhook.Format, delivered: Bool) {
        metrics.registry.makeCounter(descriptor: descriptor("alerts", "notifications", "total", "Alert notifications sent to webhooks, by outcome."),
                                     labels: metrics.processLabels([("format", format.rawValue), ("outcome", delivered ? "delivered" : "failed")]))
            .increment()
    }

    public func latencyRecorded(_ latency: ProductLatency) {
        metrics.registry.makeValueHistogram(
            descriptor: descriptor("latency", "product", "seconds", "Level 0 receipt to product availability, per product."),
            labels: metrics.processLabels([("instrument", latency.instrument), ("level", latency.level)]), buckets: Self.latencyBuckets
        ).record(Double(latency.seconds))
    }

    public func latencySummarized(_ summaries: [LatencySummary], requirement: Int64) {
        metrics.registry.makeGauge(descriptor: descriptor("latency", "requirement", "seconds", "The data latency requirement."),
                                   labels: metrics.processLabels()).set(Double(requirement))
        for summary in summaries {
            let labels = [("instrument", summary.instrument), ("level", summary.level)]
            for (quantile, value) in [("0.5", summary.p50), ("0.9", summary.p90), ("0.99", summary.p99)] {
                metrics.registry.makeGauge(
                    descriptor: descriptor("latency", "quantile", "seconds", "Level 0 receipt to availability percentiles over 30 days."),
                    labels: metrics.processLabels(labels + [("quantile", quantile)])).set(Double(value))
            }
            metrics.registry.makeGauge(
                descriptor: descriptor("latency", "within_requirement", "ratio", "Share of products available within the requirement (30 days)."),
                labels: metrics.processLabels(labels)).set(summary.count == 0 ? 1 : Double(summary.withinRequirement) / Double(summary.count))
        }
    }
}
