import Crypto
import Dispatch
import SDCCore

/// Options for opening a CDF file.
public struct CDFReadOptions: Sendable {
    /// Verify the MD5 trailer when the file declares one.
    public var verifyChecksum: Bool

    public init(verifyChecksum: Bool = true) {
        self.verifyChecksum = verifyChecksum
    }
}

/// File-level facts from the magic number and the CDR/GDR.
public struct CDFFileHeader: Sendable {
    public let version: Int
    public let release: Int
    public let increment: Int
    /// CDR Encoding (6 = IBMPC little-endian, 1 = NETWORK big-endian, ...).
    public let encoding: Int32
    public let isBigEndian: Bool
    public let isRowMajor: Bool
    /// True when an MD5 trailer is declared.
    public let hasMD5: Bool
    /// Whole-file compression (`.none` for normal files).
    public let fileCompression: CDFCompression
    /// `GDR.LeapSecondLastUpdated` (YYYYMMDD), 0 in v2 files.
    public let leapSecondLastUpdated: Int
    /// Copyright text of the CDR.
    public let copyright: String

    /// `major.release.increment`, e.g. `3.9.0`.
    public var versionString: String { "\(version).\(release).\(increment)" }
}

/// Reads CDF v2.x and v3 files: header, attributes, variable descriptions and values.
///
/// Every pointer, count and size is checked against the file length before it is followed or allocated, so a
/// damaged file produces a ``CDFError`` naming the record and offset. The file is read on demand with `pread`;
/// whole-file-compressed files are inflated into memory.
public final class CDFReader: Sendable {
    public let header: CDFFileHeader
    /// Global attributes in attribute-number order.
    public let globalAttributes: [CDFGlobalAttribute]
    /// zVariables then rVariables, each in variable-number order.
    public let variables: [CDFVariable]

    let source: ByteSource
    let layout: FormatLayout

    /// Opens the file at `path`.
    public convenience init(path: String, options: CDFReadOptions = CDFReadOptions()) throws {
        try self.init(source: ByteSource(path: path), options: options)
    }

    /// Parses a CDF held in memory.
    public convenience init(bytes: [UInt8], options: CDFReadOptions = CDFReadOptions()) throws {
        try self.init(source: ByteSource(bytes: bytes), options: options)
    }

    init(source original: ByteSource, options: CDFReadOptions) throws {
        let magic = try original.bytes(at: 0, count: 8, record: "magic number")
        let first = UInt32(bigEndianBytes: magic, at: 0)
        let second = UInt32(bigEndianBytes: magic, at: 4)
        let layout: FormatLayout
        switch first {
        case 0xCDF3_0001: layout = .v3
        case 0xCDF2_6002: layout = .v2
        case 0x0000_FFFF: layout = .v2Pre25
        default: throw CDFError.notCDF(magic: magic.map { [$0].hexString }.joined(separator: " "))
        }
        var source = original
        var fileCompression = CDFCompression.none
        switch second {
        case 0x0000_FFFF: break
        case 0xCCCC_0001:
            if options.verifyChecksum { try Self.verifyTrailingMD5IfFlagged(source: original, layout: layout, compressed: true) }
            (source, fileCompression) = try Self.expandCompressedFile(original, layout: layout, magic: Array(magic[0..<4]))
        default:
            throw CDFError.notCDF(magic: magic.map { [$0].hexString }.joined(separator: " "))
        }
        self.source = source
        self.layout = layout

        var cdr = try RecordCursor(source: source, offset: 8, layout: layout, expecting: [.cdr], minimumSize: layout.headerSize + 40)
        let gdrOffset = try cdr.offsetField()
        let version = Int(try cdr.int32())
        let release = Int(try cdr.int32())
        let encoding = try cdr.int32()
        let flags = try cdr.int32()
        try cdr.skip(8)
        let increment = Int(try cdr.int32())
        try cdr.skip(8)
        let copyrightBytes = try cdr.take(cdr.remaining)
        let copyright = String(decoding: copyrightBytes.prefix { $0 != 0 }, as: UTF8.self)
        let bigEndian: Bool
        switch encoding {
        case 1, 2, 5, 7, 9, 11, 12, 18: bigEndian = true
        case 3, 14, 15: throw CDFError.unsupportedEncoding(encoding)
        case 4, 6, 8, 10, 13, 16, 17, 19: bigEndian = false
        default: throw cdr.malformed("unknown data encoding \(encoding)")
        }
        let hasMD5 = flags & 0b1100 == 0b1100
        if hasMD5, options.verifyChecksum, fileCompression == .none {
            try Self.verifyTrailingMD5IfFlagged(source: source, layout: layout, compressed: false)
        }

        var gdr = try RecordCursor(source: source, offset: gdrOffset, layout: layout, expecting: [.gdr], minimumSize: layout.headerSize)
        let rVDRHead = try gdr.offsetField()
        let zVDRHead = try gdr.offsetField()
        let adrHead = try gdr.offsetField()
        _ = try gdr.offsetField() // eof
        let maxRecords = source.count / 16
        let rVariableCount = try gdr.count("NrVars", limit: maxRecords)
        let attributeCount = try gdr.count("NumAttr", limit: maxRecords)
        _ = try gdr.int32() // rMaxRec
        let rNumDims = try gdr.count("rNumDims", limit: gdr.remaining / 4)
        let zVariableCount = try gdr.count("NzVars", limit: maxRecords)
        _ = try gdr.offsetField() // UIRhead
        _ = try gdr.int32() // rfuC
        let leapSecondDate = Int(try gdr.int32())
        _ = try gdr.int32() // rfuE
        var rDimSizes: [Int] = []
        for _ in 0..<rNumDims {
            let size = Int(try gdr.int32())
            guard size >= 1 else { throw gdr.malformed("rDimSizes contains \(size)") }
            rDimSizes.append(size)
        }

        header = CDFFileHeader(
            version: version, release: release, increment: increment, encoding: encoding, isBigEndian: bigEndian,
            isRowMajor: flags & 1 == 1, hasMD5: hasMD5, fileCompression: fileCompression,
            leapSecondLastUpdated: layout.offsetWidth == 8 ? leapSecondDate : 0, copyright: copyright)

        let parser = DescriptorParser(source: source, layout: layout, bigEndian: bigEndian, rDimSizes: rDimSizes)
        var zVariables = try parser.variables(head: zVDRHead, count: zVariableCount, type: .zVDR)
        var rVariables = try parser.variables(head: rVDRHead, count: rVariableCount, type: .rVDR)
        let attributes = try parser.attributes(head: adrHead, count: attributeCount)
        var globals: [CDFGlobalAttribute] = []
        for attribute in attributes {
            if attribute.isGlobal {
                globals.append(CDFGlobalAttribute(name: attribute.name, entries: attribute.globalEntries.map(\.entry)))
                continue
            }
            for (number, entry) in attribute.zEntries where number >= 0 && number < zVariables.count {
                zVariables[number].attributes.append(CDFNamedEntry(attribute.name, entry))
            }
            for (number, entry) in attribute.globalEntries where number >= 0 && number < rVariables.count {
                rVariables[number].attributes.append(CDFNamedEntry(attribute.name, entry))
            }
        }
        globalAttributes = globals
        variables = zVariables + rVariables
    }

    /// The variable named `name`.
    public func variable(named name: String) throws -> CDFVariable {
        guard let variable = variables.first(where: { $0.name == name }) else { throw CDFError.notFound(name) }
        return variable
    }

    /// The global attribute named `name`, if present.
    public func globalAttribute(_ name: String) -> CDFGlobalAttribute? {
        globalAttributes.first { $0.name == name }
    }

    /// Reads the values of `variable` for `records` (all records when nil), flattened in row-major order:
    /// records slowest, then the dimensions in order, strings as one value each.
    public func values(of variable: CDFVariable, records: Range<Int>? = nil) throws -> CDFValues {
        let reader = VariableDataReader(source: source, layout: layout, header: header, variable: variable)
        return try reader.read(records: records ?? 0..<variable.recordCount)
    }

    /// Reads the values of the variable named `name`.
    public func values(of name: String, records: Range<Int>? = nil) throws -> CDFValues {
        try values(of: variable(named: name), records: records)
    }

    // MARK: - Whole-file compression and checksums

    private static func expandCompressedFile(_ source: ByteSource, layout: FormatLayout, magic: [UInt8]) throws -> (ByteSource, CDFCompression) {
        var ccr = try RecordCursor(source: source, offset: 8, layout: layout, expecting: [.ccr], minimumSize: layout.headerSize + 2 * layout.offsetWidth + 4)
        let cprOffset = try ccr.offsetField()
        let uncompressedSize = try ccr.offsetField()
        _ = try ccr.int32()
        let data = try ccr.take(ccr.remaining)
        var cpr = try RecordCursor(source: source, offset: cprOffset, layout: layout, expecting: [.cpr], minimumSize: layout.headerSize + 12)
        let code = try cpr.int32()
        _ = try cpr.int32()
        let parameterCount = try cpr.count("pCount", limit: cpr.remaining / 4)
        let parameter = parameterCount > 0 ? try cpr.int32() : 0
        let compression = try CDFCompression(code: code, parameter: parameter, record: "CPR", offset: cprOffset)
        let limit: Int
        switch compression {
        case .gzip: limit = data.count * maximumDeflateRatio + 1024
        case .rle: limit = ZeroRunLength.maximumDecodedSize(of: data.count)
        default: throw CDFError.unsupportedCompression(code: code, record: "CCR", offset: 8)
        }
        guard uncompressedSize >= 0, uncompressedSize <= limit else {
            throw CDFError.allocationTooLarge(record: "CCR", offset: 8, bytes: uncompressedSize, limit: limit)
        }
        let expanded = try [UInt8](unsafeUninitializedCapacity: uncompressedSize + 8) { buffer, initialized in
            initialized = 0
            let raw = UnsafeMutableRawBufferPointer(buffer)
            let body = UnsafeMutableRawBufferPointer(rebasing: raw[8...])
            try data.withUnsafeBytes { input in
                if case .gzip = compression {
                    try Deflate.inflate(input, into: body, record: "CCR", offset: 8)
                } else {
                    try ZeroRunLength.decode(input, into: body, record: "CCR", offset: 8)
                }
            }
            for (index, byte) in (magic + [0x00, 0x00, 0xFF, 0xFF]).enumerated() { raw[index] = byte }
            initialized = uncompressedSize + 8
        }
        return (ByteSource(bytes: expanded), compression)
    }

    /// Checks the 16-byte MD5 trailer when the CDR flags declare one.
    private static func verifyTrailingMD5IfFlagged(source: ByteSource, layout: FormatLayout, compressed: Bool) throws {
        if compressed {
            // The CDR of a compressed file is inside the compressed data; the trailer is present only
            // when the file is longer than the CCR and CPR it contains.
            var ccr = try RecordCursor(source: source, offset: 8, layout: layout, expecting: [.ccr], minimumSize: layout.headerSize + 2 * layout.offsetWidth + 4)
            let cprOffset = try ccr.offsetField()
            let cpr = try RecordCursor(source: source, offset: cprOffset, layout: layout, expecting: [.cpr], minimumSize: layout.headerSize + 12)
            let end = max(8 + ccr.size, cprOffset + cpr.size)
            guard source.count == end + 16 else { return }
        }
        guard source.count >= 24 else { throw CDFError.truncated(record: "MD5 trailer", offset: 0, needed: 24, available: source.count) }
        let end = source.count - 16
        let expected = try source.bytes(at: end, count: 16, record: "MD5 trailer")
        var hasher = Insecure.MD5()
        try source.forEachChunk(upTo: end) { hasher.update(bufferPointer: $0) }
        let actual = Array(hasher.finalize())
        guard actual == expected else {
            throw CDFError.checksumMismatch(expected: expected.hexString, actual: actual.hexString)
        }
    }
}
