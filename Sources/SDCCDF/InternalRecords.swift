/// Internal record type codes (CDF Internal Format Description).
enum RecordType: Int32 {
    case cdr = 1, gdr = 2, rVDR = 3, adr = 4, agrEDR = 5, vxr = 6, vvr = 7, zVDR = 8, azEDR = 9
    case ccr = 10, cpr = 11, spr = 12, cvvr = 13, uir = -1

    var name: String {
        switch self {
        case .cdr: "CDR"
        case .gdr: "GDR"
        case .rVDR: "rVDR"
        case .adr: "ADR"
        case .agrEDR: "AgrEDR"
        case .vxr: "VXR"
        case .vvr: "VVR"
        case .zVDR: "zVDR"
        case .azEDR: "AzEDR"
        case .ccr: "CCR"
        case .cpr: "CPR"
        case .spr: "SPR"
        case .cvvr: "CVVR"
        case .uir: "UIR"
        }
    }
}

/// Field widths that differ between CDF v2 and v3.
struct FormatLayout: Sendable {
    /// Bytes of an offset or size field: 8 in v3, 4 in v2.
    let offsetWidth: Int
    /// Bytes of a name field: 256 in v3, 64 in v2.
    let nameWidth: Int
    /// Extra reserved bytes in VDRs of files older than v2.5.
    let vdrPre25Padding: Int

    static let v3 = FormatLayout(offsetWidth: 8, nameWidth: 256, vdrPre25Padding: 0)
    static let v2 = FormatLayout(offsetWidth: 4, nameWidth: 64, vdrPre25Padding: 0)
    static let v2Pre25 = FormatLayout(offsetWidth: 4, nameWidth: 64, vdrPre25Padding: 128)

    /// Size of the common record header (size + type).
    var headerSize: Int { offsetWidth + 4 }
}

/// The bytes of one internal record and a cursor over its fields, with errors that name the record and offset.
struct RecordCursor {
    let bytes: [UInt8]
    let offset: Int
    let name: String
    let layout: FormatLayout
    private(set) var position: Int

    /// Reads the record at `offset`: validates the size against the file and checks the type.
    init(source: ByteSource, offset: Int, layout: FormatLayout, expecting types: [RecordType], minimumSize: Int) throws {
        let expectedName = types.map(\.name).joined(separator: "/")
        let header = try source.bytes(at: offset, count: layout.headerSize, record: expectedName)
        let size = layout.offsetWidth == 8 ? Int(Int64(bigEndianBytes: header, at: 0)) : Int(Int32(bigEndianBytes: header, at: 0))
        let typeCode = Int32(bigEndianBytes: header, at: layout.offsetWidth)
        guard let type = RecordType(rawValue: typeCode), types.contains(type) else {
            throw CDFError.unexpectedRecordType(expected: expectedName, found: typeCode, offset: offset)
        }
        guard size >= minimumSize else {
            throw CDFError.malformed(record: type.name, offset: offset, reason: "record size \(size) is below the minimum \(minimumSize)")
        }
        guard size <= source.count - offset else {
            throw CDFError.truncated(record: type.name, offset: offset, needed: size, available: source.count - offset)
        }
        bytes = try source.bytes(at: offset, count: size, record: type.name)
        self.offset = offset
        self.name = type.name
        self.layout = layout
        self.type = type
        position = layout.headerSize
    }

    /// The record type that was found.
    let type: RecordType

    var size: Int { bytes.count }
    var remaining: Int { bytes.count - position }

    private func require(_ count: Int) throws {
        guard count <= bytes.count - position else {
            throw CDFError.truncated(record: name, offset: offset, needed: position + count, available: bytes.count)
        }
    }

    mutating func int32() throws -> Int32 {
        try require(4)
        defer { position += 4 }
        return Int32(bigEndianBytes: bytes, at: position)
    }

    mutating func int64() throws -> Int64 {
        try require(8)
        defer { position += 8 }
        return Int64(bigEndianBytes: bytes, at: position)
    }

    /// A file offset or size (8 bytes in v3, 4 in v2).
    mutating func offsetField() throws -> Int {
        layout.offsetWidth == 8 ? Int(try int64()) : Int(try int32())
    }

    /// A count that must lie in `0...limit`.
    mutating func count(_ field: String, limit: Int) throws -> Int {
        let value = Int(try int32())
        guard value >= 0, value <= limit else {
            throw CDFError.malformed(record: name, offset: offset, reason: "\(field) \(value) is outside 0...\(limit)")
        }
        return value
    }

    mutating func skip(_ count: Int) throws {
        try require(count)
        position += count
    }

    /// A NUL-padded name field.
    mutating func nameField() throws -> String {
        try require(layout.nameWidth)
        defer { position += layout.nameWidth }
        let field = bytes[position..<(position + layout.nameWidth)]
        let end = field.firstIndex(of: 0) ?? field.endIndex
        return String(decoding: field[field.startIndex..<end], as: UTF8.self)
    }

    /// The remaining bytes from the cursor, at most `count`.
    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        try require(count)
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    func malformed(_ reason: String) -> CDFError {
        .malformed(record: name, offset: offset, reason: reason)
    }
}

extension FixedWidthInteger {
    init(bigEndianBytes bytes: [UInt8], at index: Int) {
        var value = Self.zero
        for k in 0..<MemoryLayout<Self>.size {
            value = value << 8 | Self(truncatingIfNeeded: bytes[index + k])
        }
        self = value
    }
}

/// Big-endian serialisation of header fields for the writer.
struct RecordBuilder {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func int32(_ value: Int32) {
        let v = UInt32(bitPattern: value)
        bytes.append(UInt8(truncatingIfNeeded: v >> 24))
        bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    mutating func int32(_ value: Int) { int32(Int32(truncatingIfNeeded: value)) }

    mutating func int64(_ value: Int) {
        let v = UInt64(bitPattern: Int64(value))
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    /// A NUL-padded name of `width` bytes.
    mutating func name(_ text: String, width: Int = 256) {
        let utf8 = Array(text.utf8.prefix(width))
        bytes.append(contentsOf: utf8)
        bytes.append(contentsOf: repeatElement(0, count: width - utf8.count))
    }

    mutating func append<S: Sequence>(contentsOf other: S) where S.Element == UInt8 { bytes.append(contentsOf: other) }
}
