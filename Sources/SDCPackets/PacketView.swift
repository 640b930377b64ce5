/// One packet's bytes seen through a layout: locates fields and reads single values.
///
/// Used where decisions depend on individual values (dispatch, the variable-size rule); bulk decoding reads whole
/// columns instead.
struct PacketView {
    let base: UnsafePointer<UInt8>
    /// The packet's size in bytes.
    let count: Int
    let layout: PacketLayout

    var bitCount: Int { count &* 8 }

    /// The first bit of a fixed-size field, or nil if the packet is too short to hold it.
    func startBit(of index: Int) -> Int? {
        let field = layout.fields[index]
        let start: Int
        switch field.placement {
        case let .fromStart(offset): start = offset
        case let .fromEnd(bitsBeforeEnd): start = bitCount - bitsBeforeEnd
        case .variable: return nil
        }
        guard start >= 0, start + (field.bitCount ?? 0) <= bitCount else { return nil }
        return start
    }

    /// The raw value of an integer or float field, nil if out of bounds or not numeric.
    func rawValue(of index: Int) -> ScalarValue? {
        guard let start = startBit(of: index) else { return nil }
        switch layout.fields[index].parameter.encoding {
        case let .integer(bits, signed, byteOrder):
            let decoding = IntegerDecoding(width: bits, signed: signed, littleEndian: byteOrder == .leastSignificantByteFirst)
            return .integer(decoding.wideInteger(BitReader.read(base, count: count, bit: start, width: bits)))
        case let .float(bits, byteOrder):
            let pattern = BitReader.read(base, count: count, bit: start, width: bits)
            let swapped = byteOrder == .leastSignificantByteFirst
            switch bits {
            case 16: return .real(Double(HalfConversion(swapped: swapped).convert(pattern)))
            case 32: return .real(Double(FloatConversion(swapped: swapped).convert(pattern)))
            default: return .real(DoubleConversion(swapped: swapped).convert(pattern))
            }
        case .string, .binary:
            return nil
        }
    }

    /// The value a comparison or size rule sees: raw, or derived (label, boolean, calibrated number).
    func value(of index: Int, calibrated: Bool) -> ScalarValue? {
        guard let raw = rawValue(of: index) else { return nil }
        guard calibrated else { return raw }
        let parameter = layout.fields[index].parameter
        switch parameter.kind {
        case let .enumerated(entries):
            guard case let .integer(value) = raw,
                  let entry = entries.last(where: { WideInteger($0.value) == value }) else { return nil }
            return .text(entry.label)
        case .boolean:
            guard case let .integer(value) = raw else { return nil }
            return .integer(WideInteger(Int64(value.bits == 0 ? 0 : 1)))
        default:
            guard let calibration = parameter.calibration else { return raw }
            var unavailable = false
            let result = calibration.calibrate(raw, criteria: layout.calibrationCriteria[index]) { criterion in
                guard case let .field(source) = criterion.source,
                      let value = value(of: source, calibrated: criterion.useCalibratedValue) else {
                    unavailable = true
                    return .real(.nan)
                }
                return value
            }
            guard !unavailable, let result else { return nil }
            return .real(result)
        }
    }

    /// The size in bits of the variable-size field according to the layout's rule, nil if it cannot be read.
    func variableFieldBits() -> Int? {
        guard let rule = layout.variableSize,
              let value = value(of: rule.referenceField, calibrated: rule.useCalibratedValue) else { return nil }
        let number: Double = switch value {
        case let .integer(integer): integer.doubleValue
        case let .real(real): real
        case .text: .nan
        }
        let bits = rule.slope * number + rule.intercept
        guard bits.isFinite, abs(bits) < 1e15 else { return nil }
        return Int(bits)  // Python's int() truncates toward zero.
    }
}
