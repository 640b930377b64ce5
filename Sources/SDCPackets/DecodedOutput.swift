import Foundation
import SDCCore

/// Text formats of decoded packets (`sdc packets decode --format json|csv`).
public enum DecodedOutputFormat: String, Sendable, CaseIterable {
    /// One JSON object per line and container:
    /// `{"container": NAME, "apid": N, "packets": COUNT, "fields": {FIELD: [v0, v1, ...]}}`.
    case json
    /// Per container a comment line `# container NAME apid N packets COUNT`, a header row of field names and one row
    /// per packet; containers are separated by an empty line.
    case csv
}

/// Writes decoded containers as text.
///
/// Values: integers as integers; floats as the shortest decimal that round-trips the (double) value, and
/// non-finite floats as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (JSON has no such numbers); booleans as
/// `true`/`false`; binary values (and raw strings) as lowercase hex; strings and enumeration labels as strings.
public struct DecodedOutputWriter: Sendable {
    public let format: DecodedOutputFormat
    /// Whether to write raw values instead of derived ones.
    public let raw: Bool

    public init(format: DecodedOutputFormat, raw: Bool) {
        self.format = format
        self.raw = raw
    }

    /// The text of one container, ending with a newline; derived values are computed on up to `parallelism` threads.
    public func render(_ container: DecodedContainer, parallelism: Int = 1) throws(DerivedValueError) -> [UInt8] {
        let columns = raw ? container.fields.map(\.raw) : try container.derivedColumns(parallelism: parallelism)
        var output = TextBuffer()
        switch format {
        case .json: renderJSON(container, columns, into: &output)
        case .csv: renderCSV(container, columns, into: &output)
        }
        return output.bytes
    }

    private func renderJSON(_ container: DecodedContainer, _ columns: [Column], into output: inout TextBuffer) {
        output.append("{\"container\": ")
        output.appendJSONString(container.name)
        output.append(", \"apid\": ")
        output.append(integer: Int64(container.apid))
        output.append(", \"packets\": ")
        output.append(integer: Int64(container.count))
        output.append(", \"fields\": {")
        for (index, (field, column)) in zip(container.fields, columns).enumerated() {
            if index > 0 { output.append(", ") }
            output.appendJSONString(field.name)
            output.append(": [")
            for packet in 0..<column.count {
                if packet > 0 { output.append(", ") }
                output.append(column, at: packet, quotingText: true)
            }
            output.append("]")
        }
        output.append("}}\n")
    }

    private func renderCSV(_ container: DecodedContainer, _ columns: [Column], into output: inout TextBuffer) {
        output.append("# container \(container.name) apid \(container.apid) packets \(container.count)\n")
        output.append(container.fields.map { TextBuffer.csvField($0.name) }.joined(separator: ","))
        output.append("\n")
        for packet in 0..<container.count {
            for (index, column) in columns.enumerated() {
                if index > 0 { output.append(",") }
                if case let .string(values) = column {
                    output.append(TextBuffer.csvField(values[packet]))
                } else {
                    output.append(column, at: packet, quotingText: false)
                }
            }
            output.append("\n")
        }
    }
}

/// A growable UTF-8 buffer with number and string formatting.
struct TextBuffer {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    mutating func append(integer value: Int64) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            append(unsigned: value.magnitude)
        } else {
            append(unsigned: UInt64(value))
        }
    }

    mutating func append(unsigned value: UInt64) {
        var digitCount = 1
        var rest = value / 10
        while rest > 0 {
            digitCount += 1
            rest /= 10
        }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digitCount))
        var remaining = value
        var position = start + digitCount - 1
        while remaining > 0 {
            bytes[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
            position -= 1
        }
    }

    mutating func append(double value: Double) {
        if value.isNaN {
            append("\"NaN\"")
        } else if value.isInfinite {
            append(value < 0 ? "\"-Infinity\"" : "\"Infinity\"")
        } else {
            append(value.description)
        }
    }

    /// Lowercase hex of `data`, quoted as a JSON string when `quoted`.
    mutating func appendHex(_ data: ArraySlice<UInt8>, quoted: Bool) {
        if quoted { bytes.append(UInt8(ascii: "\"")) }
        bytes.appendHex(data)
        if quoted { bytes.append(UInt8(ascii: "\"")) }
    }

    /// A JSON string literal, non-ASCII text as UTF-8.
    mutating func appendJSONString(_ text: String) { bytes.appendJSONString(text, ensureASCII: false) }

    /// Appends one value of a column.
    mutating func append(_ column: Column, at index: Int, quotingText: Bool) {
        switch column {
        case let .uint8(values): append(unsigned: UInt64(values[index]))
        case let .uint16(values): append(unsigned: UInt64(values[index]))
        case let .uint32(values): append(unsigned: UInt64(values[index]))
        case let .uint64(values): append(unsigned: values[index])
        case let .int8(values): append(integer: Int64(values[index]))
        case let .int16(values): append(integer: Int64(values[index]))
        case let .int32(values): append(integer: Int64(values[index]))
        case let .int64(values): append(integer: values[index])
        case let .float32(values): append(double: Double(values[index]))
        case let .float64(values): append(double: values[index])
        case let .boolean(values): append(values[index] ? "true" : "false")
        case let .string(values): if quotingText { appendJSONString(values[index]) } else { append(values[index]) }
        case let .bytes(values): appendHex(values[index], quoted: quotingText)
        }
    }

    /// A CSV field, quoted when it contains a separator, a quote or a line break.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
