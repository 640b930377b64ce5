/// Converts between raw CDF value bytes (in a file's encoding) and typed Swift arrays.
enum ValueCodec {
    /// Decodes `count` elements of `type` (for strings: `count` strings of `numElems` bytes each).
    static func decode(_ raw: UnsafeRawBufferPointer, type: CDFDataType, numElems: Int, count: Int, bigEndian: Bool) -> CDFValues {
        switch type.storage {
        case .int8: .int8(decodeNumbers(raw, count: count, bigEndian: bigEndian))
        case .int16: .int16(decodeNumbers(raw, count: count, bigEndian: bigEndian))
        case .int32: .int32(decodeNumbers(raw, count: count, bigEndian: bigEndian))
        case .int64: .int64(decodeNumbers(raw, count: count, bigEndian: bigEndian))
        case .uint8: .uint8(decodeNumbers(raw, count: count, bigEndian: bigEndian))
        case .uint16: .uint16(decodeNumbers(raw, count: count, bigEndian: bigEndian))
        case .uint32: .uint32(decodeNumbers(raw, count: count, bigEndian: bigEndian))
        case .float: .float(decodeNumbers(raw, count: count, bigEndian: bigEndian))
        case .double: .double(decodeNumbers(raw, count: count, bigEndian: bigEndian))
        case .epoch16: .epoch16(decodeNumbers(raw, count: count, bigEndian: bigEndian))
        case .strings: .strings(decodeStrings(raw, width: numElems, count: count))
        }
    }

    /// Copies `count` trivially-typed elements out of `raw`, swapping bytes when the file is big-endian.
    static func decodeNumbers<T>(_ raw: UnsafeRawBufferPointer, count: Int, bigEndian: Bool) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let target = UnsafeMutableRawBufferPointer(buffer)
            if count > 0 { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(count * MemoryLayout<T>.stride)])) }
            if bigEndian == hostIsLittleEndian {
                swapBytes(target, wordSize: T.self == CDFEpoch16.self ? 8 : MemoryLayout<T>.size)
            }
            initialized = count
        }
    }

    /// Splits fixed-width string fields; each string ends at its first NUL (as cdflib does).
    static func decodeStrings(_ raw: UnsafeRawBufferPointer, width: Int, count: Int) -> [String] {
        var strings: [String] = []
        strings.reserveCapacity(count)
        for index in 0..<count {
            let field = UnsafeRawBufferPointer(rebasing: raw[(index * width)..<((index + 1) * width)])
            let end = field.firstIndex(of: 0) ?? field.count
            strings.append(String(decoding: UnsafeRawBufferPointer(rebasing: field[0..<end]), as: UTF8.self))
        }
        return strings
    }

    static let hostIsLittleEndian = 1.littleEndian == 1

    /// Reverses the byte order of every `wordSize`-byte word in place.
    static func swapBytes(_ buffer: UnsafeMutableRawBufferPointer, wordSize: Int) {
        guard wordSize > 1 else { return }
        var index = 0
        while index + wordSize <= buffer.count {
            var low = index
            var high = index + wordSize - 1
            while low < high {
                buffer.swapAt(low, high)
                low += 1
                high -= 1
            }
            index += wordSize
        }
    }

    /// Calls `body` with the little-endian bytes of `values` (zero-copy for numbers on little-endian hosts).
    /// Strings are written NUL-padded to `numElems` bytes each; longer strings are an error.
    static func withLittleEndianBytes<R>(of values: CDFValues, numElems: Int, name: String,
                                         _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        switch values {
        case .int8(let v): return try withBytes(v, body)
        case .int16(let v): return try withBytes(v, body)
        case .int32(let v): return try withBytes(v, body)
        case .int64(let v): return try withBytes(v, body)
        case .uint8(let v): return try withBytes(v, body)
        case .uint16(let v): return try withBytes(v, body)
        case .uint32(let v): return try withBytes(v, body)
        case .float(let v): return try withBytes(v, body)
        case .double(let v): return try withBytes(v, body)
        case .epoch16(let v): return try withBytes(v, body)
        case .strings(let strings):
            let bytes = try encodeStrings(strings, width: numElems, name: name)
            return try bytes.withUnsafeBytes(body)
        }
    }

    private static func withBytes<T, R>(_ array: [T], _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        if hostIsLittleEndian { return try array.withUnsafeBytes(body) }
        var copy = [UInt8](unsafeUninitializedCapacity: array.count * MemoryLayout<T>.stride) { buffer, initialized in
            array.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
            initialized = array.count * MemoryLayout<T>.stride
        }
        copy.withUnsafeMutableBytes { swapBytes($0, wordSize: T.self == CDFEpoch16.self ? 8 : MemoryLayout<T>.size) }
        return try copy.withUnsafeBytes(body)
    }

    static func encodeStrings(_ strings: [String], width: Int, name: String) throws -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(strings.count * width)
        for string in strings {
            let utf8 = string.utf8
            guard utf8.count <= width else {
                throw CDFError.invalidValues(name: name, reason: "string '\(string)' is longer than \(width) bytes")
            }
            bytes.append(contentsOf: utf8)
            bytes.append(contentsOf: repeatElement(0, count: width - utf8.count))
        }
        return bytes
    }

    /// The C library's default pad value of `type`, in little-endian bytes (§3 of the reference).
    static func defaultPad(_ type: CDFDataType, numElems: Int) -> CDFValues {
        switch type.storage {
        case .int8: .int8([-127])
        case .int16: .int16([-32767])
        case .int32: .int32([-2_147_483_647])
        case .int64: .int64([-9_223_372_036_854_775_807])
        case .uint8: .uint8([254])
        case .uint16: .uint16([65534])
        case .uint32: .uint32([4_294_967_294])
        case .float: .float([-1.0e30])
        case .double: type == .epoch ? .double([0]) : .double([-1.0e30])
        case .epoch16: .epoch16([CDFEpoch16(seconds: 0, picoseconds: 0)])
        case .strings: .strings([String(repeating: " ", count: numElems)])
        }
    }
}
