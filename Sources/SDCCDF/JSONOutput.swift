/// Appends JSON text to a byte buffer without building intermediate trees (used for large value dumps).
struct JSONOutput {
    var bytes: [UInt8] = []

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20:
                let digits = String(byte, radix: 16)
                raw("\\u" + String(repeating: "0", count: 4 - digits.count) + digits)
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func integer<T: BinaryInteger>(_ value: T) { raw(String(value)) }

    mutating func double(_ value: Double) {
        if value.isNaN { raw("NaN") } else if value.isInfinite { raw(value < 0 ? "-Infinity" : "Infinity") } else { raw(value.description) }
    }

    mutating func float(_ value: Float) {
        if value.isNaN { raw("NaN") } else if value.isInfinite { raw(value < 0 ? "-Infinity" : "Infinity") } else { raw(value.description) }
    }
}
