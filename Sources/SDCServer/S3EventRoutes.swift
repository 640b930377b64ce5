import Hummingbird
import SDCCatalog
import SDCCore
import SDCIngest
import SDCStorage

/// `POST /s3-events` (and `/api-key/s3-events`, `/authorized/s3-events`): S3 event notifications for the bucket of
/// direct-to-bucket uploads, requiring a write-scope key. Each `ObjectCreated:*` record of this store's bucket and
/// prefix is decided at once by ``BucketIngest`` (cataloged, left alone, or set aside); other records are ignored.
/// Objects that ``objects`` takes (a hosted mission's incoming area) are decided by it instead, with or without an
/// ``ingest`` (which exists with `--upload direct` only).
/// Idempotent: the same notification twice, or one for a cataloged object, changes nothing.
///
/// The answer lists what happened to each object; a malformed body is `400 InvalidEventNotification` naming the
/// problem, and a catalog or bucket failure `500`, so that the sender retries (and the reconciler catches up anyway).
public struct S3EventRoutes: ServerExtension {
    /// The bucket whose events are accepted (records of other buckets or outside its prefix are ignored).
    public let bucket: any BucketListing
    /// Decides about each announced object of direct uploads; nil without `--upload direct`.
    public let ingest: BucketIngest?
    /// Decides about an announced object before ``ingest`` does; returns nil for objects it does not take.
    public typealias ObjectHandler = @Sendable (_ name: String) async throws -> BucketIngest.Outcome?
    /// The handler of objects outside the direct-upload folder (hosted missions' incoming areas), if any.
    public let objects: ObjectHandler?
    /// Where the callers' keys are checked.
    public let keys: any APIKeyStore

    /// The largest notification accepted (S3's hold one record; SNS messages are at most 256 KiB).
    public static let maximumBodyBytes = 1 << 20

    /// The endpoint for `bucket` over `ingest` and `objects`, authenticating with `keys`.
    public init(bucket: any BucketListing, ingest: BucketIngest?, objects: ObjectHandler? = nil, keys: any APIKeyStore) {
        self.bucket = bucket
        self.ingest = ingest
        self.objects = objects
        self.keys = keys
    }

    public func addRoutes(to router: Router<SDCRequestContext>) {
        let authenticator = Authenticator(keys: keys, jobs: nil)
        for family in RouteFamily.allCases {
            let group = (family == .open ? router.group() : router.group(RouterPath(family.rawValue)))
                .add(middleware: AuthenticationMiddleware(family: family, authenticator: authenticator))
            group.post("s3-events") { request, context in try await receive(request, context: context) }
        }
    }

    func receive(_ request: Request, context: SDCRequestContext) async throws -> Response {
        try Authenticator.require(.write, of: context.caller, for: "Posting S3 event notifications")
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: Self.maximumBodyBytes) } catch {
            throw APIError(.contentTooLarge, "EntityTooLarge", "An event notification is at most \(Self.maximumBodyBytes) bytes.")
        }
        let notification: BucketNotification
        do { notification = try BucketNotification(parsing: Array(buffer: body)) } catch {
            throw APIError.badRequest("The event notification cannot be read: \(error.description)", code: "InvalidEventNotification")
        }
        if let url = notification.subscribeURL {
            context.logger.notice("SNS asks to confirm a subscription to S3 event notifications: open the SubscribeURL to confirm",
                                  metadata: ["subscribe_url": "\(url)"])
        }
        var outcomes: [BucketIngest.Outcome] = []
        var ignored = notification.ignored
        for event in notification.events {
            guard let name = bucket.storeName(bucket: event.bucket, object: event.object) else {
                ignored += 1
                continue
            }
            do {
                if let objects, let outcome = try await objects(name) {
                    outcomes.append(outcome)
                } else if let ingest {
                    outcomes.append(try await ingest.ingest(name, size: event.size))
                } else {
                    ignored += 1
                }
            } catch {
                throw APIError.internalError("The object \(name) announced by the event notification could not be ingested: \(error)")
            }
        }
        func names(_ label: String) -> JSONValue {
            .array(outcomes.filter { $0.label == label }.map { .string($0.name) })
        }
        let rejected = outcomes.compactMap { outcome -> JSONValue? in
            guard case .rejected(let name, let reason) = outcome else { return nil }
            return .object([("name", .string(name)), ("reason", .string(reason))])
        }
        return .json(JSONValue.object([
            ("ingested", names("ingested")), ("already_cataloged", names("already_cataloged")), ("in_flight", names("in_flight")),
            ("changed_after_cataloging", names("changed_after_cataloging")), ("gone", names("gone")), ("rejected", .array(rejected)),
            ("ignored", .int(ignored + outcomes.filter { $0.label == "ignored" }.count)),
        ]).serialized())
    }
}
