import SDCCatalog
import SDCCore
import SDCStorage
import Synchronization

/// Uploads of this process whose object was stored but whose catalog commit failed (the database went away in
/// between). The client was told the upload failed; until the upload is settled its key stays reserved and its
/// object stored, invisible to everyone.
///
/// Settling takes the upload back: if the commit did happen after all (the connection died after `COMMIT`), the
/// file stays; otherwise the object is deleted and the reservation released, so that the client's retry succeeds.
/// The ``Ingestor`` settles them as soon as the database answers again (the next reservation it makes), so an outage
/// leaves nothing half-done. A process that dies first leaves them to start-up recovery.
final class UnsettledUploads: Sendable {
    private let keys = Mutex<Set<String>>([])

    var isEmpty: Bool { keys.withLock { $0.isEmpty } }

    func add(_ key: String) { _ = keys.withLock { $0.insert(key) } }

    func contains(_ key: String) -> Bool { keys.withLock { $0.contains(key) } }

    /// Settles every unsettled upload that can be settled now; those the database still refuses stay for later.
    func settle(catalog: any FileCatalog, store: any ObjectStore) async {
        for key in keys.withLock({ $0 }) where await Self.settle(key, catalog: catalog, store: store) {
            _ = keys.withLock { $0.remove(key) }
        }
    }

    /// Takes back one upload; false when the database or store cannot be asked yet.
    private static func settle(_ key: String, catalog: any FileCatalog, store: any ObjectStore) async -> Bool {
        do {
            if try await catalog.record(forKey: key) != nil { return true }
            let objectKey = try ObjectKey(key)
            if try await store.size(of: objectKey) != nil { try await store.delete(objectKey) }
            try await catalog.cancelReservation(key: key)
            return true
        } catch {
            return false
        }
    }
}
