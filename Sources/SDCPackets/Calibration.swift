import Foundation

/// An integer in `-2^63 ..< 2^64`, so that signed and unsigned 64-bit raw values compare exactly.
struct WideInteger: Comparable, Hashable, Sendable {
    let isNegative: Bool
    /// The two's-complement bit pattern (for negative values) or the magnitude.
    let bits: UInt64

    init(_ value: Int64) {
        isNegative = value < 0
        bits = UInt64(bitPattern: value)
    }

    init(_ value: UInt64) {
        isNegative = false
        bits = value
    }

    /// Parses a decimal integer as Python's `int()` does for the values XTCE files use.
    init?(parsing text: some StringProtocol) {
        let trimmed = text.trimmingSpaces
        if let signed = Int64(trimmed) {
            self.init(signed)
        } else if let unsigned = UInt64(trimmed) {
            self.init(unsigned)
        } else {
            return nil
        }
    }

    static func < (lhs: WideInteger, rhs: WideInteger) -> Bool {
        if lhs.isNegative != rhs.isNegative { return lhs.isNegative }
        return lhs.bits < rhs.bits
    }

    /// The nearest double (ties to even), as Python's `float(int)`.
    var doubleValue: Double {
        isNegative ? Double(Int64(bitPattern: bits)) : Double(bits)
    }

    /// The absolute value.
    var magnitude: UInt64 {
        isNegative ? Int64(bitPattern: bits).magnitude : bits
    }
}

/// A single value as comparisons and calibrators see it.
enum ScalarValue: Sendable, Equatable {
    case integer(WideInteger)
    case real(Double)
    case text(String)
}

/// A restriction or context comparison bound to where its left-hand value comes from.
struct CompiledCriterion: Sendable {
    enum Source: Sendable, Equatable {
        /// The raw value of the field being calibrated (a context calibrator referring to its own parameter).
        case ownRawValue
        /// A field of the same layout.
        case field(Int)
    }

    let source: Source
    let useCalibratedValue: Bool
    let comparisonOperator: ComparisonOperator
    let comparand: ScalarValue

    /// Coerces the comparison's value to the type of the value it is compared with, as space_packet_parser does.
    init(_ comparison: Comparison, source: Source, parameter: ParameterDefinition) throws(XTCEError) {
        self.source = source
        self.comparisonOperator = comparison.comparisonOperator
        let calibrated = comparison.useCalibratedValue && source != .ownRawValue
        self.useCalibratedValue = calibrated
        let invalid = XTCEError.invalidValue(element: "Comparison", attribute: "value", value: comparison.value, line: comparison.line)
        switch (calibrated ? parameter.derivedValueType : parameter.rawValueType) {
        case .integer:
            guard let value = WideInteger(parsing: comparison.value) else { throw invalid }
            comparand = .integer(value)
        case .real:
            guard let value = Double(comparison.value.trimmingSpaces) else { throw invalid }
            comparand = .real(value)
        case .text:
            comparand = .text(comparison.value)
        case .bytes:
            throw .unsupportedElement(element: "Comparison", line: comparison.line,
                                      reason: "comparison with the binary or string parameter \(parameter.name)")
        }
    }

    /// Whether `value` (of the type the comparand was coerced to) satisfies the comparison.
    func holds(for value: ScalarValue) -> Bool {
        switch (value, comparand) {
        case let (.integer(lhs), .integer(rhs)):
            return comparisonOperator.holds(forOrdering: lhs < rhs ? -1 : (lhs == rhs ? 0 : 1))
        case let (.real(lhs), .real(rhs)):
            return Self.holds(comparisonOperator, lhs, rhs)
        case let (.integer(lhs), .real(rhs)):
            return Self.holds(comparisonOperator, lhs.doubleValue, rhs)
        case let (.real(lhs), .integer(rhs)):
            return Self.holds(comparisonOperator, lhs, rhs.doubleValue)
        case let (.text(lhs), .text(rhs)):
            // Python orders strings by code point.
            let left = Array(lhs.unicodeScalars), right = Array(rhs.unicodeScalars)
            let ordering = left.elementsEqual(right) ? 0 : (left.lexicographicallyPrecedes(right) ? -1 : 1)
            return comparisonOperator.holds(forOrdering: ordering)
        default:
            return comparisonOperator == .notEqual
        }
    }

    /// IEEE comparison (every comparison with NaN is false except `!=`), as Python's float operators.
    private static func holds(_ comparisonOperator: ComparisonOperator, _ lhs: Double, _ rhs: Double) -> Bool {
        switch comparisonOperator {
        case .equal: lhs == rhs
        case .notEqual: lhs != rhs
        case .less: lhs < rhs
        case .lessOrEqual: lhs <= rhs
        case .greater: lhs > rhs
        case .greaterOrEqual: lhs >= rhs
        }
    }
}

/// The Python type of a parameter's raw or derived value, which decides how comparison values are coerced.
enum ScalarType: Sendable {
    case integer, real, text, bytes
}

extension ParameterDefinition {
    var rawValueType: ScalarType {
        switch encoding {
        case .integer: .integer
        case .float: .real
        case .string, .binary: .bytes
        }
    }

    var derivedValueType: ScalarType {
        switch kind {
        case .enumerated: .text
        case .boolean: .integer
        case .string: .text
        case .binary: .bytes
        case .integer, .float, .absoluteTime, .relativeTime: calibration == nil ? rawValueType : .real
        }
    }
}

/// Why a derived value could not be computed (space_packet_parser raises in the same situations).
public enum DerivedValueError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An enumerated field holds a raw value without a label.
    case unknownEnumerationValue(field: String, raw: Int64, packetIndex: Int)
    /// A spline calibrator without extrapolation received a value outside its points (or at its last point).
    case outsideSplineRange(field: String, raw: Double, packetIndex: Int)
    /// A fixed string is not valid in its character set.
    case invalidString(field: String, packetIndex: Int)

    public var description: String {
        switch self {
        case let .unknownEnumerationValue(field, raw, index):
            "\(field): raw value \(raw) of packet \(index) has no enumeration label"
        case let .outsideSplineRange(field, raw, index):
            "\(field): raw value \(raw) of packet \(index) is outside the spline calibrator's points"
        case let .invalidString(field, index):
            "\(field): bytes of packet \(index) are not a valid string in the declared encoding"
        }
    }
}

extension Calibrator {
    /// Evaluates the calibrator on a raw integer or float exactly as space_packet_parser 6.2.0 does on CPython 3.11:
    /// a polynomial is `sum(c * x**n)` evaluated left to right starting from 0, where `x**n` of an integer is exact.
    /// Returns nil when a spline cannot be evaluated at `raw`.
    func calibrate(_ raw: ScalarValue) -> Double? {
        switch self {
        case let .polynomial(terms):
            var sum = 0.0
            for term in terms {
                let power: Double = switch raw {
                case let .integer(value): Self.exactPower(value, term.exponent)
                case let .real(value): term.exponent == 1 ? value : Foundation.pow(value, Double(term.exponent))
                case .text: .nan
                }
                sum += term.coefficient * power
            }
            return sum
        case let .spline(points, order, extrapolate):
            let query: Double = switch raw {
            case let .integer(value): value.doubleValue
            case let .real(value): value
            case .text: .nan
            }
            return Self.spline(points, order: order, extrapolate: extrapolate, at: query)
        }
    }

    private static func spline(_ points: [SplinePoint], order: Int, extrapolate: Bool, at query: Double) -> Double? {
        guard let first = points.first, let last = points.last else { return nil }
        func line(_ a: SplinePoint, _ b: SplinePoint) -> Double {
            let slope = (b.calibrated - a.calibrated) / (b.raw - a.raw)
            return slope * (query - a.raw) + a.calibrated
        }
        let minimum = points.map(\.raw).min() ?? first.raw, maximum = points.map(\.raw).max() ?? last.raw
        if minimum <= query && query <= maximum {
            // Python: `[p.raw > q for p in points].index(True)` raises when q is the last point.
            guard let greater = points.firstIndex(where: { $0.raw > query }), greater > 0 else { return nil }
            return order == 0 ? points[greater - 1].calibrated : line(points[greater - 1], points[greater])
        }
        guard extrapolate else { return nil }
        if query > maximum {
            return order == 0 ? last.calibrated : line(points[points.count - 2], last)
        }
        return order == 0 ? first.calibrated : line(first, points[1])
    }

    /// `Double(x ** n)` for an integer `x`: the exact power rounded once to the nearest double (ties to even).
    static func exactPower(_ base: WideInteger, _ exponent: Int) -> Double {
        if exponent == 0 { return 1 }
        if exponent == 1 { return base.doubleValue }
        let negative = base.isNegative && exponent % 2 == 1
        let factor = base.magnitude
        // Most powers fit in 64 bits; the conversion then rounds once, correctly.
        var small: UInt64 = 1
        var fits = true
        for _ in 0..<exponent where fits {
            let (product, overflow) = small.multipliedReportingOverflow(by: factor)
            small = product
            fits = !overflow
        }
        if fits { return negative ? -Double(small) : Double(small) }
        var limbs: [UInt64] = [1]
        for _ in 0..<exponent {
            var carry: UInt64 = 0
            for index in limbs.indices {
                let (high, low) = limbs[index].multipliedFullWidth(by: factor)
                let (sum, overflow) = low.addingReportingOverflow(carry)
                limbs[index] = sum
                carry = high &+ (overflow ? 1 : 0)
            }
            if carry != 0 { limbs.append(carry) }
            while limbs.count > 1 && limbs[limbs.count - 1] == 0 { limbs.removeLast() }
        }
        let magnitude = roundedDouble(limbs)
        return negative ? -magnitude : magnitude
    }

    /// Rounds a little-endian multi-limb magnitude to the nearest double.
    private static func roundedDouble(_ limbs: [UInt64]) -> Double {
        let top = limbs.count - 1
        if top == 0 { return Double(limbs[0]) }
        let leading = limbs[top].leadingZeroBitCount
        let bitLength = top * 64 + (64 - leading)
        // The 64 most significant bits, with every lower bit folded into a sticky bit.
        var head = leading == 0 ? limbs[top] : (limbs[top] << leading) | (limbs[top - 1] >> (64 - leading))
        var sticky = leading == 0 ? limbs[top - 1] != 0 : (limbs[top - 1] << leading) != 0
        if top >= 2 { sticky = sticky || limbs[..<(top - 1)].contains { $0 != 0 } }
        if sticky { head |= 1 }
        return Double(head) * Foundation.pow(2.0, Double(bitLength - 64))
    }
}

extension Calibration {
    /// The calibrated value: the first context calibrator whose criteria all hold, else the default calibrator, else
    /// the raw value itself (space_packet_parser then keeps the uncalibrated number). `value` supplies the values of
    /// other fields of the same packet. Nil when a spline calibrator cannot be evaluated.
    func calibrate(_ raw: ScalarValue, criteria: [[CompiledCriterion]], value: (CompiledCriterion) -> ScalarValue) -> Double? {
        for (context, compiled) in zip(contexts, criteria) {
            let matches = compiled.allSatisfy { criterion in
                criterion.holds(for: criterion.source == .ownRawValue ? raw : value(criterion))
            }
            if matches { return context.calibrator.calibrate(raw) }
        }
        if let defaultCalibrator { return defaultCalibrator.calibrate(raw) }
        switch raw {
        case let .integer(value): return value.doubleValue
        case let .real(value): return value
        case .text: return nil
        }
    }
}
