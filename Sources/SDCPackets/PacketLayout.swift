/// Where a field lies in a packet of its container.
public enum FieldPlacement: Sendable, Equatable {
    /// At a fixed bit offset from the start of the packet.
    case fromStart(bitOffset: Int)
    /// Starting `bitsBeforeEnd` bits before the packet end (fields that follow the variable-size field).
    case fromEnd(bitsBeforeEnd: Int)
    /// The variable-size field: starts after the fixed prefix, ends where the fixed suffix begins.
    case variable(startBit: Int)
}

/// One field of a compiled container layout.
public struct LayoutField: Sendable {
    public let parameter: ParameterDefinition
    public let placement: FieldPlacement
    /// Size in bits, nil for the variable-size field.
    public let bitCount: Int?

    public var name: String { parameter.name }
}

/// How the variable-size field's size follows from another field of the packet.
struct VariableSizeRule: Sendable {
    /// Index (in the layout) of the field holding the size, always before the variable field.
    let referenceField: Int
    let slope: Double
    let intercept: Double
    let useCalibratedValue: Bool
}

/// A concrete container compiled once into fixed bit positions: a fixed prefix, at most one variable-size binary
/// field, and a fixed suffix measured from the packet end.
public struct PacketLayout: Sendable {
    /// The container's name.
    public let name: String
    /// Every field of the container (inherited and nested ones included), in packet order.
    public let fields: [LayoutField]
    /// Bits before the variable-size field, or the whole packet if there is none.
    public let prefixBits: Int
    /// Bits after the variable-size field.
    public let suffixBits: Int
    /// Index of the variable-size field, if any.
    public let variableFieldIndex: Int?
    /// Whether the container is declared abstract (only concrete layouts receive packets).
    public let isAbstract: Bool
    let variableSize: VariableSizeRule?
    /// Restriction criteria of this container (against fields of its base container), compiled.
    let restrictions: [CompiledCriterion]
    /// Per field, per context calibrator, its compiled criteria.
    let calibrationCriteria: [[[CompiledCriterion]]]
    let line: Int

    /// The exact packet size in bits for a fixed layout; nil when one field is variable.
    public var fixedBitCount: Int? { variableFieldIndex == nil ? prefixBits : nil }

    /// The index of the field with the given name.
    public func fieldIndex(named fieldName: String) -> Int? {
        fields.firstIndex { $0.name == fieldName }
    }

    /// Compiles a flattened list of parameters into a layout. The first `inheritedFieldCount` parameters come from the
    /// base container; the restriction criteria may refer only to those (they are decided before the rest is read).
    init(name: String, isAbstract: Bool, parameters: [ParameterDefinition], inheritedFieldCount: Int,
         restrictions: [Comparison], line: Int) throws(XTCEError) {
        self.name = name
        self.isAbstract = isAbstract
        self.line = line
        var names: Set<String> = []
        for parameter in parameters where !names.insert(parameter.name).inserted {
            throw .unsupportedLayout(container: name, line: line, reason: "parameter \(parameter.name) appears twice")
        }
        guard parameters.filter({ $0.encoding.fixedBitCount == nil }).count <= 1 else {
            throw .unsupportedLayout(container: name, line: line, reason: "more than one variable-size field")
        }
        let variableIndex = parameters.firstIndex { $0.encoding.fixedBitCount == nil }
        var fields: [LayoutField] = []
        var prefix = 0
        for parameter in parameters[..<(variableIndex ?? parameters.endIndex)] {
            let bits = parameter.encoding.fixedBitCount ?? 0
            fields.append(LayoutField(parameter: parameter, placement: .fromStart(bitOffset: prefix), bitCount: bits))
            prefix += bits
        }
        var suffix = 0
        var rule: VariableSizeRule?
        if let variableIndex {
            let variable = parameters[variableIndex]
            guard case let .binary(.dynamic(reference, slope, intercept, useCalibrated)) = variable.encoding else {
                throw .unsupportedLayout(container: name, line: line, reason: "\(variable.name) has no size")
            }
            guard let referenceIndex = fields.lastIndex(where: { $0.name == reference }) else {
                throw .unsupportedLayout(container: name, line: line,
                                         reason: "size of \(variable.name) refers to \(reference), which does not precede it")
            }
            let referenced = fields[referenceIndex].parameter
            let isLabelled: Bool = switch referenced.kind {
            case .enumerated, .boolean: true
            default: false
            }
            guard case .integer = referenced.encoding, !(useCalibrated && isLabelled) else {
                throw .unsupportedLayout(container: name, line: line,
                                         reason: "size of \(variable.name) must come from an integer field, \(reference) is not one")
            }
            rule = VariableSizeRule(referenceField: referenceIndex, slope: slope, intercept: intercept,
                                    useCalibratedValue: useCalibrated && referenced.calibration != nil)
            fields.append(LayoutField(parameter: variable, placement: .variable(startBit: prefix), bitCount: nil))
            suffix = parameters[(variableIndex + 1)...].reduce(0) { $0 + ($1.encoding.fixedBitCount ?? 0) }
            var remaining = suffix
            for parameter in parameters[(variableIndex + 1)...] {
                fields.append(LayoutField(parameter: parameter, placement: .fromEnd(bitsBeforeEnd: remaining),
                                          bitCount: parameter.encoding.fixedBitCount))
                remaining -= parameter.encoding.fixedBitCount ?? 0
            }
        }
        self.fields = fields
        self.prefixBits = prefix
        self.suffixBits = suffix
        self.variableFieldIndex = variableIndex
        self.variableSize = rule
        self.restrictions = try restrictions.map { comparison throws(XTCEError) in
            guard let index = fields[..<inheritedFieldCount].lastIndex(where: { $0.name == comparison.parameter }) else {
                throw .unknownReference(kind: "parameter", name: comparison.parameter, element: "Comparison", line: comparison.line)
            }
            return try CompiledCriterion(comparison, source: .field(index), parameter: fields[index].parameter)
        }
        // Context calibrators compare the field's own raw value or fields that precede it.
        self.calibrationCriteria = try fields.indices.map { index throws(XTCEError) in
            let field = fields[index]
            return try (field.parameter.calibration?.contexts ?? []).map { context throws(XTCEError) in
                try context.criteria.map { criterion throws(XTCEError) in
                    if let source = fields[..<index].lastIndex(where: { $0.name == criterion.parameter }) {
                        return try CompiledCriterion(criterion, source: .field(source), parameter: fields[source].parameter)
                    }
                    guard criterion.parameter == field.name else {
                        throw .unsupportedLayout(container: name, line: criterion.line,
                                                 reason: "calibrator of \(field.name) refers to \(criterion.parameter), which does not precede it")
                    }
                    return try CompiledCriterion(criterion, source: .ownRawValue, parameter: field.parameter)
                }
            }
        }
    }
}
