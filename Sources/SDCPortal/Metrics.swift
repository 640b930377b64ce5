import Hummingbird
import NIOCore
import Prometheus
import SDCCatalog
import SDCCore
import SDCIngest
import SDCJobs
import SDCServer
import Synchronization

/// The data center's Prometheus metrics (names under `sdc_`), in two registries of their own.
///
/// This process's metrics (requests, ingests) are counted as they happen and carry an `instance` label naming the
/// process. The job, queue and catalog gauges are read from the shared database when `/metrics` is scraped, so they
/// are right whichever process changed them; with several replicas they are exported by one replica at a time (the
/// holder of the `metrics` lease, see ``MetricsEndpoint``), so that summing a metric over replicas counts them once.
public final class ServerMetrics: Sendable {
    /// This process's metrics; give every one ``processLabels(_:)``.
    public let registry = PrometheusCollectorRegistry()
    /// The metrics read from the shared database.
    let clusterRegistry = PrometheusCollectorRegistry()
    /// The `instance` label of this process's metrics.
    public let instance: String
    private let requestDuration: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                               .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)]
    private let jobDurationBuckets: [Double] = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600]
    /// Finished jobs whose duration was already observed, with their finish time (pruned an hour behind the newest).
    private let observedJobs = Mutex<[Int64: Int64]>([:])

    /// Metrics of the process named `instance` (by default `host/pid`; `sdc serve` uses `host:port`).
    public init(instance: String = ProcessIdentity.current.description) {
        self.instance = instance
    }

    /// `labels` and this process's `instance`.
    public func processLabels(_ labels: [(String, String)] = []) -> [(String, String)] { labels + [("instance", instance)] }

    private func descriptor(_ subsystem: String, _ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "sdc", subsystem: subsystem, metricName: name, unitName: unit, helpText: help)
    }

    /// The metrics one kind of request updates, made once and reused: looking them up in the registry builds the
    /// metric names and labels and takes the registry's lock, which costs more than counting.
    struct RequestMetrics: Sendable {
        let requests: Counter
        let duration: DurationHistogram
        let bytesIn: Counter
        let bytesOut: Counter
    }

    /// ``RequestMetrics`` by route, method and status. Their number is bounded like the label values: routes are
    /// patterns, methods and statuses few.
    private let requestMetrics = Mutex<[RequestKind: RequestMetrics]>([:])

    private struct RequestKind: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    /// Counts one HTTP request; `route` is the matched route pattern (not the raw path, to bound the label values).
    /// Byte counts come from `Content-Length` headers: negative ones count as 0 (a counter only goes up).
    func requestFinished(route: String, method: String, status: Int, duration: Duration, bytesIn: Int, bytesOut: Int) {
        let metrics = self.metrics(for: RequestKind(route: route, method: method, status: status))
        metrics.requests.increment()
        metrics.duration.record(duration)
        metrics.bytesIn.increment(by: Int64(max(0, bytesIn)))
        metrics.bytesOut.increment(by: Int64(max(0, bytesOut)))
    }

    private func metrics(for kind: RequestKind) -> RequestMetrics {
        if let known = requestMetrics.withLock({ $0[kind] }) { return known }
        let routeLabel = processLabels([("route", kind.route)])
        let made = RequestMetrics(
            requests: registry.makeCounter(descriptor: descriptor("http", "requests", "total", "HTTP requests by route, method and status."),
                                           labels: processLabels([("route", kind.route), ("method", kind.method), ("status", String(kind.status))])),
            duration: registry.makeDurationHistogram(descriptor: descriptor("http", "request_duration", "seconds", "HTTP request latency by route."),
                                                     labels: routeLabel, buckets: requestDuration),
            bytesIn: registry.makeCounter(descriptor: descriptor("http", "request", "bytes_total", "Request body bytes received, by route."),
                                          labels: routeLabel),
            bytesOut: registry.makeCounter(descriptor: descriptor("http", "response", "bytes_total", "Response body bytes sent, by route."),
                                           labels: routeLabel))
        // The registry answers the same metric objects for the same names and labels, so a racing caller's copy is equal.
        requestMetrics.withLock { $0[kind] = made }
        return made
    }

    /// Counts an ingested file and its bytes by instrument and level (`none` for files without them).
    func fileIngested(_ record: CatalogRecord) {
        let instrument = record.file.instrument?.rawValue ?? "none"
        let level = record.file.science?.dataLevel.rawValue ?? "none"
        let labels = processLabels([("instrument", instrument), ("level", level), ("class", record.file.fileClass.rawValue)])
        registry.makeCounter(descriptor: descriptor("ingest", "files", "total", "Files ingested by instrument and level."), labels: labels).increment()
        registry.makeCounter(descriptor: descriptor("ingest", "bytes", "total", "Bytes ingested by instrument and level."), labels: labels)
            .increment(by: max(0, record.size))
    }

    /// Reads the job, queue and catalog gauges and observes the durations of newly finished jobs.
    func refresh(catalog: any FileCatalog, jobs: any JobStore) async throws {
        let counts = try await jobs.countsByStatus()
        for status in JobStatus.allCases {
            clusterRegistry.makeGauge(descriptor: descriptor("pipeline", "jobs", "", "Processing jobs by state."),
                               labels: [("state", status.rawValue)]).set(Double(counts[status] ?? 0))
        }
        clusterRegistry.makeGauge(descriptor: descriptor("pipeline", "queue", "depth", "Jobs queued and waiting for a worker."))
            .set(Double(counts[.queued] ?? 0))
        for (fileClass, count) in try await catalog.counts() {
            clusterRegistry.makeGauge(descriptor: descriptor("catalog", "files", "", "Cataloged files by class."),
                               labels: [("class", fileClass.rawValue)]).set(Double(count))
        }
        var finished: [Job] = []
        for status in [JobStatus.succeeded, .failed] {
            finished += try await jobs.jobs(matching: JobFilter(status: status, limit: 500))
        }
        let fresh = newlyFinished(finished)
        for job in fresh {
            guard let seconds = JobPage.duration(job) else { continue }
            clusterRegistry.makeValueHistogram(
                descriptor: descriptor("pipeline", "job_duration", "seconds", "Duration of the last attempt of finished jobs."),
                labels: [("instrument", job.product.source), ("level", job.product.dataType), ("status", job.status.rawValue)],
                buckets: jobDurationBuckets
            ).record(Double(seconds))
        }
    }

    private func newlyFinished(_ jobs: [Job]) -> [Job] {
        observedJobs.withLock { observed in
            var fresh: [Job] = []
            for job in jobs where observed[job.id] == nil {
                guard let finished = job.finishedAt else { continue }
                observed[job.id] = finished.secondsSince1970
                fresh.append(job)
            }
            if let newest = observed.values.max() {
                let (cutoff, overflow) = newest.subtractingReportingOverflow(3600)
                observed = observed.filter { overflow || $0.value >= cutoff }
            }
            return fresh
        }
    }

    /// The metrics in Prometheus text format: this process's, and with `cluster` those read from the database.
    func exposition(cluster: Bool = true) -> [UInt8] {
        cluster ? registry.emitToBuffer() + clusterRegistry.emitToBuffer() : registry.emitToBuffer()
    }
}

/// Counts requests, latency and bytes for every route registered after it.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let bytesIn = request.headers[.contentLength].flatMap { Int($0) } ?? 0
        func record(status: Int, bytesOut: Int) {
            metrics.requestFinished(route: context.endpointPath ?? "NotFound", method: request.method.rawValue, status: status,
                                    duration: ContinuousClock.now - start, bytesIn: bytesIn, bytesOut: bytesOut)
        }
        do {
            let response = try await next(request, context)
            record(status: response.status.code, bytesOut: response.body.contentLength ?? response.headers[.contentLength].flatMap { Int($0) } ?? 0)
            return response
        } catch let error as any HTTPResponseError {
            record(status: error.status.code, bytesOut: 0)
            throw error
        } catch {
            record(status: 500, bytesOut: 0)
            throw error
        }
    }
}

/// Counts ingested files; add it to the ingestor's listeners.
public struct IngestMetricsListener: IngestListener {
    let metrics: ServerMetrics

    public init(metrics: ServerMetrics) { self.metrics = metrics }

    public func didIngest(_ record: CatalogRecord) async { metrics.fileIngested(record) }
}

/// `/metrics` (Prometheus text format) and the request metrics middleware.
///
/// Each scrape renews this process's hold on the `metrics` lease (``LeaseStore``); only its holder reads and exports
/// the gauges computed from the shared database, and another replica takes them over within ``leaseSeconds`` of the
/// holder's last scrape when it stops.
public struct MetricsEndpoint: ServerExtension {
    let metrics: ServerMetrics
    let catalog: any FileCatalog
    let jobs: any JobStore
    let leases: any LeaseStore
    /// How long a scrape keeps this process the exporter of the database's gauges.
    static var leaseSeconds: Int64 { 60 }

    public init(metrics: ServerMetrics, catalog: any FileCatalog, jobs: any JobStore, leases: any LeaseStore) {
        self.metrics = metrics
        self.catalog = catalog
        self.jobs = jobs
        self.leases = leases
    }

    public func addMiddleware(to router: Router<SDCRequestContext>) {
        router.add(middleware: MetricsMiddleware(metrics: metrics))
    }

    public func addRoutes(to router: Router<SDCRequestContext>) {
        let (metrics, catalog, jobs, leases) = (metrics, catalog, jobs, leases)
        let holder = ProcessIdentity.current.description
        router.get("metrics") { _, _ in
            let exportsCluster = try await leases.holdLease("metrics", holder: holder, seconds: Self.leaseSeconds, now: .now)
            if exportsCluster { try await metrics.refresh(catalog: catalog, jobs: jobs) }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition(cluster: exportsCluster))))
        }
    }
}
