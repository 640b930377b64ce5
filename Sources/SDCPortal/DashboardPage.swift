import SDCAlerts
import SDCCatalog
import SDCCore
import SDCJobs

/// The dashboard's time window.
enum DashboardWindow: String, Sendable, CaseIterable {
    case day = "24h", week = "7d", month = "30d"

    var seconds: Int64 {
        switch self {
        case .day: 86_400
        case .week: 7 * 86_400
        case .month: 30 * 86_400
        }
    }

    /// Bucket length: hours over a day, 6 hours over a week, days over a month.
    var bucketSeconds: Int64 {
        switch self {
        case .day: 3_600
        case .week: 6 * 3_600
        case .month: 86_400
        }
    }

    var label: String {
        switch self {
        case .day: "24 hours"
        case .week: "7 days"
        case .month: "30 days"
        }
    }
}

/// What the operations dashboard shows: read from the catalog's aggregates (hourly ingest, totals) and the job store
/// as `/metrics` reads it (counts by state, the newest finished jobs of each outcome), never a scan of the files.
struct DashboardData: Sendable {
    var window = DashboardWindow.day
    var now = UTCTime.now
    var jobCounts: [JobStatus: Int]
    var failures: [Job]
    var recentJobs: [Job]
    /// Product days that wait for a required input (a SPICE kernel, an ancillary table, an upstream product, an algorithm).
    var waiting: [WaitingTrigger]
    /// The active alerts (most severe first); empty without an alert store.
    var alerts: [Alert]
    var totals: [CatalogTotal]
    var ingest: [IngestBucket]
    /// Jobs the plots are drawn from: queued and running ones and the newest finished ones of each outcome.
    var jobs: [Job]
    /// The products made in the window, with the receipt of the Level 0 file each descends from.
    var latencies: [ProductLatency]
    /// The latency requirement from an L0 file's arrival to its products, in hours.
    var latencyRequirementHours: Double
}

enum DashboardPage {
    /// Pages other parts of the data center add under `/portal` (each its own server extension).
    static let operationsLinks: [(path: String, title: String)] = [
        ("/portal/alerts", "Alerts"), ("/portal/integrity", "Integrity checks"), ("/portal/ialirt", "I-ALiRT"),
    ]

    static func body(_ data: DashboardData) -> HTML {
        let chart = chart(for: data)
        let windows = DashboardWindow.allCases.map { window -> HTML in
            window == data.window
                ? "<a href=\"/portal/dashboard?window=\(window.rawValue)\" class=\"window current\" aria-current=\"page\">\(window.label)</a>"
                : "<a href=\"/portal/dashboard?window=\(window.rawValue)\" class=\"window\">\(window.label)</a>"
        }
        let operations = operationsLinks.map { link -> HTML in "<a href=\"\(link.path)\">\(link.title)</a>" }
        let stateRows = JobStatus.allCases.map { status -> HTML in
            "<tr><th scope=\"row\">\(status.rawValue)</th><td class=\"num\" id=\"jobs-\(status.rawValue)\">\(data.jobCounts[status] ?? 0)</td></tr>"
        }
        let failures: HTML = data.failures.isEmpty
            ? "<p class=\"muted\" id=\"failures\">No failed jobs.</p>"
            : "<div id=\"failures\">\(data.failures.map(failure))</div>"
        let filesTotal = data.totals.reduce(0) { $0 + $1.files }
        let bytesTotal = data.totals.reduce(Int64(0)) { total, row in
            let (sum, overflow) = total.addingReportingOverflow(row.bytes)
            return overflow ? .max : sum
        }
        return """
            <nav class="subnav" aria-label="Dashboard window">Window: \(windows)</nav>
            <nav class="subnav" aria-label="Other operations pages" id="operations-links">Operations: \(operations)</nav>
            <section aria-labelledby="now-heading"><h2 id="now-heading">Now</h2>
            <div class="tiles">
            <p class="tile">Queue depth <strong id="queue-depth">\(data.jobCounts[.queued] ?? 0)</strong> jobs waiting</p>
            <p class="tile">Running <strong id="running">\(data.jobCounts[.running] ?? 0)</strong></p>
            <p class="tile">Failed <strong id="failed-count">\(data.jobCounts[.failed] ?? 0)</strong></p>
            <p class="tile"><a href="/portal/alerts">Active alerts</a> <strong id="active-alerts">\(data.alerts.count)</strong>\(data.alerts.first.map { " · " + $0.condition.summary } ?? "")</p>
            <p class="tile" id="storage-used">\(filesTotal) files, \(Format.bytes(bytesTotal)) stored</p>
            </div></section>
            <section aria-labelledby="ingest-heading"><h2 id="ingest-heading">Ingest, last \(data.window.label)</h2>
            <div class="charts">\(ingestCharts(data, chart: chart))</div></section>
            <section aria-labelledby="jobs-heading"><h2 id="jobs-heading">Processing, last \(data.window.label)</h2>
            <div class="charts">\(jobCharts(data, chart: chart))</div>
            <h3>Jobs by state now</h3><table id="job-states">\(stateRows)</table></section>
            <section aria-labelledby="instruments-heading"><h2 id="instruments-heading">Data by instrument</h2>\(instrumentTable(data))</section>
            <section aria-labelledby="failures-heading"><h2 id="failures-heading">Recent failures</h2>\(failures)</section>
            <section aria-labelledby="waiting-heading"><h2 id="waiting-heading">Waiting for inputs</h2>\(waitingTable(data.waiting))</section>
            <section aria-labelledby="recent-heading"><h2 id="recent-heading">Recent jobs</h2>\(FileDetailPage.jobList(data.recentJobs, empty: "No jobs yet."))</section>
            """
    }

    /// The product days the planner holds back until an input arrives, and what each waits for.
    static func waitingTable(_ waiting: [WaitingTrigger]) -> HTML {
        guard !waiting.isEmpty else { return "<p class=\"muted\" id=\"no-waiting\">No product waits for an input.</p>" }
        let rows = waiting.map { entry -> HTML in
            let product = entry.trigger.product
            let repointing = entry.trigger.repointing.map { " repoint \($0)" } ?? ""
            return """
                <tr><td>\(product.source) \(product.dataType) \(product.descriptor)</td><td>\(entry.trigger.date.description)\(repointing)</td>\
                <td>\(entry.reason)</td></tr>
                """
        }
        return """
            <table id="waiting"><caption class="visually-hidden">Product days waiting for an input</caption>
            <thead><tr><th scope="col">Product</th><th scope="col">Day</th><th scope="col">Waiting for</th></tr></thead>
            <tbody>\(rows.joinedHTML(""))</tbody></table>
            """
    }

    static func chart(for data: DashboardData) -> Chart {
        let step = data.window.bucketSeconds
        let end = data.now.secondsSince1970 - data.now.secondsSince1970 % step + step
        let count = Int(data.window.seconds / step)
        return Chart(bucketStarts: (0..<count).map { end - Int64(count - $0) * step }, bucketSeconds: step)
    }

    static func ingestCharts(_ data: DashboardData, chart: Chart) -> HTML {
        let instruments = Array(Set(data.ingest.map(\.instrument))).sorted()
        var files: [String: [Double]] = [:], bytes: [String: [Double]] = [:]
        for bucket in data.ingest {
            guard let index = chart.bucket(of: bucket.hour) else { continue }
            files[bucket.instrument, default: Array(repeating: 0, count: chart.bucketStarts.count)][index] += Double(bucket.files)
            bytes[bucket.instrument, default: Array(repeating: 0, count: chart.bucketStarts.count)][index] += Double(bucket.bytes)
        }
        let per = data.window.bucketSeconds >= 86400 ? "per day" : "per \(data.window.bucketSeconds / 3600) h"
        return chart.stackedBars(id: "chart-ingest-files", title: "Ingest rate: files \(per), by instrument",
                                 series: instruments.compactMap { name in files[name].map { (name, $0) } }, unit: "files")
            + chart.stackedBars(id: "chart-ingest-bytes", title: "Ingest volume: bytes \(per), by instrument",
                                series: instruments.compactMap { name in bytes[name].map { (name, $0) } }, unit: "bytes", format: Chart.bytes)
    }

    static func jobCharts(_ data: DashboardData, chart: Chart) -> HTML {
        let count = chart.bucketStarts.count
        var succeeded = [Double](repeating: 0, count: count), failed = [Double](repeating: 0, count: count)
        var started = [Double](repeating: 0, count: count)
        var durations = [[Double]](repeating: [], count: count)
        for job in data.jobs {
            if let startedAt = job.startedAt, let index = chart.bucket(of: startedAt.secondsSince1970) { started[index] += 1 }
            guard let finished = job.finishedAt, let index = chart.bucket(of: finished.secondsSince1970) else { continue }
            switch job.status {
            case .succeeded: succeeded[index] += 1
            case .failed: failed[index] += 1
            default: continue
            }
            if let seconds = JobPage.duration(job) { durations[index].append(Double(seconds)) }
        }
        // Queue depth at the end of each bucket: jobs created by then and not yet started.
        let depth = chart.bucketStarts.map { start -> Double in
            let end = start + chart.bucketSeconds
            return Double(data.jobs.filter { job in
                job.createdAt.secondsSince1970 < end && (job.startedAt.map { $0.secondsSince1970 >= end } ?? (job.status == .queued))
            }.count)
        }
        let percentiles: [(String, [Double?])] = [("p50", 0.5), ("p90", 0.9), ("max", 1.0)].map { name, q in
            (name, durations.map { $0.isEmpty ? nil : Chart.percentile($0, q) })
        }
        let per = data.window.bucketSeconds >= 86400 ? "per day" : "per \(data.window.bucketSeconds / 3600) h"
        return chart.stackedBars(id: "chart-jobs", title: "Jobs finished \(per), by outcome", series: [("succeeded", succeeded), ("failed", failed)], unit: "jobs")
            + chart.stackedBars(id: "chart-failures", title: "Failed jobs \(per)", series: [("failed", failed)], unit: "jobs")
            + chart.lines(id: "chart-durations", title: "Job duration percentiles", series: percentiles, unit: "seconds")
            + chart.lines(id: "chart-queue", title: "Queue depth at the end of each bucket (and jobs started)",
                          series: [("queued", depth.map { $0 }), ("started", started.map { $0 })], unit: "jobs")
            + latencyChart(data, chart: chart)
    }

    /// Each succeeded job's seconds from the L0 file's arrival to its product: from the creation of the first L1A
    /// job of that instrument and day among `jobs` (the L0 file's arrival created it), else from the job's own creation.
    /// Hours from an L0 file's arrival to each product made from it, by level, against the requirement.
    static func latencyChart(_ data: DashboardData, chart: Chart) -> HTML {
        var byLevel: [String: [(x: Int64, y: Double)]] = [:]
        for latency in data.latencies where chart.bucket(of: latency.availableAt.secondsSince1970) != nil {
            byLevel[latency.level, default: []].append((latency.availableAt.secondsSince1970, Double(latency.seconds) / 3600))
        }
        let levels = byLevel.keys.sorted { (DataLevel(rawValue: $0)?.order ?? 99, $0) < (DataLevel(rawValue: $1)?.order ?? 99, $1) }
        return chart.points(id: "chart-latency", title: "Latency from L0 arrival to each product (L0 → L1A → L2), hours",
                            series: levels.map { ("L0 → \($0.uppercased())", byLevel[$0] ?? []) }, unit: "hours",
                            requirement: data.latencyRequirementHours)
    }

    static func instrumentTable(_ data: DashboardData) -> HTML {
        var rows: [String: (files: Int, bytes: Int64, latest: String?, ingested: UTCTime?, lastDay: Int)] = [:]
        for total in data.totals {
            var row = rows[total.instrument] ?? (0, 0, nil, nil, 0)
            row.files += total.files
            row.bytes = row.bytes.addingReportingOverflow(total.bytes).overflow ? .max : row.bytes + total.bytes
            if let latest = total.latestStartDate, total.fileClass != "spice" { row.latest = max(row.latest ?? latest, latest) }
            if let ingested = total.latestIngestion { row.ingested = max(row.ingested ?? ingested, ingested) }
            rows[total.instrument] = row
        }
        let dayAgo = data.now.secondsSince1970 - 86_400
        for bucket in data.ingest where bucket.hour + 3600 > dayAgo {
            rows[bucket.instrument, default: (0, 0, nil, nil, 0)].lastDay += bucket.files
        }
        let body = rows.keys.sorted().map { instrument -> HTML in
            let row = rows[instrument] ?? (0, 0, nil, nil, 0)
            return """
                <tr><th scope="row"><a href="/portal/coverage?instrument=\(instrument.percentEncoded())">\(instrument)</a></th>\
                <td class="num">\(row.files)</td><td class="num">\(Format.bytes(row.bytes))</td>\
                <td>\(row.latest.map(FileDateText.iso) ?? "")</td><td>\(row.ingested?.compact ?? "")</td><td class="num">\(row.lastDay)</td></tr>
                """
        }
        return """
            <div class="scroll"><table id="instruments"><thead><tr><th scope="col">Instrument</th><th scope="col">Files</th><th scope="col">Bytes</th>\
            <th scope="col">Latest data</th><th scope="col">Latest ingest</th><th scope="col">Ingested in last 24 h</th></tr></thead>\
            <tbody>\(body)</tbody></table></div>
            """
    }

    static func failure(_ job: Job) -> HTML {
        """
        <details class="failure" open><summary><a href="/portal/jobs/\(job.id)" class="job-link">Job #\(job.id)</a> \
        \(job.product.source) \(job.product.dataType) \(job.product.descriptor) \(job.startDate.isoDate): \(job.error ?? "failed")</summary>
        <pre class="log" tabindex="0">\(job.log.isEmpty ? "(empty log)" : job.log)</pre></details>
        """
    }
}

extension DataLevel {
    /// Processing order of the levels (l0 first).
    var order: Int { DataLevel.allCases.firstIndex(of: self) ?? 0 }
}

/// Catalog dates (`YYYYMMDD`) shown as ISO dates.
enum FileDateText {
    static func iso(_ text: String) -> String {
        guard text.count == 8 else { return text }
        let characters = Array(text)
        return String(characters[0..<4]) + "-" + String(characters[4..<6]) + "-" + String(characters[6..<8])
    }
}
