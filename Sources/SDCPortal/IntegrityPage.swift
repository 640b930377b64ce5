import Foundation
import Hummingbird
import NIOCore
import Prometheus
import SDCCore
import SDCIntegrity
import SDCServer

/// The background scrub's findings: `/portal/integrity` for people (the problem list to signed-in visitors only, as
/// it names unreleased files), `/portal/integrity.json` (status and counts) for programs. Linked from the dashboard.
public struct IntegrityPage: ServerExtension {
    let portal: Portal
    let status: IntegrityStatus

    /// Served beside `portal`, showing `status` (this replica's scrub).
    public init(portal: Portal, status: IntegrityStatus) {
        self.portal = portal
        self.status = status
    }

    public func addRoutes(to router: Router<SDCRequestContext>) {
        router.get("portal/integrity") { request, _ in
            let visitor = try await portal.visitor(of: request)
            return portal.html(Layout.page(title: "Storage integrity", visitor: visitor,
                                           body: Self.body(status.snapshot, showFindings: visitor.seesUnreleased)))
        }
        router.get("portal/integrity.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: Self.json(status.snapshot).serialized())))
        }
    }

    static func json(_ snapshot: IntegrityStatus.Snapshot) -> JSONValue {
        var members: [(String, JSONValue)] = [("scrubbing", .bool(snapshot.isScrubbing)), ("passes_completed", .int(snapshot.passesCompleted))]
        if let pass = snapshot.currentPass {
            members.append(("current_pass", .object([
                ("started_at", .string(pass.startedAt.iso8601)), ("objects_checked", .int(pass.progress.objectsChecked)),
                ("bytes_checked", .int(Int(pass.progress.bytesChecked))), ("bytes_expected", .int(Int(pass.progress.bytesExpected))),
                ("bytes_per_second", .double(pass.bytesPerSecond)),
            ])))
        }
        if let last = snapshot.lastPass {
            let counts = last.counts
            members.append(("last_pass", .object([
                ("started_at", .string(last.startedAt.iso8601)), ("finished_at", .string(last.finishedAt.iso8601)),
                ("objects_checked", .int(last.objectsChecked)), ("bytes_checked", .int(Int(last.bytesChecked))),
                ("objects_listed", .int(last.objectsListed)),
                ("problems", .object(IntegrityProblem.allCases.map { ($0.rawValue, .int(counts[$0] ?? 0)) })),
            ])))
        }
        if let error = snapshot.lastError { members.append(("last_error", .string(error))) }
        return .object(members)
    }

    static func body(_ snapshot: IntegrityStatus.Snapshot, showFindings: Bool) -> HTML {
        let state: HTML = snapshot.isScrubbing
            ? "<p id=\"scrub-state\">This replica runs the background scrub.</p>"
            : "<p id=\"scrub-state\" class=\"muted\">This replica does not scrub (another replica holds the scrub lease, or the scrub is off).</p>"
        var sections: [HTML] = [state]
        if let pass = snapshot.currentPass {
            sections.append("""
                <section><h2>Pass in progress</h2><p id="current-pass">Started \(pass.startedAt.compact): \(pass.progress.objectsChecked) objects, \
                \(Format.bytes(pass.progress.bytesChecked)) of about \(Format.bytes(pass.progress.bytesExpected)) read \
                (\(Int(pass.progress.fraction * 100))%) at up to \(Format.bytes(Int64(pass.bytesPerSecond)))/s.</p></section>
                """)
        }
        if let last = snapshot.lastPass {
            let counts = last.counts
            let rows = IntegrityProblem.allCases.map { problem -> HTML in
                "<tr><th>\(problem.rawValue)</th><td class=\"num\" id=\"problems-\(problem.rawValue)\">\(counts[problem] ?? 0)</td></tr>"
            }
            let findings: HTML
            if last.findings.isEmpty {
                findings = "<p id=\"findings\">Every object matched the catalog.</p>"
            } else if showFindings {
                let items = last.findings.map { finding -> HTML in
                    "<tr class=\"finding\"><td>\(finding.problem.rawValue)</td><td><code>\(finding.key)</code></td><td>\(finding.detail)</td></tr>"
                }
                findings = "<table id=\"findings\"><thead><tr><th>Problem</th><th>Key</th><th>Detail</th></tr></thead><tbody>\(items)</tbody></table>"
            } else {
                findings = "<p id=\"findings\" class=\"muted\">Sign in to see which objects.</p>"
            }
            sections.append("""
                <section><h2>Last complete pass</h2><p id="last-pass">\(last.startedAt.compact) to \(last.finishedAt.compact): \
                \(last.objectsChecked) objects (\(Format.bytes(last.bytesChecked))) read, \(last.objectsListed) listed.</p>
                <table id="problem-counts">\(rows)</table>\(findings)</section>
                """)
        } else {
            sections.append("<p id=\"last-pass\" class=\"muted\">No pass has completed since this replica started.</p>")
        }
        if let error = snapshot.lastError { sections.append("<p id=\"scrub-error\">The last pass failed: \(error)</p>") }
        sections.append("<p class=\"muted\">Run <code>sdc verify --all</code> for a full check now; nothing is ever deleted.</p>")
        return "\(sections)"
    }
}

/// Exports the scrub's status in `/metrics`: `sdc_integrity_*` gauges of this process (only the scrubbing replica
/// has pass figures), updated with each change of ``IntegrityStatus``.
public struct IntegrityMetrics: Sendable {
    let metrics: ServerMetrics

    /// Gauges in `metrics`' registry, labelled with its instance.
    public init(metrics: ServerMetrics) { self.metrics = metrics }

    /// Sets the gauges from `snapshot`.
    public func update(_ snapshot: IntegrityStatus.Snapshot) {
        func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = [], _ value: Double) {
            let descriptor = MetricNameDescriptor(namespace: "sdc", subsystem: "integrity", metricName: name, unitName: "", helpText: help)
            metrics.registry.makeGauge(descriptor: descriptor, labels: metrics.processLabels(labels)).set(value)
        }
        gauge("scrubbing", "1 when this replica runs the background scrub.", [], snapshot.isScrubbing ? 1 : 0)
        gauge("passes_completed", "Complete scrub passes since this process started.", [], Double(snapshot.passesCompleted))
        if let pass = snapshot.currentPass {
            gauge("pass_progress_ratio", "Fraction of the store's bytes read by the pass in progress.", [], pass.progress.fraction)
            gauge("pass_rate_bytes_per_second", "The rate the pass in progress reads at most.", [], pass.bytesPerSecond)
        }
        guard snapshot.isScrubbing, let last = snapshot.lastPass else { return }
        let counts = last.counts
        for problem in IntegrityProblem.allCases {
            gauge("problems", "Objects with an integrity problem in the last complete scrub pass, by problem.", [("problem", problem.rawValue)],
                  Double(counts[problem] ?? 0))
        }
        gauge("last_pass_completed_timestamp_seconds", "When the last complete scrub pass ended.", [], Double(last.finishedAt.secondsSince1970))
        gauge("last_pass_objects", "Objects read by the last complete scrub pass.", [], Double(last.objectsChecked))
        gauge("last_pass_bytes", "Bytes read by the last complete scrub pass.", [], Double(last.bytesChecked))
    }
}
