/// Extracts the raw columns of one packet group: a tight loop per field over all packets of the group.
struct ColumnExtractor {
    /// The scanned bytes (the whole file).
    let base: UnsafePointer<UInt8>
    let count: Int
    let layout: PacketLayout
    let starts: UnsafeBufferPointer<Int>
    let sizes: UnsafeBufferPointer<Int32>

    var packetCount: Int { starts.count }

    /// The raw column of the field at `index`.
    func column(_ index: Int) -> Column {
        let field = layout.fields[index]
        switch field.parameter.encoding {
        case let .integer(bits, signed, byteOrder):
            let decoding = IntegerDecoding(width: bits, signed: signed, littleEndian: byteOrder == .leastSignificantByteFirst)
            switch (bits, signed) {
            case (...8, false): return .uint8(values(field, IntegerConversion<UInt8>(decoding: decoding)))
            case (...16, false): return .uint16(values(field, IntegerConversion<UInt16>(decoding: decoding)))
            case (...32, false): return .uint32(values(field, IntegerConversion<UInt32>(decoding: decoding)))
            case (_, false): return .uint64(values(field, IntegerConversion<UInt64>(decoding: decoding)))
            case (...8, true): return .int8(values(field, IntegerConversion<Int8>(decoding: decoding)))
            case (...16, true): return .int16(values(field, IntegerConversion<Int16>(decoding: decoding)))
            case (...32, true): return .int32(values(field, IntegerConversion<Int32>(decoding: decoding)))
            case (_, true): return .int64(values(field, IntegerConversion<Int64>(decoding: decoding)))
            }
        case let .float(bits, byteOrder):
            let swapped = byteOrder == .leastSignificantByteFirst
            switch bits {
            case 16: return .float32(values(field, HalfConversion(swapped: swapped)))
            case 32: return .float32(values(field, FloatConversion(swapped: swapped)))
            default: return .float64(values(field, DoubleConversion(swapped: swapped)))
            }
        case .string:
            return .bytes(byteColumn(field, leftAligned: true))
        case .binary:
            return .bytes(byteColumn(field, leftAligned: false))
        }
    }

    /// The first bit of a fixed-size field in packet `packet`.
    @inline(__always)
    private func startBit(_ placement: FieldPlacement, _ packet: Int) -> Int {
        switch placement {
        case let .fromStart(offset): starts[packet] &* 8 &+ offset
        case let .fromEnd(bitsBeforeEnd): (starts[packet] &+ Int(sizes[packet])) &* 8 &- bitsBeforeEnd
        case let .variable(startBit): starts[packet] &* 8 &+ startBit
        }
    }

    /// Reads a numeric field of every packet and converts the extracted bits.
    private func values<Conversion: BitConversion>(_ field: LayoutField, _ conversion: Conversion) -> [Conversion.Value] {
        let width = field.bitCount ?? 0
        let placement = field.placement
        return Array(unsafeUninitializedCapacity: packetCount) { buffer, initialized in
            guard let output = buffer.baseAddress else { return }
            for packet in 0..<packetCount {
                let bit = startBit(placement, packet)
                (output + packet).initialize(to: conversion.convert(BitReader.read(base, count: count, bit: bit, width: width)))
            }
            initialized = packetCount
        }
    }

    /// Copies a string or binary field of every packet into one byte column.
    private func byteColumn(_ field: LayoutField, leftAligned: Bool) -> ByteColumn {
        let variableBits = layout.prefixBits + layout.suffixBits
        var offsets = [Int](repeating: 0, count: packetCount + 1)
        var total = 0
        for packet in 0..<packetCount {
            let bits = field.bitCount ?? (Int(sizes[packet]) * 8 - variableBits)
            total += (bits + 7) >> 3
            offsets[packet + 1] = total
        }
        let placement = field.placement
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            guard let output = buffer.baseAddress else { return }
            for packet in 0..<packetCount {
                let bits = field.bitCount ?? (Int(sizes[packet]) * 8 - variableBits)
                guard bits > 0 else { continue }
                let destination = output + offsets[packet]
                let bit = startBit(placement, packet)
                if leftAligned {
                    BitReader.copyString(base, count: count, bit: bit, bitCount: bits, to: destination)
                } else {
                    BitReader.copyBinary(base, count: count, bit: bit, bitCount: bits, to: destination)
                }
            }
            initialized = total
        }
        return ByteColumn(bytes: bytes, offsets: offsets)
    }
}

/// Turns the extracted bits of a numeric field into its column's element type.
protocol BitConversion: Sendable {
    associatedtype Value: Sendable
    func convert(_ bits: UInt64) -> Value
}

struct IntegerConversion<Value: FixedWidthInteger & Sendable>: BitConversion {
    let decoding: IntegerDecoding

    @inline(__always)
    func convert(_ bits: UInt64) -> Value { Value(truncatingIfNeeded: decoding.pattern(bits)) }
}

struct HalfConversion: BitConversion {
    let swapped: Bool

    @inline(__always)
    func convert(_ bits: UInt64) -> Float {
        floatFromHalf(UInt16(truncatingIfNeeded: swapped ? bits.byteSwapped &>> 48 : bits))
    }
}

struct FloatConversion: BitConversion {
    let swapped: Bool

    @inline(__always)
    func convert(_ bits: UInt64) -> Float {
        Float(bitPattern: UInt32(truncatingIfNeeded: swapped ? bits.byteSwapped &>> 32 : bits))
    }
}

struct DoubleConversion: BitConversion {
    let swapped: Bool

    @inline(__always)
    func convert(_ bits: UInt64) -> Double { Double(bitPattern: swapped ? bits.byteSwapped : bits) }
}
