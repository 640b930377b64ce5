import Foundation
import Testing
@testable import SDCPackets

/// A definition exercising every supported encoding at odd bit alignments, a nested container and a
/// PKT_LEN-sized field followed by fixed fields.
let encodingsDocument = xtceDocument(
    types: """
        <xtce:IntegerParameterType name="U4"><xtce:IntegerDataEncoding sizeInBits="4"/></xtce:IntegerParameterType>
        <xtce:IntegerParameterType name="U5"><xtce:IntegerDataEncoding sizeInBits="5"/></xtce:IntegerParameterType>
        <xtce:IntegerParameterType name="U64"><xtce:IntegerDataEncoding sizeInBits="64"/></xtce:IntegerParameterType>
        <xtce:IntegerParameterType name="S13" signed="true"><xtce:IntegerDataEncoding sizeInBits="13" encoding="twosComplement"/></xtce:IntegerParameterType>
        <xtce:IntegerParameterType name="LE16"><xtce:IntegerDataEncoding sizeInBits="16" byteOrder="leastSignificantByteFirst"/></xtce:IntegerParameterType>
        <xtce:IntegerParameterType name="SLE32"><xtce:IntegerDataEncoding sizeInBits="32" encoding="signed" byteOrder="leastSignificantByteFirst"/></xtce:IntegerParameterType>
        <xtce:FloatParameterType name="F32"><xtce:FloatDataEncoding sizeInBits="32"/></xtce:FloatParameterType>
        <xtce:FloatParameterType name="F64LE"><xtce:FloatDataEncoding sizeInBits="64" byteOrder="leastSignificantByteFirst"/></xtce:FloatParameterType>
        <xtce:FloatParameterType name="F16"><xtce:FloatDataEncoding sizeInBits="16" encoding="IEEE754"/></xtce:FloatParameterType>
        <xtce:StringParameterType name="STR3"><xtce:StringDataEncoding encoding="UTF-8"><xtce:SizeInBits><xtce:Fixed><xtce:FixedValue>24</xtce:FixedValue></xtce:Fixed></xtce:SizeInBits></xtce:StringDataEncoding></xtce:StringParameterType>
        <xtce:BinaryParameterType name="BIN12"><xtce:BinaryDataEncoding><xtce:SizeInBits><xtce:FixedValue>12</xtce:FixedValue></xtce:SizeInBits></xtce:BinaryDataEncoding></xtce:BinaryParameterType>
        <xtce:BinaryParameterType name="BLOB"><xtce:BinaryDataEncoding><xtce:SizeInBits><xtce:DynamicValue>
          <xtce:ParameterInstanceRef parameterRef="PKT_LEN" useCalibratedValue="false"/><xtce:LinearAdjustment slope="8" intercept="-72"/>
        </xtce:DynamicValue></xtce:SizeInBits></xtce:BinaryDataEncoding></xtce:BinaryParameterType>
        <xtce:EnumeratedParameterType name="MODE"><xtce:IntegerDataEncoding sizeInBits="2"/>
          <xtce:EnumerationList><xtce:Enumeration value="0" label="OFF"/><xtce:Enumeration value="1" label="ON"/><xtce:Enumeration value="2" label="SAFE"/></xtce:EnumerationList>
        </xtce:EnumeratedParameterType>
        <xtce:BooleanParameterType name="FLAG"><xtce:IntegerDataEncoding sizeInBits="1"/></xtce:BooleanParameterType>
        <xtce:IntegerParameterType name="CAL"><xtce:IntegerDataEncoding sizeInBits="12"><xtce:DefaultCalibrator><xtce:PolynomialCalibrator>
          <xtce:Term coefficient="1.5" exponent="0"/><xtce:Term coefficient="0.25" exponent="1"/><xtce:Term coefficient="0.001" exponent="2"/>
        </xtce:PolynomialCalibrator></xtce:DefaultCalibrator></xtce:IntegerDataEncoding></xtce:IntegerParameterType>
        <xtce:IntegerParameterType name="CTX"><xtce:IntegerDataEncoding sizeInBits="8">
          <xtce:DefaultCalibrator><xtce:PolynomialCalibrator><xtce:Term coefficient="2" exponent="1"/></xtce:PolynomialCalibrator></xtce:DefaultCalibrator>
          <xtce:ContextCalibratorList><xtce:ContextCalibrator>
            <xtce:ContextMatch><xtce:Comparison parameterRef="AMODE" value="SAFE" useCalibratedValue="true"/></xtce:ContextMatch>
            <xtce:Calibrator><xtce:PolynomialCalibrator><xtce:Term coefficient="100" exponent="0"/><xtce:Term coefficient="1" exponent="1"/></xtce:PolynomialCalibrator></xtce:Calibrator>
          </xtce:ContextCalibrator></xtce:ContextCalibratorList>
        </xtce:IntegerDataEncoding></xtce:IntegerParameterType>
        <xtce:IntegerParameterType name="SPL"><xtce:IntegerDataEncoding sizeInBits="8"><xtce:DefaultCalibrator>
          <xtce:SplineCalibrator order="1" extrapolate="true">
            <xtce:SplinePoint raw="200" calibrated="300"/><xtce:SplinePoint raw="0" calibrated="0"/><xtce:SplinePoint raw="100" calibrated="50"/>
          </xtce:SplineCalibrator></xtce:DefaultCalibrator></xtce:IntegerDataEncoding></xtce:IntegerParameterType>
        <xtce:AbsoluteTimeParameterType name="TIME"><xtce:Encoding scale="0.5" offset="10"><xtce:IntegerDataEncoding sizeInBits="32"/></xtce:Encoding>
          <xtce:ReferenceTime><xtce:Epoch>TAI</xtce:Epoch></xtce:ReferenceTime></xtce:AbsoluteTimeParameterType>
        """,
    parameters: """
        <xtce:Parameter name="MET" parameterTypeRef="U32"><xtce:ShortDescription>Mission elapsed time</xtce:ShortDescription></xtce:Parameter>
        <xtce:Parameter name="A3" parameterTypeRef="U3"/>
        <xtce:Parameter name="A64" parameterTypeRef="U64"/>
        <xtce:Parameter name="A13" parameterTypeRef="S13"/>
        <xtce:Parameter name="ALE" parameterTypeRef="LE16"/>
        <xtce:Parameter name="ASLE" parameterTypeRef="SLE32"/>
        <xtce:Parameter name="AF32" parameterTypeRef="F32"/>
        <xtce:Parameter name="AF64" parameterTypeRef="F64LE"/>
        <xtce:Parameter name="AF16" parameterTypeRef="F16"/>
        <xtce:Parameter name="ASTR" parameterTypeRef="STR3"/>
        <xtce:Parameter name="ABIN" parameterTypeRef="BIN12"/>
        <xtce:Parameter name="AMODE" parameterTypeRef="MODE"/>
        <xtce:Parameter name="AFLAG" parameterTypeRef="FLAG"/>
        <xtce:Parameter name="ACAL" parameterTypeRef="CAL"/>
        <xtce:Parameter name="ACTX" parameterTypeRef="CTX"/>
        <xtce:Parameter name="ASPL" parameterTypeRef="SPL"/>
        <xtce:Parameter name="ATIME" parameterTypeRef="TIME"/>
        <xtce:Parameter name="APAD" parameterTypeRef="U5"/>
        <xtce:Parameter name="BLOB" parameterTypeRef="BLOB"/>
        <xtce:Parameter name="TAIL" parameterTypeRef="U16"/>
        <xtce:Parameter name="TAILBIN" parameterTypeRef="BIN12"/>
        <xtce:Parameter name="TAILPAD" parameterTypeRef="U4"/>
        """,
    containers: apidContainer("FIXED", apid: 100, entries: [
        "MET", "A3", "A64", "A13", "ALE", "ASLE", "AF32", "AF64", "AF16", "ASTR", "ABIN", "AMODE", "AFLAG", "ACAL",
        "ACTX", "ASPL", "ATIME", "APAD",
    ]) + """
          <xtce:SequenceContainer name="SUB">
            <xtce:EntryList><xtce:ParameterRefEntry parameterRef="A3"/><xtce:ParameterRefEntry parameterRef="A13"/></xtce:EntryList>
          </xtce:SequenceContainer>
          <xtce:SequenceContainer name="VAR">
            <xtce:BaseContainer containerRef="CCSDSPacket">
              <xtce:RestrictionCriteria><xtce:Comparison parameterRef="PKT_APID" value="200" useCalibratedValue="false"/></xtce:RestrictionCriteria>
            </xtce:BaseContainer>
            <xtce:EntryList>
              <xtce:ParameterRefEntry parameterRef="MET"/>
              <xtce:ContainerRefEntry containerRef="SUB"/>
              <xtce:ParameterRefEntry parameterRef="BLOB"/>
              <xtce:ParameterRefEntry parameterRef="TAIL"/>
              <xtce:ParameterRefEntry parameterRef="TAILBIN"/>
              <xtce:ParameterRefEntry parameterRef="TAILPAD"/>
            </xtce:EntryList>
          </xtce:SequenceContainer>
        """)

/// Values written into one FIXED packet.
struct FixedPacketValues {
    var met: UInt64 = 487_000_000
    var a3: UInt64 = 5
    var a64: UInt64 = 0xFEDC_BA98_7654_3210
    var a13: Int64 = -4096
    var littleEndian16: [UInt8] = [0x34, 0x12]
    var littleEndian32: [UInt8] = [0xFE, 0xFF, 0xFF, 0xFF]
    var float32: Float = 3.25
    var float64: Double = 1e-300
    var half: UInt64 = 0x3C01
    var text: [UInt8] = Array("ABC".utf8)
    var binary12: UInt64 = 0xABC
    var mode: UInt64 = 2
    var flag: UInt64 = 1
    var calibrated: UInt64 = 4095
    var context: UInt64 = 7
    var spline: UInt64 = 150
    var time: UInt64 = 1000

    func packet(sequence: Int) -> [UInt8] {
        ccsdsPacket(apid: 100, sequence: sequence) { writer in
            writer.write(met, bits: 32)
            writer.write(a3, bits: 3)
            writer.write(a64, bits: 64)
            writer.write(signed: a13, bits: 13)
            writer.write(bytes: littleEndian16)
            writer.write(bytes: littleEndian32)
            writer.write(UInt64(float32.bitPattern), bits: 32)
            writer.write(bytes: withUnsafeBytes(of: float64.bitPattern.littleEndian, Array.init))
            writer.write(half, bits: 16)
            writer.write(bytes: text)
            writer.write(binary12, bits: 12)
            writer.write(mode, bits: 2)
            writer.write(flag, bits: 1)
            writer.write(calibrated, bits: 12)
            writer.write(context, bits: 8)
            writer.write(spline, bits: 8)
            writer.write(time, bits: 32)
            writer.write(0, bits: 5)
        }
    }
}

func variablePacket(sequence: Int, blob: [UInt8], tail: UInt64) -> [UInt8] {
    ccsdsPacket(apid: 200, sequence: sequence) { writer in
        writer.write(1, bits: 32)
        writer.write(6, bits: 3)
        writer.write(signed: -1, bits: 13)
        writer.write(bytes: blob)
        writer.write(tail, bits: 16)
        writer.write(0x123, bits: 12)
        writer.write(0, bits: 4)
    }
}

@Suite("Decoding fields")
struct FieldDecodingTests {
    let definition: PacketDefinition

    init() throws {
        definition = try PacketDefinition(data: encodingsDocument)
    }

    @Test("Every encoding decodes to its raw and derived values")
    func everyEncoding() throws {
        var second = FixedPacketValues()
        second.a3 = 2
        second.a64 = 1
        second.a13 = 4095
        second.littleEndian16 = [0xFF, 0x00]
        second.littleEndian32 = [0x01, 0x00, 0x00, 0x80]
        second.float32 = -0.0
        second.float64 = -.infinity
        second.half = 0xFBFF
        second.text = Array("xyz".utf8)
        second.binary12 = 0x001
        second.mode = 1
        second.flag = 0
        second.calibrated = 123
        second.spline = 250
        let bytes = FixedPacketValues().packet(sequence: 0) + second.packet(sequence: 1)
        let decoded = PacketDecoder(definition: definition).decode(bytes, options: DecodeOptions(parallelism: 1))
        #expect(decoded.report.decoded == 2)
        let container = try #require(decoded.containers.first)
        #expect(container.name == "FIXED" && container.apid == 100 && container.count == 2)
        #expect(container.byteOffsets == [0, 53])

        func raw(_ name: String) throws -> Column { try #require(container.field(named: name)).raw }
        #expect(try raw("PKT_APID") == .uint16([100, 100]))
        #expect(try raw("PKT_LEN") == .uint16([46, 46]))
        #expect(try raw("SRC_SEQ_CTR") == .uint16([0, 1]))
        #expect(try raw("MET") == .uint32([487_000_000, 487_000_000]))
        #expect(try raw("A3") == .uint8([5, 2]))
        #expect(try raw("A64") == .uint64([0xFEDC_BA98_7654_3210, 1]))
        #expect(try raw("A13") == .int16([-4096, 4095]))
        #expect(try raw("ALE") == .uint16([0x1234, 0x00FF]))
        #expect(try raw("ASLE") == .int32([-2, Int32.min + 1]))
        #expect(try raw("AF32") == .float32([3.25, -0.0]))
        #expect(try raw("AF32").doubles?[1].sign == .minus)
        #expect(try raw("AF64") == .float64([1e-300, -.infinity]))
        #expect(try raw("AF16") == .float32([1.0009765625, -65504]))
        #expect(try raw("ASTR") == .bytes(ByteColumn(bytes: Array("ABCxyz".utf8), offsets: [0, 3, 6])))
        #expect(try raw("ABIN") == .bytes(ByteColumn(bytes: [0x0A, 0xBC, 0x00, 0x01], offsets: [0, 2, 4])))
        #expect(try raw("AMODE") == .uint8([2, 1]))
        #expect(try raw("ATIME") == .uint32([1000, 1000]))

        func derived(_ name: String) throws -> Column {
            try container.derivedColumn(at: try #require(container.fields.firstIndex { $0.name == name }))
        }
        #expect(try derived("AMODE") == .string(["SAFE", "ON"]))
        #expect(try derived("AFLAG") == .boolean([true, false]))
        #expect(try derived("ASTR") == .string(["ABC", "xyz"]))
        #expect(try derived("ABIN") == raw("ABIN"))
        #expect(try derived("A13") == raw("A13"))
        // Values computed by CPython 3.11: sum(a * x**n for a, n in terms).
        #expect(try derived("ACAL") == .float64([17794.275, 47.379]))
        #expect(try derived("ACTX") == .float64([107, 14]))
        #expect(try derived("ASPL") == .float64([175, 425]))
        #expect(try derived("ATIME") == .float64([510, 510]))
        #expect(try container.derivedColumns().count == container.fields.count)
    }

    @Test("A PKT_LEN-sized field, with fixed fields after it measured from the packet end")
    func variableSize() throws {
        let blobs: [[UInt8]] = [[], [1, 2, 3, 4, 5], Array(0..<100)]
        var bytes: [UInt8] = []
        for (index, blob) in blobs.enumerated() {
            bytes += variablePacket(sequence: index, blob: blob, tail: UInt64(1000 + index))
            bytes += FixedPacketValues().packet(sequence: index)
        }
        let decoded = PacketDecoder(definition: definition).decode(bytes)
        #expect(decoded.containers.map(\.name) == ["FIXED", "VAR"])
        let variable = try #require(decoded.containers(named: "VAR").first)
        #expect(variable.fields.map(\.name) == [
            "VERSION", "TYPE", "SEC_HDR_FLG", "PKT_APID", "SEQ_FLGS", "SRC_SEQ_CTR", "PKT_LEN", "MET", "A3", "A13",
            "BLOB", "TAIL", "TAILBIN", "TAILPAD",
        ])
        #expect(variable.field(named: "A3")?.raw == .uint8([6, 6, 6]))
        #expect(variable.field(named: "A13")?.raw == .int16([-1, -1, -1]))
        #expect(variable.field(named: "BLOB")?.raw == .bytes(ByteColumn(bytes: blobs.flatMap { $0 }, offsets: [0, 0, 5, 105])))
        #expect(variable.field(named: "TAIL")?.raw == .uint16([1000, 1001, 1002]))
        #expect(variable.field(named: "TAILBIN")?.raw == .bytes(ByteColumn(bytes: [1, 0x23, 1, 0x23, 1, 0x23], offsets: [0, 2, 4, 6])))
    }

    @Test("Parallel decoding gives the same columns in the same order as sequential decoding")
    func parallelMatchesSequential() throws {
        var bytes: [UInt8] = []
        var generator = SystemRandomNumberGenerator()
        for index in 0..<30_000 {
            if index % 3 == 0 {
                let blob = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                bytes += variablePacket(sequence: index % 16384, blob: blob, tail: UInt64(index % 65536))
            } else {
                var values = FixedPacketValues()
                values.a64 = UInt64.random(in: 0...UInt64.max, using: &generator)
                values.a13 = Int64.random(in: -4096...4095, using: &generator)
                values.calibrated = UInt64.random(in: 0...4095, using: &generator)
                bytes += values.packet(sequence: index % 16384)
            }
        }
        let decoder = PacketDecoder(definition: definition)
        let sequential = decoder.decode(bytes, options: DecodeOptions(parallelism: 1))
        let parallel = decoder.decode(bytes, options: DecodeOptions(parallelism: 4))
        #expect(sequential.report == parallel.report)
        #expect(sequential.containers.map(\.name) == parallel.containers.map(\.name))
        for (one, other) in zip(sequential.containers, parallel.containers) {
            #expect(one.byteOffsets == other.byteOffsets)
            #expect(one.fields.map(\.raw) == other.fields.map(\.raw))
        }
        #expect(sequential.containers.map(\.count) == [20_000, 10_000])
    }

    @Test("Decoding a file memory-maps it and matches decoding the bytes")
    func fileDecoding() throws {
        let bytes = FixedPacketValues().packet(sequence: 0) + variablePacket(sequence: 0, blob: [9], tail: 3)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-packets-\(UUID().uuidString).pkts")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let decoder = PacketDecoder(definition: definition)
        let fromFile = try decoder.decode(fileAt: url)
        let fromBytes = decoder.decode(bytes)
        #expect(fromFile.report == fromBytes.report)
        #expect(fromFile.containers.map { $0.fields.map(\.raw) } == fromBytes.containers.map { $0.fields.map(\.raw) })
        #expect(try PacketDecoder.survey(fileAt: url).packets == 2)
        #expect(try decoder.inspect(fileAt: url) == fromBytes.report)
    }

    @Test("Decoding in batches gives the same packets and report as decoding at once")
    func batches() throws {
        var bytes: [UInt8] = []
        for index in 0..<600 {
            bytes += index % 4 == 0 ? variablePacket(sequence: index / 4, blob: Array(repeating: 1, count: index % 7), tail: 5)
                                    : FixedPacketValues().packet(sequence: index % 16384)
        }
        bytes += [0, 1]
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-packets-\(UUID().uuidString).pkts")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let decoder = PacketDecoder(definition: definition)
        let whole = try decoder.decode(fileAt: url)
        let writer = DecodedOutputWriter(format: .csv, raw: true)
        func rows(_ container: DecodedContainer) throws -> [Substring] {
            String(decoding: try writer.render(container), as: UTF8.self).split(separator: "\n").dropFirst(2).map { $0 }
        }
        var batchRows: [String: [Substring]] = [:]
        var batchOffsets: [String: [Int]] = [:]
        var batchCount = 0
        let report = try decoder.decodeInBatches(fileAt: url, batchBytes: 1000) { batch in
            batchCount += 1
            for container in batch.containers {
                batchRows[container.name, default: []] += try rows(container)
                batchOffsets[container.name, default: []] += container.byteOffsets
            }
        }
        #expect(batchCount > 20)
        #expect(report == whole.report)
        #expect(report.trailingBytes?.count == 2)
        for container in whole.containers {
            #expect(batchOffsets[container.name] == container.byteOffsets)
            #expect(batchRows[container.name] == (try rows(container)))
        }
    }
}
