import SDCCore

/// A validated storage key: a relative path of `/`-separated segments that can never name anything outside the
/// store root. Built only from checked text, so holding one is proof of validation.
public struct ObjectKey: Sendable, Hashable, CustomStringConvertible {
    public let path: String
    /// The most bytes a key may have (S3's limit).
    public static let maximumLength = 1024

    /// Validates `path`: not empty, at most 1,024 bytes, no empty segment, no segment starting with `.`
    /// (so no `.`/`..`, and the store's own `.incoming` folder is unreachable), no backslash, NUL or control character.
    public init(_ path: String) throws(StorageError) {
        guard !path.isEmpty else { throw .invalidKey(path, "empty key") }
        guard path.utf8.count <= Self.maximumLength else {
            throw .invalidKey(path, "key is \(path.utf8.count) bytes long: at most \(Self.maximumLength) are allowed")
        }
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { throw .invalidKey(path, "empty path segment (leading, trailing or doubled '/')") }
            if segment.hasPrefix(".") { throw .invalidKey(path, "path segment '\(segment)' starts with '.'") }
            if segment.utf8.count > 255 { throw .invalidKey(path, "path segment longer than 255 bytes") }
        }
        for scalar in path.unicodeScalars where scalar == "\\" || scalar.value < 0x20 || scalar.value == 0x7F {
            throw .invalidKey(path, scalar == "\\" ? "backslash in key" : "control character U+\(scalar.value.hexString(digits: 4, uppercase: true)) in key")
        }
        self.path = path
    }

    /// The last segment.
    public var basename: String { String(path.split(separator: "/").last!) }
    public var description: String { path }
}

/// Why a storage operation failed.
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidKey(String, String)
    case alreadyExists(String)
    case notFound(String)
    /// The body was larger than the allowed size.
    case tooLarge(limit: Int64)
    /// The body ended before the announced length, or the client went away.
    case incompleteBody(expected: Int64, received: Int64)
    /// The requested byte range is outside the object.
    case unsatisfiableRange(size: Int64)
    case io(String)

    public var description: String {
        switch self {
        case .invalidKey(let key, let reason): "invalid key '\(key)': \(reason)"
        case .alreadyExists(let key): "an object is already stored under '\(key)'"
        case .notFound(let key): "no object is stored under '\(key)'"
        case .tooLarge(let limit): "the body is larger than the limit of \(limit) bytes"
        case .incompleteBody(let expected, let received): "the body ended after \(received) of \(expected) bytes"
        case .unsatisfiableRange(let size): "the requested range is outside the object's \(size) bytes"
        case .io(let message): "storage I/O error: \(message)"
        }
    }
}
