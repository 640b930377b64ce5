/// Reads the supported XTCE subset from a parsed document into parameter and container definitions.
///
/// Anything that would change how bits are decoded and is not implemented is rejected with the element's name and
/// line; purely descriptive elements (descriptions, units, ancillary data) are ignored, and the static default alarm
/// ranges are read into ``ParameterDefinition/alarm``.
struct XTCELoader {
    private(set) var parameters: [String: ParameterDefinition] = [:]
    private(set) var containers: [ContainerDefinition] = []
    private(set) var spaceSystemName: String?

    /// Children of a parameter type that do not influence decoding.
    private static let descriptiveElements: Set<String> = [
        "LongDescription", "ShortDescription", "UnitSet", "AncillaryDataSet", "ValidRange", "ValidRangeSet",
        "DefaultAlarm", "ContextAlarmList", "AliasSet", "ToString", "ReferenceTime", "DefaultRateInStream",
    ]

    init(document root: XMLNode) throws(XTCEError) {
        guard root.name == "SpaceSystem" else {
            throw .notASpaceSystem(element: root.name, line: root.line)
        }
        spaceSystemName = root.attributes["name"]
        let telemetry = try root.requiredChild("TelemetryMetaData")
        var types: [String: XMLNode] = [:]
        for typeNode in telemetry.child(named: "ParameterTypeSet")?.children ?? [] {
            let name = try typeNode.requiredAttribute("name")
            guard types[name] == nil else { throw .duplicateName(kind: "parameter type", name: name, line: typeNode.line) }
            types[name] = typeNode
        }
        for parameterNode in telemetry.child(named: "ParameterSet")?.children ?? [] {
            guard parameterNode.name == "Parameter" else {
                throw .unsupportedElement(element: parameterNode.name, line: parameterNode.line,
                                          reason: "only <Parameter> is supported in a ParameterSet")
            }
            let name = try parameterNode.requiredAttribute("name")
            guard parameters[name] == nil else { throw .duplicateName(kind: "parameter", name: name, line: parameterNode.line) }
            let typeName = try parameterNode.requiredAttribute("parameterTypeRef")
            guard let typeNode = types[typeName] else {
                throw .unknownReference(kind: "parameter type", name: typeName, element: "Parameter", line: parameterNode.line)
            }
            parameters[name] = try Self.parameter(named: name, described: parameterNode, type: typeNode)
        }
        var names: Set<String> = []
        for containerNode in telemetry.child(named: "ContainerSet")?.children ?? [] {
            let container = try Self.container(containerNode)
            guard names.insert(container.name).inserted else {
                throw .duplicateName(kind: "container", name: container.name, line: containerNode.line)
            }
            containers.append(container)
        }
    }

    // MARK: Parameters

    private static func parameter(named name: String, described node: XMLNode, type: XMLNode) throws(XTCEError) -> ParameterDefinition {
        let kind: ParameterKind
        var encodingParent = type
        switch type.name {
        case "IntegerParameterType": kind = .integer
        case "FloatParameterType": kind = .float
        case "BooleanParameterType": kind = .boolean
        case "StringParameterType": kind = .string
        case "BinaryParameterType": kind = .binary
        case "EnumeratedParameterType": kind = .enumerated(try enumeration(of: type))
        case "AbsoluteTimeParameterType", "RelativeTimeParameterType":
            kind = type.name == "AbsoluteTimeParameterType" ? .absoluteTime : .relativeTime
            encodingParent = try type.requiredChild("Encoding")
        default:
            throw .unsupportedElement(element: type.name, line: type.line, reason: "parameter type not implemented")
        }
        let allowed = descriptiveElements.union(["EnumerationList", "Encoding"])
        if let unexpected = type.children.first(where: { !allowed.contains($0.name) && !$0.name.hasSuffix("DataEncoding") }) {
            throw .unsupportedElement(element: unexpected.name, line: unexpected.line, reason: "not implemented in \(type.name)")
        }
        let encodingNodes = encodingParent.children.filter { $0.name.hasSuffix("DataEncoding") }
        guard let encodingNode = encodingNodes.first else {
            throw .missingElement(parent: encodingParent.name, child: "IntegerDataEncoding", line: encodingParent.line)
        }
        let encoding = try fieldEncoding(encodingNode)
        switch (kind, encoding) {
        case (.integer, .integer), (.enumerated, .integer), (.boolean, .integer), (.float, .float), (.float, .integer),
             (.string, .string), (.binary, .binary), (.absoluteTime, .integer), (.absoluteTime, .float),
             (.relativeTime, .integer), (.relativeTime, .float):
            break
        default:
            throw .unsupportedElement(element: encodingNode.name, line: encodingNode.line,
                                      reason: "\(encodingNode.name) is not supported inside \(type.name)")
        }
        var calibration = try calibration(of: encodingNode)
        if kind == .absoluteTime || kind == .relativeTime, let scaling = try timeScaling(encodingParent) {
            calibration = Calibration(contexts: calibration?.contexts ?? [], defaultCalibrator: scaling)
        }
        switch kind {
        case .enumerated, .boolean, .string, .binary: calibration = nil  // derived value ignores calibrators
        default: break
        }
        let unit = type.descendant("UnitSet", "Unit")?.text
        return ParameterDefinition(
            name: name, typeName: type.attributes["name"] ?? "", kind: kind, encoding: encoding,
            unit: unit.flatMap { $0.isEmpty ? nil : $0 },
            shortDescription: node.attributes["shortDescription"] ?? node.child(named: "ShortDescription")?.text,
            longDescription: node.child(named: "LongDescription")?.text,
            calibration: calibration, line: node.line, alarm: try alarmRanges(of: type))
    }

    /// The `<DefaultAlarm><StaticAlarmRanges>` of a parameter type: `<WatchRange>`, `<WarningRange>`,
    /// `<DistressRange>`, `<CriticalRange>`, `<SevereRange>`, each with `minInclusive`, `minExclusive`,
    /// `maxInclusive`, `maxExclusive` bounds.
    private static func alarmRanges(of type: XMLNode) throws(XTCEError) -> AlarmRanges? {
        guard let alarm = type.child(named: "DefaultAlarm"), let ranges = alarm.child(named: "StaticAlarmRanges") else { return nil }
        var levels: [AlarmRanges.Level: AlarmRanges.Range] = [:]
        for node in ranges.children {
            guard node.name.hasSuffix("Range"), let level = AlarmRanges.Level(rawValue: String(node.name.dropLast(5)).lowercased()) else {
                throw .unsupportedElement(element: node.name, line: node.line, reason: "not an alarm range of StaticAlarmRanges")
            }
            func bound(_ attribute: String) throws(XTCEError) -> Double? {
                node.attributes[attribute] == nil ? nil : try doubleAttribute(node, attribute, default: nil)
            }
            levels[level] = AlarmRanges.Range(minInclusive: try bound("minInclusive"), minExclusive: try bound("minExclusive"),
                                              maxInclusive: try bound("maxInclusive"), maxExclusive: try bound("maxExclusive"))
        }
        let minViolations = alarm.attributes["minViolations"] == nil ? 1 : try integerAttribute(alarm, "minViolations", in: 1...1_000_000)
        return levels.isEmpty ? nil : AlarmRanges(ranges: levels, minViolations: minViolations)
    }

    private static func enumeration(of type: XMLNode) throws(XTCEError) -> [EnumerationEntry] {
        let list = try type.requiredChild("EnumerationList")
        var entries: [EnumerationEntry] = []
        for item in list.children {
            guard item.name == "Enumeration" else {
                throw .unsupportedElement(element: item.name, line: item.line, reason: "only <Enumeration> is supported")
            }
            let text = try item.requiredAttribute("value")
            guard let value = Int64(text.trimmingSpaces) else {
                throw .invalidValue(element: item.name, attribute: "value", value: text, line: item.line)
            }
            entries.append(EnumerationEntry(value: value, label: try item.requiredAttribute("label")))
        }
        return entries
    }

    private static func byteOrder(_ node: XMLNode) throws(XTCEError) -> ByteOrder {
        let text = node.attributes["byteOrder"] ?? ByteOrder.mostSignificantByteFirst.rawValue
        guard let order = ByteOrder(rawValue: text) else {
            throw .invalidValue(element: node.name, attribute: "byteOrder", value: text, line: node.line)
        }
        return order
    }

    private static func integerAttribute(_ node: XMLNode, _ attribute: String, in range: ClosedRange<Int>) throws(XTCEError) -> Int {
        let text = try node.requiredAttribute(attribute)
        guard let value = Int(text.trimmingSpaces), range.contains(value) else {
            throw .invalidValue(element: node.name, attribute: attribute, value: text, line: node.line)
        }
        return value
    }

    private static func fieldEncoding(_ node: XMLNode) throws(XTCEError) -> FieldEncoding {
        switch node.name {
        case "IntegerDataEncoding":
            let bits = try integerAttribute(node, "sizeInBits", in: 1...64)
            let scheme = node.attributes["encoding"] ?? "unsigned"
            let signed: Bool
            switch scheme {
            case "unsigned": signed = false
            case "signed", "twosComplement", "twosCompliment": signed = true
            default:
                throw .unsupportedElement(element: node.name, line: node.line, reason: "integer encoding \"\(scheme)\" not implemented")
            }
            let order = try byteOrder(node)
            guard order == .mostSignificantByteFirst || bits % 8 == 0 else {
                throw .unsupportedElement(element: node.name, line: node.line,
                                          reason: "leastSignificantByteFirst needs a whole number of bytes, not \(bits) bits")
            }
            return .integer(bits: bits, signed: signed, byteOrder: order)
        case "FloatDataEncoding":
            let bits = node.attributes["sizeInBits"] == nil ? 32 : try integerAttribute(node, "sizeInBits", in: 16...64)
            let scheme = node.attributes["encoding"] ?? "IEEE754"
            guard ["IEEE754", "IEEE754_1985", "IEEE-754"].contains(scheme) else {
                throw .unsupportedElement(element: node.name, line: node.line, reason: "float encoding \"\(scheme)\" not implemented")
            }
            guard [16, 32, 64].contains(bits) else {
                throw .invalidValue(element: node.name, attribute: "sizeInBits", value: String(bits), line: node.line)
            }
            return .float(bits: bits, byteOrder: try byteOrder(node))
        case "StringDataEncoding":
            let name = node.attributes["encoding"] ?? "UTF-8"
            guard let characterSet = StringCharacterSet(rawValue: name) else {
                throw .unsupportedElement(element: node.name, line: node.line, reason: "string encoding \"\(name)\" not implemented")
            }
            guard let size = node.child(named: "SizeInBits") else {
                let variable = node.child(named: "Variable") ?? node
                throw .unsupportedElement(element: variable.name, line: variable.line, reason: "only fixed-size strings are implemented")
            }
            if let extra = size.children.first(where: { $0.name != "Fixed" }) {
                throw .unsupportedElement(element: extra.name, line: extra.line, reason: "only fixed-size strings are implemented")
            }
            guard let fixed = size.descendant("Fixed", "FixedValue") else {
                throw .missingElement(parent: size.name, child: "Fixed/FixedValue", line: size.line)
            }
            return .string(bits: try positiveInteger(fixed), characterSet: characterSet)
        case "BinaryDataEncoding":
            let size = try node.requiredChild("SizeInBits")
            if let fixed = size.child(named: "FixedValue") {
                return .binary(.fixed(bits: try positiveInteger(fixed)))
            }
            if let dynamic = size.child(named: "DynamicValue") {
                let reference = try dynamic.requiredChild("ParameterInstanceRef")
                let name = try reference.requiredAttribute("parameterRef")
                let useCalibrated = (reference.attributes["useCalibratedValue"] ?? "true").lowercased() == "true"
                var slope = 1.0, intercept = 0.0
                if let adjustment = dynamic.child(named: "LinearAdjustment") {
                    slope = try doubleAttribute(adjustment, "slope", default: 0)
                    intercept = try doubleAttribute(adjustment, "intercept", default: 0)
                }
                return .binary(.dynamic(reference: name, slope: slope, intercept: intercept, useCalibratedValue: useCalibrated))
            }
            let other = size.children.first ?? size
            throw .unsupportedElement(element: other.name, line: other.line, reason: "binary size must be a FixedValue or a DynamicValue")
        default:
            throw .unsupportedElement(element: node.name, line: node.line, reason: "data encoding not implemented")
        }
    }

    private static func positiveInteger(_ node: XMLNode) throws(XTCEError) -> Int {
        guard let value = Int(node.text.trimmingSpaces), value > 0 else {
            throw .invalidValue(element: node.name, attribute: "text", value: node.text, line: node.line)
        }
        return value
    }

    private static func doubleAttribute(_ node: XMLNode, _ attribute: String, default fallback: Double?) throws(XTCEError) -> Double {
        guard let text = node.attributes[attribute] else {
            if let fallback { return fallback }
            throw .missingAttribute(element: node.name, attribute: attribute, line: node.line)
        }
        guard let value = Double(text.trimmingSpaces) else {
            throw .invalidValue(element: node.name, attribute: attribute, value: text, line: node.line)
        }
        return value
    }

    // MARK: Calibrators

    private static func calibration(of encoding: XMLNode) throws(XTCEError) -> Calibration? {
        var defaultCalibrator: Calibrator?
        var contexts: [ContextCalibrator] = []
        for child in encoding.children {
            switch child.name {
            case "DefaultCalibrator":
                guard let calibratorNode = child.children.first else {
                    throw .missingElement(parent: child.name, child: "PolynomialCalibrator", line: child.line)
                }
                defaultCalibrator = try calibrator(calibratorNode)
            case "ContextCalibratorList":
                for contextNode in child.children {
                    guard contextNode.name == "ContextCalibrator" else {
                        throw .unsupportedElement(element: contextNode.name, line: contextNode.line, reason: "expected <ContextCalibrator>")
                    }
                    let match = try contextNode.requiredChild("ContextMatch")
                    let criteria = try comparisons(in: match)
                    let wrapper = try contextNode.requiredChild("Calibrator")
                    guard let calibratorNode = wrapper.children.first else {
                        throw .missingElement(parent: wrapper.name, child: "PolynomialCalibrator", line: wrapper.line)
                    }
                    contexts.append(ContextCalibrator(criteria: criteria, calibrator: try calibrator(calibratorNode)))
                }
            case "SizeInBits", "Variable":
                continue
            default:
                throw .unsupportedElement(element: child.name, line: child.line, reason: "not implemented in \(encoding.name)")
            }
        }
        if defaultCalibrator == nil && contexts.isEmpty { return nil }
        return Calibration(contexts: contexts, defaultCalibrator: defaultCalibrator)
    }

    private static func calibrator(_ node: XMLNode) throws(XTCEError) -> Calibrator {
        switch node.name {
        case "PolynomialCalibrator":
            var terms: [PolynomialTerm] = []
            for term in node.children {
                guard term.name == "Term" else {
                    throw .unsupportedElement(element: term.name, line: term.line, reason: "expected <Term>")
                }
                let coefficient = try doubleAttribute(term, "coefficient", default: nil)
                let exponentText = try term.requiredAttribute("exponent")
                guard let exponent = Int(exponentText.trimmingSpaces), exponent >= 0 else {
                    throw .invalidValue(element: term.name, attribute: "exponent", value: exponentText, line: term.line)
                }
                terms.append(PolynomialTerm(coefficient: coefficient, exponent: exponent))
            }
            return .polynomial(terms)
        case "SplineCalibrator":
            let orderText = node.attributes["order"] ?? "0"
            guard let order = Int(orderText), order == 0 || order == 1 else {
                throw .unsupportedElement(element: node.name, line: node.line, reason: "spline order \(orderText) not implemented")
            }
            let extrapolate = (node.attributes["extrapolate"] ?? "false").lowercased() == "true"
            var points: [SplinePoint] = []
            for point in node.children {
                guard point.name == "SplinePoint" else {
                    throw .unsupportedElement(element: point.name, line: point.line, reason: "expected <SplinePoint>")
                }
                points.append(SplinePoint(raw: try doubleAttribute(point, "raw", default: nil),
                                          calibrated: try doubleAttribute(point, "calibrated", default: nil)))
            }
            guard points.count >= 2 else {
                throw .invalidValue(element: node.name, attribute: "SplinePoint count", value: String(points.count), line: node.line)
            }
            // Stable sort by raw value, as Python's `sorted` does.
            let sorted = points.enumerated().sorted { ($0.element.raw, $0.offset) < ($1.element.raw, $1.offset) }.map(\.element)
            return .spline(points: sorted, order: order, extrapolate: extrapolate)
        default:
            throw .unsupportedElement(element: node.name, line: node.line, reason: "calibrator not implemented")
        }
    }

    /// The comparisons of a `ContextMatch` or `RestrictionCriteria`: one `Comparison` or a `ComparisonList` (AND).
    private static func comparisons(in node: XMLNode) throws(XTCEError) -> [Comparison] {
        var result: [Comparison] = []
        for child in node.children {
            switch child.name {
            case "Comparison":
                result.append(try comparison(child))
            case "ComparisonList":
                for item in child.children {
                    guard item.name == "Comparison" else {
                        throw .unsupportedElement(element: item.name, line: item.line, reason: "expected <Comparison>")
                    }
                    result.append(try comparison(item))
                }
            default:
                throw .unsupportedElement(element: child.name, line: child.line, reason: "only Comparison and ComparisonList are implemented")
            }
        }
        guard !result.isEmpty else {
            throw .missingElement(parent: node.name, child: "Comparison", line: node.line)
        }
        return result
    }

    private static func comparison(_ node: XMLNode) throws(XTCEError) -> Comparison {
        let spelling = node.attributes["comparisonOperator"] ?? "=="
        guard let comparisonOperator = ComparisonOperator(xmlSpelling: spelling) else {
            throw .invalidValue(element: node.name, attribute: "comparisonOperator", value: spelling, line: node.line)
        }
        return Comparison(
            parameter: try node.requiredAttribute("parameterRef"), comparisonOperator: comparisonOperator,
            value: try node.requiredAttribute("value"),
            useCalibratedValue: (node.attributes["useCalibratedValue"] ?? "true").lowercased() == "true",
            line: node.line)
    }

    /// The `scale`/`offset` of a time type's `<Encoding>` as a polynomial (offset first, as space_packet_parser builds it).
    private static func timeScaling(_ encoding: XMLNode) throws(XTCEError) -> Calibrator? {
        var terms: [PolynomialTerm] = []
        if encoding.attributes["offset"] != nil {
            terms.append(PolynomialTerm(coefficient: try doubleAttribute(encoding, "offset", default: nil), exponent: 0))
        }
        if encoding.attributes["scale"] != nil {
            terms.append(PolynomialTerm(coefficient: try doubleAttribute(encoding, "scale", default: nil), exponent: 1))
        } else if !terms.isEmpty {
            terms.append(PolynomialTerm(coefficient: 1, exponent: 1))
        }
        return terms.isEmpty ? nil : .polynomial(terms)
    }

    // MARK: Containers

    private static func container(_ node: XMLNode) throws(XTCEError) -> ContainerDefinition {
        guard node.name == "SequenceContainer" else {
            throw .unsupportedElement(element: node.name, line: node.line, reason: "only <SequenceContainer> is implemented")
        }
        let name = try node.requiredAttribute("name")
        var base: String?
        var restrictions: [Comparison] = []
        var entries: [ContainerEntry] = []
        for child in node.children {
            switch child.name {
            case "BaseContainer":
                base = try child.requiredAttribute("containerRef")
                if let criteria = child.child(named: "RestrictionCriteria") {
                    restrictions = try comparisons(in: criteria)
                }
            case "EntryList":
                for entry in child.children {
                    if let modifier = entry.children.first {
                        throw .unsupportedElement(element: modifier.name, line: modifier.line,
                                                  reason: "entry locations, repeats and include conditions are not implemented")
                    }
                    switch entry.name {
                    case "ParameterRefEntry":
                        entries.append(.parameter(name: try entry.requiredAttribute("parameterRef"), line: entry.line))
                    case "ContainerRefEntry":
                        entries.append(.container(name: try entry.requiredAttribute("containerRef"), line: entry.line))
                    default:
                        throw .unsupportedElement(element: entry.name, line: entry.line, reason: "entry type not implemented")
                    }
                }
            case "LongDescription", "ShortDescription", "AncillaryDataSet", "AliasSet", "DefaultRateInStream":
                continue
            default:
                throw .unsupportedElement(element: child.name, line: child.line, reason: "not implemented in SequenceContainer")
            }
        }
        return ContainerDefinition(
            name: name, isAbstract: (node.attributes["abstract"] ?? "false").lowercased() == "true",
            baseContainer: base, restrictions: restrictions, entries: entries, line: node.line)
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace (attribute values are compared after trimming).
    var trimmingSpaces: SubSequence {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
