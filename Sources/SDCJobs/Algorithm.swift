import Foundation
import SDCCore

/// An algorithm installed with `sdc algorithms install NAME SPEC`: an isolated Python environment built from a pip
/// requirement, wheel, sdist or folder, identified by its digest.
///
/// The digest plays the role of the container image digest in the IMAP SDC's job table (pipeline.md §6): it is the
/// job's ``Job/algorithmVersion``, so jobs are deduplicated on (inputs hash, algorithm digest), and a worker runs a job
/// only in an environment whose digest matches.
public struct InstalledAlgorithm: Sendable, Hashable {
    /// The name the algorithm is installed under (`imap-processing`).
    public var name: String
    /// The version of the distribution the spec installed (`1.0.40`).
    public var version: String
    /// What pip installs: a requirement (`imap-processing==1.0.40`), or the absolute path of a wheel, sdist or folder.
    /// Workers install from it on their own machines.
    public var spec: String
    /// `sha256:` and the hex SHA-256 of ``AlgorithmDigest/input(python:freeze:)``.
    public var digest: String
    /// The interpreter version the environment runs (`3.11.7`).
    public var python: String
    /// The environment's resolved `pip freeze`, one requirement a line.
    public var freeze: String
    /// The console scripts of the installed distribution (`imap_cli`).
    public var entryPoints: [String]
    /// The products the pipeline configuration makes with it (recorded when a data center starts).
    public var products: [ProductNode]
    public var installedAt: UTCTime
    /// The host that installed and registered it.
    public var installedOn: String

    public init(name: String, version: String, spec: String, digest: String, python: String, freeze: String, entryPoints: [String],
                products: [ProductNode] = [], installedAt: UTCTime, installedOn: String) {
        self.name = name
        self.version = version
        self.spec = spec
        self.digest = digest
        self.python = python
        self.freeze = freeze
        self.entryPoints = entryPoints
        self.products = products
        self.installedAt = installedAt
        self.installedOn = installedOn
    }

    /// `NAME==VERSION`: how jobs (``Job/algorithm``), `sdc algorithms show` and `sdc reprocess --algorithm` name it.
    public var reference: String { AlgorithmReference(name: name, version: version).description }
}

/// `NAME` or `NAME==VERSION`: an installed algorithm, or one version of it.
public struct AlgorithmReference: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var version: String?

    public init(name: String, version: String?) {
        self.name = name
        self.version = version
    }

    /// Parses `NAME` or `NAME==VERSION`; throws naming what is wrong.
    public init(parsing text: String) throws(AlgorithmStoreError) {
        let parts = text.components(separatedBy: "==")
        guard parts.count <= 2 else { throw .invalidArgument("'\(text)' is not NAME or NAME==VERSION") }
        try AlgorithmReference.check(name: parts[0])
        if parts.count == 2 { try AlgorithmReference.check(version: parts[1]) }
        self.init(name: parts[0], version: parts.count == 2 ? parts[1] : nil)
    }

    public var description: String { version.map { "\(name)==\($0)" } ?? name }

    /// Names are 1 to 100 letters, digits, `.`, `_` and `-`, starting with a letter or digit (as PyPI's).
    public static func check(name: String) throws(AlgorithmStoreError) {
        guard isToken(name) else {
            throw .invalidArgument("algorithm name '\(name)' must be 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
    }

    /// Versions follow the same rule as names (PEP 440 versions, local labels with `+` included).
    public static func check(version: String) throws(AlgorithmStoreError) {
        guard isToken(version, extra: "+!") else {
            throw .invalidArgument("algorithm version '\(version)' must be 1 to 100 letters, digits, '.', '_', '-', '+' or '!'")
        }
    }

    private static func isToken(_ text: String, extra: String = "") -> Bool {
        guard let first = text.unicodeScalars.first, (1...100).contains(text.count),
              ("0"..."9").contains(first) || ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || "._-".unicodeScalars.contains(scalar) || extra.unicodeScalars.contains(scalar))
        }
    }
}

/// The digest of an environment.
public enum AlgorithmDigest {
    /// What is hashed: `python <version>` and the `pip freeze` lines, sorted, each ending in a newline.
    public static func input(python: String, freeze: String) -> String {
        let lines = freeze.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.sorted()
        return "python \(python)\n" + lines.map { $0 + "\n" }.joined()
    }

    /// Whether `text` is `sha256:` and 64 lowercase hex digits.
    public static func isValid(_ text: String) -> Bool {
        text.hasPrefix("sha256:") && text.utf8.count == 71
            && text.utf8.dropFirst(7).allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

/// Why an algorithm-store operation failed.
public enum AlgorithmStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The version is already registered with another digest: an environment is never changed in place.
    case conflict(String)
    case notFound(String)
    case invalidArgument(String)
    /// A stored row cannot be read back: the database was changed outside sdc or is damaged.
    case corruptRow(id: String, reason: String)
    case database(String)

    public var description: String {
        switch self {
        case .conflict(let message), .notFound(let message), .invalidArgument(let message): message
        case .corruptRow(let id, let reason): "the algorithms row \(id) is damaged: \(reason)"
        case .database(let message): "algorithm registry database error: \(message)"
        }
    }
}

/// The registry of installed algorithms, shared by every process of a data center (in its database), and the
/// algorithm versions that reprocessing campaigns are pinned to. ``SQLiteAlgorithmStore`` is the embedded
/// implementation; SDCPostgres has the scaled-out one.
public protocol AlgorithmStore: Sendable {
    /// Registers an installed algorithm. Registering the same name, version and digest again changes nothing and
    /// returns false; the same name and version with another digest is ``AlgorithmStoreError/conflict(_:)``.
    func register(_ algorithm: InstalledAlgorithm) async throws(AlgorithmStoreError) -> Bool
    /// Every registered algorithm, by name, then oldest first.
    func algorithms() async throws(AlgorithmStoreError) -> [InstalledAlgorithm]
    func algorithm(name: String, version: String) async throws(AlgorithmStoreError) -> InstalledAlgorithm?
    /// The most recently installed version of `name`: what new jobs run unless a version is pinned.
    func newest(name: String) async throws(AlgorithmStoreError) -> InstalledAlgorithm?
    /// Unregisters one version; false when it was not registered. (Pins of past campaigns stay, for the record.)
    func remove(name: String, version: String) async throws(AlgorithmStoreError) -> Bool
    /// Records the products the pipeline makes with `name` (every version when `version` is nil).
    func setProducts(_ products: [ProductNode], name: String, version: String?) async throws(AlgorithmStoreError)
    /// Pins the jobs of a reprocessing campaign to one version of `name`.
    func pin(campaign: Int64, name: String, version: String) async throws(AlgorithmStoreError)
    /// The version a campaign is pinned to for `name`, if any.
    func pinnedVersion(campaign: Int64, name: String) async throws(AlgorithmStoreError) -> String?
}

extension JobStore {
    /// The queued and running jobs that run the environment with `digest` (at most 10 000, most recent first).
    public func liveJobs(runningDigest digest: String) async throws(JobStoreError) -> [Job] {
        var live: [Job] = []
        for status in [JobStatus.running, .queued] {
            live += try await jobs(matching: JobFilter(status: status, limit: 10_000)).filter { $0.algorithmVersion == digest }
        }
        return live
    }
}

/// Lists as the algorithm stores keep them: products as `instrument/level/descriptor`, entry points by name, each
/// comma-separated.
package enum StoredList {
    package static func encode(_ products: [ProductNode]) -> String {
        products.sorted().map { "\($0.source)/\($0.dataType)/\($0.descriptor)" }.joined(separator: ",")
    }

    package static func decode(_ text: String) -> [ProductNode]? {
        var products: [ProductNode] = []
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { return nil }
            products.append(ProductNode(parts[0], parts[1], parts[2]))
        }
        return products
    }
}

extension StoredList {
    package static func encode(_ names: [String]) -> String { names.joined(separator: ",") }
    package static func names(_ text: String) -> [String] { text.split(separator: ",").map(String.init) }
}

extension InstalledAlgorithm {
    /// The JSON form the portal's `/portal/algorithms.json` lists and remote workers read.
    public var wire: JSONValue {
        .object([
            ("name", .string(name)), ("version", .string(version)), ("spec", .string(spec)), ("digest", .string(digest)),
            ("python", .string(python)), ("freeze", .string(freeze)), ("entry_points", .array(entryPoints.map(JSONValue.string))),
            ("products", .array(products.map { .string("\($0.source)/\($0.dataType)/\($0.descriptor)") })),
            ("installed_at", .string(installedAt.iso8601)), ("installed_on", .string(installedOn)),
        ])
    }

    /// The decoded shape of ``wire``.
    struct WireForm: Decodable {
        var name: String
        var version: String
        var spec: String
        var digest: String
        var python: String
        var freeze: String
        var entry_points: [String]
        var products: [String]
        var installed_on: String
    }

    /// Reads the list ``wire`` makes (an array); throws `DecodingError` naming what is wrong. The installation time
    /// is not read back (remote workers do not need it).
    public static func list(wire data: Data) throws -> [InstalledAlgorithm] {
        try JSONDecoder().decode([WireForm].self, from: data).map { form in
            guard let products = StoredList.decode(form.products.joined(separator: ",")) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "products of \(form.name) are not instrument/level/descriptor"))
            }
            return InstalledAlgorithm(name: form.name, version: form.version, spec: form.spec, digest: form.digest, python: form.python,
                                      freeze: form.freeze, entryPoints: form.entry_points, products: products,
                                      installedAt: UTCTime(secondsSince1970: 0), installedOn: form.installed_on)
        }
    }
}
