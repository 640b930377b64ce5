import Foundation
import Logging
import SDCCatalog
import SDCCore
import SDCIngest
import SDCJobs
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

    /// Makes the catalog and the store agree after an unclean stop (see ``Ingestor/recover(removingTemporaryFiles:)``),
    /// through `ingestor`, so that its listeners (the pipeline) hear of every recovered file.
    public func recover(through ingestor: Ingestor, logger: Logger) async throws -> RecoveryReport {
        let (store, lifetime) = (store, ingestor.reservationLifetime)
        let report = try await ingestor.recover(removingTemporaryFiles: { try store.removeIncompleteUploads(olderThan: lifetime) })
        if report != RecoveryReport() {
            logger.notice("recovered after an unclean stop", metadata: [
                "completed": "\(report.completed)", "abandoned": "\(report.abandoned)",
                "temporary_files_removed": "\(report.temporaryFilesRemoved)",
            ])
        }
        return report
    }
}
