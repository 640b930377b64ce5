import Yams

/// A value from an attribute YAML layer, with mapping order preserved.
public indirect enum ISTPValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case list([ISTPValue])
    case mapping([ISTPMember])

    /// The member `key` of a mapping.
    public subscript(key: String) -> ISTPValue? {
        if case .mapping(let members) = self { return members.first { $0.key == key }?.value }
        return nil
    }

    /// Keys of a mapping in order.
    public var keys: [String] {
        if case .mapping(let members) = self { return members.map(\.key) }
        return []
    }

    /// Deep merge as sammi's `_merge`: mappings merge recursively, lists concatenate, other values replace.
    public func merged(with later: ISTPValue) -> ISTPValue {
        switch (self, later) {
        case (.mapping(var members), .mapping(let additions)):
            for addition in additions {
                if let index = members.firstIndex(where: { $0.key == addition.key }) {
                    members[index].value = members[index].value.merged(with: addition.value)
                } else {
                    members.append(addition)
                }
            }
            return .mapping(members)
        case (.list(let first), .list(let second)):
            return .list(first + second)
        default:
            return later
        }
    }

    /// Parses YAML (1.1 merge keys `<<` and anchors supported).
    public init(yaml: String) throws {
        guard let node = try Yams.compose(yaml: yaml) else {
            self = .mapping([])
            return
        }
        self = Self.convert(node)
    }

    private static func convert(_ node: Node) -> ISTPValue {
        switch node {
        case .scalar:
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(ISTPValue.bool) ?? .string(node.string ?? "")
            case .int: return node.int.map { .integer(Int64($0)) } ?? .string(node.string ?? "")
            case .float: return node.float.map(ISTPValue.number) ?? .string(node.string ?? "")
            default: return .string(node.string ?? "")
            }
        case .sequence(let sequence):
            return .list(sequence.map(convert))
        case .mapping(let mapping):
            var result = ISTPValue.mapping([])
            var explicit: [ISTPMember] = []
            for (key, value) in mapping {
                if key.tag.rawValue == Tag.Name.merge.rawValue || key.string == "<<" {
                    switch value {
                    case .mapping: result = result.merged(with: convert(value))
                    case .sequence(let sources):
                        for source in sources.reversed() { result = result.merged(with: convert(source)) }
                    default: break
                    }
                } else {
                    explicit.append(ISTPMember(key: key.string ?? "", value: convert(value)))
                }
            }
            for member in explicit {
                result = result.replacing(member)
            }
            return result
        case .alias:
            return .null
        }
    }

    private func replacing(_ member: ISTPMember) -> ISTPValue {
        guard case .mapping(var members) = self else { return self }
        if let index = members.firstIndex(where: { $0.key == member.key }) {
            members[index].value = member.value
        } else {
            members.append(member)
        }
        return .mapping(members)
    }
}

/// One key and value of a mapping.
public struct ISTPMember: Sendable, Equatable {
    public var key: String
    public var value: ISTPValue
}

/// Layers of attribute YAML in IMAP's layout, merged as sammi-cdf's `CdfAttributeManager` does:
/// schema layers (which attributes exist and which are required) and value layers (the attribute values),
/// each deep-merged in load order.
public struct ISTPAttributeLayers: Sendable {
    public private(set) var globalSchema: ISTPValue = .mapping([])
    public private(set) var variableSchema: ISTPValue = .mapping([])
    public private(set) var globalValues: ISTPValue = .mapping([])
    public private(set) var variableValues: ISTPValue = .mapping([])

    public init() {}

    /// Loads the IMAP stack from a folder holding the sammi defaults and the IMAP files (as in
    /// `testdata/cdf-attrs/`): schemas, `imap_constant_attrs.yaml`, `imap_default_global_cdf_attrs.yaml`, then
    /// `imap_<instrument>_global_cdf_attrs.yaml` and each of `variableFiles` in order.
    public static func imap(folder: String, instrument: String, variableFiles: [String]) throws -> ISTPAttributeLayers {
        var layers = ISTPAttributeLayers()
        try layers.loadGlobalSchema(yaml: readText(folder + "/default_global_cdf_attrs_schema.yaml"))
        try layers.loadVariableSchema(yaml: readText(folder + "/default_variable_cdf_attrs_schema.yaml"))
        try layers.loadVariableSchema(yaml: readText(folder + "/imap_variable_schema.yaml"))
        try layers.loadVariableAttributes(yaml: readText(folder + "/imap_constant_attrs.yaml"))
        for file in variableFiles { try layers.loadVariableAttributes(yaml: readText(folder + "/" + file)) }
        try layers.loadGlobalAttributes(yaml: readText(folder + "/imap_default_global_cdf_attrs.yaml"))
        try layers.loadGlobalAttributes(yaml: readText(folder + "/imap_\(instrument)_global_cdf_attrs.yaml"))
        return layers
    }

    public mutating func loadGlobalSchema(yaml: String) throws { globalSchema = globalSchema.merged(with: try ISTPValue(yaml: yaml)) }
    public mutating func loadVariableSchema(yaml: String) throws { variableSchema = variableSchema.merged(with: try ISTPValue(yaml: yaml)) }
    public mutating func loadGlobalAttributes(yaml: String) throws { globalValues = globalValues.merged(with: try ISTPValue(yaml: yaml)) }
    public mutating func loadVariableAttributes(yaml: String) throws { variableValues = variableValues.merged(with: try ISTPValue(yaml: yaml)) }

    /// Sets a per-file global value (`Data_version`, `Logical_file_id`, ...), replacing any loaded value.
    public mutating func setGlobalAttribute(_ name: String, _ value: ISTPValue) {
        globalValues = globalValues.merged(with: .mapping([ISTPMember(key: name, value: .null)]))
            .merged(with: .mapping([ISTPMember(key: name, value: value)]))
    }

    /// Sets the per-file values IMAP's `write_cdf` fills: `Logical_file_id` (`<source>_<date>_<version>`),
    /// `Data_version`, `Start_date`, `Generation_date` (UTC `YYYYMMDD`), `Generated_by` and
    /// `ground_software_version`.
    public mutating func fillPerFileValues(logicalSource: String, startDate: String, version: String,
                                           generationDate: String, softwareVersion: String) {
        setGlobalAttribute("Logical_file_id", .string("\(logicalSource)_\(startDate)_\(version)"))
        setGlobalAttribute("Data_version", .string(version))
        setGlobalAttribute("Start_date", .string(startDate))
        setGlobalAttribute("Generation_date", .string(generationDate))
        setGlobalAttribute("Generated_by", .string("IMAP Science Data Center"))
        setGlobalAttribute("ground_software_version", .string(softwareVersion))
    }

    /// The global attributes of the product `logicalSource`: the schema's attributes in schema order, each
    /// taken from the top-level values, else from the mapping named `logicalSource`, else the schema default;
    /// then per-file values not in the schema. Required attributes without a value are reported in `missing`.
    public func globalAttributes(for logicalSource: String) -> (attributes: [ISTPMember], missing: [String]) {
        var result: [ISTPMember] = []
        var missing: [String] = []
        let specific = globalValues[logicalSource]
        for name in globalSchema.keys {
            let definition = globalSchema[name]
            var value = globalValues[name] ?? specific?[name]
            if value == nil || value == .null, let fallback = definition?["default"], fallback != .null { value = fallback }
            if let value, value != .null {
                result.append(ISTPMember(key: name, value: value))
            } else if definition?["required"] == .bool(true) {
                missing.append(name)
            }
        }
        for member in Self.members(of: globalValues) where !globalSchema.keys.contains(member.key) && Self.isScalarAttribute(member.value) {
            if Self.perFileNames.contains(member.key) { result.append(member) }
        }
        return (result, missing)
    }

    /// The attributes of variable `name`. With `checkSchema`, only attributes of the variable schema
    /// (`attribute_key`) are kept, wildcard `DEPEND_i`/`LABL_PTR_i`/`REPRESENTATION_i` copy every matching key,
    /// and attributes required for the variable's `VAR_TYPE` that are missing are listed in `missing`.
    public func variableAttributes(_ name: String, checkSchema: Bool = true) -> (attributes: [ISTPMember], missing: [String]) {
        let own = Self.members(of: variableValues[name] ?? .mapping([]))
        guard checkSchema else { return (own, []) }
        let schemaKeys = variableSchema["attribute_key"]?.keys ?? []
        var result: [ISTPMember] = []
        for key in schemaKeys {
            if key.hasSuffix("_i") {
                let prefix = String(key.dropLast(1))
                result.append(contentsOf: own.filter { $0.key.hasPrefix(prefix) && Int($0.key.dropFirst(prefix.count)) != nil })
            } else if let member = own.first(where: { $0.key == key }) {
                result.append(member)
            }
        }
        var missing: [String] = []
        if case .string(let varType)? = variableValues[name]?["VAR_TYPE"], case .list(let required)? = variableSchema[varType] {
            for case .string(let attribute) in required where !own.contains(where: { $0.key == attribute }) {
                let alternate = variableSchema["attribute_key"]?[attribute]?["alternate"]
                if case .string(let other)? = alternate, own.contains(where: { $0.key == other }) { continue }
                if variableSchema["attribute_key"]?[attribute]?["required"] == .bool(false) { continue }
                missing.append(attribute)
            }
        }
        return (result, missing)
    }

    /// The global attributes of `logicalSource` as CDF attributes ready for ``CDFWriter/addGlobalAttribute(_:entries:)``:
    /// a list becomes one entry per element (as `TEXT` or `HTTP_LINK` need), anything else one entry.
    public func cdfGlobalAttributes(for logicalSource: String) throws -> [CDFGlobalAttribute] {
        try globalAttributes(for: logicalSource).attributes.map { member in
            if case .list(let items) = member.value {
                return CDFGlobalAttribute(name: member.key, entries: try items.map { try Self.entry($0) })
            }
            return CDFGlobalAttribute(name: member.key, entries: [try Self.entry(member.value)])
        }
    }

    /// The attributes of variable `name` as CDF entries for a variable of `dataType`: `FILLVAL`, `VALIDMIN`,
    /// `VALIDMAX`, `SCALEMIN` and `SCALEMAX` take the variable's own type, as ISTP requires.
    public func cdfVariableAttributes(_ name: String, dataType: CDFDataType, checkSchema: Bool = true) throws -> [CDFNamedEntry] {
        try variableAttributes(name, checkSchema: checkSchema).attributes.map { member in
            let typed = Self.typedAttributeNames.contains(member.key) && !dataType.isString
            return CDFNamedEntry(member.key, try Self.entry(member.value, numericType: typed ? dataType : nil))
        }
    }

    private static let typedAttributeNames: Set<String> = ["FILLVAL", "VALIDMIN", "VALIDMAX", "SCALEMIN", "SCALEMAX"]

    /// Converts a YAML value to a CDF attribute entry; numbers take `numericType` (the variable's type for
    /// `FILLVAL`, `VALIDMIN`, ...) or CDF_INT8 / CDF_DOUBLE.
    public static func entry(_ value: ISTPValue, numericType: CDFDataType? = nil) throws -> CDFAttributeEntry {
        switch value {
        case .string(let text): return .string(text)
        case .bool(let flag): return .string(flag ? "True" : "False")
        case .null: return .string(" ")
        case .integer(let number): return try numericEntry(Double(number), exact: number, type: numericType ?? .int8)
        case .number(let number): return try numericEntry(number, exact: nil, type: numericType ?? .double)
        case .list(let items):
            return .string(items.map { item -> String in
                switch item {
                case .string(let text): text
                case .integer(let number): String(number)
                case .number(let number): String(number)
                default: ""
                }
            }.joined(separator: "\n"))
        case .mapping: throw CDFError.invalidValues(name: "attribute", reason: "a mapping is not an attribute value")
        }
    }

    private static func numericEntry(_ value: Double, exact: Int64?, type: CDFDataType) throws -> CDFAttributeEntry {
        let integer = exact ?? Int64(exactly: value.rounded()) ?? 0
        func fit<T: FixedWidthInteger>(_: T.Type) throws -> T {
            guard let result = T(exactly: integer) else {
                throw CDFError.invalidValues(name: type.name, reason: "\(exact.map(String.init) ?? String(value)) does not fit")
            }
            return result
        }
        let values: CDFValues
        switch type.storage {
        case .int8: values = .int8([try fit(Int8.self)])
        case .int16: values = .int16([try fit(Int16.self)])
        case .int32: values = .int32([try fit(Int32.self)])
        case .int64: values = .int64([exact ?? integer])
        case .uint8: values = .uint8([try fit(UInt8.self)])
        case .uint16: values = .uint16([try fit(UInt16.self)])
        case .uint32: values = .uint32([try fit(UInt32.self)])
        case .float: values = .float([Float(value)])
        case .double: values = .double([value])
        case .epoch16: values = .epoch16([CDFEpoch16(seconds: value, picoseconds: 0)])
        case .strings: values = .strings([exact.map(String.init) ?? String(value)])
        }
        return try CDFAttributeEntry(dataType: type, values: values)
    }

    private static let perFileNames: Set<String> = ["ground_software_version", "Start_date", "Repointing", "File_naming_convention"]

    private static func members(of value: ISTPValue) -> [ISTPMember] {
        if case .mapping(let members) = value { return members }
        return []
    }

    private static func isScalarAttribute(_ value: ISTPValue) -> Bool {
        if case .mapping = value { return false }
        return true
    }
}

func readText(_ path: String) throws -> String {
    let source = try ByteSource(path: path)
    return String(decoding: try source.bytes(at: 0, count: source.count, record: path), as: UTF8.self)
}
