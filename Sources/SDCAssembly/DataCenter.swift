import Foundation
import Logging
import SDCAlerts
import SDCCatalog
import SDCCore
import SDCIALiRT
import SDCIngest
import SDCIntegrity
import SDCJobs
import SDCPostgres
import SDCStorage

/// The catalog a data center needs: files, API keys, the request log, browsing, and the state every process shares
/// (portal sessions, leases).
public typealias DataCenterCatalog = FileCatalog & APIKeyStore & RequestLog & CatalogBrowsing & PortalSessionStore & LeaseStore

/// Where a data center keeps its state, and the one place that chooses the concrete backends:
/// - embedded (the default): `catalog.sqlite` (files, keys, requests), `jobs.sqlite` (jobs and lineage), `objects/`
///   (the filesystem store) and `url-signing.key` (the secret of presigned URLs), all in one folder;
/// - scaled out: a PostgreSQL database (`--database`) for the catalog, the jobs, portal sessions and the URL-signing
///   secret, and an S3 bucket (`--store`) for the objects; the folder then keeps only what a process needs locally.
public struct DataCenter: Sendable {
    public let root: URL
    public let catalog: any DataCenterCatalog
    public let jobs: any JobStore
    public let store: any ObjectStore
    /// The registry of installed algorithms (`sdc algorithms`), kept beside the jobs that run them.
    public let algorithms: any AlgorithmStore
    /// The ledger of archive deliveries (`sdc archive`): `deliveries.sqlite` when embedded, else the shared database.
    public let deliveries: any DeliveryLedger
    /// Checks whether the shared database answers, to tell an outage (503) from a fault (500); nil when embedded.
    public let databaseProbe: (any BackendProbe)?
    /// Alert conditions, their notification outbox and product latencies: `alerts.sqlite`, or the shared database.
    public let alerts: any AlertStore
    /// The I-ALiRT real-time store: `ialirt.sqlite` in the folder, or tables of the shared database.
    public let ialirt: any IALiRTStore
    /// The shared database when scaled out (the mission catalog is opened on it once the hosted missions are known).
    private let database: PostgresDatabase?

    /// Opens (creating if needed) the embedded data center in `root`.
    public init(root: URL) throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let catalog = try SQLiteCatalog(path: root.appendingPathComponent("catalog.sqlite").path)
        let jobsPath = root.appendingPathComponent("jobs.sqlite").path
        self.init(root: root, catalog: catalog, jobs: try SQLiteJobStore(path: jobsPath), algorithms: try SQLiteAlgorithmStore(path: jobsPath),
                  alerts: try SQLiteAlertStore(path: root.appendingPathComponent("alerts.sqlite").path),
                  deliveries: try SQLiteDeliveryLedger(path: root.appendingPathComponent("deliveries.sqlite").path),
                  store: try Self.filesystemStore(in: root, signer: Self.localSigner(in: root)),
                  ialirt: try SQLiteIALiRTStore(path: root.appendingPathComponent("ialirt.sqlite").path))
    }

    private init(root: URL, catalog: any DataCenterCatalog, jobs: any JobStore, algorithms: any AlgorithmStore, alerts: any AlertStore,
                 deliveries: any DeliveryLedger, store: any ObjectStore,
                 ialirt: any IALiRTStore, databaseProbe: (any BackendProbe)? = nil, database: PostgresDatabase? = nil) {
        self.ialirt = ialirt
        self.database = database
        self.alerts = alerts
        self.root = root
        self.catalog = catalog
        self.jobs = jobs
        self.algorithms = algorithms
        self.deliveries = deliveries
        self.store = store
        self.databaseProbe = databaseProbe
    }

    private static func filesystemStore(in root: URL, signer: URLSigner) throws -> FileSystemObjectStore {
        try FileSystemObjectStore(root: root.appendingPathComponent("objects").path, signer: signer)
    }

    /// The URL-signing secret of an embedded data center: `url-signing.key` in its folder, shared by every process on it.
    private static func localSigner(in root: URL) throws -> URLSigner {
        try URLSigner.loadOrCreate(at: root.appendingPathComponent("url-signing.key").path)
    }

    /// Why a backend could not be opened: which one, and the reason.
    public struct OpeningError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Opens the data center: the PostgreSQL database at `database` (else SQLite in `root`) and the S3 bucket at
    /// `store` (`s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION`, credentials from the AWS_* variables; else the
    /// filesystem under `root`). Each backend is checked at once, so a database or bucket that cannot be reached is
    /// one clear error naming it. With `uploads` `.direct`, `/upload` hands out presigned PUTs to the bucket instead
    /// of relaying (an S3 store is then required).
    public static func open(root: URL, database: String?, store location: String?, uploads: UploadMode = .relay) async throws -> DataCenter {
        if uploads == .direct && location == nil {
            throw OpeningError(description: "direct-to-bucket uploads (--upload direct) need an S3 store: add --store s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION")
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let catalog: any DataCenterCatalog
        let jobs: any JobStore
        let algorithms: any AlgorithmStore
        let alerts: any AlertStore
        let deliveries: any DeliveryLedger
        let ialirt: any IALiRTStore
        // Presigned URLs made by one process must be accepted by every other: the secret lives where the state is shared.
        let signer: URLSigner
        var probe: (any BackendProbe)?
        var shared: PostgresDatabase?
        if let database {
            do {
                let connection = try await PostgresDatabase.connect(url: database)
                let postgres = try await PostgresCatalog(database: connection)
                catalog = postgres
                jobs = try await PostgresJobStore(database: connection, clock: .system)
                algorithms = try await PostgresAlgorithmStore(database: connection)
                alerts = try await PostgresAlertStore(database: connection)
                deliveries = try await PostgresDeliveryLedger(database: connection)
                ialirt = try await PostgresIALiRTStore(database: connection)
                signer = URLSigner(secret: try await postgres.sharedSecret(named: "url-signing"))
                probe = connection.probe
                shared = connection
            } catch {
                throw OpeningError(description: "the database cannot be used: \(error)")
            }
        } else {
            catalog = try SQLiteCatalog(path: root.appendingPathComponent("catalog.sqlite").path)
            jobs = try SQLiteJobStore(path: root.appendingPathComponent("jobs.sqlite").path)
            algorithms = try SQLiteAlgorithmStore(path: root.appendingPathComponent("jobs.sqlite").path)
            alerts = try SQLiteAlertStore(path: root.appendingPathComponent("alerts.sqlite").path)
            deliveries = try SQLiteDeliveryLedger(path: root.appendingPathComponent("deliveries.sqlite").path)
            ialirt = try SQLiteIALiRTStore(path: root.appendingPathComponent("ialirt.sqlite").path)
            signer = try localSigner(in: root)
        }
        let store: any ObjectStore
        if let location {
            do {
                // Relayed uploads stream through the API (cataloged as they arrive), signed with the shared URL secret;
                // direct ones are presigned PUTs to the bucket.
                let bucket = S3ObjectStore(location: try S3Location(parsing: location), credentials: try AWSCredentials.fromEnvironment(),
                                           uploadRelay: uploads == .relay ? signer : nil)
                _ = try await bucket.size(of: try ObjectKey("imap/sdc-reachability-check"))
                store = bucket
            } catch {
                throw OpeningError(description: "the object store \(location) cannot be used: \(error)")
            }
        } else {
            store = try filesystemStore(in: root, signer: signer)
        }
        return DataCenter(root: root, catalog: catalog, jobs: jobs, algorithms: algorithms, alerts: alerts, deliveries: deliveries, store: store, ialirt: ialirt, databaseProbe: probe,
                          database: shared)
    }

    /// The catalog of the SWxSOC missions' files (`missions.sqlite` in the folder, or tables of the shared database),
    /// whose rows are parsed back with the hosted `missions`.
    public func missionCatalog(missions: MissionSet) async throws -> any MissionCatalog {
        if let database {
            do { return try await PostgresMissionCatalog(database: database, missions: missions) } catch {
                throw OpeningError(description: "the mission catalog cannot be used: \(error)")
            }
        }
        return try SQLiteMissionCatalog(path: root.appendingPathComponent("missions.sqlite").path, missions: missions)
    }

    /// The store as a bucket whose objects can be listed and set aside (direct-to-bucket uploads); nil for the
    /// filesystem store.
    public var bucket: (any BucketListing)? { store as? any BucketListing }

    /// The ingest path over this catalog and store.
    public func ingestor(listeners: [any IngestListener] = [], logger: Logger = Logger(label: "sdc.ingest")) -> Ingestor {
        Ingestor(catalog: catalog, store: store, listeners: listeners, logger: logger)
    }

    /// Makes the catalog and the store agree after an unclean stop (see ``Ingestor/recover()``),
    /// through `ingestor`, so that its listeners (the pipeline) hear of every recovered file.
    public func recover(through ingestor: Ingestor, logger: Logger) async throws -> RecoveryReport {
        let report = try await ingestor.recover()
        if report != RecoveryReport() {
            logger.notice("recovered after an unclean stop", metadata: [
                "completed": "\(report.completed)", "abandoned": "\(report.abandoned)",
                "temporary_files_removed": "\(report.temporaryFilesRemoved)",
            ])
        }
        return report
    }
}
