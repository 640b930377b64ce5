import Foundation
import SDCCore

/// One "object created" notification: an object of a bucket was written.
public struct BucketEvent: Sendable, Hashable {
    /// S3's event name, such as `ObjectCreated:Put` or `ObjectCreated:CompleteMultipartUpload`.
    public var eventName: String
    /// The bucket's name.
    public var bucket: String
    /// The object's name, decoded (S3 sends it URL-encoded, with `+` for a space).
    public var object: String
    /// The object's size when the notification gives it.
    public var size: Int64?

    /// An event as notified.
    public init(eventName: String, bucket: String, object: String, size: Int64?) {
        self.eventName = eventName
        self.bucket = bucket
        self.object = object
        self.size = size
    }
}

/// Why a notification body cannot be read: what is wrong, and where.
public struct BucketEventError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The message, naming the offending member.
    public let description: String

    /// An error with its message.
    public init(_ description: String) { self.description = description }
}

/// What one notification body holds.
public struct BucketNotification: Sendable, Equatable {
    /// The "object created" events, in order.
    public var events: [BucketEvent] = []
    /// Records of other events (removals, restores, ...), which sdc does not act on.
    public var ignored = 0
    /// For an SNS subscription confirmation: the URL that confirms it.
    public var subscribeURL: String?

    /// An empty notification.
    public init() {}

    /// Reads a notification as S3 and its relays deliver it: S3's own `{"Records": [...]}` (as posted by a webhook,
    /// a Lambda or an EventBridge API destination), the same wrapped in an SNS HTTP(S) notification (the `Message`
    /// member, a JSON string), an SNS subscription confirmation, S3's `s3:TestEvent`, or one EventBridge "Object
    /// Created" event. Only `ObjectCreated:*` records become ``events``; others are counted in ``ignored``.
    /// Object keys are URL-decoded as S3 encodes them (`+` is a space, `%XX` a byte).
    public init(parsing bytes: [UInt8]) throws(BucketEventError) {
        let document: JSONValue
        do { document = try JSONValue(parsing: bytes) } catch {
            throw BucketEventError("the body is not JSON: \(error)")
        }
        try self.init(document: document, path: "")
    }

    private init(document: JSONValue, path: String) throws(BucketEventError) {
        self.init()
        guard case .object = document else {
            throw BucketEventError("\(path.isEmpty ? "the body" : path) is not a JSON object: expected an S3 event notification {\"Records\": [...]}")
        }
        if path.isEmpty, case .string(let type)? = document["Type"] {
            switch type {
            case "Notification":
                guard case .string(let message)? = document["Message"] else {
                    throw BucketEventError("Message is missing or not a string in the SNS notification")
                }
                let inner: JSONValue
                do { inner = try JSONValue(parsing: Array(message.utf8)) } catch {
                    throw BucketEventError("Message of the SNS notification is not JSON: \(error)")
                }
                self = try BucketNotification(document: inner, path: "Message")
                return
            case "SubscriptionConfirmation":
                guard case .string(let url)? = document["SubscribeURL"] else {
                    throw BucketEventError("SubscribeURL is missing or not a string in the SNS subscription confirmation")
                }
                subscribeURL = url
                return
            case "UnsubscribeConfirmation":
                return
            default:
                throw BucketEventError("unknown SNS message Type '\(type)': expected Notification, SubscriptionConfirmation or UnsubscribeConfirmation")
            }
        }
        let at = path.isEmpty ? "" : path + "."
        if case .string("Object Created")? = document["detail-type"] {
            guard let detail = document["detail"] else { throw BucketEventError("\(at)detail is missing in the EventBridge event") }
            events.append(try Self.event(named: "ObjectCreated:EventBridge", s3: detail, path: at + "detail"))
            return
        }
        guard let records = document["Records"] else {
            if case .string("s3:TestEvent")? = document["Event"] { return }
            throw BucketEventError("\(at)Records is missing: expected an S3 event notification {\"Records\": [...]}")
        }
        guard case .array(let items) = records else { throw BucketEventError("\(at)Records is not an array") }
        for (index, record) in items.enumerated() {
            let here = "\(at)Records[\(index)]"
            guard case .string(let name)? = record["eventName"] else {
                throw BucketEventError("\(here).eventName is missing or not a string")
            }
            guard name.hasPrefix("ObjectCreated:") else {
                ignored += 1
                continue
            }
            guard let s3 = record["s3"] else { throw BucketEventError("\(here).s3 is missing") }
            events.append(try Self.event(named: name, s3: s3, path: here + ".s3"))
        }
    }

    /// The event of an `s3` member (or EventBridge's `detail`): `bucket.name`, `object.key` and `object.size`.
    private static func event(named name: String, s3: JSONValue, path: String) throws(BucketEventError) -> BucketEvent {
        guard case .string(let bucket)? = s3["bucket"]?["name"] else {
            throw BucketEventError("\(path).bucket.name is missing or not a string")
        }
        guard case .string(let encoded)? = s3["object"]?["key"] else {
            throw BucketEventError("\(path).object.key is missing or not a string")
        }
        // S3 encodes keys as a form value; unlike a form, a broken escape is an error here, not kept as written.
        guard let object = encoded.replacingOccurrences(of: "+", with: " ").removingPercentEncoding, !object.isEmpty else {
            throw BucketEventError("\(path).object.key '\(encoded)' is not a URL-encoded object key")
        }
        var size: Int64?
        switch s3["object"]?["size"] {
        case nil, .null?: size = nil
        case .int(let value)? where value >= 0: size = Int64(value)
        default: throw BucketEventError("\(path).object.size is not a byte count")
        }
        return BucketEvent(eventName: name, bucket: bucket, object: object, size: size)
    }
}
