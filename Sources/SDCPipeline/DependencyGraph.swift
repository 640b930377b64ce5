import SDCCore
import SDCJobs

/// How an upstream input relates to a downstream job (pipeline.md §2).
public enum Relationship: String, Sendable, CaseIterable {
    /// Required; its arrival triggers the job.
    case hard = "HARD"
    /// Required; its arrival does not trigger the job.
    case hardNoTrigger = "HARD_NO_TRIGGER"
    /// Used when present; its arrival triggers the job.
    case softTrigger = "SOFT_TRIGGER"
    /// Used when present; never triggers.
    case softNoTrigger = "SOFT_NO_TRIGGER"

    public var isRequired: Bool { self == .hard || self == .hardNoTrigger }
    public var triggers: Bool { self == .hard || self == .softTrigger }
}

/// One edge: `parent` is an input of `child`.
public struct DependencyEdge: Sendable, Hashable {
    public var parent: ProductNode
    public var child: ProductNode
    public var relationship: Relationship
    /// Line in the configuration file, for messages.
    public var line: Int
}

/// A configuration error, naming the file line and what is wrong.
public struct DependencyConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int?
    public let message: String
    public var description: String { line.map { "dependency configuration, line \($0): \(message)" } ?? "dependency configuration: \(message)" }
}

/// The dependency graph of the IMAP SDC's edge-list CSV (pipeline.md §2): one edge per line,
/// `primary_source, primary_data_type, primary_descriptor, dependent_source, dependent_data_type,
/// dependent_descriptor, relationship, dependency_type`; `#` comments and blank lines ignored.
public struct DependencyGraph: Sendable {
    public let edges: [DependencyEdge]
    private let downstream: [ProductNode: [DependencyEdge]]
    private let upstream: [ProductNode: [DependencyEdge]]

    static let kernelSources = Set(SPICEKernelType.allCases.map(\.rawValue))
    static let nonScienceTypes: Set<String> = ["ancillary", "spice", "spin", "repoint"]

    /// Parses and validates the CSV text: unknown instruments, levels or relationship kinds, and cycles, are errors.
    public init(csv: String) throws(DependencyConfigError) {
        var edges: [DependencyEdge] = []
        for (index, rawLine) in csv.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 8 else {
                throw DependencyConfigError(line: index + 1, message: "expected 8 comma-separated fields, found \(fields.count)")
            }
            let parent = ProductNode(fields[0], fields[1], fields[2])
            let child = ProductNode(fields[3], fields[4], fields[5])
            try Self.validate(parent, line: index + 1)
            try Self.validate(child, line: index + 1)
            guard let relationship = Relationship(rawValue: fields[6]) else {
                throw DependencyConfigError(line: index + 1, message: "unknown relationship '\(fields[6])': expected one of \(Relationship.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard ["DOWNSTREAM", "UPSTREAM"].contains(fields[7]) else {
                throw DependencyConfigError(line: index + 1, message: "unknown dependency type '\(fields[7])': expected DOWNSTREAM or UPSTREAM")
            }
            guard child.instrument != nil, child.dataLevel != nil else {
                throw DependencyConfigError(line: index + 1, message: "dependent \(child) is not a science product (instrument, level, descriptor)")
            }
            edges.append(DependencyEdge(parent: parent, child: child, relationship: relationship, line: index + 1))
        }
        self.edges = edges
        downstream = Dictionary(grouping: edges, by: \.parent)
        upstream = Dictionary(grouping: edges, by: \.child)
        try checkAcyclic()
    }

    private static func validate(_ node: ProductNode, line: Int) throws(DependencyConfigError) {
        if node.descriptor.isEmpty || node.descriptor.contains("_") {
            throw DependencyConfigError(line: line, message: "invalid descriptor '\(node.descriptor)' in \(node): must be non-empty without '_'")
        }
        if kernelSources.contains(node.source) {
            guard nonScienceTypes.contains(node.dataType) else {
                throw DependencyConfigError(line: line, message: "SPICE source '\(node.source)' needs data type spice, spin or repoint, not '\(node.dataType)'")
            }
            guard SPICEDescriptor(rawValue: node.descriptor) != nil else {
                throw DependencyConfigError(line: line, message: "SPICE descriptor '\(node.descriptor)' in \(node): expected historical or best")
            }
            return
        }
        guard Instrument(rawValue: node.source) != nil else {
            throw DependencyConfigError(line: line, message: "unknown source '\(node.source)': expected an instrument (\(Instrument.allCases.map(\.rawValue).joined(separator: ", "))) or a SPICE kernel type")
        }
        guard node.dataType == "ancillary" || DataLevel(rawValue: node.dataType) != nil else {
            throw DependencyConfigError(line: line, message: "unknown data type '\(node.dataType)' in \(node): expected a data level (\(DataLevel.allCases.map(\.rawValue).joined(separator: ", "))) or ancillary")
        }
    }

    /// Cycles make triggering loop forever; name one when found.
    private func checkAcyclic() throws(DependencyConfigError) {
        enum Mark { case visiting, done }
        var marks: [ProductNode: Mark] = [:]
        func visit(_ node: ProductNode, path: [ProductNode]) throws(DependencyConfigError) {
            if marks[node] == .done { return }
            if marks[node] == .visiting {
                let cycle = path.drop { $0 != node } + [node]
                let line = upstream[node]?.first?.line
                throw DependencyConfigError(line: line, message: "cycle: \(cycle.map(\.description).joined(separator: " -> "))")
            }
            marks[node] = .visiting
            for edge in downstream[node] ?? [] { try visit(edge.child, path: path + [node]) }
            marks[node] = .done
        }
        for node in Set(edges.map(\.parent)).sorted() { try visit(node, path: []) }
    }

    /// Jobs that the arrival of `file` triggers (HARD and SOFT_TRIGGER children of every node it belongs to).
    public func triggeredProducts(by file: IMAPFileName) -> [ProductNode] {
        let children = downstream.filter { $0.key.matches(file) }.flatMap(\.value).filter(\.relationship.triggers).map(\.child)
        return Array(Set(children)).sorted()
    }

    /// Products that take `file` as an input under any relationship, a `best` SPICE edge's stand-in kernels included
    /// (the days waiting for it are planned again).
    public func consumers(of file: IMAPFileName) -> [ProductNode] {
        Array(Set(downstream.filter { $0.key.accepts(file) }.flatMap(\.value).map(\.child))).sorted()
    }

    /// Every input edge of a product.
    public func inputs(of product: ProductNode) -> [DependencyEdge] {
        upstream[product] ?? []
    }

    /// All products the configuration can make.
    public var products: [ProductNode] { Array(upstream.keys).sorted() }
}
