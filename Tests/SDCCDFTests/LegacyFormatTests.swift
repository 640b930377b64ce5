import Testing
@testable import SDCCDF

/// Files in formats the writer does not produce, built byte by byte: CDF v2.7 (4-byte offsets, 64-byte names)
/// with big-endian data and an rVariable, and whole-file RLE compression.
@Suite struct LegacyFormatTests {
    /// Big-endian field writer for hand-built records.
    struct Bytes {
        var data: [UInt8] = []
        mutating func i32(_ value: Int) {
            let v = UInt32(bitPattern: Int32(value))
            data += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
        }
        mutating func i64(_ value: Int) {
            let v = UInt64(bitPattern: Int64(value))
            for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(v >> UInt64(shift) & 0xFF)) }
        }
        mutating func name(_ text: String, width: Int) {
            data += Array(text.utf8) + Array(repeating: 0, count: width - text.utf8.count)
        }
        mutating func f64(_ value: Double) { i64(Int(Int64(bitPattern: value.bitPattern))) }
        mutating func text(_ value: String) { data += Array(value.utf8) }
    }

    /// A CDF v2.7 file, NETWORK (big-endian) encoding: a zVariable `zv` (CDF_INT4, dims [3]) with attribute
    /// UNITS = "nT", an rVariable `rv` (CDF_REAL8, rDims [2]) with UNITS = "counts", global TITLE = "v2 file".
    static func version2File() -> [UInt8] {
        var b = Bytes()
        b.data = [0xCD, 0xF2, 0x60, 0x02, 0x00, 0x00, 0xFF, 0xFF]
        // CDR @8
        b.i32(304); b.i32(1); b.i32(312); b.i32(2); b.i32(7); b.i32(1); b.i32(3); b.i32(0); b.i32(0); b.i32(0); b.i32(-1); b.i32(-1)
        b.name("\nCommon Data Format (CDF)\n", width: 256)
        // GDR @312: rVDRhead 911, zVDRhead 767, ADRhead 376, eof 1187, NrVars 1, NumAttr 2, rMaxRec 1, rNumDims 1, NzVars 1
        b.i32(64); b.i32(2); b.i32(911); b.i32(767); b.i32(376); b.i32(1187); b.i32(1); b.i32(2); b.i32(1); b.i32(1); b.i32(1)
        b.i32(0); b.i32(0); b.i32(0); b.i32(-1); b.i32(2)
        // ADR TITLE @376 -> AgrEDR @492
        b.i32(116); b.i32(4); b.i32(547); b.i32(492); b.i32(1); b.i32(0); b.i32(1); b.i32(0); b.i32(0); b.i32(0); b.i32(0); b.i32(-1); b.i32(-1)
        b.name("TITLE", width: 64)
        b.i32(55); b.i32(5); b.i32(0); b.i32(0); b.i32(51); b.i32(0); b.i32(7); b.i32(0); b.i32(0); b.i32(0); b.i32(-1); b.i32(-1)
        b.text("v2 file")
        // ADR UNITS @547 -> AzEDR @663 (zv), AgrEDR @713 (rv)
        b.i32(116); b.i32(4); b.i32(0); b.i32(713); b.i32(2); b.i32(1); b.i32(1); b.i32(0); b.i32(0); b.i32(663); b.i32(1); b.i32(0); b.i32(-1)
        b.name("UNITS", width: 64)
        b.i32(50); b.i32(9); b.i32(0); b.i32(1); b.i32(51); b.i32(0); b.i32(2); b.i32(1); b.i32(0); b.i32(0); b.i32(-1); b.i32(-1)
        b.text("nT")
        b.i32(54); b.i32(5); b.i32(0); b.i32(1); b.i32(51); b.i32(0); b.i32(6); b.i32(1); b.i32(0); b.i32(0); b.i32(-1); b.i32(-1)
        b.text("counts")
        // zVDR zv @767: INT4, MaxRec 1, VXR 1051, flags 3, NumElems 1, Num 0, CPR -1, BF 1, dims [3] varys [T], pad -1
        b.i32(144); b.i32(8); b.i32(0); b.i32(4); b.i32(1); b.i32(1051); b.i32(1051); b.i32(3); b.i32(0); b.i32(0); b.i32(-1); b.i32(-1)
        b.i32(1); b.i32(0); b.i32(-1); b.i32(1); b.name("zv", width: 64); b.i32(1); b.i32(3); b.i32(-1); b.i32(-1)
        // rVDR rv @911: REAL8, MaxRec 1, VXR 1115, varys [T], pad -1e30
        b.i32(140); b.i32(3); b.i32(0); b.i32(22); b.i32(1); b.i32(1115); b.i32(1115); b.i32(3); b.i32(0); b.i32(0); b.i32(-1); b.i32(-1)
        b.i32(1); b.i32(0); b.i32(-1); b.i32(1); b.name("rv", width: 64); b.i32(-1); b.f64(-1e30)
        // VXR @1051 -> VVR @1083 (records 0...1)
        b.i32(32); b.i32(6); b.i32(0); b.i32(1); b.i32(1); b.i32(0); b.i32(1); b.i32(1083)
        b.i32(32); b.i32(7); for value in [10, -20, 30, 40, 50, -60] { b.i32(value) }
        // VXR @1115 -> VVR @1147
        b.i32(32); b.i32(6); b.i32(0); b.i32(1); b.i32(1); b.i32(0); b.i32(1); b.i32(1147)
        b.i32(40); b.i32(7); for value in [1.5, 2.5, -3.5, 4.25] { b.f64(value) }
        return b.data
    }

    @Test func readsVersion2BigEndianWithAnRVariable() throws {
        let bytes = Self.version2File()
        #expect(bytes.count == 1187)
        let reader = try CDFReader(bytes: bytes)
        #expect(reader.header.versionString == "2.7.0" && reader.header.isBigEndian)
        #expect(reader.globalAttribute("TITLE")?.entries == [.string("v2 file")])
        let zv = try reader.variable(named: "zv")
        #expect(zv.isZVariable && zv.dimensions == [3] && zv.padValue == .int32([-1]))
        #expect(zv.attribute("UNITS") == .string("nT"))
        #expect(try reader.values(of: zv) == .int32([10, -20, 30, 40, 50, -60]))
        let rv = try reader.variable(named: "rv")
        #expect(!rv.isZVariable && rv.dimensions == [2] && rv.attribute("UNITS") == .string("counts"))
        #expect(try reader.values(of: rv) == .double([1.5, 2.5, -3.5, 4.25]))
        #expect(rv.padValue == .double([-1e30]))
    }

    /// Zero-run-length encoding as the CDF library writes it (`00 n` = n + 1 zeros).
    static func runLengthEncode(_ input: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var index = input.startIndex
        while index < input.endIndex {
            if input[index] == 0 {
                var run = 1
                while index + run < input.endIndex, input[index + run] == 0, run < 256 { run += 1 }
                out += [0, UInt8(run - 1)]
                index += run
            } else {
                out.append(input[index])
                index += 1
            }
        }
        return out
    }

    @Test func readsWholeFileRLECompression() throws {
        let plain = try TestData.bytes("small.cdf")
        let encoded = Self.runLengthEncode(plain[8...])
        var b = Bytes()
        b.data = [0xCD, 0xF3, 0x00, 0x01, 0xCC, 0xCC, 0x00, 0x01]
        let cprOffset = 8 + 32 + encoded.count
        b.i64(32 + encoded.count); b.i32(10); b.i64(cprOffset); b.i64(plain.count - 8); b.i32(0)
        b.data += encoded
        b.i64(28); b.i32(11); b.i32(1); b.i32(0); b.i32(1); b.i32(0)
        let reader = try CDFReader(bytes: b.data)
        #expect(reader.header.fileCompression == .rle)
        let original = try CDFReader(bytes: plain)
        for variable in original.variables {
            #expect(try reader.values(of: variable.name) == original.values(of: variable))
        }
        #expect(reader.globalAttributes == original.globalAttributes)
    }
}
