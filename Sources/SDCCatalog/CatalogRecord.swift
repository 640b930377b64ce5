import SDCCore

/// A file the data center holds: its parsed name plus what ingest measured.
public struct CatalogRecord: Sendable, Hashable {
    /// The parsed name; every catalog column but the ones below derives from it.
    public var file: IMAPFileName
    /// Size in bytes.
    public var size: Int64
    /// Lowercase hex SHA-256 of the content, computed while it was stored.
    public var sha256: String
    public var ingestionDate: UTCTime
    /// Whether anonymous users may see and download the file.
    public var released: Bool
    /// Composite release id of a science product (set by the pipeline).
    public var crid: String?

    public init(file: IMAPFileName, size: Int64, sha256: String, ingestionDate: UTCTime, released: Bool? = nil, crid: String? = nil) {
        self.file = file
        self.size = size
        self.sha256 = sha256
        self.ingestionDate = ingestionDate
        self.released = released ?? file.fileClass.releasedByDefault
        self.crid = crid
    }

    /// The storage key.
    public var key: String { file.key }
}

/// Why a catalog operation failed.
public enum CatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file is already cataloged (or being uploaded) under this key.
    case alreadyExists(key: String)
    /// No file has this key.
    case notFound(key: String)
    /// The key's basename is not a valid file name.
    case invalidKey(key: String, reason: String)
    /// The database could not be opened, migrated or queried.
    case database(String)

    public var description: String {
        switch self {
        case .alreadyExists(let key): "a file is already stored under '\(key)'"
        case .notFound(let key): "no file is stored under '\(key)'"
        case .invalidKey(let key, let reason): "invalid key '\(key)': \(reason)"
        case .database(let message): "catalog database error: \(message)"
        }
    }
}
