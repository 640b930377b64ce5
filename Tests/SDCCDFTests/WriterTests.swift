import Testing
@testable import SDCCDF

@Suite struct WriterTests {
    static func allTypes(records: Int, compression: CDFCompression) -> [(CDFVariableSpec, CDFValues)] {
        let n = records
        return [
            (CDFVariableSpec(name: "Epoch", dataType: .tt2000, compression: compression,
                             attributes: [CDFNamedEntry("FILLVAL", .tt2000(TT2000.fillValue))]),
             .int64((0..<n).map { 511_921_899_184_000_000 + Int64($0) * 1_000_000_000 })),
            (CDFVariableSpec(name: "i1", dataType: .int1, dimensions: [2], compression: compression), .int8((0..<(2 * n)).map { Int8(truncatingIfNeeded: $0) })),
            (CDFVariableSpec(name: "i2", dataType: .int2, compression: compression), .int16((0..<n).map { Int16(truncatingIfNeeded: $0 * 7) })),
            (CDFVariableSpec(name: "i4", dataType: .int4, dimensions: [2, 3], compression: compression), .int32((0..<(6 * n)).map { Int32($0) - 1000 })),
            (CDFVariableSpec(name: "i8", dataType: .int8, compression: compression), .int64((0..<n).map { Int64($0) * -3_000_000_000 })),
            (CDFVariableSpec(name: "u1", dataType: .uint1, compression: compression), .uint8((0..<n).map { UInt8(truncatingIfNeeded: $0) })),
            (CDFVariableSpec(name: "u2", dataType: .uint2, compression: compression), .uint16((0..<n).map { UInt16(truncatingIfNeeded: $0) })),
            (CDFVariableSpec(name: "u4", dataType: .uint4, compression: compression), .uint32((0..<n).map { UInt32($0) * 100_000 })),
            (CDFVariableSpec(name: "r4", dataType: .real4, dimensions: [3], compression: compression), .float((0..<(3 * n)).map { Float($0) * 0.5 })),
            (CDFVariableSpec(name: "r8", dataType: .double, compression: compression), .double((0..<n).map { Double($0).squareRoot() })),
            (CDFVariableSpec(name: "ep", dataType: .epoch, compression: compression), .double((0..<n).map { 63_113_904_000_000 + Double($0) })),
            (CDFVariableSpec(name: "ep16", dataType: .epoch16, compression: compression),
             .epoch16((0..<n).map { CDFEpoch16(seconds: 63_113_904_000 + Double($0), picoseconds: Double($0)) })),
            (CDFVariableSpec(name: "s", dataType: .char, compression: compression), .strings((0..<n).map { "v\($0 % 100)" })),
            (CDFVariableSpec(name: "table", dataType: .real8, dimensions: [4], recordVarying: false), .double([1, 2, 3, 4])),
        ]
    }

    @Test(arguments: [CDFCompression.none, .gzip(level: 6)], [false, true])
    func roundTripsEveryType(compression: CDFCompression, md5: Bool) throws {
        let path = TestData.temporaryPath("roundtrip.cdf")
        defer { FileSystem.remove(path) }
        let variables = Self.allTypes(records: 30000, compression: compression)
        try CDFWriter.write(to: path, options: CDFWriteOptions(md5: md5)) { writer in
            try writer.addGlobalAttribute("Project", "STP>Solar-Terrestrial Physics")
            try writer.addGlobalAttribute("Numbers", entries: [try CDFAttributeEntry(dataType: .int4, values: .int32([1, 2])), .string("two")])
            for (spec, values) in variables { try writer.writeVariable(spec, values: values) }
        }
        let reader = try CDFReader(path: path)
        #expect(reader.header.hasMD5 == md5)
        #expect(reader.globalAttribute("Numbers")?.entries.count == 2)
        for (spec, values) in variables {
            let variable = try reader.variable(named: spec.name)
            #expect(variable.dataType == spec.dataType && variable.dimensions == spec.dimensions)
            #expect(variable.recordVarying == spec.recordVarying)
            #expect(try reader.values(of: variable) == values, "\(spec.name)")
        }
        #expect(try reader.variable(named: "Epoch").attribute("FILLVAL") == .tt2000(TT2000.fillValue))
    }

    @Test func streamsBlocksInUnevenAppends() throws {
        let path = TestData.temporaryPath("stream.cdf")
        defer { FileSystem.remove(path) }
        let all = (0..<100_000).map { Double($0 % 977) }
        try CDFWriter.write(to: path) { writer in
            try writer.beginVariable(CDFVariableSpec(name: "x", dataType: .real8, compression: .gzip6, blockingFactor: 1000))
            var start = 0
            for size in [1, 999, 1001, 5000, 37, 92_962] {
                try writer.appendRecords(.double(Array(all[start..<(start + size)])))
                start += size
            }
            try writer.endVariable()
            try writer.beginVariable(CDFVariableSpec(name: "y", dataType: .int4))
            try writer.appendRecords(.int32([1, 2]))
            try writer.appendRecords(.int32([3]))
            try writer.endVariable()
        }
        let reader = try CDFReader(path: path)
        let x = try reader.variable(named: "x")
        #expect(x.blockingFactor == 8192)
        #expect(try reader.values(of: x) == .double(all))
        #expect(try reader.values(of: x, records: 40_000..<40_010) == .double(Array(all[40_000..<40_010])))
        #expect(try reader.values(of: "y") == .int32([1, 2, 3]))
        let blocks = try VariableDataReader(source: reader.source, layout: .v3, header: reader.header, variable: x).leafBlocks()
        #expect(blocks.count == 13)
        let types = try blocks.map { try Int32(bigEndianBytes: reader.source.bytes(at: $0.offset + 8, count: 4, record: "test"), at: 0) }
        #expect(types.allSatisfy { $0 == RecordType.cvvr.rawValue }, "compressible blocks are stored as CVVRs: \(types)")
    }

    /// GZIP variables are stored as CVVRs holding one complete gzip member per block (what cdflib and the CDF
    /// library inflate), read back to the same values, and the same input always gives the same file.
    @Test func gzipBlocksAreGzipMembersThatRoundTripDeterministically() throws {
        let smooth = (0..<200_000).map { (Double($0) * 0.001).rounded(.down) }
        var random = SystemRandomNumberGenerator()
        let noise = (0..<50_000).map { _ in UInt64.random(in: .min ... .max, using: &random) }
        func write(_ path: String) throws {
            try CDFWriter.write(to: path) { writer in
                try writer.writeVariable(CDFVariableSpec(name: "smooth", dataType: .real8, compression: .gzip6), values: .double(smooth))
                try writer.writeVariable(CDFVariableSpec(name: "noise", dataType: .int8, compression: .gzip(level: 1)),
                                         values: .int64(noise.map { Int64(bitPattern: $0) }))
            }
        }
        let first = TestData.temporaryPath("gzip-a.cdf")
        let second = TestData.temporaryPath("gzip-b.cdf")
        defer {
            FileSystem.remove(first)
            FileSystem.remove(second)
        }
        try write(first)
        try write(second)
        #expect(try TestData.bytes(atPath: first) == TestData.bytes(atPath: second), "compression is deterministic")

        let reader = try CDFReader(path: first)
        #expect(try reader.values(of: "smooth") == .double(smooth))
        #expect(try reader.values(of: "noise") == .int64(noise.map { Int64(bitPattern: $0) }))

        let smoothVariable = try reader.variable(named: "smooth")
        let blocks = try VariableDataReader(source: reader.source, layout: .v3, header: reader.header, variable: smoothVariable).leafBlocks()
        #expect(blocks.count == 25)
        for block in blocks {
            let fields = try reader.source.bytes(at: block.offset, count: 24, record: "test")
            try #require(Int32(bigEndianBytes: fields, at: 8) == RecordType.cvvr.rawValue, "compressible blocks are CVVRs")
            let compressedSize = Int(Int64(bigEndianBytes: fields, at: 16))
            let member = try reader.source.bytes(at: block.offset + 24, count: compressedSize, record: "test")
            #expect(Array(member.prefix(3)) == [0x1F, 0x8B, 0x08], "a gzip member using deflate")
            let trailerSize = member.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
            #expect(trailerSize == (block.last - block.first + 1) * 8, "the gzip trailer holds the block's uncompressed size")
            #expect(compressedSize < (block.last - block.first + 1) * 8 / 4, "smooth data compresses well")
        }
        // Random 64-bit integers do not shrink: their blocks are stored uncompressed (VVRs), still readable.
        let noiseVariable = try reader.variable(named: "noise")
        let noiseBlocks = try VariableDataReader(source: reader.source, layout: .v3, header: reader.header, variable: noiseVariable).leafBlocks()
        for block in noiseBlocks {
            let type = try Int32(bigEndianBytes: reader.source.bytes(at: block.offset + 8, count: 4, record: "test"), at: 0)
            #expect(type == RecordType.vvr.rawValue)
        }
    }

    @Test func rejectsInvalidDefinitions() throws {
        let path = TestData.temporaryPath("invalid.cdf")
        #expect(throws: CDFError.self) {
            try CDFWriter.write(to: path) { writer in
                try writer.writeVariable(CDFVariableSpec(name: "c", dataType: .real4, recordVarying: false), values: .float([1, 2]))
            }
        }
        #expect(throws: CDFError.self) {
            try CDFWriter.write(to: path) { writer in
                try writer.writeVariable(CDFVariableSpec(name: "c", dataType: .real4), values: .double([1]))
            }
        }
        #expect(throws: CDFError.self) {
            try CDFWriter.write(to: path) { writer in
                try writer.addGlobalAttribute("A", "x")
                try writer.writeVariable(CDFVariableSpec(name: "v", dataType: .int1, attributes: [CDFNamedEntry("A", .string("y"))]), values: .int8([1]))
            }
        }
        #expect((try? ByteSource(path: path)) == nil, "a failed atomic write leaves no file")
    }

    @Test func jsonSpecWritesTypedAttributes() throws {
        let path = TestData.temporaryPath("spec.cdf")
        defer { FileSystem.remove(path) }
        let spec = """
            {"attributes": {"TEXT": ["a", "b"], "N": [{"type": "CDF_UINT2", "value": [1, 2]}]},
             "variables": [{"name": "Epoch", "type": "CDF_TIME_TT2000", "values": ["2016-03-22T12:30:31Z", 511921900184000000],
                            "attributes": {"FILLVAL": {"type": "CDF_TIME_TT2000", "value": -9223372036854775808}}},
                           {"name": "lbl", "type": "CDF_CHAR", "dims": [2], "record_varying": false, "values": [["x", "yy"]]}]}
            """
        try CDFJSONSpec.write(json: Array(spec.utf8), to: path)
        let reader = try CDFReader(path: path)
        #expect(try reader.values(of: "Epoch") == .int64([511_921_899_184_000_000, 511_921_900_184_000_000]))
        #expect(try reader.values(of: "lbl") == .strings(["x", "yy"]))
        #expect(reader.globalAttribute("N")?.entries == [try CDFAttributeEntry(dataType: .uint2, values: .uint16([1, 2]))])
        #expect(try reader.variable(named: "Epoch").attribute("FILLVAL") == .tt2000(.min))
    }
}
