import ArgumentParser
import Foundation
import Logging
import SDCAssembly
import SDCCore
import SDCIngest
import SDCJobs
import SDCPipeline
import SDCPortal
import SDCServer
import SDCStorage
import ServiceLifecycle

/// Options naming the data center folder, shared by `serve` and the offline admin commands.
struct RootOption: ParsableArguments {
    @Option(name: .long, help: "The data center folder (catalog, jobs, objects, keys; with --database and --store, only local state).")
    var root: String = "sdc-data"

    @Option(help: "A PostgreSQL database for the catalog and the jobs: postgres://USER[:PASSWORD]@HOST[:PORT]/DB (default: $SDC_DATABASE_URL, else SQLite in --root).")
    var database: String?

    @Option(help: "An S3 bucket for the objects: s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION, credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (default: $SDC_STORE_URL, else the filesystem in --root).")
    var store: String?

    var url: URL { URL(fileURLWithPath: root).standardizedFileURL }

    /// Opens the data center these options name; `uploads` `.direct` needs an S3 store.
    func open(uploads: UploadMode = .relay) async throws -> DataCenter {
        let environment = ProcessInfo.processInfo.environment
        return try await DataCenter.open(root: url, database: database ?? environment["SDC_DATABASE_URL"],
                                         store: store ?? environment["SDC_STORE_URL"], uploads: uploads)
    }
}

/// Options of the processing pipeline, shared by `serve` and `worker`.
struct PipelineOptions: ParsableArguments {
    @Option(help: "Folder with dependencies.csv and algorithms.yaml, or imap: the built-in profile running the installed algorithm imap-processing (imap_cli) with IMAP's production edges (default: the built-in SWAPI, MAG and GLOWS L0 -> L1A configuration).")
    var pipeline: String?

    @Option(help: "Seconds a worker's lease on a job lasts without renewal; a dead worker's job is retried after it.")
    var leaseSeconds: Int64 = 30

    @Option(help: "On SIGTERM/SIGINT, seconds a running job may go on before it is stopped and handed back to the queue.")
    var shutdownGraceSeconds: Int64 = 30

    @Option(help: "Where jobs run: in-process (in this process) or slurm (each job a Slurm batch job running `sdc run-job`; --workers bounds how many this process has in Slurm at once).")
    var executor: ExecutorKind = .inProcess

    @Option(help: "With --executor slurm: the Slurm partition (default: the cluster's default partition).")
    var slurmPartition: String?

    enum ExecutorKind: String, ExpressibleByArgument, CaseIterable {
        case inProcess = "in-process", slurm
    }

    func validate() throws {
        guard JobLimits.leaseSeconds.contains(leaseSeconds) else { throw ValidationError("--lease-seconds must be 1 to 86400") }
        guard (0...3600).contains(shutdownGraceSeconds) else { throw ValidationError("--shutdown-grace-seconds must be 0 to 3600") }
        guard slurmPartition == nil || executor == .slurm else { throw ValidationError("--slurm-partition needs --executor slurm") }
    }

    @Option(help: "Where this machine keeps the environments of installed algorithms (default: <root>/algorithms; for `sdc worker --api-key`, $SDC_ALGORITHMS_DIR or ~/.cache/sdc/algorithms).")
    var environments: String?

    func load() throws -> PipelineConfiguration {
        try PipelineConfiguration(folder: pipeline.map { URL(fileURLWithPath: $0) })
    }

    /// The algorithm environments of this machine: `--environments`, else `fallback`.
    func algorithmEnvironments(_ fallback: AlgorithmEnvironments) -> AlgorithmEnvironments {
        environments.map { AlgorithmEnvironments(folder: URL(fileURLWithPath: $0)) } ?? fallback
    }

    /// The executor these options choose, for workers that claim from `jobs`. Slurm's nodes run this same `sdc`
    /// executable (at the same path) with the same pipeline folder.
    func executor(registry: AlgorithmRegistry, environment: any WorkerEnvironment, jobs: any JobQueue,
                  algorithms: AlgorithmEnvironmentResolver? = nil) -> any Executor {
        switch executor {
        case .inProcess:
            return JobRunner(registry: registry, environment: environment, algorithms: algorithms)
        case .slurm:
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            let configuration = SlurmConfiguration(partition: slurmPartition, sdcExecutable: executable,
                                                   pipelineFolder: pipeline.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
            return SlurmExecutor(configuration: configuration, registry: registry, environment: environment, jobs: jobs, leaseSeconds: leaseSeconds)
        }
    }
}

func bootstrapLogging(_ level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler = StandardErrorLogHandler(label: label)
        handler.logLevel = level
        return handler
    }
}

/// The API's address, known once the server listens.
actor ListeningAddress {
    private var url: String?
    func set(_ url: String) { self.url = url }
    func get() -> String? { url }
}

/// `sdc serve`: run the data center.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the data center: the IMAP-compatible API, the processing planner and workers.",
        discussion: "With no options it keeps everything in ./sdc-data and listens on http://127.0.0.1:8080."
    )

    @OptionGroup var root: RootOption
    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var alertOptions: AlertOptions
    @OptionGroup var missionOptions: MissionServeOptions
    @OptionGroup var scrub: ScrubOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @Option(help: "How downloads are answered: stream (200 with the bytes) or redirect (302 to a presigned URL).")
    var download: DownloadMode = .stream

    @Option(help: "The URL clients use to reach this server, for presigned URLs (default: from each request's Host header).")
    var publicURL: String?

    @Option(help: "Largest accepted upload in bytes.")
    var maxUploadSize: Int64 = ServerConfiguration().maximumUploadSize

    @Option(help: "Requests in flight above which new ones get 503 SlowDown.")
    var maxConcurrentRequests = ServerConfiguration().maximumConcurrentRequests

    @Option(help: "Processing workers: jobs this process runs at once (with --executor slurm, jobs it has in Slurm at once; 0: only separate `sdc worker` processes run jobs).")
    var workers = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "This replica's name in the `instance` label of /metrics (default: HOST:PORT, or HOST/PID with --port 0).")
    var instance: String?

    @Option(help: "How /upload lets clients send bytes: relay (through this server) or direct (a presigned PUT to the S3 bucket; needs --store s3://...).")
    var upload: UploadMode = .relay

    @Option(help: "With --upload direct, or missions other than IMAP on an S3 store: accept S3 event notifications at POST /s3-events (on) or not (off; the reconciler and the missions' sweep alone find new objects).")
    var s3Events: Switch = .on

    @Option(help: "With --upload direct: seconds between two listings of the bucket's imap/ folder by the reconciler; with missions other than IMAP on an S3 store, between two sweeps of their incoming areas.")
    var reconcileSeconds: Int64 = 60

    func validate() throws {
        guard (1...86_400).contains(reconcileSeconds) else { throw ValidationError("--reconcile-seconds must be 1 to 86400") }
    }

    func run() async throws {
        bootstrapLogging(logLevel)
        let logger = Logger(label: "sdc")
        let dataCenter = try await root.open(uploads: upload)
        let pipeline = try pipelineOptions.load()
        let planner = Planner(graph: pipeline.graph, registry: pipeline.registry, catalog: dataCenter.catalog, jobs: dataCenter.jobs,
                              algorithms: dataCenter.algorithms, objects: dataCenter.store, logger: Logger(label: "sdc.planner"))
        try await pipeline.registry.recordProducts(in: dataCenter.algorithms)

        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.downloadMode = download
        configuration.uploadMode = upload
        configuration.publicURL = publicURL
        configuration.maximumUploadSize = maxUploadSize
        configuration.maximumConcurrentRequests = maxConcurrentRequests
        let metrics = ServerMetrics(instance: instance ?? (port == 0 ? ProcessIdentity.current.description : "\(ProcessIdentity.current.host):\(port)"))
        let alerting = try alertOptions.alerting(dataCenter, metrics: metrics)
        let ialirt = IALiRTWiring(dataCenter: dataCenter)
        let ingestor = dataCenter.ingestor(listeners: alerting.listeners + [planner, IngestMetricsListener(metrics: metrics), ialirt.decoder], logger: logger)
        // Recovered uploads go through the planner too, so that a file stored just before a crash is still processed.
        _ = try await dataCenter.recover(through: ingestor, logger: logger)
        let gate = ClaimGate()
        let hooks = ProcessingHooks(jobs: dataCenter.jobs, gate: gate, algorithms: dataCenter.algorithms) { request in try await planner.reprocess(request) }
        let missions = try await missionFlow(dataCenter, metrics: metrics, logger: logger)
        let direct = directUploads(dataCenter, ingestor: ingestor, metrics: metrics, missionObjects: missions.objects)
        let portal = Portal(catalog: dataCenter.catalog, jobs: dataCenter.jobs, store: dataCenter.store, keys: dataCenter.catalog,
                            sessions: PortalSessions(store: dataCenter.catalog), alerts: alerting.store,
                            latencyRequirementSeconds: alerting.requirement, missions: missions.portal)
        let integrity = try integrity(dataCenter, metrics: metrics, portal: portal, alerts: alerting.sink)
        let server = DataCenterServer(
            configuration: configuration, ingestor: ingestor, keys: dataCenter.catalog, requestLog: dataCenter.catalog,
            processing: hooks,
            extensions: missions.routes + direct.routes + alerting.routes(portal) + integrity.routes + [MetricsEndpoint(metrics: metrics, catalog: dataCenter.catalog, jobs: dataCenter.jobs,
                                                                 leases: dataCenter.catalog),
                         portal, hapi(dataCenter), AlgorithmsPages(portal: portal, algorithms: dataCenter.algorithms,
                                                 configuredProducts: pipeline.registry.productsByInstalledAlgorithm)]
                + ialirt.extensions(keys: dataCenter.catalog, portal: portal),
            databaseProbe: dataCenter.databaseProbe, logger: logger)
        let address = ListeningAddress()
        let environment = LocalWorkerEnvironment(ingestor: ingestor) { await address.get() }
        let rootPath = root.url.path
        let host = host
        let algorithms = AlgorithmEnvironmentResolver(
            environments: pipelineOptions.algorithmEnvironments(.inDataCenter(root: root.url)), store: dataCenter.algorithms)
        let executor = pipelineOptions.executor(registry: pipeline.registry, environment: environment, jobs: dataCenter.jobs,
                                                algorithms: algorithms)
        let workers = WorkerPool(count: max(0, workers), jobs: dataCenter.jobs, executor: executor,
                                 leaseSeconds: pipelineOptions.leaseSeconds, shutdownGraceSeconds: pipelineOptions.shutdownGraceSeconds, gate: gate)
        logger.info("pipeline", metadata: ["configuration": "\(pipeline.source.path)", "products": "\(pipeline.graph.products)",
                                           "workers": "\(workers.workers.count)", "executor": "\(pipelineOptions.executor.rawValue)"])
        let application = server.application { [publicURL] port in
            await address.set(publicURL ?? "http://\(host):\(port)")
            // Unbuffered, so that a supervising process sees the address at once.
            let banner = """
                sdc listening on http://\(host):\(port)
                web portal:         http://\(host):\(port)/portal
                data center folder: \(rootPath)
                create an API key:  sdc keys create --root \(rootPath) --scope write

                """
            FileHandle.standardOutput.write(Data(banner.utf8))
        }
        // Shutdown runs in reverse order: the workers first (claims stop, running jobs finish or are handed back while
        // the API still serves their uploads), then the planner, then the server finishes the requests in flight.
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: application), .init(service: planner), .init(service: workers, successTerminationBehavior: .ignore)]
                + missions.services + direct.services + alerting.services + integrity.services + [.init(service: ialirt.decoder)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

extension ServeCommand {
    /// On or off.
    enum Switch: String, ExpressibleByArgument, CaseIterable {
        case on, off
    }

    /// With `--upload direct`: the S3 event endpoint (unless `--s3-events off`) and the bucket's reconciler, both
    /// ingesting through `ingestor` (so the planner hears of each file) and counting what they decide in
    /// `sdc_bucket_objects_total{outcome=...}`. Events for hosted missions' incoming areas go to `missionObjects`,
    /// which alone gets the endpoint on an S3 store without `--upload direct`.
    func directUploads(_ dataCenter: DataCenter, ingestor: Ingestor, metrics: ServerMetrics, missionObjects: S3EventRoutes.ObjectHandler?)
        -> (routes: [any ServerExtension], services: [ServiceGroupConfiguration.ServiceConfiguration]) {
        guard let bucket = dataCenter.bucket else { return ([], []) }
        guard upload == .direct else {
            guard let missionObjects, s3Events == .on else { return ([], []) }
            return ([S3EventRoutes(bucket: bucket, ingest: nil, objects: missionObjects, keys: dataCenter.catalog)], [])
        }
        let ingest = BucketIngest(ingestor: ingestor, bucket: bucket, logger: Logger(label: "sdc.bucket")) { outcome in
            metrics.registry.makeCounter(name: "sdc_bucket_objects_total", labels: metrics.processLabels([("outcome", outcome.label)]),
                                         help: "Objects of direct-to-bucket uploads by what ingest decided.").increment()
        }
        let reconciler = BucketReconciler(ingest: ingest, interval: .seconds(reconcileSeconds))
        let routes: [any ServerExtension] = s3Events == .on ? [S3EventRoutes(bucket: bucket, ingest: ingest, objects: missionObjects, keys: dataCenter.catalog)] : []
        return (routes, [.init(service: reconciler)])
    }
}

extension DownloadMode: ExpressibleByArgument {}
extension UploadMode: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}
