import Crypto
import Foundation
import SDCCore

/// The inputs of a job as imap-data-access's `ProcessingInputCollection` serializes them (pipeline.md §3.1):
/// a JSON array of `{"type": ..., "files": [bare names]}` groups, Python `json.dumps` spacing.
public struct ProcessingInputCollection: Sendable, Hashable {
    public struct Group: Sendable, Hashable, Decodable {
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

    /// Parses the serialized form; nil when it is not an array of `{"type", "files"}` groups.
    public init?(json: String) {
        guard let groups = try? JSONDecoder().decode([Group].self, from: Data(json.utf8)) else { return nil }
        self.groups = groups
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
        String(SHA256.hash(data: Array(json.utf8)).hexString.prefix(8))
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
