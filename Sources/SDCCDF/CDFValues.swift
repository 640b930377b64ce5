/// One CDF_EPOCH16 value: seconds since 0000-01-01T00:00:00 and picoseconds within that second.
public struct CDFEpoch16: Sendable, Hashable {
    public var seconds: Double
    public var picoseconds: Double

    public init(seconds: Double, picoseconds: Double) {
        self.seconds = seconds
        self.picoseconds = picoseconds
    }
}

/// A flat, typed array of CDF values in row-major order (records slowest, last dimension fastest).
///
/// The case is the Swift storage; the CDF data type travels alongside (TT2000 and CDF_INT8 both use `int64`,
/// CDF_EPOCH and CDF_REAL8 both use `double`). Strings hold one element per string (a CHAR variable with
/// `numElems` N stores each string in N bytes).
public enum CDFValues: Sendable, Equatable {
    case int8([Int8])
    case int16([Int16])
    case int32([Int32])
    case int64([Int64])
    case uint8([UInt8])
    case uint16([UInt16])
    case uint32([UInt32])
    case float([Float])
    case double([Double])
    case epoch16([CDFEpoch16])
    case strings([String])

    /// The storage kinds, one per case.
    public enum Kind: Sendable, Hashable {
        case int8, int16, int32, int64, uint8, uint16, uint32, float, double, epoch16, strings
    }

    public var kind: Kind {
        switch self {
        case .int8: .int8
        case .int16: .int16
        case .int32: .int32
        case .int64: .int64
        case .uint8: .uint8
        case .uint16: .uint16
        case .uint32: .uint32
        case .float: .float
        case .double: .double
        case .epoch16: .epoch16
        case .strings: .strings
        }
    }

    /// Number of elements (strings count as one element each).
    public var count: Int {
        switch self {
        case .int8(let v): v.count
        case .int16(let v): v.count
        case .int32(let v): v.count
        case .int64(let v): v.count
        case .uint8(let v): v.count
        case .uint16(let v): v.count
        case .uint32(let v): v.count
        case .float(let v): v.count
        case .double(let v): v.count
        case .epoch16(let v): v.count
        case .strings(let v): v.count
        }
    }

    /// The CDF type a writer uses when none is given: the natural type of the storage.
    public var defaultDataType: CDFDataType {
        switch self {
        case .int8: .int1
        case .int16: .int2
        case .int32: .int4
        case .int64: .int8
        case .uint8: .uint1
        case .uint16: .uint2
        case .uint32: .uint4
        case .float: .real4
        case .double: .real8
        case .epoch16: .epoch16
        case .strings: .char
        }
    }

}

/// One attribute entry: a data type and its values (a CHAR entry holds exactly one string).
public struct CDFAttributeEntry: Sendable, Equatable {
    public var dataType: CDFDataType
    public var values: CDFValues

    /// Creates an entry; throws when the values' storage does not match the data type.
    public init(dataType: CDFDataType, values: CDFValues) throws {
        guard dataType.storage == values.kind else {
            throw CDFError.invalidValues(name: dataType.name, reason: "storage \(values.kind) does not hold \(dataType.name)")
        }
        if dataType.isString, values.count != 1 {
            throw CDFError.invalidValues(name: dataType.name, reason: "a string entry holds exactly one string")
        }
        if !dataType.isString, values.count == 0 {
            throw CDFError.invalidValues(name: dataType.name, reason: "an entry needs at least one element")
        }
        self.dataType = dataType
        self.values = values
    }

    init(unchecked dataType: CDFDataType, values: CDFValues) {
        self.dataType = dataType
        self.values = values
    }

    /// A CDF_CHAR entry.
    public static func string(_ value: String) -> CDFAttributeEntry {
        CDFAttributeEntry(unchecked: .char, values: .strings([value]))
    }

    /// A CDF_TIME_TT2000 entry.
    public static func tt2000(_ value: Int64) -> CDFAttributeEntry {
        CDFAttributeEntry(unchecked: .tt2000, values: .int64([value]))
    }

    /// The string of a CHAR entry, nil otherwise.
    public var stringValue: String? {
        if case .strings(let s) = values { return s.first }
        return nil
    }

    /// Number of elements as stored on disk (bytes for strings, with at least one).
    var numElems: Int {
        if case .strings(let s) = values { return max(1, s.first?.utf8.count ?? 0) }
        return values.count
    }
}

/// A name with its attribute entry, used for the ordered attributes of a variable.
public struct CDFNamedEntry: Sendable, Equatable {
    public var name: String
    public var entry: CDFAttributeEntry

    public init(_ name: String, _ entry: CDFAttributeEntry) {
        self.name = name
        self.entry = entry
    }
}

/// A global attribute: a name and its numbered entries in entry-number order.
public struct CDFGlobalAttribute: Sendable, Equatable {
    public var name: String
    public var entries: [CDFAttributeEntry]

    public init(name: String, entries: [CDFAttributeEntry]) {
        self.name = name
        self.entries = entries
    }
}
