import Foundation
import NIOPosix
import SDCStorage

/// Every object a store holds under a prefix, a page at a time: an S3 bucket through ``BucketListing``, the
/// filesystem store by walking its folder (skipping its hidden `.incoming` folder of uploads in flight) on NIO's
/// thread pool.
struct StoreInventory {
    private let source: Source
    private let prefix: String
    private var token: String?
    private var finished = false
    static let pageSize = 1_000

    private enum Source {
        case bucket(any BucketListing)
        case folder(FolderWalk?)
    }

    /// The objects of `store` under `prefix`. Throws when the store can list neither way.
    init(store: any ObjectStore, prefix: String) throws(IntegrityError) {
        self.prefix = prefix
        if let bucket = store as? any BucketListing {
            source = .bucket(bucket)
        } else if let files = store as? FileSystemObjectStore {
            source = .folder(FolderWalk(root: files.root, prefix: prefix))
        } else {
            throw IntegrityError("the object store \(type(of: store)) cannot list its objects, so orphans cannot be searched for")
        }
    }

    /// The next page of objects; nil after the last.
    mutating func next() async throws -> [ListedObject]? {
        guard !finished else { return nil }
        switch source {
        case .bucket(let bucket):
            let page = try await bucket.listObjects(under: prefix, continuationToken: token, pageSize: Self.pageSize)
            token = page.continuationToken
            finished = token == nil
            return page.objects
        case .folder(let walk):
            guard let walk else {
                finished = true
                return nil
            }
            let page = try await NIOThreadPool.singleton.runIfActive { walk.next(Self.pageSize) }
            finished = page.count < Self.pageSize
            return page
        }
    }
}

/// A walk of the regular files under `root/prefix`, named relative to `root`; advanced by one thread-pool job at a
/// time (the caller awaits each).
final class FolderWalk: @unchecked Sendable {
    private let root: String
    private let base: String
    private let enumerator: FileManager.DirectoryEnumerator?

    /// A walk of `root`'s files whose names start with `prefix` (a folder prefix ending in `/`, or empty).
    init?(root: String, prefix: String) {
        self.root = root
        let folder = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        base = folder.isEmpty ? "" : folder + "/"
        let path = folder.isEmpty ? root : root + "/" + folder
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        enumerator = FileManager.default.enumerator(atPath: path)
    }

    /// Up to `limit` more files.
    func next(_ limit: Int) -> [ListedObject] {
        var page: [ListedObject] = []
        while page.count < limit, let enumerator, let relative = enumerator.nextObject() as? String {
            let name = relative.split(separator: "/").last.map(String.init) ?? relative
            let attributes = enumerator.fileAttributes
            if name.hasPrefix(".") {
                if attributes?[.type] as? FileAttributeType == .typeDirectory { enumerator.skipDescendants() }
                continue
            }
            guard attributes?[.type] as? FileAttributeType == .typeRegular else { continue }
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            page.append(ListedObject(name: base + relative, size: size))
        }
        return page
    }
}
