/// One finding of the ISTP check.
public struct ISTPIssue: Sendable, Equatable, CustomStringConvertible {
    /// The variable concerned, nil for file-level findings.
    public let variable: String?
    public let message: String

    public var description: String { (variable.map { "\($0): " } ?? "") + message }
}

/// The result of checking a file: errors break the ISTP rules, warnings are recommendations.
public struct ISTPReport: Sendable {
    public var errors: [ISTPIssue] = []
    public var warnings: [ISTPIssue] = []

    /// A readable report, one finding per line, ending with a summary.
    public var text: String {
        var lines = errors.map { "ERROR   \($0)" } + warnings.map { "WARNING \($0)" }
        lines.append("\(errors.count) error(s), \(warnings.count) warning(s)")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Checks a CDF against the ISTP/SPDF metadata rules as SPDF's validator and sammi-cdf do: required global
/// attributes, variable attributes required per `VAR_TYPE`, `DEPEND_n` and `LABL_PTR_n` targets and sizes,
/// and `FILLVAL`/`VALIDMIN`/`VALIDMAX`/`SCALEMIN`/`SCALEMAX` typed like their variable.
public struct ISTPValidator: Sendable {
    /// Global attributes ISTP requires (sammi's schema; `Project` and `Discipline` included).
    public var requiredGlobalAttributes = [
        "Data_type", "Data_version", "Descriptor", "Discipline", "Instrument_type", "Logical_file_id",
        "Logical_source", "Logical_source_description", "Mission_group", "PI_affiliation", "PI_name", "Project",
        "Source_name", "TEXT",
    ]
    /// Global attributes ISTP recommends; missing ones are warnings.
    public var recommendedGlobalAttributes = ["Generation_date", "Acknowledgement", "Rules_of_use"]

    static let displayTypes: Set<String> = ["time_series", "spectrogram", "stack_plot", "image", "no_plot", "plasmagram"]
    static let typedAttributes = ["FILLVAL", "VALIDMIN", "VALIDMAX", "SCALEMIN", "SCALEMAX"]

    public init() {}

    public func validate(_ reader: CDFReader) -> ISTPReport {
        var report = ISTPReport()
        func error(_ variable: String?, _ message: String) { report.errors.append(ISTPIssue(variable: variable, message: message)) }
        func warning(_ variable: String?, _ message: String) { report.warnings.append(ISTPIssue(variable: variable, message: message)) }

        for name in requiredGlobalAttributes {
            let entries = reader.globalAttribute(name)?.entries ?? []
            if entries.isEmpty || entries.allSatisfy({ ($0.stringValue ?? "x").trimmed.isEmpty }) {
                error(nil, "required global attribute \(name) is missing or empty")
            }
        }
        for name in recommendedGlobalAttributes where reader.globalAttribute(name) == nil {
            warning(nil, "recommended global attribute \(name) is missing")
        }
        if let links = reader.globalAttribute("HTTP_LINK")?.entries.count {
            for other in ["LINK_TEXT", "LINK_TITLE"] where (reader.globalAttribute(other)?.entries.count ?? 0) != links {
                warning(nil, "\(other) should have as many entries as HTTP_LINK (\(links))")
            }
        }
        if !reader.variables.contains(where: { $0.dataType == .tt2000 }) {
            error(nil, "no CDF_TIME_TT2000 variable (ISTP needs an epoch)")
        }
        var seenNames: [String: String] = [:]
        for variable in reader.variables {
            let name = variable.name
            if let other = seenNames[name.lowercased()] { error(name, "name differs from '\(other)' only by case") }
            seenNames[name.lowercased()] = name
            if !Self.isValidName(name) { warning(name, "name should match [A-Za-z][A-Za-z0-9_]*") }
            if !variable.isZVariable { warning(name, "is an rVariable; ISTP products use zVariables only") }
            checkVariable(variable, in: reader, error: { error(name, $0) }, warning: { warning(name, $0) })
        }
        return report
    }

    private func checkVariable(_ variable: CDFVariable, in reader: CDFReader, error: (String) -> Void, warning: (String) -> Void) {
        func text(_ attribute: String) -> String? { variable.attribute(attribute)?.stringValue }
        func has(_ attribute: String) -> Bool { variable.attribute(attribute) != nil }
        let labelPointers = (1...max(1, variable.dimensions.count)).map { "LABL_PTR_\($0)" }

        guard let varType = text("VAR_TYPE") else {
            error("VAR_TYPE is missing")
            return
        }
        var required = ["CATDESC", "FIELDNAM"]
        let isTime = variable.dataType.isTime
        let needsDepend0 = variable.recordVarying && !isTime
        switch varType {
        case "data":
            required += ["DISPLAY_TYPE", "FILLVAL", "VALIDMIN", "VALIDMAX"]
            if variable.recordVarying { required.append("DEPEND_0") }
            if !has("FORMAT"), !has("FORM_PTR") { error("FORMAT or FORM_PTR is required") }
            if !has("UNITS"), !has("UNIT_PTR") { error("UNITS or UNIT_PTR is required") }
            if !has("LABLAXIS"), !labelPointers.allSatisfy(has) { error("LABLAXIS or \(labelPointers.joined(separator: ", ")) is required") }
            if let display = text("DISPLAY_TYPE"), !Self.displayTypes.contains(display.trimmed) {
                warning("DISPLAY_TYPE '\(display)' is not one of \(Self.displayTypes.sorted().joined(separator: ", "))")
            }
        case "support_data":
            if needsDepend0 { required.append("DEPEND_0") }
            if variable.recordVarying { required += ["FILLVAL", "VALIDMIN", "VALIDMAX"] }
            if !has("FORMAT"), !has("FORM_PTR") { error("FORMAT or FORM_PTR is required") }
            if !has("UNITS"), !has("UNIT_PTR") { error("UNITS or UNIT_PTR is required") }
            if !has("LABLAXIS"), !labelPointers.allSatisfy(has) { error("LABLAXIS or \(labelPointers.joined(separator: ", ")) is required") }
        case "metadata":
            if needsDepend0 { required.append("DEPEND_0") }
            if variable.recordVarying { required.append("FILLVAL") }
            required.append("FORMAT")
        case "ignore_data":
            return
        default:
            error("VAR_TYPE '\(varType)' is not data, support_data, metadata or ignore_data")
            return
        }
        for attribute in required where !has(attribute) { error("\(attribute) is required for VAR_TYPE \(varType)") }

        for attribute in Self.typedAttributes {
            guard let entry = variable.attribute(attribute) else { continue }
            if !entry.dataType.isSynonym(of: variable.dataType) {
                error("\(attribute) has type \(entry.dataType.name) but the variable is \(variable.dataType.name)")
            }
        }
        if let low = variable.attribute("VALIDMIN"), let high = variable.attribute("VALIDMAX"),
           let lowValue = Self.number(low), let highValue = Self.number(high), lowValue > highValue {
            warning("VALIDMIN is greater than VALIDMAX")
        }
        for attribute in variable.attributes.map(\.name) {
            if attribute == "DEPEND_0" {
                checkDepend0(variable, in: reader, error: error, warning: warning)
            } else if let axis = Self.suffix(attribute, "DEPEND_") {
                checkAxisTarget(variable, attribute: attribute, axis: axis, in: reader, label: false, error: error)
            } else if let axis = Self.suffix(attribute, "LABL_PTR_") {
                checkAxisTarget(variable, attribute: attribute, axis: axis, in: reader, label: true, error: error)
            }
        }
    }

    private func checkDepend0(_ variable: CDFVariable, in reader: CDFReader, error: (String) -> Void, warning: (String) -> Void) {
        guard let targetName = variable.attribute("DEPEND_0")?.stringValue else {
            error("DEPEND_0 must be a string naming a variable")
            return
        }
        guard let target = reader.variables.first(where: { $0.name == targetName }) else {
            error("DEPEND_0 names '\(targetName)', which does not exist")
            return
        }
        if !target.dataType.isTime { error("DEPEND_0 target '\(targetName)' is \(target.dataType.name), not a time type") }
        if variable.recordVarying, target.recordCount != variable.recordCount {
            warning("has \(variable.recordCount) records but DEPEND_0 '\(targetName)' has \(target.recordCount)")
        }
    }

    private func checkAxisTarget(_ variable: CDFVariable, attribute: String, axis: Int, in reader: CDFReader, label: Bool, error: (String) -> Void) {
        guard let targetName = variable.attribute(attribute)?.stringValue else {
            error("\(attribute) must be a string naming a variable")
            return
        }
        guard let target = reader.variables.first(where: { $0.name == targetName }) else {
            error("\(attribute) names '\(targetName)', which does not exist")
            return
        }
        guard axis >= 1, axis <= variable.dimensions.count else {
            error("\(attribute) refers to dimension \(axis) but the variable has \(variable.dimensions.count)")
            return
        }
        let expected = variable.dimensions[axis - 1]
        if label && !target.dataType.isString {
            error("\(attribute) target '\(targetName)' must be a CHAR variable, not \(target.dataType.name)")
        }
        let size = target.dimensions.last ?? 1
        if size != expected {
            error("\(attribute) target '\(targetName)' has \(size) values but dimension \(axis) has \(expected)")
        }
    }

    static func suffix(_ name: String, _ prefix: String) -> Int? {
        guard name.hasPrefix(prefix) else { return nil }
        return Int(name.dropFirst(prefix.count))
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }

    static func number(_ entry: CDFAttributeEntry) -> Double? {
        switch entry.values {
        case .int8(let v): v.first.map(Double.init)
        case .int16(let v): v.first.map(Double.init)
        case .int32(let v): v.first.map(Double.init)
        case .int64(let v): v.first.map(Double.init)
        case .uint8(let v): v.first.map(Double.init)
        case .uint16(let v): v.first.map(Double.init)
        case .uint32(let v): v.first.map(Double.init)
        case .float(let v): v.first.map(Double.init)
        case .double(let v): v.first
        default: nil
        }
    }
}

extension String {
    var trimmed: String {
        var slice = Substring(self)
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return String(slice)
    }
}
