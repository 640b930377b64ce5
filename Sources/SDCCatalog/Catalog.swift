import SDCCore

/// The catalog of stored files. Implementations: ``SQLiteCatalog`` (embedded); a PostgreSQL one can follow behind
/// the same protocol.
///
/// Ingest is two-phase so that a crash never leaves a half-ingested file visible: ``reserve(_:)`` claims the key
/// before any byte is written, ``commit(_:)`` makes the stored file visible, ``cancelReservation(key:)`` gives the key
/// back after a failed upload.
public protocol FileCatalog: Sendable {
    /// Claims `file`'s key for an upload by `owner`. Throws ``CatalogError/alreadyExists(key:)`` when the key is
    /// cataloged or another upload holds it (reservations older than `staleAfter` seconds are taken over).
    func reserve(_ file: IMAPFileName, staleAfter: Int64, owner: ProcessIdentity) async throws(CatalogError)
    /// Makes a stored file visible and drops its reservation.
    func commit(_ record: CatalogRecord) async throws(CatalogError)
    /// Drops a reservation after a failed upload.
    func cancelReservation(key: String) async throws(CatalogError)
    /// Reservations not yet committed or cancelled (uploads in flight, or left by a crash), oldest first.
    func reservations() async throws(CatalogError) -> [Reservation]
    /// Adds records in one transaction (recovery and bulk loads). Existing keys are an error.
    func insert(_ records: [CatalogRecord]) async throws(CatalogError)
    /// The record stored under `key`, whatever its class.
    func record(forKey key: String) async throws(CatalogError) -> CatalogRecord?
    /// Files of a `/query` table, ordered by key.
    func files(matching query: FileQuery) async throws(CatalogError) -> [CatalogRecord]
    /// SPICE kernels, ordered by key.
    func kernels(matching query: SPICEQuery) async throws(CatalogError) -> [CatalogRecord]
    /// Sets the released flag of the given keys; returns how many records changed.
    func setReleased(_ released: Bool, keys: [String]) async throws(CatalogError) -> Int
    /// Number of cataloged files per class.
    func counts() async throws(CatalogError) -> [FileClass: Int]
}

/// An upload's claim on a key, from ``FileCatalog/reserve(_:staleAfter:)`` until commit or cancellation.
public struct Reservation: Sendable, Hashable {
    public var key: String
    public var startedAt: UTCTime
    /// The process uploading; nil for reservations recorded before owners were.
    public var owner: ProcessIdentity?

    public init(key: String, startedAt: UTCTime, owner: ProcessIdentity?) {
        self.key = key
        self.startedAt = startedAt
        self.owner = owner
    }
}

extension FileCatalog {
    /// Claims `file`'s key for an upload by this process.
    public func reserve(_ file: IMAPFileName, staleAfter: Int64) async throws(CatalogError) {
        try await reserve(file, staleAfter: staleAfter, owner: .current)
    }

    /// The keys of ``reservations()``, oldest first.
    public func reservedKeys() async throws(CatalogError) -> [String] { try await reservations().map(\.key) }
}
