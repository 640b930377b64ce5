import Testing
@testable import SDCCDF

@Suite struct ReaderTests {
    static let epochs: [Int64] = [511_921_899_184_000_000, 511_921_900_184_000_000, 511_921_901_184_000_000, 511_921_902_184_000_000]

    /// `small.cdf` and its variants hold the contents documented in testdata/cdf/README.md.
    @Test(arguments: ["small.cdf", "small_gzipvar.cdf", "small_md5.cdf", "small_filegz.cdf"])
    func smallFileContents(name: String) throws {
        let reader = try CDFReader(path: TestData.cdf(name))
        #expect(reader.header.versionString == "3.9.0")
        #expect(reader.header.encoding == 6 && reader.header.isRowMajor)
        #expect(reader.header.hasMD5 == (name == "small_md5.cdf"))
        #expect(reader.header.fileCompression == (name == "small_filegz.cdf" ? .gzip(level: 6) : .none))
        #expect(reader.globalAttributes.count == 15)
        #expect(reader.globalAttribute("TEXT")?.entries.map(\.stringValue) == ["Worked example written by cdflib", "second entry of a multi-entry gAttribute"])
        #expect(reader.variables.map(\.name) == ["Epoch", "hermes_nem_b", "hermes_nem_flags", "label_b"])
        #expect(try reader.values(of: "Epoch") == .int64(Self.epochs))
        #expect(try reader.values(of: "hermes_nem_b") == .float([1.5, -2.25, 3, 1, 2, 3, 0, 0, -1e31, 7, 8, 9]))
        #expect(try reader.values(of: "hermes_nem_flags") == .uint16([0, 1, 2, 65535]))
        #expect(try reader.values(of: "label_b") == .strings(["Bx", "By", "Bz"]))
        let b = try reader.variable(named: "hermes_nem_b")
        #expect(b.dimensions == [3] && b.recordVarying && b.recordCount == 4)
        #expect(b.padValue == .float([-1e31]))
        #expect(b.attribute("FILLVAL") == (try CDFAttributeEntry(dataType: .real4, values: .float([-1e31]))))
        #expect(b.attribute("TENSOR_ORDER") == (try CDFAttributeEntry(dataType: .int4, values: .int32([1]))))
        #expect(b.compression == (name == "small_gzipvar.cdf" ? .gzip(level: 6) : .none))
        let label = try reader.variable(named: "label_b")
        #expect(!label.recordVarying && label.numElems == 5 && label.recordCount == 1)
        let epoch = try reader.variable(named: "Epoch")
        #expect(epoch.attribute("VALIDMIN") == .tt2000(-315_575_942_816_000_000))
        #expect(epoch.attributes.count == 14)
    }

    @Test func compressedBlocksAndPartialRanges() throws {
        let reader = try CDFReader(path: TestData.cdf("cvvr_demo.cdf"))
        let x = try reader.variable(named: "x")
        #expect(x.recordCount == 100_000 && x.blockingFactor == 8192 && x.compression == .gzip(level: 6))
        #expect(try reader.values(of: x) == .double(Array(repeating: 0, count: 100_000)))
        #expect(try reader.values(of: x, records: 8000..<8400) == .double(Array(repeating: 0, count: 400)))
        #expect(try reader.values(of: x, records: 99_990..<200_000) == .double(Array(repeating: 0, count: 10)))
    }

    @Test func recordRangesOfPlainBlocks() throws {
        let reader = try CDFReader(path: TestData.cdf("small.cdf"))
        #expect(try reader.values(of: "hermes_nem_b", records: 1..<3) == .float([1, 2, 3, 0, 0, -1e31]))
        #expect(try reader.values(of: "Epoch", records: 3..<10) == .int64([Self.epochs[3]]))
        #expect(try reader.values(of: "Epoch", records: 4..<10) == .int64([]))
    }

    /// Records past the last written one read as the pad value, or repeat the previous record when the
    /// variable declares `SRecords = 2` (previous).
    @Test(arguments: [CDFSparseRecords.padded, .previous])
    func missingRecordsAreFilled(mode: CDFSparseRecords) throws {
        let path = TestData.temporaryPath("sparse.cdf")
        defer { FileSystem.remove(path) }
        try CDFWriter.write(to: path) { writer in
            try writer.writeVariable(CDFVariableSpec(name: "v", dataType: .int2, dimensions: [2], padValue: .int16([-7])),
                                     values: .int16([1, 2, 3, 4]))
        }
        var bytes = try [UInt8](contentsOf: path)
        let vdr = try CDFReader(bytes: bytes).variable(named: "v").descriptorOffset
        bytes[vdr + 27] = 3 // MaxRec 1 -> 3
        bytes[vdr + 51] = UInt8(mode.rawValue)
        let reader = try CDFReader(bytes: bytes)
        let expected: [Int16] = mode == .padded ? [1, 2, 3, 4, -7, -7, -7, -7] : [1, 2, 3, 4, 3, 4, 3, 4]
        #expect(try reader.values(of: "v") == .int16(expected))
    }

    @Test func minimalHandWrittenFile() throws {
        let reader = try CDFReader(path: TestData.cdf("minimal_md5.cdf"))
        #expect(try reader.values(of: "flux") == .float([1, 2, 3, 4, 5, 6]))
        #expect(try reader.variable(named: "flux").attribute("DEPEND_0") == .string("Epoch"))
        #expect(try reader.variable(named: "Epoch").attributes.isEmpty)
    }

    @Test func md5MismatchIsReported() throws {
        var bytes = try TestData.bytes("small_md5.cdf")
        bytes[0x3040] ^= 0x01
        #expect(throws: CDFError.self) { try CDFReader(bytes: bytes) }
        _ = try CDFReader(bytes: bytes, options: CDFReadOptions(verifyChecksum: false))
    }

    @Test func jsonDumpHasTheDocumentedLayout() throws {
        let reader = try CDFReader(path: TestData.cdf("minimal.cdf"))
        let json = String(decoding: try CDFDump(reader: reader, recordLimit: 2).json(), as: UTF8.self)
        #expect(json == """
            {"attributes": {"TITLE": ["Minimal CDF"]}, "variables": [{"name": "Epoch", "type": "CDF_TIME_TT2000", \
            "dims": [], "records": 3, "record_varying": true, "compression": "none", "attributes": {}, \
            "values": [511921899184000000, 511921900184000000]}, {"name": "flux", "type": "CDF_REAL4", "dims": [2], \
            "records": 3, "record_varying": true, "compression": "none", "attributes": {"DEPEND_0": "Epoch"}, \
            "values": [[1.0, 2.0], [3.0, 4.0]]}]}

            """)
        let text = try CDFDump(reader: reader).text()
        #expect(text.contains("2016-03-22T12:30:31.000000000"))
    }

    @Test func bigEndianColumnMajorAndVersion2AreDecoded() throws {
        // Build a v3 file, then flip it to NETWORK encoding (big-endian values) and column-major by hand.
        let path = TestData.temporaryPath("be.cdf")
        defer { FileSystem.remove(path) }
        try CDFWriter.write(to: path) { writer in
            try writer.writeVariable(CDFVariableSpec(name: "m", dataType: .int2, dimensions: [2, 3]), values: .int16([0, 1, 2, 3, 4, 5]))
        }
        var bytes = try [UInt8](contentsOf: path)
        let reader = try CDFReader(bytes: bytes)
        let variable = try reader.variable(named: "m")
        let payload = try #require(try VariableDataReader(source: reader.source, layout: .v3, header: reader.header, variable: variable).leafBlocks().first).offset + 12
        bytes[8 + 28 + 3] = 1 // Encoding = NETWORK
        bytes[8 + 32 + 3] = 0b10 // column-major, single file
        // column-major storage of [[0,1,2],[3,4,5]] is 0,3,1,4,2,5; big-endian int16
        let columnMajor: [Int16] = [0, 3, 1, 4, 2, 5]
        for (index, value) in columnMajor.enumerated() {
            bytes[payload + 2 * index] = UInt8(value >> 8)
            bytes[payload + 2 * index + 1] = UInt8(value & 0xFF)
        }
        let flipped = try CDFReader(bytes: bytes)
        #expect(flipped.header.isBigEndian && !flipped.header.isRowMajor)
        #expect(try flipped.values(of: "m") == .int16([0, 1, 2, 3, 4, 5]))
    }
}

extension Array where Element == UInt8 {
    init(contentsOf path: String) throws {
        let source = try ByteSource(path: path)
        self = try source.bytes(at: 0, count: source.count, record: "file")
    }
}
