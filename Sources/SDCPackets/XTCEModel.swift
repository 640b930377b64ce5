/// Byte order of a multi-byte integer or float field.
public enum ByteOrder: String, Sendable, Equatable {
    case mostSignificantByteFirst
    case leastSignificantByteFirst
}

/// How a parameter's raw value is laid out in the packet.
public enum FieldEncoding: Sendable, Equatable {
    /// An integer of 1...64 bits, two's complement when `signed`.
    case integer(bits: Int, signed: Bool, byteOrder: ByteOrder)
    /// An IEEE-754 float of 16, 32 or 64 bits.
    case float(bits: Int, byteOrder: ByteOrder)
    /// A fixed-size character string; the raw value is its bytes.
    case string(bits: Int, characterSet: StringCharacterSet)
    /// A binary blob of fixed or dynamic size.
    case binary(BinarySize)

    /// The size in bits, or nil for a dynamic binary.
    public var fixedBitCount: Int? {
        switch self {
        case let .integer(bits, _, _), let .float(bits, _), let .string(bits, _): bits
        case let .binary(.fixed(bits)): bits
        case .binary(.dynamic): nil
        }
    }
}

/// Character sets of fixed strings whose decoding the library implements.
public enum StringCharacterSet: String, Sendable, Equatable {
    case utf8 = "UTF-8"
    case usASCII = "US-ASCII"
    case isoLatin1 = "ISO-8859-1"
}

/// The size rule of a binary field.
public enum BinarySize: Sendable, Equatable {
    case fixed(bits: Int)
    /// `Int(slope * value(reference) + intercept)` bits, where the value is raw or calibrated.
    case dynamic(reference: String, slope: Double, intercept: Double, useCalibratedValue: Bool)
}

/// What kind of value a parameter carries, which decides its derived (engineering) value.
public enum ParameterKind: Sendable, Equatable {
    case integer
    case float
    /// Raw integers mapped to labels; the derived value is the label.
    case enumerated([EnumerationEntry])
    /// The derived value is `raw != 0`.
    case boolean
    case string
    case binary
    /// A time parameter; the raw value is kept, the derived value applies the encoding's scale and offset.
    case absoluteTime
    case relativeTime
}

/// One `<Enumeration value= label=>`.
public struct EnumerationEntry: Sendable, Equatable {
    public let value: Int64
    public let label: String
}

/// A term `coefficient * raw^exponent` of a polynomial calibrator.
struct PolynomialTerm: Sendable, Equatable {
    let coefficient: Double
    let exponent: Int
}

/// A point of a spline calibrator.
struct SplinePoint: Sendable, Equatable {
    let raw: Double
    let calibrated: Double
}

/// A calibrator from raw to engineering value.
enum Calibrator: Sendable, Equatable {
    case polynomial([PolynomialTerm])
    /// Points sorted by raw value; order 0 (step) or 1 (linear).
    case spline(points: [SplinePoint], order: Int, extrapolate: Bool)
}

/// The relational operators XTCE comparisons use.
enum ComparisonOperator: String, Sendable, Equatable {
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="

    /// Accepts the XML spellings (`==`, `&lt;=` after unescaping, `eq`, `leq`, ...).
    init?(xmlSpelling: String) {
        switch xmlSpelling {
        case "==", "eq": self = .equal
        case "!=", "neq": self = .notEqual
        case "<", "&lt;", "lt": self = .less
        case "<=", "&lt;=", "leq": self = .lessOrEqual
        case ">", "&gt;", "gt": self = .greater
        case ">=", "&gt;=", "geq": self = .greaterOrEqual
        default: return nil
        }
    }

    /// Applies the operator to an ordering result (`-1`, `0`, `1`).
    func holds(forOrdering ordering: Int) -> Bool {
        switch self {
        case .equal: ordering == 0
        case .notEqual: ordering != 0
        case .less: ordering < 0
        case .lessOrEqual: ordering <= 0
        case .greater: ordering > 0
        case .greaterOrEqual: ordering >= 0
        }
    }
}

/// `<Comparison parameterRef= value= comparisonOperator= useCalibratedValue=>`.
struct Comparison: Sendable, Equatable {
    let parameter: String
    let comparisonOperator: ComparisonOperator
    let value: String
    let useCalibratedValue: Bool
    let line: Int
}

/// A context calibrator: applies when all its comparisons hold.
struct ContextCalibrator: Sendable, Equatable {
    let criteria: [Comparison]
    let calibrator: Calibrator
}

/// The calibration of a numeric parameter: context calibrators in document order, then the default.
struct Calibration: Sendable, Equatable {
    let contexts: [ContextCalibrator]
    let defaultCalibrator: Calibrator?
}

/// A telemetry parameter with its resolved type.
public struct ParameterDefinition: Sendable {
    public let name: String
    public let typeName: String
    public let kind: ParameterKind
    public let encoding: FieldEncoding
    /// Unit from the type's `UnitSet`, if any.
    public let unit: String?
    public let shortDescription: String?
    public let longDescription: String?
    let calibration: Calibration?
    let line: Int
    /// The type's `<DefaultAlarm>` static ranges, if it has them (context alarms are not read).
    public let alarm: AlarmRanges?

    /// Whether the derived value differs from the raw value (calibrated, enumerated, boolean or string).
    public var hasDerivedValue: Bool {
        switch kind {
        case .enumerated, .boolean, .string: true
        case .binary: false
        case .integer, .float, .absoluteTime, .relativeTime: calibration != nil
        }
    }
}

/// An entry of a container's `EntryList`.
enum ContainerEntry: Sendable, Equatable {
    case parameter(name: String, line: Int)
    case container(name: String, line: Int)
}

/// A `<SequenceContainer>` as written in the document (before flattening).
struct ContainerDefinition: Sendable {
    let name: String
    let isAbstract: Bool
    let baseContainer: String?
    let restrictions: [Comparison]
    let entries: [ContainerEntry]
    let line: Int
}

/// A numeric parameter type's `<DefaultAlarm><StaticAlarmRanges>`: for each alarm level, the range of acceptable
/// values (XTCE 1.2 §4.3.2.4.1.4); a value outside a level's range is in alarm at that level.
public struct AlarmRanges: Sendable, Equatable {
    /// XTCE's alarm levels, least severe first.
    public enum Level: String, Sendable, Hashable, CaseIterable, Comparable {
        case watch, warning, distress, critical, severe

        public static func < (lhs: Level, rhs: Level) -> Bool {
            (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
        }
    }

    /// An interval with optional inclusive or exclusive bounds.
    public struct Range: Sendable, Equatable {
        public var minInclusive: Double?
        public var minExclusive: Double?
        public var maxInclusive: Double?
        public var maxExclusive: Double?

        public init(minInclusive: Double? = nil, minExclusive: Double? = nil, maxInclusive: Double? = nil, maxExclusive: Double? = nil) {
            self.minInclusive = minInclusive
            self.minExclusive = minExclusive
            self.maxInclusive = maxInclusive
            self.maxExclusive = maxExclusive
        }

        /// Whether `value` is within every bound.
        public func contains(_ value: Double) -> Bool {
            if let bound = minInclusive, !(value >= bound) { return false }
            if let bound = minExclusive, !(value > bound) { return false }
            if let bound = maxInclusive, !(value <= bound) { return false }
            if let bound = maxExclusive, !(value < bound) { return false }
            return true
        }
    }

    /// The acceptable range at each level the definition gives.
    public let ranges: [Level: Range]
    /// How many consecutive samples must be out of range before the parameter is in alarm (`minViolations`, default 1).
    public let minViolations: Int

    public init(ranges: [Level: Range], minViolations: Int = 1) {
        self.ranges = ranges
        self.minViolations = minViolations
    }

    /// The most severe level whose range `value` is outside; nil when the value is acceptable at every level.
    public func violatedLevel(_ value: Double) -> Level? {
        Level.allCases.reversed().first { level in ranges[level].map { !$0.contains(value) } ?? false }
    }
}
