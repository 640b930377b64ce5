/// The values of one field across all packets of a container, as one contiguous typed array.
///
/// Integers use the smallest type that holds the field's bit width (as imap_processing does); the arrays can be
/// handed to a writer without copying.
public enum Column: Sendable, Equatable {
    case uint8([UInt8])
    case uint16([UInt16])
    case uint32([UInt32])
    case uint64([UInt64])
    case int8([Int8])
    case int16([Int16])
    case int32([Int32])
    case int64([Int64])
    case float32([Float])
    case float64([Double])
    case boolean([Bool])
    case string([String])
    /// Binary values (raw strings and blobs), one byte sequence per packet.
    case bytes(ByteColumn)

    /// The number of values.
    public var count: Int {
        switch self {
        case let .uint8(values): values.count
        case let .uint16(values): values.count
        case let .uint32(values): values.count
        case let .uint64(values): values.count
        case let .int8(values): values.count
        case let .int16(values): values.count
        case let .int32(values): values.count
        case let .int64(values): values.count
        case let .float32(values): values.count
        case let .float64(values): values.count
        case let .boolean(values): values.count
        case let .string(values): values.count
        case let .bytes(values): values.count
        }
    }

    /// The value at `index` as an exact integer, for integer and boolean columns.
    func integer(at index: Int) -> WideInteger? {
        switch self {
        case let .uint8(values): WideInteger(UInt64(values[index]))
        case let .uint16(values): WideInteger(UInt64(values[index]))
        case let .uint32(values): WideInteger(UInt64(values[index]))
        case let .uint64(values): WideInteger(values[index])
        case let .int8(values): WideInteger(Int64(values[index]))
        case let .int16(values): WideInteger(Int64(values[index]))
        case let .int32(values): WideInteger(Int64(values[index]))
        case let .int64(values): WideInteger(values[index])
        case let .boolean(values): WideInteger(Int64(values[index] ? 1 : 0))
        default: nil
        }
    }

    /// The value at `index` as comparisons and calibrators see it.
    func scalar(at index: Int) -> ScalarValue? {
        switch self {
        case let .float32(values): .real(Double(values[index]))
        case let .float64(values): .real(values[index])
        case let .string(values): .text(values[index])
        case .bytes: nil
        default: integer(at: index).map(ScalarValue.integer)
        }
    }
}

/// Variable-length byte values stored back to back: value `i` is `bytes[offsets[i] ..< offsets[i + 1]]`.
public struct ByteColumn: Sendable, Equatable, RandomAccessCollection {
    /// All values concatenated.
    public let bytes: [UInt8]
    /// `count + 1` offsets into `bytes`, starting with 0.
    public let offsets: [Int]

    public init(bytes: [UInt8], offsets: [Int]) {
        precondition(offsets.first == 0 && offsets.last == bytes.count, "offsets must span the bytes")
        self.bytes = bytes
        self.offsets = offsets
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { offsets.count - 1 }

    public subscript(position: Int) -> ArraySlice<UInt8> {
        bytes[offsets[position]..<offsets[position + 1]]
    }

    /// The common length of all values, if they all have one length.
    public var fixedLength: Int? {
        guard offsets.count > 1 else { return 0 }
        let length = offsets[1] - offsets[0]
        return zip(offsets, offsets.dropFirst()).allSatisfy { $1 - $0 == length } ? length : nil
    }
}

extension Column {
    /// Calls `body` with each value of an integer or boolean column as `Int64` (nil for unsigned values above
    /// `Int64.max`); does nothing for other columns.
    func forEachInteger(_ body: (Int, Int64?) -> Void) {
        switch self {
        case let .uint8(values): for (index, value) in values.enumerated() { body(index, Int64(value)) }
        case let .uint16(values): for (index, value) in values.enumerated() { body(index, Int64(value)) }
        case let .uint32(values): for (index, value) in values.enumerated() { body(index, Int64(value)) }
        case let .uint64(values): for (index, value) in values.enumerated() { body(index, Int64(exactly: value)) }
        case let .int8(values): for (index, value) in values.enumerated() { body(index, Int64(value)) }
        case let .int16(values): for (index, value) in values.enumerated() { body(index, Int64(value)) }
        case let .int32(values): for (index, value) in values.enumerated() { body(index, Int64(value)) }
        case let .int64(values): for (index, value) in values.enumerated() { body(index, value) }
        case let .boolean(values): for (index, value) in values.enumerated() { body(index, value ? 1 : 0) }
        case .float32, .float64, .string, .bytes: break
        }
    }

    /// Calls `body` with each value of an integer column; returns false (without calling it) for other columns.
    func forEachWideInteger(_ body: (Int, WideInteger) -> Void) -> Bool {
        switch self {
        case let .uint64(values):
            for (index, value) in values.enumerated() { body(index, WideInteger(value)) }
            return true
        case .uint8, .uint16, .uint32, .int8, .int16, .int32, .int64, .boolean:
            forEachInteger { index, value in body(index, WideInteger(value ?? 0)) }
            return true
        case .float32, .float64, .string, .bytes:
            return false
        }
    }
}
