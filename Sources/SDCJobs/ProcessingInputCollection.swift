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

    /// Group types that production gathers into one group each, whatever the upstream nodes: every SPICE kernel
    /// goes into the one `spice` group (imap_cli counts groups, and refuses a job with more than it expects).
    public static let singleGroupTypes: Set<String> = ["spice", "spin", "repoint"]

    /// Adds the files of one upstream node: science and ancillary files as a group of their own (those types repeat,
    /// once per descriptor); SPICE, spin and repoint files into the one group of their type.
    public mutating func add(type: String, files: [String]) {
        guard !files.isEmpty else { return }
        if Self.singleGroupTypes.contains(type), let index = groups.firstIndex(where: { $0.type == type }) {
            groups[index].files += files.filter { !groups[index].files.contains($0) }
        } else {
            groups.append(Group(type: type, files: files))
        }
    }

    public var allFiles: [String] { groups.flatMap(\.files) }

    /// `[{"type": "science", "files": ["imap_..."]}, ...]`.
    public var json: String { jsonValue.serialized() }

    /// The collection as a JSON value.
    public var jsonValue: JSONValue {
        JSONValue.array(groups.map { .object([("type", .string($0.type)), ("files", .array($0.files.map(JSONValue.string)))]) })
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

/// The document an external algorithm receives with `--dependency` (pipeline.md §3.2): the input collection and the
/// version of every product the job makes, keyed by product descriptor, as imap_cli looks them up (by the last field
/// of each dataset's `Logical_source`):
///
/// `{"dependency": [<collection>], "version": {"hk": {"major_version": 1, "minor_version": 2}}}`
///
/// Every product of a job is written with the job's version, so the version block maps each descriptor the job makes
/// (at any level) to that one version.
public struct DependencyDocument: Sendable, Hashable {
    public var inputs: ProcessingInputCollection
    /// The descriptors of the products, each once, in the order first made.
    public var descriptors: [String]
    public var version: ProductVersion

    public init(inputs: ProcessingInputCollection, products: [ProductNode], version: ProductVersion) {
        self.inputs = inputs
        var seen = Set<String>()
        descriptors = products.map(\.descriptor).filter { seen.insert($0).inserted }
        self.version = version
    }

    /// The JSON text, Python `json.dumps` spacing.
    public var json: String {
        let versions = descriptors.map { descriptor -> (String, JSONValue) in
            (descriptor, .object([("major_version", .int(version.major ?? 0)), ("minor_version", .int(version.minor))]))
        }
        return JSONValue.object([("dependency", inputs.jsonValue), ("version", .object(versions))]).serialized()
    }

    /// The name the IMAP batch starter gives the document when it uploads it (naming.md §4, a `DependencyFilePath`):
    /// `imap_<inst>_<level>_<descriptor>-<dependency hash>_<date>[-repointNNNNN]_<version>.json`. Nil when `product` is
    /// not an instrument and level.
    public static func fileName(for product: ProductNode, startDate: FileDate, repointing: Int?, version: ProductVersion,
                                inputsHash: String) -> ScienceFileName? {
        guard let instrument = product.instrument, let level = product.dataLevel else { return nil }
        return ScienceFileName(instrument: instrument, dataLevel: level, descriptor: "\(product.descriptor)-\(inputsHash)", startDate: startDate,
                               repointing: repointing, version: version, fileExtension: "json")
    }
}
