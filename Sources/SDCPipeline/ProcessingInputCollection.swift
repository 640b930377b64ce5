import Crypto
import Foundation
import SDCCore

/// The inputs of a job as imap-data-access's `ProcessingInputCollection` serializes them (pipeline.md §3.1):
/// a JSON array of `{"type": ..., "files": [bare names]}` groups, Python `json.dumps` spacing.
public struct ProcessingInputCollection: Sendable, Hashable {
    public struct Group: Sendable, Hashable {
        /// `science`, `ancillary`, `spice`, `spin` or `repoint`.
        public var type: String
        public var files: [String]

        public init(type: String, files: [String]) {
            self.type = type
            self.files = files
        }
    }

    public var groups: [Group]

    public init(groups: [Group] = []) {
        self.groups = groups
    }

    /// Parses the serialized form.
    public init?(json: String) {
        guard let array = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else { return nil }
        groups = array.compactMap { object in
            guard let type = object["type"] as? String, let files = object["files"] as? [String] else { return nil }
            return Group(type: type, files: files)
        }
    }

    /// Adds files to the group of `type` for one upstream node (a type may repeat, once per descriptor).
    public mutating func add(type: String, files: [String]) {
        guard !files.isEmpty else { return }
        groups.append(Group(type: type, files: files))
    }

    public var allFiles: [String] { groups.flatMap(\.files) }

    /// `[{"type": "science", "files": ["imap_..."]}, ...]`.
    public var json: String {
        JSONValue.array(groups.map { .object([("type", .string($0.type)), ("files", .array($0.files.map(JSONValue.string)))]) }).serialized()
    }

    /// The IMAP SDC's dependency hash: the first 8 hex digits of the SHA-256 of the serialized collection.
    public var hash: String {
        String(SHA256.hash(data: Array(json.utf8)).map { String(format: "%02x", $0) }.joined().prefix(8))
    }

    /// The group type of a cataloged file.
    public static func groupType(of file: IMAPFileName) -> String {
        switch file.fileClass {
        case .ancillary: "ancillary"
        case .spice:
            switch file.spice?.kernelType {
            case .spin: "spin"
            case .repoint: "repoint"
            default: "spice"
            }
        default: "science"
        }
    }
}
