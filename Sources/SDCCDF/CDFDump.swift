/// Renders the contents of a CDF for people (`sdc cdf dump`) and for programs (`sdc cdf dump --json`).
///
/// JSON layout: `{"attributes": {NAME: [entry, ...]}, "variables": [{"name", "type", "dims", "records",
/// "record_varying", "compression", "attributes": {NAME: value}, "values": [...]}]}`. An entry or attribute
/// value is a string for CHAR types, a number when it has one element and an array otherwise. `values` holds
/// one element per record (also for non-record-varying variables, which have one), nested per dimension.
/// TT2000 and integers are JSON integers, EPOCH16 values `[seconds, picoseconds]`, strings strings;
/// non-finite floats are written `NaN`, `Infinity` and `-Infinity` as Python's json module does.
public struct CDFDump {
    public let reader: CDFReader
    /// Records of values to include per variable; nil for all.
    public let recordLimit: Int?

    public init(reader: CDFReader, recordLimit: Int? = nil) {
        self.reader = reader
        self.recordLimit = recordLimit
    }

    /// The JSON document as UTF-8 bytes.
    public func json() throws -> [UInt8] {
        var out = JSONOutput()
        out.raw("{\"attributes\": {")
        for (index, attribute) in reader.globalAttributes.enumerated() {
            if index > 0 { out.raw(", ") }
            out.string(attribute.name)
            out.raw(": [")
            for (entryIndex, entry) in attribute.entries.enumerated() {
                if entryIndex > 0 { out.raw(", ") }
                Self.writeEntry(entry, to: &out)
            }
            out.raw("]")
        }
        out.raw("}, \"variables\": [")
        for (index, variable) in reader.variables.enumerated() {
            if index > 0 { out.raw(", ") }
            out.raw("{\"name\": ")
            out.string(variable.name)
            out.raw(", \"type\": ")
            out.string(variable.dataType.name)
            out.raw(", \"dims\": [" + variable.dimensions.map(String.init).joined(separator: ", ") + "]")
            out.raw(", \"records\": \(variable.recordCount), \"record_varying\": \(variable.recordVarying)")
            out.raw(", \"compression\": ")
            out.string(variable.compression.description)
            out.raw(", \"attributes\": {")
            for (attributeIndex, attribute) in variable.attributes.enumerated() {
                if attributeIndex > 0 { out.raw(", ") }
                out.string(attribute.name)
                out.raw(": ")
                Self.writeEntry(attribute.entry, to: &out)
            }
            out.raw("}, \"values\": ")
            let records = 0..<min(variable.recordCount, recordLimit ?? variable.recordCount)
            let values = try reader.values(of: variable, records: records)
            Self.writeNested(values, shape: [records.count] + variable.dimensions, to: &out)
            out.raw("}")
        }
        out.raw("]}\n")
        return out.bytes
    }

    static func writeEntry(_ entry: CDFAttributeEntry, to out: inout JSONOutput) {
        if entry.dataType.isString || entry.values.count == 1 {
            writeElement(entry.values, at: 0, to: &out)
        } else {
            writeNested(entry.values, shape: [entry.values.count], to: &out)
        }
    }

    /// Writes `values` as nested arrays of `shape` (row-major).
    static func writeNested(_ values: CDFValues, shape: [Int], to out: inout JSONOutput) {
        var index = 0
        func level(_ axis: Int) {
            out.raw("[")
            for position in 0..<shape[axis] {
                if position > 0 { out.raw(", ") }
                if axis + 1 < shape.count {
                    level(axis + 1)
                } else {
                    writeElement(values, at: index, to: &out)
                    index += 1
                }
            }
            out.raw("]")
        }
        level(0)
    }

    static func writeElement(_ values: CDFValues, at index: Int, to out: inout JSONOutput) {
        switch values {
        case .int8(let v): out.integer(v[index])
        case .int16(let v): out.integer(v[index])
        case .int32(let v): out.integer(v[index])
        case .int64(let v): out.integer(v[index])
        case .uint8(let v): out.integer(v[index])
        case .uint16(let v): out.integer(v[index])
        case .uint32(let v): out.integer(v[index])
        case .float(let v): out.float(v[index])
        case .double(let v): out.double(v[index])
        case .epoch16(let v):
            out.raw("[")
            out.double(v[index].seconds)
            out.raw(", ")
            out.double(v[index].picoseconds)
            out.raw("]")
        case .strings(let v): out.string(v[index])
        }
    }

    /// A readable listing: file facts, global attributes, then each variable with its attributes and values.
    /// Time values are shown as ISO 8601 UTC.
    public func text() throws -> String {
        let header = reader.header
        var lines: [String] = []
        lines.append("CDF \(header.versionString), encoding \(header.encoding) (\(header.isBigEndian ? "big" : "little")-endian), "
            + "\(header.isRowMajor ? "row" : "column")-major, MD5 \(header.hasMD5 ? "yes" : "no"), "
            + "file compression \(header.fileCompression)")
        lines.append("Global attributes (\(reader.globalAttributes.count)):")
        for attribute in reader.globalAttributes {
            for (index, entry) in attribute.entries.enumerated() {
                let label = attribute.entries.count > 1 ? "\(attribute.name)[\(index)]" : attribute.name
                lines.append("  \(label) = \(Self.describe(entry.values, type: entry.dataType, range: 0..<entry.values.count))")
            }
        }
        lines.append("Variables (\(reader.variables.count)):")
        for variable in reader.variables {
            let dims = variable.dimensions.isEmpty ? "scalar" : variable.dimensions.map(String.init).joined(separator: "x")
            let width = variable.dataType.isString ? "*\(variable.numElems)" : ""
            lines.append("  \(variable.name): \(variable.dataType.name)\(width) \(dims), \(variable.recordCount) record(s)"
                + "\(variable.recordVarying ? "" : " (non-record-varying)"), compression \(variable.compression)")
            for attribute in variable.attributes {
                let entry = attribute.entry
                lines.append("    \(attribute.name) = \(Self.describe(entry.values, type: entry.dataType, range: 0..<entry.values.count))"
                    + (entry.dataType.isString ? "" : " (\(entry.dataType.name))"))
            }
            let count = min(variable.recordCount, recordLimit ?? variable.recordCount)
            let values = try reader.values(of: variable, records: 0..<count)
            let perRecord = variable.valuesPerRecord
            for record in 0..<count {
                lines.append("    [\(record)] " + Self.describe(values, type: variable.dataType, range: (record * perRecord)..<((record + 1) * perRecord)))
            }
            if count < variable.recordCount { lines.append("    ... \(variable.recordCount - count) more record(s)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func describe(_ values: CDFValues, type: CDFDataType, range: Range<Int>) -> String {
        var parts: [String] = []
        for index in range {
            switch values {
            case .int64(let v) where type == .tt2000: parts.append(TT2000.iso8601(v[index]))
            case .double(let v) where type == .epoch: parts.append(CDFEpochTime.iso8601(v[index]))
            case .epoch16(let v): parts.append(CDFEpoch16Time.iso8601(v[index]))
            case .strings(let v): parts.append("\"\(v[index])\"")
            default:
                var out = JSONOutput()
                writeElement(values, at: index, to: &out)
                parts.append(String(decoding: out.bytes, as: UTF8.self))
            }
        }
        return parts.count == 1 ? parts[0] : "[" + parts.joined(separator: ", ") + "]"
    }
}
