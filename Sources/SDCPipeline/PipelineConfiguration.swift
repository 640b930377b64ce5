import Foundation

/// The dependency graph and algorithm registry the pipeline runs with: a folder holding `dependencies.csv` and
/// `algorithms.yaml`, the configuration built into sdc (SWAPI, MAG and GLOWS from Level 0 to Level 1A with sdc's own
/// XTCE decoder), or a built-in profile named instead of a folder (``builtInProfiles``: `imap` runs the real
/// `imap_cli` of the installed algorithm `imap-processing` with IMAP's production dependency edges).
public struct PipelineConfiguration: Sendable {
    public let graph: DependencyGraph
    public let registry: AlgorithmRegistry
    /// Where the configuration came from, for logs.
    public let source: URL

    /// Why a configuration could not be loaded.
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The built-in configuration folder.
    public static var builtInFolder: URL { Bundle.module.url(forResource: "pipeline", withExtension: nil)! }

    /// The profiles built into sdc, each a folder beside the built-in configuration: `--pipeline imap`.
    public static let builtInProfiles = ["imap"]

    /// The folder `folder` names: a built-in profile's when no folder exists there and its last component is the
    /// name of one of ``builtInProfiles`` (`--pipeline imap`), else `folder` itself.
    public static func resolve(_ folder: URL) -> URL {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue { return folder }
        guard builtInProfiles.contains(folder.lastPathComponent) else { return folder }
        return builtInFolder.appendingPathComponent(folder.lastPathComponent)
    }

    /// The built-in dependency CSV.
    public static func builtInDependencies() throws -> String {
        try String(contentsOf: builtInFolder.appendingPathComponent("dependencies.csv"), encoding: .utf8)
    }

    /// Loads and validates `dependencies.csv` and `algorithms.yaml` from `folder` (the built-in ones when nil, a
    /// built-in profile's when it names one: ``resolve(_:)``). Every product the graph can make must have an algorithm.
    public init(folder: URL? = nil) throws {
        let folder = folder.map(Self.resolve) ?? Self.builtInFolder
        source = folder
        let csvURL = folder.appendingPathComponent("dependencies.csv")
        let csv: String
        do { csv = try String(contentsOf: csvURL, encoding: .utf8) } catch {
            throw LoadError(description: "cannot read \(csvURL.path): \(error.localizedDescription)")
        }
        graph = try DependencyGraph(csv: csv)
        registry = try AlgorithmRegistry(contentsOf: folder.appendingPathComponent("algorithms.yaml"))
        let missing = graph.products.filter { registry.algorithm(for: $0) == nil }
        guard missing.isEmpty else {
            throw LoadError(description: "\(folder.path): no algorithm in algorithms.yaml makes \(missing.map(\.description).joined(separator: ", "))")
        }
    }
}
