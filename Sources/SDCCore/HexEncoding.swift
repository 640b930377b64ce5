/// The one hex encoder of sdc: digests and checksums (`hexString`), byte dumps (`appendHex`) and zero-padded
/// code points for escapes and messages (`hexString(digits:)`, `appendHex(_:digits:)`).
extension Sequence<UInt8> {
    /// The bytes as lowercase hex, two digits each, as SHA-256 and MD5 digests are written (`hashlib.hexdigest()`).
    public var hexString: String {
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        out.appendHex(self)
        return String(decoding: out, as: UTF8.self)
    }
}

extension FixedWidthInteger {
    /// The value in hex, zero-padded to at least `digits` digits (`00e9`), as Python's `format(value, "04x")`;
    /// negative values are written in two's complement of the type's width.
    public func hexString(digits: Int, uppercase: Bool = false) -> String {
        var out: [UInt8] = []
        out.appendHex(self, digits: digits, uppercase: uppercase)
        return String(decoding: out, as: UTF8.self)
    }
}

extension [UInt8] {
    /// Appends `bytes` as hex, two digits each (lowercase unless `uppercase`), without building a string.
    @inlinable
    public mutating func appendHex(_ bytes: some Sequence<UInt8>, uppercase: Bool = false) {
        for byte in bytes {
            append(hexDigit(byte >> 4, uppercase: uppercase))
            append(hexDigit(byte & 0x0F, uppercase: uppercase))
        }
    }

    /// Appends `value` in hex, zero-padded to at least `digits` digits (lowercase unless `uppercase`).
    @inlinable
    public mutating func appendHex(_ value: some FixedWidthInteger, digits: Int, uppercase: Bool = false) {
        let bits = UInt64(truncatingIfNeeded: value) & (value.bitWidth >= 64 ? .max : (1 << UInt64(value.bitWidth)) - 1)
        var count = 1
        while count < 16, bits >> UInt64(4 * count) != 0 { count += 1 }
        count = Swift.max(count, digits)
        for position in stride(from: count - 1, through: 0, by: -1) {
            let nibble = position < 16 ? UInt8(truncatingIfNeeded: bits >> UInt64(4 * position)) & 0x0F : 0
            append(hexDigit(nibble, uppercase: uppercase))
        }
    }
}

/// The ASCII hex digit of a nibble (0...15).
@inlinable
func hexDigit(_ nibble: UInt8, uppercase: Bool) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : (uppercase ? UInt8(ascii: "A") : UInt8(ascii: "a")) + nibble - 10
}
