import SDCCore

/// A node of the graph: `(source, data_type, descriptor)`, e.g. `(swapi, l0, raw)`, `(mag, ancillary, l1b-cal)`,
/// `(leapseconds, spice, historical)`.
public struct ProductNode: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// An instrument, or a SPICE kernel type (including `spin` and `repoint`).
    public var source: String
    /// A data level, or `ancillary`, `spice`, `spin`, `repoint`.
    public var dataType: String
    /// The product descriptor; `all` for jobs that make every product of a level, `raw` for L0.
    public var descriptor: String

    public init(_ source: String, _ dataType: String, _ descriptor: String) {
        self.source = source
        self.dataType = dataType
        self.descriptor = descriptor
    }

    public var description: String { "(\(source), \(dataType), \(descriptor))" }

    public static func < (lhs: ProductNode, rhs: ProductNode) -> Bool {
        (lhs.source, lhs.dataType, lhs.descriptor) < (rhs.source, rhs.dataType, rhs.descriptor)
    }

    /// Science-level nodes name an instrument and a level.
    public var instrument: Instrument? { Instrument(rawValue: source) }
    public var dataLevel: DataLevel? { DataLevel(rawValue: dataType) }

    /// Whether a file of this catalog class, instrument/type, level and descriptor is an instance of this node.
    /// SPICE nodes match every kernel of their type (their descriptor, `historical` or `best`, is a selection rule).
    public func matches(_ file: IMAPFileName) -> Bool {
        switch file.fields {
        case .science(let f):
            return file.fileClass == .science && source == f.instrument.rawValue && dataType == f.dataLevel.rawValue
                && (descriptor == f.descriptor || descriptor == "all")
        case .ancillary(let f):
            return file.fileClass == .ancillary && dataType == "ancillary" && source == f.instrument.rawValue && descriptor == f.descriptor
        case .spice(let f):
            return source == f.kernelType.rawValue && ["spice", "spin", "repoint"].contains(dataType)
        }
    }
}
