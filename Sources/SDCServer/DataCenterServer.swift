import Foundation
import Hummingbird
import Logging
import SDCCatalog
import SDCCore
import SDCIngest
import SDCJobs

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
    /// Tells a database outage (answered 503, retry later) from a fault; nil when the database is embedded.
    public let databaseProbe: (any BackendProbe)?
    public let logger: Logger

    public init(configuration: ServerConfiguration, ingestor: Ingestor, keys: any APIKeyStore, requestLog: any RequestLog,
                processing: ProcessingHooks? = nil, extensions: [any ServerExtension] = [], databaseProbe: (any BackendProbe)? = nil,
                logger: Logger = Logger(label: "sdc.server")) {
        self.configuration = configuration
        self.ingestor = ingestor
        self.keys = keys
        self.requestLog = requestLog
        self.processing = processing
        self.extensions = extensions
        self.databaseProbe = databaseProbe
        self.logger = logger
    }

    /// The Hummingbird application; `onRunning` receives the bound port once the server listens.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: SDCRequestContext.self)
        router.add(middleware: RequestLogMiddleware(logger: logger))
        router.add(middleware: ConnectionCloseMiddleware())
        if let databaseProbe { router.add(middleware: OutageMiddleware(probe: databaseProbe)) }
        router.add(middleware: LoadSheddingMiddleware(limit: configuration.maximumConcurrentRequests))
        router.add(middleware: UnknownRouteMiddleware())
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
        let authenticator = Authenticator(keys: keys, jobs: processing?.jobs)
        for family in RouteFamily.allCases {
            let group = (family == .open ? router.group() : router.group(RouterPath(family.rawValue)))
                .add(middleware: AuthenticationMiddleware(family: family, authenticator: authenticator))
            routes.register(on: group)
            if let processing {
                ProcessingRoutes(jobs: processing.jobs, gate: processing.gate, algorithms: processing.algorithms).register(on: group)
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
    /// Closed when the data center shuts down; the job API then refuses claims.
    public let gate: ClaimGate
    /// Accepts a recorded reprocess request for planning; returns how many product-days it covers.
    public let reprocess: @Sendable (ReprocessRequest) async throws -> Int
    /// The installed algorithms remote workers look up (`/api-key/jobs/algorithms/NAME/VERSION`).
    public let algorithms: (any AlgorithmStore)?

    public init(jobs: any JobStore, gate: ClaimGate, algorithms: (any AlgorithmStore)? = nil,
                reprocess: @escaping @Sendable (ReprocessRequest) async throws -> Int) {
        self.jobs = jobs
        self.gate = gate
        self.algorithms = algorithms
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
