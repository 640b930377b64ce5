import SDCCore

/// Writes a CDF described by a JSON document (`sdc cdf write SPEC.json OUT.cdf`).
///
/// The document has the shape of `sdc cdf dump --json` plus writing options, so a dump can be edited and
/// written back:
///
/// ```json
/// {"md5": false,
///  "attributes": {"Project": ["STP>Solar-Terrestrial Physics"], "TEXT": ["line 1", "line 2"]},
///  "variables": [{"name": "Epoch", "type": "CDF_TIME_TT2000", "dims": [], "record_varying": true,
///                 "compression": "gzip6", "attributes": {"FILLVAL": {"type": "CDF_TIME_TT2000",
///                 "value": -9223372036854775808}, "CATDESC": "Time"},
///                 "values": [511921899184000000, "2016-03-22T12:30:32Z"]}]}
/// ```
///
/// Attribute values: a string is CDF_CHAR, an integer CDF_INT8, a float CDF_DOUBLE, an array of numbers an
/// array entry of that type; `{"type": NAME, "value": V}` gives the type explicitly. A global attribute is a
/// list of entries (a single value is one entry). Variable values are nested per record and dimension, or flat;
/// TT2000, EPOCH and EPOCH16 values may be ISO 8601 strings; EPOCH16 numbers are `[seconds, picoseconds]`.
/// Optional variable keys: `string_length`, `blocking_factor`, `pad`.
public enum CDFJSONSpec {
    /// Parses `json` and writes the file atomically to `path`.
    public static func write(json: [UInt8], to path: String) throws {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: json)
        } catch {
            throw invalid("\(error)")
        }
        guard case .object = document else { throw invalid("the document must be a JSON object") }
        let md5 = document["md5"] == .bool(true)
        try CDFWriter.write(to: path, options: CDFWriteOptions(md5: md5)) { writer in
            if case .object(let members)? = document["attributes"] {
                for (name, value) in members {
                    let values: [JSONValue]
                    if case .array(let list) = value, !isNumberArray(list) { values = list } else { values = [value] }
                    try writer.addGlobalAttribute(name, entries: values.map { try entry($0, context: name) })
                }
            }
            if case .array(let variables)? = document["variables"] {
                for variable in variables {
                    let (spec, values) = try variableSpec(variable)
                    try writer.writeVariable(spec, values: values)
                }
            }
        }
    }

    private static func invalid(_ reason: String) -> CDFError { .invalidDefinition("JSON spec: " + reason) }

    private static func isNumberArray(_ list: [JSONValue]) -> Bool {
        !list.isEmpty && list.allSatisfy {
            switch $0 {
            case .int, .double: true
            default: false
            }
        }
    }

    /// One attribute entry from its JSON form.
    static func entry(_ value: JSONValue, context: String) throws -> CDFAttributeEntry {
        switch value {
        case .string(let text): return .string(text)
        case .int(let number): return try CDFAttributeEntry(dataType: .int8, values: .int64([Int64(number)]))
        case .double(let number): return try CDFAttributeEntry(dataType: .double, values: .double([number]))
        case .array(let list) where isNumberArray(list):
            if list.allSatisfy({ if case .int = $0 { true } else { false } }) {
                return try CDFAttributeEntry(dataType: .int8, values: values(list, type: .int8, name: context))
            }
            return try CDFAttributeEntry(dataType: .double, values: values(list, type: .double, name: context))
        case .object:
            guard case .string(let typeName)? = value["type"], let type = CDFDataType(name: typeName) else {
                throw invalid("attribute '\(context)' needs a valid \"type\"")
            }
            guard let content = value["value"] else { throw invalid("attribute '\(context)' needs a \"value\"") }
            if type.isString {
                guard case .string(let text) = content else { throw invalid("attribute '\(context)' of type \(typeName) needs a string") }
                return try CDFAttributeEntry(dataType: type, values: .strings([text]))
            }
            let list: [JSONValue]
            if case .array(let elements) = content, type != .epoch16 || elements.first.map({ if case .array = $0 { true } else { false } }) == true {
                list = elements
            } else {
                list = [content]
            }
            return try CDFAttributeEntry(dataType: type, values: values(list, type: type, name: context))
        default:
            throw invalid("attribute '\(context)' has an unsupported value")
        }
    }

    private static func variableSpec(_ json: JSONValue) throws -> (CDFVariableSpec, CDFValues) {
        guard case .string(let name)? = json["name"] else { throw invalid("every variable needs a \"name\"") }
        guard case .string(let typeName)? = json["type"], let type = CDFDataType(name: typeName) else {
            throw invalid("variable '\(name)' needs a valid \"type\"")
        }
        var dims: [Int] = []
        if case .array(let list)? = json["dims"] {
            dims = try list.map {
                guard case .int(let size) = $0, size >= 1, size <= Int32.max else { throw invalid("dims of '\(name)' must be positive integers") }
                return size
            }
        }
        var spec = CDFVariableSpec(name: name, dataType: type, dimensions: dims)
        if case .bool(let varying)? = json["record_varying"] { spec.recordVarying = varying }
        if case .string(let text)? = json["compression"] {
            guard let compression = CDFCompression(text) else { throw invalid("unknown compression '\(text)' for '\(name)'") }
            spec.compression = compression
        }
        if case .int(let length)? = json["string_length"] { spec.stringLength = length }
        if case .int(let factor)? = json["blocking_factor"] { spec.blockingFactor = factor }
        if let pad = json["pad"], pad != .null { spec.padValue = try values([pad], type: type, name: name) }
        if case .object(let members)? = json["attributes"] {
            spec.attributes = try members.map { name, value in CDFNamedEntry(name, try entry(value, context: name)) }
        }
        var leaves: [JSONValue] = []
        if let content = json["values"] { flatten(content, type: type, into: &leaves) }
        return (spec, try values(leaves, type: type, name: name))
    }

    /// Flattens nested arrays to their leaves; an EPOCH16 leaf is a `[seconds, picoseconds]` pair.
    private static func flatten(_ value: JSONValue, type: CDFDataType, into leaves: inout [JSONValue]) {
        guard case .array(let list) = value else {
            leaves.append(value)
            return
        }
        if type == .epoch16, list.count == 2, isNumberArray(list) {
            leaves.append(value)
            return
        }
        for element in list { flatten(element, type: type, into: &leaves) }
    }

    /// Converts JSON leaves to typed values.
    static func values(_ leaves: [JSONValue], type: CDFDataType, name: String) throws -> CDFValues {
        func integer(_ leaf: JSONValue) throws -> Int64 {
            switch leaf {
            case .int(let value): return Int64(value)
            case .double(let value) where value == value.rounded() && abs(value) < 9.2e18: return Int64(value)
            case .string(let text) where type == .tt2000: return try TT2000.from(iso8601: text)
            default: throw invalid("'\(name)': \(leaf.serialized()) is not an integer")
            }
        }
        func real(_ leaf: JSONValue) throws -> Double {
            switch leaf {
            case .int(let value): return Double(value)
            case .double(let value): return value
            case .string(let text) where type == .epoch: return CDFEpochTime.from(try CDFDateTime(iso8601: text))
            default: throw invalid("'\(name)': \(leaf.serialized()) is not a number")
            }
        }
        func bounded<T: FixedWidthInteger>(_ leaf: JSONValue, _: T.Type) throws -> T {
            let value = try integer(leaf)
            guard let result = T(exactly: value) else { throw invalid("'\(name)': \(value) does not fit \(type.name)") }
            return result
        }
        switch type.storage {
        case .int8: return .int8(try leaves.map { try bounded($0, Int8.self) })
        case .int16: return .int16(try leaves.map { try bounded($0, Int16.self) })
        case .int32: return .int32(try leaves.map { try bounded($0, Int32.self) })
        case .int64: return .int64(try leaves.map(integer))
        case .uint8: return .uint8(try leaves.map { try bounded($0, UInt8.self) })
        case .uint16: return .uint16(try leaves.map { try bounded($0, UInt16.self) })
        case .uint32: return .uint32(try leaves.map { try bounded($0, UInt32.self) })
        case .float: return .float(try leaves.map { Float(try real($0)) })
        case .double: return .double(try leaves.map(real))
        case .epoch16:
            return .epoch16(try leaves.map { leaf in
                if case .string(let text) = leaf { return CDFEpoch16Time.from(try CDFDateTime(iso8601: text)) }
                guard case .array(let pair) = leaf, pair.count == 2 else { throw invalid("'\(name)': EPOCH16 values are [seconds, picoseconds]") }
                return CDFEpoch16(seconds: try real(pair[0]), picoseconds: try real(pair[1]))
            })
        case .strings:
            return .strings(try leaves.map { leaf in
                guard case .string(let text) = leaf else { throw invalid("'\(name)': \(leaf.serialized()) is not a string") }
                return text
            })
        }
    }
}
