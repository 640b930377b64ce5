import Logging
import NIOCore
import SDCCatalog
import SDCCore
import SDCStorage

/// Something that reacts to newly ingested files (the pipeline's trigger, metrics, alerts).
public protocol IngestListener: Sendable {
    /// Called once per file, after it is stored and cataloged.
    func didIngest(_ record: CatalogRecord) async
}

/// Why a file could not be ingested.
public enum IngestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file is already stored (or being uploaded) under this key.
    case alreadyExists(key: String)
    case storage(StorageError)
    case catalog(CatalogError)

    public var description: String {
        switch self {
        case .alreadyExists(let key): "a file is already stored under '\(key)'"
        case .storage(let error): error.description
        case .catalog(let error): error.description
        }
    }
}

/// What ``Ingestor/recover()`` found after an unclean stop.
public struct RecoveryReport: Sendable, Equatable {
    /// Uploads whose object was complete: now cataloged.
    public var completed: [String] = []
    /// Uploads that never finished: their reservation was dropped, so they can be uploaded again.
    public var abandoned: [String] = []
    /// Temporary files deleted.
    public var temporaryFilesRemoved = 0

    public init() {}
}

/// The single path by which files enter the data center: reserve the key in the catalog, stream the bytes into the
/// store (checksummed, atomic, never overwriting), catalog the record, tell the listeners.
///
/// If the process dies mid-way, the reservation remains; ``recover()`` (run at start-up) catalogs objects that were
/// completely stored and releases the rest, so the catalog and the store agree again.
public struct Ingestor: Sendable {
    public let catalog: any FileCatalog
    public let store: any ObjectStore
    public var listeners: [any IngestListener]
    /// Reservations older than this are considered abandoned by a dead process (seconds).
    public var reservationLifetime: Int64
    let logger: Logger
    /// Uploads stored but not cataloged during a database outage, shared by every copy of this ingestor.
    let unsettled = UnsettledUploads()

    public init(catalog: any FileCatalog, store: any ObjectStore, listeners: [any IngestListener] = [],
                reservationLifetime: Int64 = 6 * 3600, logger: Logger = Logger(label: "sdc.ingest")) {
        self.catalog = catalog
        self.store = store
        self.listeners = listeners
        self.reservationLifetime = reservationLifetime
        self.logger = logger
    }

    /// Whether a file is already cataloged or stored under `file`'s key.
    public func contains(_ file: IMAPFileName) async throws(IngestError) -> Bool {
        do {
            if try await catalog.record(forKey: file.key) != nil { return true }
            return try await store.size(of: ObjectKey(file.key)) != nil
        } catch let error as CatalogError {
            throw .catalog(error)
        } catch {
            throw .storage(error as? StorageError ?? .io("\(error)"))
        }
    }

    /// Stores and catalogs one file from a stream of bytes.
    public func ingest<Body: AsyncSequence & Sendable>(
        _ file: IMAPFileName, body: Body, expectedLength: Int64?, maximumSize: Int64, released: Bool? = nil
    ) async throws(IngestError) -> CatalogRecord where Body.Element == ByteBuffer {
        let key: ObjectKey
        do { key = try ObjectKey(file.key) } catch { throw .storage(error) }
        // A retry of an upload this process could not catalog: take the first attempt back before reserving again.
        if unsettled.contains(file.key) { await unsettled.settle(catalog: catalog, store: store) }
        try await reserve(file)
        if !unsettled.isEmpty { await unsettled.settle(catalog: catalog, store: store) }
        let stored: StoredObject
        do {
            stored = try await store.put(key, body: body, expectedLength: expectedLength, maximumSize: maximumSize)
        } catch {
            do { try await catalog.cancelReservation(key: file.key) } catch { unsettled.add(file.key) }
            if case .alreadyExists = error { throw .alreadyExists(key: file.key) }
            throw .storage(error)
        }
        let record = CatalogRecord(file: file, size: stored.size, sha256: stored.sha256, ingestionDate: .now, released: released)
        do {
            try await catalog.commit(record)
        } catch {
            // Stored but not cataloged (the database went away): taken back once it answers, nothing half-done is left.
            unsettled.add(file.key)
            throw .catalog(error)
        }
        logger.info("ingested", metadata: ["key": "\(record.key)", "size": "\(record.size)", "sha256": "\(record.sha256)"])
        for listener in listeners { await listener.didIngest(record) }
        return record
    }

    /// The owner of the reservations of direct-to-bucket uploads. No process of sdc writes those objects (the client
    /// writes straight into the bucket), so no host is named (host names have no spaces): start-up recovery never
    /// takes them for a dead process's, only age past ``reservationLifetime`` releases them.
    public static let directUploadOwner = ProcessIdentity(host: "direct upload to the bucket", pid: 1)

    /// Reserves `file`'s key for a direct-to-bucket upload (what `/upload` does before it hands out a presigned `PUT`
    /// to the bucket): the reservation is the authorization that ``catalogStoredObject(_:)`` later completes.
    /// Asking again for a name already reserved for a direct upload (a client's retry) keeps that reservation.
    /// Throws ``IngestError/alreadyExists(key:)`` when the key is cataloged, stored, or held by another upload.
    public func reserveDirectUpload(_ file: IMAPFileName) async throws(IngestError) {
        if try await contains(file) { throw .alreadyExists(key: file.key) }
        do {
            try await catalog.reserve(file, staleAfter: reservationLifetime, owner: Self.directUploadOwner)
        } catch .alreadyExists {
            let held: [Reservation]
            do { held = try await catalog.reservations() } catch { throw .catalog(error) }
            guard held.contains(where: { $0.key == file.key && $0.owner == Self.directUploadOwner }) else {
                throw .alreadyExists(key: file.key)
            }
        } catch {
            throw .catalog(error)
        }
    }

    /// Catalogs the object already stored under `file`'s key (a direct upload): measures its size and SHA-256 by
    /// streaming it (never whole in memory), commits the record, which drops the key's reservation, and tells the
    /// listeners. The catalog's unique key decides between processes doing this at once: the loser gets nil, changes
    /// nothing and tells nobody.
    public func catalogStoredObject(_ file: IMAPFileName) async throws(IngestError) -> CatalogRecord? {
        let measured: StoredObject
        do { measured = try await store.measure(ObjectKey(file.key)) } catch { throw .storage(error) }
        let record = CatalogRecord(file: file, size: measured.size, sha256: measured.sha256, ingestionDate: .now)
        do {
            try await catalog.commit(record)
        } catch {
            let existing: CatalogRecord?
            do { existing = try await catalog.record(forKey: file.key) } catch let lookup { throw .catalog(lookup) }
            if existing != nil { return nil }
            throw .catalog(error)
        }
        logger.info("ingested from the bucket", metadata: ["key": "\(record.key)", "size": "\(record.size)", "sha256": "\(record.sha256)"])
        for listener in listeners { await listener.didIngest(record) }
        return record
    }

    /// Reserves `file`'s key for an upload by this process. A reservation held by a process of this host that has
    /// ended (a replica killed mid-upload) is taken over at once, so the client's retry through another replica
    /// succeeds; the dead upload's bytes were never visible. Another host's reservation is taken over only once it
    /// is older than ``reservationLifetime``.
    private func reserve(_ file: IMAPFileName) async throws(IngestError) {
        do {
            try await catalog.reserve(file, staleAfter: reservationLifetime)
        } catch .alreadyExists {
            let held: [Reservation]
            do { held = try await catalog.reservations() } catch { throw .catalog(error) }
            guard held.contains(where: { $0.key == file.key && $0.owner?.hasEndedOnThisHost == true }) else {
                throw .alreadyExists(key: file.key)
            }
            do { try await catalog.reserve(file, staleAfter: 0) } catch .alreadyExists { throw .alreadyExists(key: file.key) } catch { throw .catalog(error) }
        } catch {
            throw .catalog(error)
        }
    }

    /// Reconciles the catalog with the store after an unclean stop: reserved keys whose object is complete are
    /// measured (size, SHA-256), cataloged and announced to the listeners (so that the pipeline plans them); the others
    /// are released. Only reservations of a process of this host that has ended, or older than
    /// ``reservationLifetime``, are touched: another live process's upload in flight is left alone.
    public func recover() async throws(IngestError) -> RecoveryReport {
        var report = RecoveryReport()
        do {
            report.temporaryFilesRemoved = try await store.removeIncompleteUploads(olderThan: reservationLifetime)
        } catch {
            throw .storage(.io("cannot remove temporary files: \(error)"))
        }
        let reservations: [Reservation]
        do { reservations = try await catalog.reservations() } catch { throw .catalog(error) }
        let now = UTCTime.now.secondsSince1970
        let abandoned = reservations.filter { reservation in
            reservation.owner?.hasEndedOnThisHost == true || now - reservation.startedAt.secondsSince1970 >= reservationLifetime
        }
        for keyText in abandoned.map(\.key) {
            do {
                let key = try ObjectKey(keyText)
                let file = try IMAPFileName.parse(key.basename)
                if try await store.size(of: key) != nil {
                    let measured = try await store.measure(key)
                    let record = CatalogRecord(file: file, size: measured.size, sha256: measured.sha256, ingestionDate: .now)
                    try await catalog.commit(record)
                    report.completed.append(keyText)
                    for listener in listeners { await listener.didIngest(record) }
                } else {
                    try await catalog.cancelReservation(key: keyText)
                    report.abandoned.append(keyText)
                }
            } catch {
                logger.error("recovery of \(keyText) failed: \(error)")
                try? await catalog.cancelReservation(key: keyText)
                report.abandoned.append(keyText)
            }
        }
        return report
    }
}
