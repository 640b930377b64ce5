import Foundation

/// How `/upload` lets a client send a file's bytes.
public enum UploadMode: String, Sendable, CaseIterable {
    /// A presigned URL to this server's `/objects/` route, which streams the bytes into the store and catalogs the
    /// file as it arrives (the default).
    case relay
    /// A presigned `PUT` straight to the S3 bucket, as the IMAP SDC does; the server learns of the new object from S3
    /// event notifications and from a reconciler that lists the bucket (S3 store only).
    case direct
}

/// One object found by listing a store.
public struct ListedObject: Sendable, Hashable {
    /// The object's name relative to the store's prefix, as S3 holds it: the path of an ``ObjectKey`` for objects the
    /// store wrote, but anything for objects put there by others (so not validated).
    public var name: String
    /// Bytes.
    public var size: Int64

    /// An object as listed.
    public init(name: String, size: Int64) {
        self.name = name
        self.size = size
    }
}

/// One page of a listing: its objects, in name order, and where the next page starts.
public struct ObjectListingPage: Sendable, Hashable {
    /// The objects of this page.
    public var objects: [ListedObject]
    /// The token that asks for the next page; nil on the last one.
    public var continuationToken: String?

    /// A page as listed.
    public init(objects: [ListedObject], continuationToken: String?) {
        self.objects = objects
        self.continuationToken = continuationToken
    }
}

/// A store whose objects can appear without going through it (direct-to-bucket uploads): it can list them page by
/// page, recognize its own objects in a bucket event, and set aside an object that must not be cataloged.
public protocol BucketListing: ObjectStore {
    /// One page of the objects whose names (relative to the store's prefix) start with `prefix`: at most `pageSize`,
    /// from the start or from where `continuationToken` (from the previous page) says.
    func listObjects(under prefix: String, continuationToken: String?, pageSize: Int) async throws(StorageError) -> ObjectListingPage

    /// The name relative to the store's prefix of the object `object` of bucket `bucket`, as an S3 event names them
    /// (decoded); nil when the object is not in this store's bucket and under its prefix.
    func storeName(bucket: String, object: String) -> String?

    /// Moves the object `name` (relative to the store's prefix) to `folder/name`, beside it a `folder/name.reason`
    /// text object saying why, then deletes the original. Returns the new name, or nil when the object was already
    /// gone (set aside by another process meanwhile).
    func setAside(_ name: String, into folder: String, reason: String) async throws(StorageError) -> String?
}
