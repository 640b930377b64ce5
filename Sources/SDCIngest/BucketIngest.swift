import Logging
import SDCCatalog
import SDCCore
import SDCStorage

/// Ingest of objects that clients wrote straight into the bucket (`--upload direct`), for the S3 event endpoint and
/// the ``BucketReconciler``: each object under the upload folder (`imap/`) is cataloged, left alone, or set aside.
///
/// Authorization: `/upload` hands a presigned `PUT` only to a write key, for a valid name not yet cataloged or
/// stored, and first reserves the name for a direct upload (``Ingestor/reserveDirectUpload(_:)``). That reservation
/// is what ingest completes. An object under the upload folder that is badly named, not at its name's storage key,
/// or not preceded by such a reservation is moved to `rejected/` with a `.reason` beside it, and never cataloged.
///
/// Idempotent and safe with several replicas at once: a cataloged object is left alone (however often it is
/// announced), an object reserved by an upload in flight through sdc itself is left to it, and between replicas
/// completing the same reservation the catalog's unique key decides (the loser changes nothing).
public struct BucketIngest: Sendable {
    /// The ingest path: its catalog, its store (the bucket) and its listeners (the planner).
    public let ingestor: Ingestor
    /// The bucket, able to list and set aside.
    public let bucket: any BucketListing
    /// Told of every decision (metrics).
    public let observe: @Sendable (Outcome) -> Void
    let logger: Logger

    /// Where direct uploads land, relative to the store's prefix: every IMAP storage key starts with it.
    public static let uploadFolder = "imap/"
    /// Where objects that must not be cataloged are moved, relative to the store's prefix.
    public static let rejectedFolder = "rejected"

    /// What happened to one object.
    public enum Outcome: Sendable, Hashable {
        /// Measured, cataloged and announced to the listeners.
        case ingested(String)
        /// Already cataloged (by an earlier event, a pass, or another replica): nothing done.
        case alreadyCataloged(String)
        /// Cataloged, but the object's size is no longer the cataloged one: it was overwritten (reported, not changed).
        case changedAfterCataloging(String)
        /// Reserved by an upload in flight through sdc itself (relayed, or a worker's product): left to it.
        case inFlight(String)
        /// Moved aside (into ``BucketIngest/rejectedFolder``) for the reason given.
        case rejected(String, reason: String)
        /// Outside the upload folder: not sdc's to ingest.
        case ignored(String)
        /// No longer in the bucket (set aside or removed meanwhile).
        case gone(String)

        /// The object's name (relative to the store's prefix).
        public var name: String {
            switch self {
            case .ingested(let name), .alreadyCataloged(let name), .changedAfterCataloging(let name), .inFlight(let name),
                 .rejected(let name, _), .ignored(let name), .gone(let name): name
            }
        }

        /// A short label for metrics and responses.
        public var label: String {
            switch self {
            case .ingested: "ingested"
            case .alreadyCataloged: "already_cataloged"
            case .changedAfterCataloging: "changed_after_cataloging"
            case .inFlight: "in_flight"
            case .rejected: "rejected"
            case .ignored: "ignored"
            case .gone: "gone"
            }
        }
    }

    /// Ingest through `ingestor` of the objects of `bucket` (which should be `ingestor`'s store).
    public init(ingestor: Ingestor, bucket: any BucketListing, logger: Logger = Logger(label: "sdc.bucket"),
                observe: @escaping @Sendable (Outcome) -> Void = { _ in }) {
        self.ingestor = ingestor
        self.bucket = bucket
        self.logger = logger
        self.observe = observe
    }

    /// Decides about the object `name` (relative to the store's prefix), whose size is `size` when known. The
    /// reservations are read after the caller learned of the object, as they must be (see ``ingest(_:size:reservations:)``).
    public func ingest(_ name: String, size: Int64?) async throws(IngestError) -> Outcome {
        try await ingest(name, size: size, reservations: try reservationsByKey())
    }

    /// The open reservations by key.
    func reservationsByKey() async throws(IngestError) -> [String: Reservation] {
        do {
            return Dictionary(try await ingestor.catalog.reservations().map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        } catch { throw .catalog(error) }
    }

    /// Decides about one object with `reservations` read after the object was seen in the bucket: a direct upload
    /// reserves its name before the object exists, so the reservation is either among them or already committed.
    func ingest(_ name: String, size: Int64?, reservations: [String: Reservation]) async throws(IngestError) -> Outcome {
        let outcome = try await decide(name, size: size, reservations: reservations)
        switch outcome {
        case .rejected(_, let reason):
            logger.warning("object set aside, not cataloged", metadata: ["object": "\(name)", "reason": "\(reason)"])
        case .changedAfterCataloging:
            logger.error("a cataloged object was overwritten in the bucket: its size is no longer the cataloged one",
                         metadata: ["object": "\(name)"])
        default:
            break
        }
        observe(outcome)
        return outcome
    }

    private func decide(_ name: String, size: Int64?, reservations: [String: Reservation]) async throws(IngestError) -> Outcome {
        guard name.hasPrefix(Self.uploadFolder) else { return .ignored(name) }
        let key: ObjectKey
        do { key = try ObjectKey(name) } catch { return try await reject(name, because: error.description) }
        let file: IMAPFileName
        do { file = try IMAPFileName.parse(key.basename) } catch {
            return try await reject(name, because: "\(key.basename) does not match ancillary, science, cadence, or SPICE file naming convention: \(error.message)")
        }
        guard file.key == key.path else {
            return try await reject(name, because: "'\(name)' is not the storage key of \(file.name): expected '\(file.key)'")
        }
        if let reservation = reservations[file.key] {
            guard reservation.owner == Ingestor.directUploadOwner else { return .inFlight(name) }
            do {
                return try await ingestor.catalogStoredObject(file).map { .ingested($0.key) } ?? .alreadyCataloged(name)
            } catch .storage(.notFound) {
                return .gone(name)
            }
        }
        let record: CatalogRecord?
        do { record = try await ingestor.catalog.record(forKey: file.key) } catch { throw .catalog(error) }
        if let record {
            if let size, size != record.size { return .changedAfterCataloging(name) }
            return .alreadyCataloged(name)
        }
        return try await reject(name, because: "no /upload request reserved \(file.name) for a direct upload "
                                + "(direct uploads need GET /upload/\(file.name) with a write key first)")
    }

    private func reject(_ name: String, because reason: String) async throws(IngestError) -> Outcome {
        do {
            guard try await bucket.setAside(name, into: Self.rejectedFolder, reason: reason) != nil else { return .gone(name) }
        } catch { throw .storage(error) }
        return .rejected(name, reason: reason)
    }
}
