/// A CDF data type code (CDF Internal Format Description, table of data types).
///
/// Synonym pairs (`int1`/`byte`, `real4`/`float`, `real8`/`double`, `char`/`uchar`) are distinct codes on disk
/// but decode to the same Swift storage.
public enum CDFDataType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case int1 = 1
    case int2 = 2
    case int4 = 4
    case int8 = 8
    case uint1 = 11
    case uint2 = 12
    case uint4 = 14
    case byte = 41
    case real4 = 21
    case real8 = 22
    case float = 44
    case double = 45
    case epoch = 31
    case epoch16 = 32
    case tt2000 = 33
    case char = 51
    case uchar = 52

    /// Size in bytes of one element.
    public var elementSize: Int {
        switch self {
        case .int1, .uint1, .byte, .char, .uchar: 1
        case .int2, .uint2: 2
        case .int4, .uint4, .real4, .float: 4
        case .int8, .real8, .double, .epoch, .tt2000: 8
        case .epoch16: 16
        }
    }

    /// The Swift storage that values of this type decode into.
    public var storage: CDFValues.Kind {
        switch self {
        case .int1, .byte: .int8
        case .int2: .int16
        case .int4: .int32
        case .int8, .tt2000: .int64
        case .uint1: .uint8
        case .uint2: .uint16
        case .uint4: .uint32
        case .real4, .float: .float
        case .real8, .double, .epoch: .double
        case .epoch16: .epoch16
        case .char, .uchar: .strings
        }
    }

    /// True for CDF_CHAR and CDF_UCHAR.
    public var isString: Bool { storage == .strings }

    /// True for the three time types.
    public var isTime: Bool { self == .epoch || self == .epoch16 || self == .tt2000 }

    /// The name used by the CDF library and cdflib, e.g. `CDF_REAL8`.
    public var name: String {
        switch self {
        case .int1: "CDF_INT1"
        case .int2: "CDF_INT2"
        case .int4: "CDF_INT4"
        case .int8: "CDF_INT8"
        case .uint1: "CDF_UINT1"
        case .uint2: "CDF_UINT2"
        case .uint4: "CDF_UINT4"
        case .byte: "CDF_BYTE"
        case .real4: "CDF_REAL4"
        case .real8: "CDF_REAL8"
        case .float: "CDF_FLOAT"
        case .double: "CDF_DOUBLE"
        case .epoch: "CDF_EPOCH"
        case .epoch16: "CDF_EPOCH16"
        case .tt2000: "CDF_TIME_TT2000"
        case .char: "CDF_CHAR"
        case .uchar: "CDF_UCHAR"
        }
    }

    public var description: String { name }

    /// Looks a type up by its CDF name (`CDF_REAL8`, `CDF_TIME_TT2000`; `CDF_TT2000` is accepted too).
    public init?(name: String) {
        if name == "CDF_TT2000" {
            self = .tt2000
            return
        }
        guard let match = CDFDataType.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// True when both codes decode to the same values (e.g. CDF_REAL4 and CDF_FLOAT).
    public func isSynonym(of other: CDFDataType) -> Bool {
        storage == other.storage && isTime == other.isTime
    }
}
