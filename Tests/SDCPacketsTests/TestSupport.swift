import Foundation
@testable import SDCPackets

/// Writes big-endian bit fields, MSB first, to build packets in tests.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private(set) var bitCount = 0

    mutating func write(_ value: UInt64, bits: Int) {
        for bit in stride(from: bits - 1, through: 0, by: -1) {
            if bitCount % 8 == 0 { bytes.append(0) }
            if (value >> UInt64(bit)) & 1 == 1 {
                bytes[bytes.count - 1] |= 0x80 >> UInt8(bitCount % 8)
            }
            bitCount += 1
        }
    }

    mutating func write(signed value: Int64, bits: Int) {
        write(UInt64(bitPattern: value) & (bits == 64 ? .max : (1 << UInt64(bits)) - 1), bits: bits)
    }

    mutating func write(bytes data: [UInt8]) {
        for byte in data { write(UInt64(byte), bits: 8) }
    }
}

/// A CCSDS packet: primary header (version 0, type 0, secondary header 1, unsegmented) and a body.
func ccsdsPacket(apid: Int, sequence: Int, body: (inout BitWriter) -> Void) -> [UInt8] {
    var payload = BitWriter()
    body(&payload)
    precondition(payload.bitCount % 8 == 0, "packet body must be whole bytes")
    var header = BitWriter()
    header.write(0, bits: 3)
    header.write(0, bits: 1)
    header.write(1, bits: 1)
    header.write(UInt64(apid), bits: 11)
    header.write(3, bits: 2)
    header.write(UInt64(sequence), bits: 14)
    header.write(UInt64(payload.bytes.count - 1), bits: 16)
    return header.bytes + payload.bytes
}

/// The shared test data folder: `$SDC_SHARED/testdata`, or `<repo>/../shared/testdata`.
func sharedTestData() -> URL {
    if let shared = ProcessInfo.processInfo.environment["SDC_SHARED"], !shared.isEmpty {
        return URL(fileURLWithPath: shared).appendingPathComponent("testdata")
    }
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return repository.deletingLastPathComponent().appendingPathComponent("shared/testdata")
}

func sharedDefinition(_ file: String) throws -> PacketDefinition {
    try PacketDefinition(contentsOf: sharedTestData().appendingPathComponent("xtce/\(file)"))
}

/// Wraps parameter types, parameters and containers into an XTCE document with the CCSDS header parameters.
func xtceDocument(types: String, parameters: String, containers: String, headerAbstract: Bool = true) -> Data {
    let text = """
        <?xml version="1.0" encoding="UTF-8"?>
        <xtce:SpaceSystem xmlns:xtce="http://www.omg.org/space/xtce" name="TEST">
          <xtce:TelemetryMetaData>
            <xtce:ParameterTypeSet>
              <xtce:IntegerParameterType name="U1"><xtce:IntegerDataEncoding sizeInBits="1"/></xtce:IntegerParameterType>
              <xtce:IntegerParameterType name="U2"><xtce:IntegerDataEncoding sizeInBits="2"/></xtce:IntegerParameterType>
              <xtce:IntegerParameterType name="U3"><xtce:IntegerDataEncoding sizeInBits="3"/></xtce:IntegerParameterType>
              <xtce:IntegerParameterType name="U11"><xtce:IntegerDataEncoding sizeInBits="11"/></xtce:IntegerParameterType>
              <xtce:IntegerParameterType name="U14"><xtce:IntegerDataEncoding sizeInBits="14"/></xtce:IntegerParameterType>
              <xtce:IntegerParameterType name="U16"><xtce:IntegerDataEncoding sizeInBits="16"/></xtce:IntegerParameterType>
              <xtce:IntegerParameterType name="U32"><xtce:IntegerDataEncoding sizeInBits="32"/></xtce:IntegerParameterType>
        \(types)
            </xtce:ParameterTypeSet>
            <xtce:ParameterSet>
              <xtce:Parameter name="VERSION" parameterTypeRef="U3"/>
              <xtce:Parameter name="TYPE" parameterTypeRef="U1"/>
              <xtce:Parameter name="SEC_HDR_FLG" parameterTypeRef="U1"/>
              <xtce:Parameter name="PKT_APID" parameterTypeRef="U11"/>
              <xtce:Parameter name="SEQ_FLGS" parameterTypeRef="U2"/>
              <xtce:Parameter name="SRC_SEQ_CTR" parameterTypeRef="U14"/>
              <xtce:Parameter name="PKT_LEN" parameterTypeRef="U16"/>
        \(parameters)
            </xtce:ParameterSet>
            <xtce:ContainerSet>
              <xtce:SequenceContainer name="CCSDSPacket" abstract="\(headerAbstract)">
                <xtce:EntryList>
                  <xtce:ParameterRefEntry parameterRef="VERSION"/>
                  <xtce:ParameterRefEntry parameterRef="TYPE"/>
                  <xtce:ParameterRefEntry parameterRef="SEC_HDR_FLG"/>
                  <xtce:ParameterRefEntry parameterRef="PKT_APID"/>
                  <xtce:ParameterRefEntry parameterRef="SEQ_FLGS"/>
                  <xtce:ParameterRefEntry parameterRef="SRC_SEQ_CTR"/>
                  <xtce:ParameterRefEntry parameterRef="PKT_LEN"/>
                </xtce:EntryList>
              </xtce:SequenceContainer>
        \(containers)
            </xtce:ContainerSet>
          </xtce:TelemetryMetaData>
        </xtce:SpaceSystem>
        """
    return Data(text.utf8)
}

/// A container inheriting from CCSDSPacket restricted to one APID.
func apidContainer(_ name: String, apid: Int, entries: [String], abstract: Bool = false) -> String {
    """
          <xtce:SequenceContainer name="\(name)" abstract="\(abstract)">
            <xtce:BaseContainer containerRef="CCSDSPacket">
              <xtce:RestrictionCriteria>
                <xtce:Comparison parameterRef="PKT_APID" value="\(apid)" useCalibratedValue="false"/>
              </xtce:RestrictionCriteria>
            </xtce:BaseContainer>
            <xtce:EntryList>
        \(entries.map { "          <xtce:ParameterRefEntry parameterRef=\"\($0)\"/>" }.joined(separator: "\n"))
            </xtce:EntryList>
          </xtce:SequenceContainer>
        """
}

extension Column {
    /// Integer values of an integer column, for assertions.
    var integers: [Int64]? {
        var result: [Int64] = []
        forEachInteger { _, value in result.append(value ?? .max) }
        return result.count == count ? result : nil
    }

    var doubles: [Double]? {
        switch self {
        case let .float32(values): values.map(Double.init)
        case let .float64(values): values
        default: nil
        }
    }
}

/// A packet for `layout` with random values (valid enumeration values, header fields set), and the bit pattern
/// written for every fixed-size field (nil for the variable-size one).
func randomPacket(for layout: PacketLayout, apid: Int, sequence: Int, variableBytes: Int,
                  using random: inout some RandomNumberGenerator) -> (bytes: [UInt8], patterns: [UInt64?]) {
    var patterns: [UInt64?] = []
    let totalBits = layout.prefixBits + layout.suffixBits + (layout.variableFieldIndex == nil ? 0 : 8 * variableBytes)
    var writer = BitWriter()
    for (index, field) in layout.fields.enumerated() {
        guard let bits = field.bitCount else {
            writer.write(bytes: (0..<variableBytes).map { _ in UInt8.random(in: 0...255, using: &random) })
            patterns.append(nil)
            continue
        }
        switch field.parameter.encoding {
        case .string, .binary:
            for _ in 0..<(bits / 8) { writer.write(UInt64.random(in: 0...255, using: &random), bits: 8) }
            writer.write(UInt64.random(in: 0...255, using: &random) & ((1 << UInt64(bits % 8)) - 1), bits: bits % 8)
            patterns.append(nil)
            continue
        case .integer, .float:
            break
        }
        let mask = bits == 64 ? UInt64.max : (1 << UInt64(bits)) - 1
        var value: UInt64
        switch (index, field.parameter.kind) {
        case (2, _): value = 1
        case (3, _): value = UInt64(apid)
        case (4, _): value = 3
        case (5, _): value = UInt64(sequence)
        case (6, _): value = UInt64(totalBits / 8 - 7)
        case (0, _), (1, _): value = 0
        case let (_, .enumerated(entries)): value = UInt64(bitPattern: entries.randomElement(using: &random)!.value) & mask
        default: value = UInt64.random(in: 0...UInt64.max, using: &random) & mask
        }
        if case .float(16, _) = field.parameter.encoding, (value >> 10) & 0x1F == 0x1F { value &= ~(UInt64(1) << 14) }
        writer.write(value, bits: bits)
        patterns.append(value)
    }
    return (writer.bytes, patterns)
}

extension Column {
    /// The bit patterns of a numeric column, truncated to `bits` (as written in the packet, big-endian fields).
    func patterns(bits: Int) -> [UInt64]? {
        let mask = bits == 64 ? UInt64.max : (1 << UInt64(bits)) - 1
        switch self {
        case let .uint8(values): return values.map { UInt64($0) & mask }
        case let .uint16(values): return values.map { UInt64($0) & mask }
        case let .uint32(values): return values.map { UInt64($0) & mask }
        case let .uint64(values): return values.map { $0 & mask }
        case let .int8(values): return values.map { UInt64(bitPattern: Int64($0)) & mask }
        case let .int16(values): return values.map { UInt64(bitPattern: Int64($0)) & mask }
        case let .int32(values): return values.map { UInt64(bitPattern: Int64($0)) & mask }
        case let .int64(values): return values.map { UInt64(bitPattern: $0) & mask }
        case let .float32(values) where bits == 32: return values.map { UInt64($0.bitPattern) }
        case let .float64(values): return values.map(\.bitPattern)
        default: return nil
        }
    }
}
