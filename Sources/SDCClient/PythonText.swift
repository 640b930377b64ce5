import SDCCore

/// Python's text conversions (`str`, `repr`, `int`) for the values imap-data-access prints, so that sdc's
/// output and error messages match the Python client character for character.
enum PythonText {
    /// `str(value)` of a value decoded by `json.loads`: `None`, `True`, `1.5`, the string itself, or a
    /// list/dict repr (`['a', 1]`, `{'k': None}`).
    static func str(_ value: JSONValue) -> String {
        if case .string(let text) = value { return text }
        return repr(value)
    }

    /// `repr(value)` of a value decoded by `json.loads`.
    static func repr(_ value: JSONValue) -> String {
        switch value {
        case .null: return "None"
        case .bool(let flag): return flag ? "True" : "False"
        case .int(let integer): return String(integer)
        case .double(let number): return floatRepr(number)
        case .string(let text): return repr(text)
        case .array(let items): return "[" + items.map(repr).joined(separator: ", ") + "]"
        case .object(let members):
            return "{" + members.map { repr($0.0) + ": " + repr($0.1) }.joined(separator: ", ") + "}"
        }
    }

    /// Python's `float.__repr__`: shortest round-trip digits, fixed notation for decimal exponents in
    /// -4..<16 (always with a fractional part), scientific notation (`1e+16`, `1.5e-05`) otherwise.
    static func floatRepr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == value.rounded(), abs(value) < 1e16 {
            // Swift switches to exponents at 2^53; Python only at 1e16.
            let integral = String(Int64(value.magnitude))
            return (value.sign == .minus ? "-" : "") + integral + ".0"
        }
        // Elsewhere Swift's shortest representation uses Python's layout.
        return value.description
    }

    /// Python's `str.__repr__`: single quotes unless the text contains `'` and no `"`; backslash, the quote,
    /// `\t`, `\n`, `\r` escaped; other non-printable characters as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
    static func repr(_ text: String) -> String {
        let quote: Unicode.Scalar = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var out = String(Character(quote))
        for scalar in text.unicodeScalars {
            switch scalar {
            case quote, "\\":
                out += "\\" + String(Character(scalar))
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default:
                if isPrintable(scalar) {
                    out.unicodeScalars.append(scalar)
                } else if scalar.value <= 0xFF {
                    out += "\\x" + scalar.value.hexString(digits: 2)
                } else if scalar.value <= 0xFFFF {
                    out += "\\u" + scalar.value.hexString(digits: 4)
                } else {
                    out += "\\U" + scalar.value.hexString(digits: 8)
                }
            }
        }
        out.unicodeScalars.append(quote)
        return out
    }

    /// Python's `str.isprintable` for one character: everything but control, format, surrogate, private-use,
    /// unassigned and separator characters (the ASCII space excepted).
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        if scalar.isASCII { return scalar.value > 0x20 && scalar.value < 0x7F }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
             .spaceSeparator, .lineSeparator, .paragraphSeparator:
            return false
        default:
            return true
        }
    }

    /// `len(text)`: the number of code points.
    static func length(_ text: String) -> Int { text.unicodeScalars.count }

    /// `text.ljust(width)`: pads with spaces to `width` code points, never truncates.
    static func leftJustified(_ text: String, width: Int) -> String {
        let missing = width - length(text)
        return missing > 0 ? text + String(repeating: " ", count: missing) : text
    }

    /// The decimal value of `int(text)` for a string, or nil where Python raises `ValueError`: surrounding
    /// whitespace, an optional sign, ASCII digits with single `_` separators between them. Leading zeros are
    /// dropped and `-0` is `0`, as Python prints the result.
    static func integer(_ text: String) -> String? {
        var bytes = Substring(text).utf8.drop { isSpace($0) }
        while let last = bytes.last, isSpace(last) { bytes = bytes.dropLast() }
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var digits: [UInt8] = []
        var previousWasDigit = false
        for byte in bytes {
            if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                digits.append(byte)
                previousWasDigit = true
            } else if byte == UInt8(ascii: "_"), previousWasDigit {
                previousWasDigit = false
            } else {
                return nil
            }
        }
        guard !digits.isEmpty, previousWasDigit else { return nil }
        let significant = digits.drop { $0 == UInt8(ascii: "0") }
        if significant.isEmpty { return "0" }
        return (negative ? "-" : "") + String(decoding: significant, as: UTF8.self)
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte) || (0x1C...0x1F).contains(byte)
    }

    /// Python's type name of a decoded JSON value, as error messages print it.
    static func typeName(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: "NoneType"
        case .bool?: "bool"
        case .int?: "int"
        case .double?: "float"
        case .string?: "str"
        case .array?: "list"
        case .object?: "dict"
        }
    }
}
