import Foundation

/// An XTCE packet definition, loaded once and compiled into one layout per container.
///
/// Decoding follows space_packet_parser's container walk: start at the root container (`CCSDSPacket`), descend into
/// the one child whose restriction criteria hold, and stop at a container none of whose children match. A packet
/// that stops at the root or at an abstract container has an unknown type.
public struct PacketDefinition: Sendable {
    /// The `name` of the `SpaceSystem`.
    public let spaceSystemName: String?
    /// Every parameter of the definition by name.
    public let parameters: [String: ParameterDefinition]
    /// Layouts of every container reachable from the root, in document order; the root is the first.
    public let layouts: [PacketLayout]
    /// For each layout, the indices of the layouts that inherit from it.
    let children: [[Int]]
    /// Index (in the root layout) of the 11-bit field at bit 5 that holds the CCSDS APID, if the root has one.
    let apidFieldIndex: Int?

    /// The name of the root container.
    public var rootContainerName: String { layouts[0].name }

    /// Layouts that packets can decode into: concrete containers other than the root.
    public var concreteLayouts: [PacketLayout] {
        layouts.dropFirst().filter { !$0.isAbstract }
    }

    /// The layout of the container with the given name.
    public func layout(named name: String) -> PacketLayout? {
        layouts.first { $0.name == name }
    }

    /// Loads a definition from an XTCE file.
    public init(contentsOf url: URL) throws {
        try self.init(data: Data(contentsOf: url))
    }

    /// Loads a definition from XTCE document bytes.
    ///
    /// - Parameter rootContainer: the container decoding starts from; by default `CCSDSPacket`, or the only
    ///   container without a base container.
    public init(data: Data, rootContainer: String? = nil) throws(XTCEError) {
        let loader = try XTCELoader(document: XMLNode.parse(data))
        spaceSystemName = loader.spaceSystemName
        parameters = loader.parameters
        let containers = Dictionary(uniqueKeysWithValues: loader.containers.map { ($0.name, $0) })
        let rootName = try Self.rootName(rootContainer, containers: loader.containers)

        // The containers reachable from the root through inheritance, in document order with the root first.
        var childNames: [String: [String]] = [:]
        for container in loader.containers {
            if let base = container.baseContainer {
                guard containers[base] != nil else {
                    throw .unknownReference(kind: "container", name: base, element: "BaseContainer", line: container.line)
                }
                childNames[base, default: []].append(container.name)
            }
        }
        var reachable: Set<String> = [rootName]
        var pending = [rootName]
        while let next = pending.popLast() {
            for child in childNames[next] ?? [] {
                guard reachable.insert(child).inserted else {
                    throw .containerCycle(container: child, line: containers[child]?.line ?? 0)
                }
                pending.append(child)
            }
        }
        let order = [rootName] + loader.containers.map(\.name).filter { $0 != rootName && reachable.contains($0) }

        var layouts: [PacketLayout] = []
        for name in order {
            let container = containers[name]!
            let flattened = try Self.flatten(chainOf: container, containers: containers, parameters: loader.parameters)
            let inherited = try container.baseContainer.map { base throws(XTCEError) in
                try Self.flatten(chainOf: containers[base]!, containers: containers, parameters: loader.parameters).count
            } ?? 0
            layouts.append(try PacketLayout(
                name: name, isAbstract: container.isAbstract, parameters: flattened, inheritedFieldCount: inherited,
                restrictions: container.restrictions, line: container.line))
        }
        let index = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        self.children = order.map { name in (childNames[name] ?? []).compactMap { index[$0] } }
        self.layouts = layouts
        self.apidFieldIndex = layouts[0].fields.firstIndex { field in
            field.placement == .fromStart(bitOffset: 5) && field.bitCount == 11
                && field.parameter.encoding == .integer(bits: 11, signed: false, byteOrder: .mostSignificantByteFirst)
        }
    }

    private static func rootName(_ requested: String?, containers: [ContainerDefinition]) throws(XTCEError) -> String {
        if let requested {
            guard containers.contains(where: { $0.name == requested }) else {
                throw .unknownReference(kind: "container", name: requested, element: "ContainerSet", line: 0)
            }
            return requested
        }
        if containers.contains(where: { $0.name == "CCSDSPacket" }) { return "CCSDSPacket" }
        let roots = containers.filter { $0.baseContainer == nil }
        guard roots.count == 1, let root = roots.first else {
            throw .unsupportedLayout(container: roots.first?.name ?? "", line: roots.first?.line ?? 0,
                                     reason: "no CCSDSPacket container and not exactly one container without a base")
        }
        return root.name
    }

    /// Parameters of a container in packet order: its base chain's entries first, nested containers expanded.
    private static func flatten(chainOf container: ContainerDefinition, containers: [String: ContainerDefinition],
                                parameters: [String: ParameterDefinition]) throws(XTCEError) -> [ParameterDefinition] {
        var chain = [container]
        while let base = chain.last?.baseContainer {
            guard let next = containers[base] else {
                throw .unknownReference(kind: "container", name: base, element: "BaseContainer", line: chain.last?.line ?? 0)
            }
            guard !chain.contains(where: { $0.name == next.name }) else {
                throw .containerCycle(container: next.name, line: next.line)
            }
            chain.append(next)
        }
        var result: [ParameterDefinition] = []
        for link in chain.reversed() {
            try expand(link, into: &result, visiting: [], containers: containers, parameters: parameters)
        }
        return result
    }

    private static func expand(_ container: ContainerDefinition, into result: inout [ParameterDefinition], visiting: Set<String>,
                               containers: [String: ContainerDefinition], parameters: [String: ParameterDefinition]) throws(XTCEError) {
        guard !visiting.contains(container.name) else {
            throw .containerCycle(container: container.name, line: container.line)
        }
        for entry in container.entries {
            switch entry {
            case let .parameter(name, line):
                guard let parameter = parameters[name] else {
                    throw .unknownReference(kind: "parameter", name: name, element: "ParameterRefEntry", line: line)
                }
                result.append(parameter)
            case let .container(name, line):
                guard let nested = containers[name] else {
                    throw .unknownReference(kind: "container", name: name, element: "ContainerRefEntry", line: line)
                }
                try expand(nested, into: &result, visiting: visiting.union([container.name]), containers: containers, parameters: parameters)
            }
        }
    }
}
