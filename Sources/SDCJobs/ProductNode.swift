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

    /// `source/data_type/descriptor`, as job stores keep a job's products (no field holds `/`).
    public var path: String { "\(source)/\(dataType)/\(descriptor)" }

    /// Parses ``path``; nil unless it has three non-empty fields.
    public init?(path: String) {
        let fields = path.split(separator: "/", omittingEmptySubsequences: false)
        guard fields.count == 3, fields.allSatisfy({ !$0.isEmpty }) else { return nil }
        self.init(String(fields[0]), String(fields[1]), String(fields[2]))
    }

    /// Whether a product of this node can be the same file as one of `other`: same source and level, and the same
    /// descriptor or either being `all` (every product of the level).
    public func overlaps(_ other: ProductNode) -> Bool {
        source == other.source && dataType == other.dataType
            && (descriptor == other.descriptor || descriptor == "all" || other.descriptor == "all")
    }
}

/// The SQL condition that a `jobs` row makes a product overlapping one of a list (``ProductNode/overlaps(_:)``),
/// matched in the row's `products` text (a JSON array of ``ProductNode/path``) with `LIKE`, in SQLite and PostgreSQL.
package struct JobProductOverlap {
    /// `products LIKE ? ESCAPE '\' OR ...`, one placeholder per pattern.
    package let condition: String
    package let patterns: [String]

    package init(_ products: [ProductNode]) {
        func escaped(_ text: String) -> String {
            text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        }
        var patterns: [String] = []
        for product in products {
            let level = "%\"" + escaped(product.source) + "/" + escaped(product.dataType) + "/"
            if product.descriptor == "all" {
                patterns.append(level + "%")
            } else {
                patterns += [level + escaped(product.descriptor) + "\"%", level + "all\"%"]
            }
        }
        self.patterns = patterns
        condition = patterns.map { _ in "products LIKE ? ESCAPE '\\'" }.joined(separator: " OR ")
    }
}
