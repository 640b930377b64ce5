import SDCCatalog
import ServiceLifecycle

/// An ``IngestListener`` whose work runs off the ingest path: ``didIngest(_:)`` only queues the files `accepts`
/// selects, and the `Service` half hands them to `handle` one at a time, so an upload is answered without waiting
/// for slow work (decoding a day of packets, reading a CDF).
///
/// Run it in the process's `ServiceGroup`. Files still queued when the service stops are not handled.
public final class QueuedIngestListener: IngestListener, Service {
    private let accepts: @Sendable (CatalogRecord) -> Bool
    private let handle: @Sendable (CatalogRecord) async -> Void
    private let records: AsyncStream<CatalogRecord>
    private let queue: AsyncStream<CatalogRecord>.Continuation

    /// - Parameters:
    ///   - accepts: whether a newly ingested file is one to handle (called on the ingest path: keep it cheap).
    ///   - handle: the work for one file, in the order the files were ingested.
    public init(accepts: @escaping @Sendable (CatalogRecord) -> Bool, handle: @escaping @Sendable (CatalogRecord) async -> Void) {
        self.accepts = accepts
        self.handle = handle
        (records, queue) = AsyncStream<CatalogRecord>.makeStream()
    }

    public func didIngest(_ record: CatalogRecord) async {
        if accepts(record) { queue.yield(record) }
    }

    public func run() async throws {
        for await record in records.cancelOnGracefulShutdown() { await handle(record) }
    }
}
