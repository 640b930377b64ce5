import Foundation
import Hummingbird
import Logging
import SDCCatalog
import SDCCore
import SDCIngest
import SDCPipeline
import SDCStorage

/// The embedded data center in one folder: `catalog.sqlite` (files, keys, requests), `jobs.sqlite` (processing jobs
/// and lineage), `objects/` (the store) and `url-signing.key` (the secret for presigned URLs).
public struct DataCenter: Sendable {
    public let root: URL
    public let catalog: SQLiteCatalog
    public let jobs: SQLiteJobStore
    public let store: FileSystemObjectStore

    /// Opens (creating if needed) the data center in `root`.
    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        catalog = try SQLiteCatalog(path: root.appendingPathComponent("catalog.sqlite").path)
        jobs = try SQLiteJobStore(path: root.appendingPathComponent("jobs.sqlite").path)
        let signer = try URLSigner.loadOrCreate(at: root.appendingPathComponent("url-signing.key").path)
        store = try FileSystemObjectStore(root: root.appendingPathComponent("objects").path, signer: signer)
    }

    /// The ingest path over this catalog and store.
    public func ingestor(listeners: [any IngestListener] = [], logger: Logger = Logger(label: "sdc.ingest")) -> Ingestor {
        Ingestor(catalog: catalog, store: store, listeners: listeners, logger: logger)
    }

    /// Makes the catalog and the store agree after an unclean stop (see ``Ingestor/recover(removingTemporaryFiles:)``).
    public func recover(logger: Logger) async throws -> RecoveryReport {
        let store = store
        let report = try await ingestor(logger: logger).recover(removingTemporaryFiles: { try store.removeIncompleteUploads() })
        if report != RecoveryReport() {
            logger.notice("recovered after an unclean stop", metadata: [
                "completed": "\(report.completed)", "abandoned": "\(report.abandoned)",
                "temporary_files_removed": "\(report.temporaryFilesRemoved)",
            ])
        }
        return report
    }
}

/// The HTTP server of a data center.
public struct DataCenterServer: Sendable {
    public let configuration: ServerConfiguration
    public let ingestor: Ingestor
    public let keys: any APIKeyStore
    public let requestLog: any RequestLog
    /// The pipeline `/reprocess` hands requests to, and whose jobs the operator endpoints show.
    public let processing: ProcessingHooks?
    /// More routes and middleware served beside the API (the web portal, metrics).
    public let extensions: [any ServerExtension]
    public let logger: Logger

    public init(configuration: ServerConfiguration, ingestor: Ingestor, keys: any APIKeyStore, requestLog: any RequestLog,
                processing: ProcessingHooks? = nil, extensions: [any ServerExtension] = [], logger: Logger = Logger(label: "sdc.server")) {
        self.configuration = configuration
        self.ingestor = ingestor
        self.keys = keys
        self.requestLog = requestLog
        self.processing = processing
        self.extensions = extensions
        self.logger = logger
    }

    /// The Hummingbird application; `onRunning` receives the bound port once the server listens.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: SDCRequestContext.self)
        router.add(middleware: RequestLogMiddleware(logger: logger))
        router.add(middleware: LoadSheddingMiddleware(limit: configuration.maximumConcurrentRequests))
        for serverExtension in extensions { serverExtension.addMiddleware(to: router) }
        router.get("health/live") { _, _ in Response.json(#"{"status": "ok"}"#) }
        let ingestor = ingestor
        router.get("health/ready") { _, _ in
            do {
                _ = try await ingestor.catalog.counts()
                return Response.json(#"{"status": "ready"}"#)
            } catch {
                throw APIError(.serviceUnavailable, "NotReady", "The catalog is not available: \(error)")
            }
        }
        let routes = APIRoutes(configuration: configuration, ingestor: ingestor, keys: keys, requestLog: requestLog, processing: processing)
        for family in RouteFamily.allCases {
            let group = family == .open ? router.group() : router.group(RouterPath(family.rawValue))
            routes.register(on: group, family: family)
            if let processing {
                ProcessingRoutes(jobs: processing.jobs, keys: keys).register(on: group, family: family)
            }
        }
        routes.registerPresigned(on: router)
        for serverExtension in extensions { serverExtension.addRoutes(to: router) }
        return Application(
            responder: PathNormalizingResponder(inner: router.buildResponder()),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "sdc"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// Serves until SIGTERM or SIGINT, then finishes the requests in flight and returns.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await application(onRunning: onRunning).runService()
    }
}

/// What the API needs from the pipeline.
public struct ProcessingHooks: Sendable {
    public let jobs: any JobStore
    /// Acts on a recorded reprocess request; returns the jobs created.
    public let reprocess: @Sendable (ReprocessRequest) async throws -> [Job]

    public init(jobs: any JobStore, reprocess: @escaping @Sendable (ReprocessRequest) async throws -> [Job]) {
        self.jobs = jobs
        self.reprocess = reprocess
    }
}

/// Routes and middleware served beside the API by the same server (the web portal, `/metrics`, ...).
public protocol ServerExtension: Sendable {
    /// Middleware applied to every route registered after it (API routes included).
    func addMiddleware(to router: Router<SDCRequestContext>)
    /// The extension's own routes.
    func addRoutes(to router: Router<SDCRequestContext>)
}

extension ServerExtension {
    public func addMiddleware(to router: Router<SDCRequestContext>) {}
}
