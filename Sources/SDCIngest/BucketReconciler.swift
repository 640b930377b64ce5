import Logging
import ServiceLifecycle
import SDCStorage

/// Lists the bucket's upload folder (`ListObjectsV2`, page by page) every `interval` and hands every object to
/// ``BucketIngest``, so that an object whose event notification was lost, or never configured, is cataloged at the
/// next pass: a missed event only delays a file, it never loses it. Several replicas may reconcile at once (see
/// ``BucketIngest`` for why that is safe). Runs until graceful shutdown.
public struct BucketReconciler: Service {
    /// Decides about each listed object.
    public let ingest: BucketIngest
    /// The pause between the end of one pass and the start of the next.
    public let interval: Duration
    /// Objects per `ListObjectsV2` page (S3 returns at most 1,000).
    public let pageSize: Int
    let logger: Logger

    /// What one pass found.
    public struct Report: Sendable, Equatable {
        /// Objects listed under the upload folder.
        public var listed = 0
        /// Objects newly cataloged, by name.
        public var ingested: [String] = []
        /// Objects moved aside, by name.
        public var rejected: [String] = []
        /// Objects that could not be decided about (an error, logged; retried at the next pass).
        public var failed: [String] = []

        /// An empty report.
        public init() {}
    }

    /// A reconciler of `ingest`'s bucket, one pass every `interval`.
    public init(ingest: BucketIngest, interval: Duration, pageSize: Int = 1000, logger: Logger = Logger(label: "sdc.reconciler")) {
        self.ingest = ingest
        self.interval = interval
        self.pageSize = pageSize
        self.logger = logger
    }

    /// One pass now, then one every ``interval``, until graceful shutdown (a pass in progress is cancelled: what it
    /// did is complete, and what it did not is the next start's).
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do {
                        let start = ContinuousClock.now
                        let report = try await reconcile()
                        let elapsed = ContinuousClock.now - start
                        let quiet = report.ingested.isEmpty && report.rejected.isEmpty && report.failed.isEmpty
                        logger.log(level: quiet ? .debug : .notice, "reconciled the bucket", metadata: [
                            "listed": "\(report.listed)", "ingested": "\(report.ingested)", "rejected": "\(report.rejected)",
                            "failed": "\(report.failed)", "duration": "\(elapsed)"])
                    } catch {
                        if Task.isCancelled { break }
                        logger.error("listing the bucket failed; retrying at the next pass", metadata: ["error": "\(error)"])
                    }
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            // Graceful shutdown.
        }
    }

    /// One pass: lists the upload folder page by page; after each page, reads the open reservations and decides
    /// about each object of the page. A failure with one object is logged and counted, and the pass goes on; a
    /// listing failure ends the pass with the error.
    public func reconcile() async throws(IngestError) -> Report {
        var report = Report()
        var token: String?
        repeat {
            let page: ObjectListingPage
            do {
                page = try await ingest.bucket.listObjects(under: BucketIngest.uploadFolder, continuationToken: token, pageSize: pageSize)
            } catch { throw .storage(error) }
            report.listed += page.objects.count
            // Read after the listing: a direct upload's reservation precedes its object, so it is here or committed.
            let reservations = try await ingest.reservationsByKey()
            for object in page.objects {
                do {
                    switch try await ingest.ingest(object.name, size: object.size, reservations: reservations) {
                    case .ingested(let name): report.ingested.append(name)
                    case .rejected(let name, _): report.rejected.append(name)
                    default: break
                    }
                } catch {
                    if Task.isCancelled { throw .storage(.io("the pass was cancelled")) }
                    logger.error("cannot ingest an object of the bucket", metadata: ["object": "\(object.name)", "error": "\(error)"])
                    report.failed.append(object.name)
                }
            }
            token = page.continuationToken
        } while token != nil
        return report
    }
}
