import SDCCore

/// Appends JSON text to a byte buffer without building intermediate trees (used for large value dumps).
struct JSONOutput {
    var bytes: [UInt8] = []

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// A JSON string literal, non-ASCII text as UTF-8.
    mutating func string(_ text: String) { bytes.appendJSONString(text, ensureASCII: false) }

    mutating func integer<T: BinaryInteger>(_ value: T) { raw(String(value)) }

    mutating func double(_ value: Double) {
        if value.isNaN { raw("NaN") } else if value.isInfinite { raw(value < 0 ? "-Infinity" : "Infinity") } else { raw(value.description) }
    }

    mutating func float(_ value: Float) {
        if value.isNaN { raw("NaN") } else if value.isInfinite { raw(value < 0 ? "-Infinity" : "Infinity") } else { raw(value.description) }
    }
}
