/// A JSON value whose objects keep their key order, so responses can match a reference server key for key.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.int(a), .int(b)): a == b
        case let (.double(a), .double(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.object(a), .object(b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(serialized())
    }

    /// An optional string, or `null`.
    public static func string(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    /// An optional integer, or `null`.
    public static func int(_ value: Int?) -> JSONValue { value.map(JSONValue.int) ?? .null }

    /// The value of `key` in an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// Compact JSON as Python's `json.dumps` writes it by default: `", "` and `": "` separators, non-ASCII escaped.
    public func serialized(pythonStyle: Bool = true) -> String {
        var out: [UInt8] = []
        write(to: &out, itemSeparator: pythonStyle ? ", " : ",", keySeparator: pythonStyle ? ": " : ":")
        return String(decoding: out, as: UTF8.self)
    }

    private func write(to out: inout [UInt8], itemSeparator: String, keySeparator: String) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let value): out += (value ? "true" : "false").utf8
        case .int(let value): out += String(value).utf8
        case .double(let value):
            if value.isFinite {
                out += (value == value.rounded() && abs(value) < 1e16 ? pythonIntegralFloat(value) : "\(value)").utf8
            } else {
                out += (value.isNaN ? "NaN" : (value > 0 ? "Infinity" : "-Infinity")).utf8
            }
        case .string(let value): out.appendJSONString(value, ensureASCII: true)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out += itemSeparator.utf8 }
                item.write(to: &out, itemSeparator: itemSeparator, keySeparator: keySeparator)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out += itemSeparator.utf8 }
                out.appendJSONString(key, ensureASCII: true)
                out += keySeparator.utf8
                value.write(to: &out, itemSeparator: itemSeparator, keySeparator: keySeparator)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Python's `float.__repr__` for integral values prints one decimal place (`3.0`).
    private func pythonIntegralFloat(_ value: Double) -> String {
        (value.sign == .minus && value == 0 ? "-" : "") + String(Int64(value)) + ".0"
    }
}

extension [UInt8] {
    /// Appends `text` as a JSON string literal, escaped as Python's `json.dumps` escapes it: quotes, backslashes
    /// and control characters always (`\n`, `\r`, `\t`, `\b`, `\f`, else `\u00XX`); with `ensureASCII`
    /// (Python's default), also DEL and every non-ASCII UTF-16 unit as `\uXXXX`, surrogate pairs as two escapes.
    /// Without it, other text is copied as UTF-8 (`ensure_ascii=False`), for large outputs such as CDF dumps.
    public mutating func appendJSONString(_ text: String, ensureASCII: Bool) {
        append(UInt8(ascii: "\""))
        if ensureASCII {
            for unit in text.utf16 {
                if unit < 0x80 {
                    appendJSONEscaped(UInt8(unit), escapingDelete: true)
                } else {
                    self += "\\u".utf8
                    appendHex(unit, digits: 4)
                }
            }
        } else {
            for byte in text.utf8 { appendJSONEscaped(byte, escapingDelete: false) }
        }
        append(UInt8(ascii: "\""))
    }

    private mutating func appendJSONEscaped(_ byte: UInt8, escapingDelete: Bool) {
        switch byte {
        case 0x22: self += "\\\"".utf8
        case 0x5C: self += "\\\\".utf8
        case 0x0A: self += "\\n".utf8
        case 0x0D: self += "\\r".utf8
        case 0x09: self += "\\t".utf8
        case 0x08: self += "\\b".utf8
        case 0x0C: self += "\\f".utf8
        case 0..<0x20:
            self += "\\u".utf8
            appendHex(byte, digits: 4)
        case 0x7F where escapingDelete:
            self += "\\u007f".utf8
        default: append(byte)
        }
    }
}
