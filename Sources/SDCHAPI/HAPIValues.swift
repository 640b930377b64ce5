import SDCCDF
import SDCCore

/// The values of one variable over some records, with the CDF type they were stored as, and how HAPI writes each.
struct ValueColumn {
    let values: CDFValues
    let dataType: CDFDataType

    init(values: CDFValues, dataType: CDFDataType) throws {
        guard values.kind == dataType.storage else {
            throw HAPIDatasetError(description: "values of kind \(values.kind) do not hold \(dataType.name)")
        }
        self.values = values
        self.dataType = dataType
    }

    var count: Int { values.count }

    /// Value `index` as a double (for bin centers).
    func double(at index: Int) -> Double {
        switch values {
        case .int8(let v): Double(v[index])
        case .int16(let v): Double(v[index])
        case .int32(let v): Double(v[index])
        case .int64(let v): Double(v[index])
        case .uint8(let v): Double(v[index])
        case .uint16(let v): Double(v[index])
        case .uint32(let v): Double(v[index])
        case .float(let v): Double(v[index])
        case .double(let v): v[index]
        case .epoch16(let v): v[index].seconds
        case .strings: .nan
        }
    }

    /// Appends value `index` as CSV writes it: integers in decimal, doubles in the shortest text that reads back as
    /// the same double (a CDF_REAL4 is widened first, so text and binary carry the same value), times in ``HAPITime``
    /// form, strings without their padding (not quoted: see ``appendCSVField``).
    func appendText(at index: Int, type: HAPIType, to bytes: inout [UInt8]) {
        switch values {
        case .int8(let v): appendInteger(Int64(v[index]), type: type, to: &bytes)
        case .int16(let v): appendInteger(Int64(v[index]), type: type, to: &bytes)
        case .int32(let v): appendInteger(Int64(v[index]), type: type, to: &bytes)
        case .uint8(let v): appendInteger(Int64(v[index]), type: type, to: &bytes)
        case .uint16(let v): appendInteger(Int64(v[index]), type: type, to: &bytes)
        case .uint32(let v): appendInteger(Int64(v[index]), type: type, to: &bytes)
        case .int64(let v):
            if dataType == .tt2000 { HAPITime.append(v[index], to: &bytes) } else { appendDouble(Double(v[index]), to: &bytes) }
        case .float(let v): appendDouble(Double(v[index]), to: &bytes)
        case .double(let v): appendDouble(v[index], to: &bytes)
        case .epoch16(let v): appendDouble(v[index].seconds, to: &bytes)
        case .strings(let v): bytes += v[index].trimmingTrailingPadding().utf8
        }
    }

    /// Appends value `index` in HAPI binary (§3.7.4.2): little-endian 4-byte integers and 8-byte doubles, strings
    /// and times as `length` bytes padded with NUL.
    func appendBinary(at index: Int, type: HAPIType, length: Int, to bytes: inout [UInt8]) {
        switch type {
        case .integer:
            let value: Int32 = switch values {
            case .int8(let v): Int32(v[index])
            case .int16(let v): Int32(v[index])
            case .int32(let v): v[index]
            case .uint8(let v): Int32(v[index])
            case .uint16(let v): Int32(v[index])
            default: 0
            }
            withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
        case .double:
            withUnsafeBytes(of: double(at: index).bitPattern.littleEndian) { bytes += $0 }
        case .isotime, .string:
            let start = bytes.count
            appendText(at: index, type: type, to: &bytes)
            if bytes.count - start > length { bytes.removeLast(bytes.count - start - length) }
            bytes += repeatElement(0, count: length - (bytes.count - start))
        }
    }

    private func appendInteger(_ value: Int64, type: HAPIType, to bytes: inout [UInt8]) {
        if type == .double { return appendDouble(Double(value), to: &bytes) }
        bytes += String(value).utf8
    }

    private func appendDouble(_ value: Double, to bytes: inout [UInt8]) {
        if value.isNaN {
            bytes += "NaN".utf8
        } else if value.isInfinite {
            bytes += (value > 0 ? "Infinity" : "-Infinity").utf8
        } else {
            bytes += value.description.utf8
        }
    }
}

extension [UInt8] {
    /// Appends `field` as one RFC 4180 field: quoted, with quotes doubled, when it holds a comma, quote or line break
    /// (§3.7.4.1).
    mutating func appendCSVField(_ field: ArraySlice<UInt8>) {
        guard field.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else {
            self += field
            return
        }
        append(0x22)
        for byte in field {
            if byte == 0x22 { append(0x22) }
            append(byte)
        }
        append(0x22)
    }
}
