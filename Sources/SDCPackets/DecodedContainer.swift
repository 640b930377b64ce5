import SDCCore

/// One field of a decoded container.
public struct DecodedField: Sendable {
    /// The parameter (name, type, encoding, descriptions).
    public let parameter: ParameterDefinition
    /// Raw values: integers, floats, or bytes for strings and binary fields.
    public let raw: Column

    public var name: String { parameter.name }
}

/// The packets of one container and APID, decoded into columns.
public struct DecodedContainer: Sendable {
    /// The container's layout.
    public let layout: PacketLayout
    /// The APID shared by the packets.
    public let apid: Int
    /// File offset of each packet, in file order.
    public let byteOffsets: [Int]
    /// Every field in packet order, header fields first.
    public let fields: [DecodedField]

    /// The container's name.
    public var name: String { layout.name }
    /// The number of packets.
    public var count: Int { byteOffsets.count }

    init(layout: PacketLayout, apid: Int, byteOffsets: [Int], rawColumns: [Column]) {
        self.layout = layout
        self.apid = apid
        self.byteOffsets = byteOffsets
        self.fields = zip(layout.fields, rawColumns).map { DecodedField(parameter: $0.parameter, raw: $1) }
    }

    /// The field with the given name.
    public func field(named name: String) -> DecodedField? {
        fields.first { $0.name == name }
    }

    /// Derived (engineering) values of every field, in field order, computed on the calling thread and up to `parallelism - 1`
    /// threads of ``ProcessingPool/shared``.
    public func derivedColumns(parallelism: Int = 1) throws(DerivedValueError) -> [Column] {
        var results = [Result<Column, DerivedValueError>?](repeating: nil, count: fields.count)
        results.withUnsafeMutableBufferPointer { slots in
            ProcessingPool.shared.forEach(fields.count, width: parallelism) { _, index in
                slots[index] = Result { () throws(DerivedValueError) in try derivedColumn(at: index) }
            }
        }
        return try results.map { result throws(DerivedValueError) in try result!.get() }
    }

    /// Derived values of the field at `index`, as space_packet_parser computes them: enumeration labels, booleans,
    /// decoded strings, and calibrated numbers as `float64` (the raw value itself where no calibrator applies).
    /// Fields without a derived value return their raw column.
    public func derivedColumn(at index: Int) throws(DerivedValueError) -> Column {
        var cache: [Int: Column] = [:]
        return try derivedColumn(index, cache: &cache)
    }

    private func derivedColumn(_ index: Int, cache: inout [Int: Column]) throws(DerivedValueError) -> Column {
        if let cached = cache[index] { return cached }
        let field = fields[index]
        let parameter = field.parameter
        let column: Column
        switch parameter.kind {
        case let .enumerated(entries):
            column = try labels(field, entries)
        case .boolean:
            column = .boolean((0..<count).map { field.raw.integer(at: $0) != WideInteger(Int64(0)) })
        case .string:
            column = try strings(field)
        case .binary:
            column = field.raw
        case .integer, .float, .absoluteTime, .relativeTime:
            guard let calibration = parameter.calibration else {
                column = field.raw
                break
            }
            column = try calibrated(index, calibration, cache: &cache)
        }
        cache[index] = column
        return column
    }

    private func labels(_ field: DecodedField, _ entries: [EnumerationEntry]) throws(DerivedValueError) -> Column {
        let table = EnumerationTable(entries)
        var failure: DerivedValueError?
        let labels = [String](unsafeUninitializedCapacity: count) { buffer, initialized in
            field.raw.forEachInteger { packet, raw in
                guard failure == nil else { return }
                guard let label = table.label(raw) else {
                    failure = .unknownEnumerationValue(field: field.name, raw: raw ?? Int64.max, packetIndex: packet)
                    return
                }
                (buffer.baseAddress! + packet).initialize(to: label)
                initialized = packet + 1
            }
        }
        if let failure { throw failure }
        return .string(labels)
    }

    private func strings(_ field: DecodedField) throws(DerivedValueError) -> Column {
        guard case let .bytes(column) = field.raw, case let .string(_, characterSet) = field.parameter.encoding else {
            return field.raw
        }
        var strings: [String] = []
        strings.reserveCapacity(count)
        for packet in 0..<count {
            let bytes = column[packet]
            let text: String
            switch characterSet {
            case .utf8, .usASCII:
                text = String(decoding: bytes, as: UTF8.self)
                let valid = characterSet == .utf8 ? text.utf8.elementsEqual(bytes) : bytes.allSatisfy { $0 < 0x80 }
                guard valid else { throw .invalidString(field: field.name, packetIndex: packet) }
            case .isoLatin1:
                text = String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
            }
            strings.append(text)
        }
        return .string(strings)
    }

    private func calibrated(_ index: Int, _ calibration: Calibration, cache: inout [Int: Column]) throws(DerivedValueError) -> Column {
        let field = fields[index]
        let criteria = layout.calibrationCriteria[index]
        // Columns of other fields the context criteria compare, raw or derived.
        struct Source: Hashable {
            let field: Int
            let calibrated: Bool
        }
        var sources: [Source: Column] = [:]
        for criterion in criteria.joined() {
            guard case let .field(field) = criterion.source else { continue }
            let calibrated = criterion.useCalibratedValue
            sources[Source(field: field, calibrated: calibrated)] = calibrated ? try derivedColumn(field, cache: &cache) : fields[field].raw
        }
        if calibration.contexts.isEmpty, case let .polynomial(terms)? = calibration.defaultCalibrator {
            return .float64(Self.polynomial(terms, over: field.raw))
        }
        if let piecewise = PiecewisePolynomial(calibration, criteria: criteria), let values = piecewise.evaluate(field.raw) {
            return .float64(values)
        }
        var values: [Double] = []
        values.reserveCapacity(count)
        for packet in 0..<count {
            guard let raw = field.raw.scalar(at: packet) else {
                values.append(.nan)
                continue
            }
            let value = calibration.calibrate(raw, criteria: criteria) { criterion in
                guard case let .field(field) = criterion.source,
                      let value = sources[Source(field: field, calibrated: criterion.useCalibratedValue)]?.scalar(at: packet) else {
                    return .real(.nan)
                }
                return value
            }
            guard let value else {
                let number: Double = switch raw {
                case let .integer(integer): integer.doubleValue
                case let .real(real): real
                case .text: .nan
                }
                throw .outsideSplineRange(field: field.name, raw: number, packetIndex: packet)
            }
            values.append(value)
        }
        return .float64(values)
    }

    /// A polynomial over a whole column (the common calibrator), with the integer fast paths.
    private static func polynomial(_ terms: [PolynomialTerm], over raw: Column) -> [Double] {
        let calibrator = Calibrator.polynomial(terms)
        let linear = terms.allSatisfy { $0.exponent <= 1 }
        func evaluate(_ value: Double) -> Double {
            var sum = 0.0
            for term in terms { sum += term.coefficient * (term.exponent == 0 ? 1 : value) }
            return sum
        }
        switch raw {
        case let .float32(values) where linear: return values.map { evaluate(Double($0)) }
        case let .float64(values) where linear: return values.map(evaluate)
        case let .uint8(values) where linear: return values.map { evaluate(Double($0)) }
        case let .uint16(values) where linear: return values.map { evaluate(Double($0)) }
        case let .uint32(values) where linear: return values.map { evaluate(Double($0)) }
        case let .int8(values) where linear: return values.map { evaluate(Double($0)) }
        case let .int16(values) where linear: return values.map { evaluate(Double($0)) }
        case let .int32(values) where linear: return values.map { evaluate(Double($0)) }
        default:
            return (0..<raw.count).map { raw.scalar(at: $0).flatMap(calibrator.calibrate) ?? .nan }
        }
    }
}

/// Label lookup for an enumeration: a direct table for small non-negative values, else a dictionary.
private struct EnumerationTable {
    private var table: [String?] = []
    private var dictionary: [Int64: String] = [:]

    init(_ entries: [EnumerationEntry]) {
        // Later duplicates win, as in a Python dict built in document order.
        if let largest = entries.map(\.value).max(), largest < 65536, entries.allSatisfy({ $0.value >= 0 }) {
            table = Array(repeating: nil, count: Int(largest) + 1)
            for entry in entries { table[Int(entry.value)] = entry.label }
        } else {
            for entry in entries { dictionary[entry.value] = entry.label }
        }
    }

    /// The label of a raw value (nil raw: an unsigned value beyond `Int64.max`).
    @inline(__always)
    func label(_ raw: Int64?) -> String? {
        guard let raw else { return nil }
        if !table.isEmpty {
            return raw >= 0 && raw < table.count ? table[Int(raw)] : nil
        }
        return dictionary[raw]
    }
}

/// The common context calibration: every criterion compares the field's own raw integer with a constant, so the
/// calibrated value is a piecewise polynomial of the raw value.
private struct PiecewisePolynomial {
    private let pieces: [(criteria: [(ComparisonOperator, WideInteger)], calibrator: Calibrator)]
    private let fallback: Calibrator?

    init?(_ calibration: Calibration, criteria: [[CompiledCriterion]]) {
        var pieces: [(criteria: [(ComparisonOperator, WideInteger)], calibrator: Calibrator)] = []
        for (context, compiled) in zip(calibration.contexts, criteria) {
            var bounds: [(ComparisonOperator, WideInteger)] = []
            for criterion in compiled {
                guard criterion.source == .ownRawValue, case let .integer(value) = criterion.comparand else { return nil }
                bounds.append((criterion.comparisonOperator, value))
            }
            pieces.append((bounds, context.calibrator))
        }
        self.pieces = pieces
        self.fallback = calibration.defaultCalibrator
    }

    /// The calibrated column, or nil if the raw column is not integer or a spline cannot be evaluated.
    func evaluate(_ raw: Column) -> [Double]? {
        var values: [Double] = []
        values.reserveCapacity(raw.count)
        var failed = false
        let isInteger = raw.forEachWideInteger { _, value in
            guard !failed else { return }
            let calibrator = pieces.first { piece in
                piece.criteria.allSatisfy { bound in
                    bound.0.holds(forOrdering: value < bound.1 ? -1 : (value == bound.1 ? 0 : 1))
                }
            }?.calibrator ?? fallback
            guard let calibrator else {
                values.append(value.doubleValue)
                return
            }
            guard let result = calibrator.calibrate(.integer(value)) else {
                failed = true
                return
            }
            values.append(result)
        }
        return isInteger && !failed ? values : nil
    }
}
