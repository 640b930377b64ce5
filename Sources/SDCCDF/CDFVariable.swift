/// How a variable fills records that were never written (VDR `SRecords`).
public enum CDFSparseRecords: Int32, Sendable {
    case none = 0
    /// Missing records read as the pad value.
    case padded = 1
    /// Missing records repeat the previous written record.
    case previous = 2
}

/// A variable as described by its VDR, with its attributes.
public struct CDFVariable: Sendable {
    /// The variable's name.
    public let name: String
    /// Number among the variables of its kind (z or r), in chain order.
    public let number: Int
    /// True for zVariables, false for rVariables.
    public let isZVariable: Bool
    public let dataType: CDFDataType
    /// Bytes per string for CHAR variables; 1 for numbers.
    public let numElems: Int
    /// Sizes of the dimensions that vary (are stored); the shape of one record.
    public let dimensions: [Int]
    /// True when the variable has one value per record; false for constants (labels, tables).
    public let recordVarying: Bool
    /// Highest record number written, -1 when none.
    public let maxRecord: Int
    /// Value returned for records that were never written.
    public let padValue: CDFValues?
    /// Compression declared in the VDR (blocks may still be stored uncompressed).
    public let compression: CDFCompression
    /// Records per compressed block (0 when unset).
    public let blockingFactor: Int
    public let sparseRecords: CDFSparseRecords
    /// Variable attributes in attribute-number order.
    public internal(set) var attributes: [CDFNamedEntry]

    /// File offset of the VDR.
    let descriptorOffset: Int
    /// File offset of the first top-level VXR (0 when no data).
    let indexHead: Int
    /// Sizes of all dimensions and which of them vary, in file order (before any majority change).
    let fileDimensions: [Int]

    /// Number of records (`maxRecord + 1`).
    public var recordCount: Int { maxRecord + 1 }

    /// Values per record (strings count as one value).
    public var valuesPerRecord: Int { dimensions.reduce(1, *) }

    /// Bytes of one stored record.
    var recordBytes: Int { valuesPerRecord * numElems * dataType.elementSize }

    /// The attribute named `name`, if the variable has it.
    public func attribute(_ name: String) -> CDFAttributeEntry? {
        attributes.first { $0.name == name }?.entry
    }
}
