import Foundation
import SDCCore
import SDCJobs
import Yams

/// How a product is made.
public enum AlgorithmKind: Sendable, Hashable {
    /// sdc's own Level 0 → Level 1A: decode with the instrument's XTCE, write one ISTP CDF per product.
    case xtceL1A(XTCEL1AConfiguration)
    /// An instrument team's executable following the IMAP processing convention.
    case external(ExternalCommandConfiguration)
}

/// Settings of the built-in XTCE → L1A algorithm.
public struct XTCEL1AConfiguration: Sendable, Hashable {
    /// The packet definition.
    public var xtce: URL
    /// Folder with IMAP's attribute YAML (sammi schemas, `imap_constant_attrs.yaml`,
    /// `imap_default_global_cdf_attrs.yaml`, `imap_<instrument>_global_cdf_attrs.yaml`).
    public var attributesFolder: URL
    /// Variable attribute files in that folder, merged in order.
    public var variableAttributeFiles: [String]
    /// Container name → product descriptor; containers not listed are named after the container.
    public var products: [String: String]
    /// TT2000 nanoseconds at MET 0 (default: 2010-01-01T00:00:00 UTC, as IMAP).
    public var epochOffsetNanoseconds: Int64
}

/// Settings of an external algorithm.
public struct ExternalCommandConfiguration: Sendable, Hashable {
    /// Executable and fixed leading arguments; the IMAP arguments follow.
    public var command: [String]
    /// Extra environment variables.
    public var environment: [String: String]
    /// Set when the command is an entry point of an installed algorithm (`sdc algorithms install`): the worker runs
    /// it from that algorithm's environment.
    public var installed: InstalledAlgorithmEntry? = nil
}

/// The algorithm that makes one product, with its version and limits.
public struct AlgorithmSpec: Sendable, Hashable {
    public var product: ProductNode
    public var name: String
    /// Part of the job uniqueness key: new code makes new jobs.
    public var version: String
    /// Major version of the products (a processing campaign decision).
    public var majorVersion: Int
    public var timeoutSeconds: Int
    public var maxAttempts: Int
    public var kind: AlgorithmKind
    /// The products an external algorithm declares it makes (`makes:`), at any level or as ancillary files (data type
    /// `ancillary`); empty means its own product.
    public var makes: [ProductNode] = []
    /// The declared products the algorithm makes only when its data allow (`makes: [optional ...]`): a job that does not
    /// make them is not reported as having missed them.
    public var optionalProducts: Set<ProductNode> = []
    /// Whether jobs are made per day or per pointing (`partition:`).
    public var partition: Partition = .daily

    /// The products a job of this algorithm makes: for the built-in L1A, one per configured container product; for an
    /// external algorithm, what it declares (its own product when it declares nothing).
    public var products: [ProductNode] {
        switch kind {
        case .xtceL1A(let configuration) where !configuration.products.isEmpty:
            Set(configuration.products.values).sorted().map { ProductNode(product.source, product.dataType, $0) }
        case .xtceL1A, .external:
            makes.isEmpty ? [product] : makes
        }
    }
}

/// Why the registry could not be loaded.
public struct AlgorithmRegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { "algorithm registry: \(message)" }
}

/// The products sdc can make and how (a YAML file, paths relative to it):
///
/// ```yaml
/// algorithms:
///   - product: {instrument: swapi, level: l1a, descriptor: all}
///     name: xtce-l1a
///     version: "1.0.0"
///     major_version: 1
///     xtce: instruments/swapi/swapi_packet_definition.xml
///     attributes: cdf-attrs
///     variable_attributes: [imap_swapi_variable_attrs.yaml]
///     products: {SWP_HK: hk, SWP_SCI: sci}
///   - product: {instrument: swapi, level: l1b, descriptor: sci}
///     name: swapi-l1b
///     version: "0.3"
///     command: [python3, algorithms/swapi_l1b.py]
///     timeout_seconds: 600
///     max_attempts: 3
///   - product: {instrument: mag, level: l1b, descriptor: all}
///     name: imap-processing
///     version: "1.0.40"
///     command: [imap_cli]
///     makes: [l1b norm-mago, l1b norm-magi]
///   - product: {instrument: swapi, level: l2, descriptor: sci}
///     name: swapi-l2
///     algorithm: imap-processing      # installed with `sdc algorithms install`; or imap-processing==1.0.40
///     entry_point: imap_cli
/// ```
///
/// An entry with `algorithm` runs `entry_point` from that installed algorithm's environment; its job version is the
/// environment's digest (the newest installed version's, unless the entry or a reprocess request names a version).
///
/// `makes` lists every product a job makes, `<level> <descriptor>` (a `(swapi, l1, hk)` job makes `l1a hk` and
/// `l1b hk`) or `ancillary <descriptor>` for an ancillary file it uploads (MAG L1D's `ancillary spin-offsets`, named
/// `imap_mag_spin-offsets_<day>_<day>_vNNN.cdf`); an entry prefixed `optional` is made only when the data allow (MAG
/// L1D's gradiometry offsets), and its absence is not reported. It is required for external algorithms whose jobs have descriptor `all` or level `l1`, so that the
/// dependency document versions every product. Each product has one producer: ``checked(_:)``.
public struct AlgorithmRegistry: Sendable {
    public let algorithms: [ProductNode: AlgorithmSpec]

    /// A registry of `algorithms`; use ``checked(_:)`` for algorithms from a configuration, which refuses two
    /// producers for one product.
    public init(algorithms: [AlgorithmSpec]) {
        self.algorithms = Dictionary(algorithms.map { ($0.product, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// A registry of `algorithms` in which every product has one producer: two entries for one job, or two algorithms
    /// whose products overlap (the built-in `(swapi, l1a, all)` and an imap_cli `(swapi, l1, hk)` both making
    /// `(swapi, l1a, hk)`), are an error naming both. Two producers would write the same product under different
    /// versions at best, and silently lose one at worst.
    public static func checked(_ algorithms: [AlgorithmSpec]) throws(AlgorithmRegistryError) -> AlgorithmRegistry {
        for (index, first) in algorithms.enumerated() {
            for second in algorithms[(index + 1)...] {
                if first.product == second.product {
                    throw AlgorithmRegistryError(message: "\(first.product) has two entries (\(first.name) and \(second.name)): give each job one algorithm")
                }
                for made in first.products {
                    if let clash = second.products.first(where: made.overlaps) {
                        throw AlgorithmRegistryError(message: "\(made) made by \(first.name) for \(first.product) and \(clash) made by \(second.name) "
                                                     + "for \(second.product) are the same product: give each product one producer")
                    }
                }
            }
        }
        return AlgorithmRegistry(algorithms: algorithms)
    }

    /// The algorithm whose jobs make `product` (a concrete product, or `all` of a level), if any.
    public func producer(of product: ProductNode) -> AlgorithmSpec? {
        algorithms.values.first { $0.products.contains(where: product.overlaps) }
    }

    public func algorithm(for product: ProductNode) -> AlgorithmSpec? { algorithms[product] }

    private struct File: Decodable {
        struct Product: Decodable { var instrument: String; var level: String; var descriptor: String }
        struct Entry: Decodable {
            var product: Product
            var name: String
            var version: String?
            var major_version: Int?
            var timeout_seconds: Int?
            var max_attempts: Int?
            var xtce: String?
            var attributes: String?
            var variable_attributes: [String]?
            var products: [String: String]?
            var epoch_offset_ns: Int64?
            var command: [String]?
            var environment: [String: String]?
            var algorithm: String?
            var entry_point: String?
            var makes: [String]?
            var partition: String?
        }
        var algorithms: [Entry]
    }

    /// Loads and validates a registry file: every product must be a known instrument and level, have exactly one
    /// of `xtce` or `command`, and name files that exist.
    public init(contentsOf url: URL) throws(AlgorithmRegistryError) {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch { throw AlgorithmRegistryError(message: "cannot read \(url.path): \(error.localizedDescription)") }
        let file: File
        do { file = try YAMLDecoder().decode(File.self, from: text) } catch { throw AlgorithmRegistryError(message: "\(url.lastPathComponent) is not valid: \(error)") }
        let base = url.deletingLastPathComponent()
        func resolve(_ path: String) throws(AlgorithmRegistryError) -> URL {
            let resolved = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
            guard FileManager.default.fileExists(atPath: resolved.path) else {
                throw AlgorithmRegistryError(message: "\(path) (from \(url.lastPathComponent)) does not exist")
            }
            return resolved
        }
        var specs: [AlgorithmSpec] = []
        for entry in file.algorithms {
            let product = ProductNode(entry.product.instrument, entry.product.level, entry.product.descriptor)
            guard product.instrument != nil, product.dataLevel != nil else {
                throw AlgorithmRegistryError(message: "product \(product) is not an instrument, level and descriptor")
            }
            let kind: AlgorithmKind
            if let algorithm = entry.algorithm {
                guard entry.xtce == nil, entry.command == nil else {
                    throw AlgorithmRegistryError(message: "\(product): give exactly one of `xtce`, `command` or `algorithm`")
                }
                let installed = try InstalledAlgorithmEntry(product: product, algorithm: algorithm, entryPoint: entry.entry_point)
                kind = .external(ExternalCommandConfiguration(command: [installed.entryPoint], environment: entry.environment ?? [:],
                                                              installed: installed))
                specs.append(AlgorithmSpec(product: product, name: entry.name, version: installed.reference.description,
                                           majorVersion: entry.major_version ?? 1, timeoutSeconds: entry.timeout_seconds ?? 3600,
                                           maxAttempts: entry.max_attempts ?? 3, kind: kind))
                continue
            }
            guard let version = entry.version else { throw AlgorithmRegistryError(message: "\(product): `version` is required") }
            switch (entry.xtce, entry.command) {
            case (let xtce?, nil):
                guard let attributes = entry.attributes else {
                    throw AlgorithmRegistryError(message: "\(product): the built-in L1A needs `attributes` (the CDF attribute folder)")
                }
                let folder = try resolve(attributes)
                for file in entry.variable_attributes ?? [] { _ = try resolve(attributes + "/" + file) }
                kind = .xtceL1A(XTCEL1AConfiguration(
                    xtce: try resolve(xtce),
                    attributesFolder: folder,
                    variableAttributeFiles: entry.variable_attributes ?? [],
                    products: entry.products ?? [:],
                    epochOffsetNanoseconds: entry.epoch_offset_ns ?? 315_576_066_184_000_000))
            case (nil, let command?) where !command.isEmpty:
                let arguments = command.enumerated().map { index, argument in
                    index > 0 && !argument.hasPrefix("-") && FileManager.default.fileExists(atPath: base.appendingPathComponent(argument).path)
                        ? base.appendingPathComponent(argument).path : argument
                }
                kind = .external(ExternalCommandConfiguration(command: arguments, environment: entry.environment ?? [:]))
            default:
                throw AlgorithmRegistryError(message: "\(product): give exactly one of `xtce` (built-in L1A) or `command` (external algorithm)")
            }
            specs.append(AlgorithmSpec(product: product, name: entry.name, version: version, majorVersion: entry.major_version ?? 1,
                                       timeoutSeconds: entry.timeout_seconds ?? 3600, maxAttempts: entry.max_attempts ?? 3, kind: kind))
        }
        // One spec per entry, in order.
        for (index, entry) in file.algorithms.enumerated() {
            specs[index].partition = try Partition(entry.partition, of: specs[index].product)
            (specs[index].makes, specs[index].optionalProducts) = try Self.makes(entry.makes, of: specs[index].product, kind: specs[index].kind)
        }
        self = try Self.checked(specs)
    }

    /// The `makes:` entries of `product`'s algorithm, `[optional] <level> <descriptor>` or `[optional] ancillary
    /// <descriptor>` (the instrument being the product's), and those marked `optional`. Required for external
    /// algorithms whose jobs have descriptor `all` or level `l1`, so that every product they make gets a version in the
    /// dependency document (an ancillary output's descriptor too: imap_cli names it with that version's minor).
    private static func makes(_ entries: [String]?, of product: ProductNode,
                              kind: AlgorithmKind) throws(AlgorithmRegistryError) -> ([ProductNode], Set<ProductNode>) {
        var makes: [ProductNode] = []
        var optional = Set<ProductNode>()
        for text in entries ?? [] {
            var fields = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let isOptional = fields.first == "optional"
            if isOptional { fields.removeFirst() }
            guard fields.count == 2, fields[0] == "ancillary" || DataLevel(rawValue: fields[0]) != nil, !fields[1].contains("_"),
                  !fields[1].contains("/") else {
                throw AlgorithmRegistryError(message: "\(product): makes entry '\(text)' is not '[optional] <level> <descriptor>' or "
                                             + "'[optional] ancillary <descriptor>' (e.g. 'l1a hk', 'optional ancillary spin-offsets')")
            }
            let made = ProductNode(product.source, fields[0], fields[1])
            makes.append(made)
            if isOptional { optional.insert(made) }
        }
        if case .external = kind, makes.isEmpty, product.descriptor == "all" || product.dataType == "l1" {
            throw AlgorithmRegistryError(message: "\(product): list the products this algorithm makes, each with its level, so that every "
                                         + "product gets a version (e.g. makes: [l1a hk, l1b hk])")
        }
        return (makes, optional)
    }
}
