/// Big-endian bit extraction from a byte buffer (bit 0 is the most significant bit of byte 0).
enum BitReader {
    /// The `width` (1...64) bits starting at `bit`, right-aligned. The bits must lie inside `count` bytes.
    @inline(__always)
    static func read(_ base: UnsafePointer<UInt8>, count: Int, bit: Int, width: Int) -> UInt64 {
        let byteIndex = bit &>> 3
        let shift = bit & 7
        var word: UInt64
        if byteIndex &+ 8 <= count {
            word = UInt64(bigEndian: UnsafeRawPointer(base + byteIndex).loadUnaligned(as: UInt64.self))
        } else {
            word = 0
            let available = Swift.min(count &- byteIndex, 8)
            for offset in 0..<available {
                word |= UInt64(base[byteIndex &+ offset]) &<< (56 &- 8 &* offset)
            }
        }
        word = word &<< shift
        if shift &+ width > 64 {
            word |= UInt64(base[byteIndex &+ 8]) &>> (8 &- shift)
        }
        return word &>> (64 &- width)
    }

    /// Copies `bitCount` bits starting at `bit` into `destination` as space_packet_parser returns binary data:
    /// byte-aligned whole bytes verbatim, anything else as the integer of those bits, right-aligned in
    /// `(bitCount + 7) / 8` bytes.
    @inline(__always)
    static func copyBinary(_ base: UnsafePointer<UInt8>, count: Int, bit: Int, bitCount: Int, to destination: UnsafeMutablePointer<UInt8>) {
        let byteCount = (bitCount &+ 7) &>> 3
        if bit & 7 == 0 && bitCount & 7 == 0 {
            destination.update(from: base + (bit &>> 3), count: byteCount)
            return
        }
        // The first output byte holds the leading `bitCount - 8 * (byteCount - 1)` bits.
        let leading = bitCount &- 8 &* (byteCount &- 1)
        destination[0] = UInt8(truncatingIfNeeded: read(base, count: count, bit: bit, width: leading))
        var position = bit &+ leading
        for index in 1..<Swift.max(byteCount, 1) {
            destination[index] = UInt8(truncatingIfNeeded: read(base, count: count, bit: position, width: 8))
            position &+= 8
        }
    }

    /// Copies `bitCount` bits as a string buffer: left-aligned, padded with zero bits to whole bytes.
    @inline(__always)
    static func copyString(_ base: UnsafePointer<UInt8>, count: Int, bit: Int, bitCount: Int, to destination: UnsafeMutablePointer<UInt8>) {
        let byteCount = (bitCount &+ 7) &>> 3
        var position = bit
        var remaining = bitCount
        for index in 0..<byteCount {
            let width = Swift.min(remaining, 8)
            destination[index] = UInt8(truncatingIfNeeded: read(base, count: count, bit: position, width: width) &<< (8 &- width))
            position &+= width
            remaining &-= width
        }
    }
}

/// Turns extracted integer bits into a value: byte order, then two's-complement sign extension.
struct IntegerDecoding: Sendable {
    let width: Int
    let signed: Bool
    let littleEndian: Bool

    /// The value's 64-bit pattern: sign-extended for signed fields, zero-extended otherwise.
    @inline(__always)
    func pattern(_ bits: UInt64) -> UInt64 {
        var value = bits
        if littleEndian {
            value = value.byteSwapped &>> (64 &- width)
        }
        if signed {
            let unused = 64 &- width
            value = UInt64(bitPattern: Int64(bitPattern: value &<< unused) &>> unused)
        }
        return value
    }

    @inline(__always)
    func wideInteger(_ bits: UInt64) -> WideInteger {
        signed ? WideInteger(Int64(bitPattern: pattern(bits))) : WideInteger(pattern(bits))
    }
}

/// IEEE-754 half precision to single precision (exact).
@inline(__always)
func floatFromHalf(_ half: UInt16) -> Float {
    let sign = UInt32(half & 0x8000) << 16
    let exponent = Int((half >> 10) & 0x1F)
    let mantissa = UInt32(half & 0x3FF)
    switch exponent {
    case 0:
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    case 31:
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    default:
        return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
    }
}
