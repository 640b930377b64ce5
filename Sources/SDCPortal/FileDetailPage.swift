import SDCCatalog
import SDCCore
import SDCJobs

/// What the file page shows besides the record: the jobs that made the file, its inputs and the products made from it.
struct FileLineage: Sendable {
    var producingJobs: [Job] = []
    var inputs: [String] = []
    var products: [String] = []
}

enum FileDetailPage {
    static func body(_ record: CatalogRecord, lineage: FileLineage) -> HTML {
        let file = record.file
        let columns = SearchPage.Columns(file)
        var rows: [(String, String)] = [("Name", file.name), ("Storage key", record.key), ("Class", file.fileClass.rawValue)]
        if !columns.instrument.isEmpty { rows.append(("Instrument", columns.instrument)) }
        if !columns.level.isEmpty { rows.append(("Data level", columns.level)) }
        if !columns.descriptor.isEmpty { rows.append(("Descriptor", columns.descriptor)) }
        if !columns.startDate.isEmpty { rows.append(("Start date", columns.startDate)) }
        if let repointing = file.science?.repointing { rows.append(("Repointing", String(repointing))) }
        if !columns.version.isEmpty { rows.append(("Version", columns.version)) }
        rows += [("Size", "\(Format.bytes(record.size)) (\(record.size) bytes)"), ("SHA-256", record.sha256),
                 ("Ingested", record.ingestionDate.iso8601), ("Released", record.released ? "yes" : "no")]
        if let crid = record.crid { rows.append(("CRID", crid)) }
        let metadata = rows.map { row -> HTML in "<tr><th>\(row.0)</th><td>\(row.1)</td></tr>" }
        let quicklook: HTML = Quicklook.canPlot(file)
            ? "<p><a href=\"/portal/quicklook/\(record.key.percentEncoded(safe: "/"))\" id=\"quicklook-link\">Quicklook plots</a></p>"
            : ""
        return """
            <table id="metadata">\(metadata)</table>
            <p><a href="/portal/download/\(record.key.percentEncoded(safe: "/"))" id="download-link" download>Download \(file.name)</a></p>
            \(quicklook)
            <h2>Made by</h2>
            \(jobList(lineage.producingJobs, empty: "No processing job made this file (it was uploaded)."))
            <h2>Inputs</h2>
            \(fileList(lineage.inputs, id: "inputs", empty: "No recorded inputs."))
            <h2>Products made from it</h2>
            \(fileList(lineage.products, id: "products", empty: "No products were made from this file."))
            """
    }

    /// Links to files given by name or key (names are mapped to their storage keys).
    static func fileList(_ files: [String], id: String, empty: String) -> HTML {
        guard !files.isEmpty else { return "<p class=\"muted\" id=\"\(id)\">\(empty)</p>" }
        let items = files.map { nameOrKey -> HTML in
            let basename = String(nameOrKey.split(separator: "/").last ?? "")
            guard let file = try? IMAPFileName.parse(basename) else { return "<li>\(nameOrKey)</li>" }
            return "<li><a href=\"/portal/files/\(file.key.percentEncoded(safe: "/"))\">\(file.name)</a></li>"
        }
        return "<ul id=\"\(id)\">\(items)</ul>"
    }

    static func jobList(_ jobs: [Job], empty: String) -> HTML {
        guard !jobs.isEmpty else { return "<p class=\"muted\">\(empty)</p>" }
        let rows = jobs.map(JobPage.row)
        return "<table class=\"jobs\"><thead>\(JobPage.headerRow)</thead><tbody>\(rows)</tbody></table>"
    }
}

enum JobPage {
    static let headerRow: HTML = "<tr><th>Job</th><th>Status</th><th>Product</th><th>Date</th><th>Version</th><th>Attempts</th><th>Finished</th><th>Duration</th></tr>"

    static func row(_ job: Job) -> HTML {
        let product = "\(job.product.source) \(job.product.dataType) \(job.product.descriptor)"
        return """
            <tr><td><a href="/portal/jobs/\(job.id)" class="job-link">#\(job.id)</a></td>\
            <td class="status-\(job.status.rawValue)">\(job.status.rawValue)</td><td>\(product)</td><td>\(job.startDate.isoDate)</td>\
            <td>\(job.version.description)</td><td class="num">\(job.attempts)/\(job.maxAttempts)</td>\
            <td>\(job.finishedAt?.compact ?? "")</td><td class="num">\(durationText(job))</td></tr>
            """
    }

    static func hiddenNotice(_ hidden: Int) -> HTML {
        hidden == 0 ? "" : "<p class=\"muted\" id=\"hidden-files\">\(hidden) unreleased files not shown: sign in to see them.</p>"
    }

    static func durationText(_ job: Job) -> String {
        guard let seconds = duration(job) else { return "" }
        return "\(seconds) s"
    }

    /// Seconds from start to finish of the last attempt; nil when either is unknown or the times are too far apart
    /// for an `Int64` (a damaged row).
    static func duration(_ job: Job) -> Int64? {
        guard let started = job.startedAt, let finished = job.finishedAt else { return nil }
        let (seconds, overflow) = finished.secondsSince1970.subtractingReportingOverflow(started.secondsSince1970)
        return overflow ? nil : seconds
    }

    /// The job's inputs and outputs this visitor may see, and how many in all.
    struct Files {
        var inputs: [String]
        var outputs: [String]
        /// Inputs and outputs in all; those not in the lists are unreleased.
        var hidden: Int

        init(inputs: [String], outputs: [String], hidden total: Int) {
            self.inputs = inputs
            self.outputs = outputs
            hidden = total - inputs.count - outputs.count
        }
    }

    static func body(_ job: Job, files: Files) -> HTML {
        let error: HTML = job.error.map { "<h2>Error</h2><pre class=\"log\" id=\"job-error\">\($0)</pre>" } ?? ""
        let details: [(String, String)] = [
            ("Algorithm", "\(job.algorithm) \(job.algorithmVersion)"), ("Inputs hash", job.inputsHash),
            ("Campaign", job.campaign == 0 ? "file arrival" : "reprocess request \(job.campaign)"),
            ("Worker", job.workerID ?? ""), ("Created", job.createdAt.iso8601), ("Started", job.startedAt?.iso8601 ?? ""),
        ]
        return """
            <table class="jobs"><thead>\(headerRow)</thead><tbody>\(row(job))</tbody></table>
            <table id="job-details">\(details.map { detail -> HTML in "<tr><th>\(detail.0)</th><td>\(detail.1)</td></tr>" })</table>
            \(error)
            <h2>Inputs</h2>
            \(FileDetailPage.fileList(files.inputs, id: "job-inputs", empty: "No inputs shown."))
            <h2>Outputs</h2>
            \(FileDetailPage.fileList(files.outputs, id: "job-outputs", empty: "No outputs shown."))
            \(hiddenNotice(files.hidden))
            <h2>Log</h2>
            <pre class="log" id="job-log">\(job.log.isEmpty ? "(empty)" : job.log)</pre>
            """
    }
}
