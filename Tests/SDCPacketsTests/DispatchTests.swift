import Foundation
import Testing
@testable import SDCPackets

/// IDEX-like dispatch: an abstract APID container whose children discriminate on a user field.
private let discriminatedDocument = xtceDocument(
    types: #"<xtce:IntegerParameterType name="U8"><xtce:IntegerDataEncoding sizeInBits="8"/></xtce:IntegerParameterType>"#,
    parameters: """
        <xtce:Parameter name="KIND" parameterTypeRef="U8"/>
        <xtce:Parameter name="ONE" parameterTypeRef="U16"/>
        <xtce:Parameter name="MANY" parameterTypeRef="U32"/>
        """,
    containers: apidContainer("SCIENCE", apid: 300, entries: ["KIND"], abstract: true) + """
          <xtce:SequenceContainer name="SCIENCE_ONE">
            <xtce:BaseContainer containerRef="SCIENCE">
              <xtce:RestrictionCriteria><xtce:Comparison parameterRef="KIND" value="1" useCalibratedValue="false"/></xtce:RestrictionCriteria>
            </xtce:BaseContainer>
            <xtce:EntryList><xtce:ParameterRefEntry parameterRef="ONE"/></xtce:EntryList>
          </xtce:SequenceContainer>
          <xtce:SequenceContainer name="SCIENCE_MANY">
            <xtce:BaseContainer containerRef="SCIENCE">
              <xtce:RestrictionCriteria><xtce:ComparisonList>
                <xtce:Comparison parameterRef="KIND" comparisonOperator="&gt;" value="1" useCalibratedValue="false"/>
                <xtce:Comparison parameterRef="KIND" comparisonOperator="!=" value="200" useCalibratedValue="false"/>
              </xtce:ComparisonList></xtce:RestrictionCriteria>
            </xtce:BaseContainer>
            <xtce:EntryList><xtce:ParameterRefEntry parameterRef="MANY"/></xtce:EntryList>
          </xtce:SequenceContainer>
          <xtce:SequenceContainer name="SCIENCE_ALSO_MANY">
            <xtce:BaseContainer containerRef="SCIENCE">
              <xtce:RestrictionCriteria><xtce:Comparison parameterRef="KIND" value="9" useCalibratedValue="false"/></xtce:RestrictionCriteria>
            </xtce:BaseContainer>
            <xtce:EntryList><xtce:ParameterRefEntry parameterRef="MANY"/></xtce:EntryList>
          </xtce:SequenceContainer>
        """)

@Suite("Choosing containers")
struct DispatchTests {
    private func packet(kind: UInt64, sequence: Int, payloadBits: Int) -> [UInt8] {
        ccsdsPacket(apid: 300, sequence: sequence) { writer in
            writer.write(kind, bits: 8)
            writer.write(0xABCD_EF01 & ((1 << UInt64(payloadBits)) - 1), bits: payloadBits)
        }
    }

    @Test("Children are chosen by a user field, as space_packet_parser walks the container tree")
    func userFieldDiscriminator() throws {
        let definition = try PacketDefinition(data: discriminatedDocument)
        #expect(definition.concreteLayouts.map(\.name) == ["SCIENCE_ONE", "SCIENCE_MANY", "SCIENCE_ALSO_MANY"])
        let bytes = packet(kind: 1, sequence: 0, payloadBits: 16) + packet(kind: 5, sequence: 1, payloadBits: 32)
            + packet(kind: 0, sequence: 2, payloadBits: 16)   // no child matches: abstract parent
            + packet(kind: 200, sequence: 3, payloadBits: 32) // excluded by the comparison list
            + packet(kind: 9, sequence: 4, payloadBits: 32)   // two children match
            + packet(kind: 2, sequence: 5, payloadBits: 32)
        let decoded = PacketDecoder(definition: definition).decode(bytes)
        #expect(decoded.containers.map(\.name) == ["SCIENCE_ONE", "SCIENCE_MANY"])
        #expect(decoded.containers[0].field(named: "ONE")?.raw == .uint16([0xEF01]))
        #expect(decoded.containers[1].field(named: "MANY")?.raw == .uint32([0xABCD_EF01, 0xABCD_EF01]))
        #expect(decoded.containers[1].field(named: "KIND")?.raw == .uint8([5, 2]))
        let report = try #require(decoded.report.report(forAPID: 300))
        #expect(report.damage[.unknownAPID]?.count == 2)
        #expect(report.damage[.ambiguousContainer]?.count == 1)
        #expect(report.decoded == 3)
    }

    @Test("With a concrete root, packets of unknown APIDs are counted and skipped")
    func concreteRoot() throws {
        let definition = try sharedDefinition("P_GLX_TMSCDE.xml")
        let known = ccsdsPacket(apid: 1481, sequence: 0) { writer in
            writer.write(487_000_000, bits: 32)
            writer.write(signed: -5, bits: 32)
            writer.write(3, bits: 16)
            writer.write(1, bits: 16)
        }
        let unknown = ccsdsPacket(apid: 1482, sequence: 0) { $0.write(0, bits: 32) }
        let decoded = PacketDecoder(definition: definition).decode(known + unknown + known)
        #expect(decoded.containers.map(\.name) == ["P_GLX_TMSCDE"])
        #expect(decoded.containers[0].field(named: "SEC")?.raw == .int32([-5, -5]))
        #expect(decoded.report.report(forAPID: 1482)?.damage[.unknownAPID]?.count == 1)
        #expect(decoded.report.report(forAPID: 1481)?.gapCount == 1)
    }

    @Test("Only the selected containers are decoded; the others are still counted")
    func containerSelection() throws {
        let definition = try PacketDefinition(data: encodingsDocument)
        let bytes = FixedPacketValues().packet(sequence: 0) + variablePacket(sequence: 0, blob: [1], tail: 2)
        let decoded = PacketDecoder(definition: definition).decode(bytes, options: DecodeOptions(containers: ["VAR"]))
        #expect(decoded.containers.map(\.name) == ["VAR"])
        #expect(decoded.report.packets == 2)
        #expect(decoded.report.report(forAPID: 100)?.decoded == 0)
    }
}
