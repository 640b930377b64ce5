import SDCCatalog
import SDCJobs

/// What the operations dashboard shows.
struct DashboardData: Sendable {
    var jobCounts: [JobStatus: Int]
    var failures: [Job]
    var recentJobs: [Job]
    var usage: CatalogUsage
}

enum DashboardPage {
    static func body(_ data: DashboardData) -> HTML {
        let stateRows = JobStatus.allCases.map { status -> HTML in
            "<tr><th>\(status.rawValue)</th><td class=\"num\" id=\"jobs-\(status.rawValue)\">\(data.jobCounts[status] ?? 0)</td></tr>"
        }
        let instrumentRows = data.usage.instruments.map { row -> HTML in
            """
            <tr><td>\(row.instrument)</td><td class="num">\(row.files)</td><td class="num">\(Format.bytes(row.bytes))</td>\
            <td>\(row.latestStartDate.flatMap { FileDateText.iso($0) } ?? "")</td><td>\(row.latestIngestion?.compact ?? "")</td>\
            <td class="num">\(row.ingestedLastDay)</td></tr>
            """
        }
        let failures: HTML = data.failures.isEmpty
            ? "<p class=\"muted\" id=\"failures\">No failed jobs.</p>"
            : "<div id=\"failures\">\(data.failures.map(failure))</div>"
        return """
            <section><h2>Jobs by state</h2><table id="job-states">\(stateRows)</table>
            <p>Queue depth: <strong id="queue-depth">\(data.jobCounts[.queued] ?? 0)</strong> jobs waiting for a worker.</p></section>
            <section><h2>Storage</h2><p id="storage-used">\(data.usage.totalFiles) files, \(Format.bytes(data.usage.totalBytes)) stored.</p>
            <h2>Data by instrument</h2>
            <table id="instruments"><thead><tr><th>Instrument</th><th>Files</th><th>Bytes</th><th>Latest data</th>\
            <th>Latest ingest</th><th>Ingested in last 24 h</th></tr></thead><tbody>\(instrumentRows)</tbody></table></section>
            <section><h2>Recent failures</h2>\(failures)</section>
            <section><h2>Recent jobs</h2>\(FileDetailPage.jobList(data.recentJobs, empty: "No jobs yet."))</section>
            """
    }

    static func failure(_ job: Job) -> HTML {
        """
        <details class="failure" open><summary><a href="/portal/jobs/\(job.id)" class="job-link">Job #\(job.id)</a> \
        \(job.product.source) \(job.product.dataType) \(job.product.descriptor) \(job.startDate.isoDate): \(job.error ?? "failed")</summary>
        <pre class="log">\(job.log.isEmpty ? "(empty log)" : job.log)</pre></details>
        """
    }
}

/// Catalog dates (`YYYYMMDD`) shown as ISO dates.
enum FileDateText {
    static func iso(_ text: String) -> String {
        guard text.count == 8 else { return text }
        let characters = Array(text)
        return String(characters[0..<4]) + "-" + String(characters[4..<6]) + "-" + String(characters[6..<8])
    }
}
