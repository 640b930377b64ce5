import Foundation
import Testing
@testable import SDCPackets

@Suite("Loading XTCE definitions")
struct XTCELoadingTests {
    @Test("SWAPI compiles into two fixed layouts dispatched by APID")
    func swapi() throws {
        let definition = try sharedDefinition("swapi_packet_definition.xml")
        #expect(definition.rootContainerName == "CCSDSPacket")
        #expect(definition.concreteLayouts.map(\.name) == ["SWP_HK", "SWP_SCI"])
        let housekeeping = try #require(definition.layout(named: "SWP_HK"))
        #expect(housekeeping.fixedBitCount == 84 * 8)
        #expect(housekeeping.fields.count == 108)
        #expect(Array(housekeeping.fields.prefix(8).map(\.name))
                == ["VERSION", "TYPE", "SEC_HDR_FLG", "PKT_APID", "SEQ_FLGS", "SRC_SEQ_CTR", "PKT_LEN", "SWP_HK.SHCOARSE"])
        #expect(definition.layout(named: "SWP_SCI")?.fixedBitCount == 54 * 8)

        let esa = try #require(housekeeping.fields.first { $0.name == "SWP_HK.ESA_V" })
        #expect(esa.parameter.encoding == .integer(bits: 12, signed: false, byteOrder: .mostSignificantByteFirst))
        #expect(esa.parameter.calibration?.contexts.count == 2)
        let choice = try #require(housekeeping.fields.first { $0.name == "SWP_HK.LUT_CHOICE" })
        #expect(choice.parameter.kind == .enumerated([EnumerationEntry(value: 0, label: "EEPL1"), EnumerationEntry(value: 1, label: "EEPL2")]))

        let dispatcher = PacketDispatcher(definition: definition)
        let empty: [UInt8] = Array(repeating: 0, count: 6)
        empty.withUnsafeBufferPointer { buffer in
            #expect(dispatcher.decide(apid: 1184, base: buffer.baseAddress!, count: 6) == .layout(definition.layouts.firstIndex { $0.name == "SWP_HK" }!))
            #expect(dispatcher.decide(apid: 1185, base: buffer.baseAddress!, count: 6) == .unknown)
        }
    }

    @Test("MAG science has one PKT_LEN-sized field at the end")
    func magnetometer() throws {
        let definition = try sharedDefinition("MAG_SCI_COMBINED.xml")
        #expect(definition.concreteLayouts.map(\.name) == ["P_MAG_SCI_NORM", "P_MAG_SCI_BURST"])
        let normal = try #require(definition.layout(named: "P_MAG_SCI_NORM"))
        #expect(normal.fixedBitCount == nil)
        #expect(normal.prefixBits == 216)
        #expect(normal.suffixBits == 0)
        #expect(normal.variableFieldIndex == normal.fields.count - 1)
        #expect(normal.variableSize?.slope == 8)
        #expect(normal.variableSize?.intercept == -160)
        #expect(normal.fields[try #require(normal.variableSize?.referenceField)].name == "PKT_LEN")
    }

    @Test("GLOWS definitions load, with a concrete root container")
    func glows() throws {
        let histogram = try sharedDefinition("P_GLX_TMSCHIST.xml")
        #expect(histogram.concreteLayouts.map(\.name) == ["P_GLX_TMSCHIST"])
        #expect(histogram.layouts[0].isAbstract == false)
        let events = try sharedDefinition("P_GLX_TMSCDE.xml")
        let layout = try #require(events.layout(named: "P_GLX_TMSCDE"))
        #expect(layout.fixedBitCount == 18 * 8)
        #expect(layout.fields.first { $0.name == "SEC" }?.parameter.encoding == .integer(bits: 32, signed: true, byteOrder: .mostSignificantByteFirst))
    }

    /// The line of the first occurrence of `marker` in `data`.
    private func line(of marker: String, in data: Data) -> Int {
        let text = String(decoding: data, as: UTF8.self)
        guard let range = text.range(of: marker) else { return -1 }
        return text[..<range.lowerBound].filter { $0 == "\n" }.count + 1
    }

    private func expectUnsupported(_ element: String, types: String = "", parameters: String = "", containers: String,
                                   marker: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let document = xtceDocument(types: types, parameters: parameters, containers: containers)
        let expectedLine = line(of: marker, in: document)
        do {
            _ = try PacketDefinition(data: document)
            Issue.record("loading succeeded although <\(element)> is unsupported", sourceLocation: sourceLocation)
        } catch {
            guard case let .unsupportedElement(name, line, _) = error else {
                Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(name == element, sourceLocation: sourceLocation)
            #expect(line == expectedLine, sourceLocation: sourceLocation)
            #expect(error.description.contains("line \(expectedLine)"), sourceLocation: sourceLocation)
        }
    }

    @Test("Unsupported constructs are errors naming the element and its line")
    func unsupportedConstructs() {
        let simple = apidContainer("P", apid: 1, entries: ["X"])
        expectUnsupported("ArrayParameterType",
                          types: #"<xtce:ArrayParameterType name="ARR" arrayTypeRef="U16"/>"#,
                          parameters: #"<xtce:Parameter name="X" parameterTypeRef="ARR"/>"#,
                          containers: simple, marker: "ArrayParameterType")
        expectUnsupported("IntegerDataEncoding",
                          types: #"<xtce:IntegerParameterType name="BCD"><xtce:IntegerDataEncoding sizeInBits="8" encoding="BCD"/></xtce:IntegerParameterType>"#,
                          parameters: #"<xtce:Parameter name="X" parameterTypeRef="BCD"/>"#,
                          containers: simple, marker: #"encoding="BCD""#)
        expectUnsupported("MathOperationCalibrator",
                          types: """
                            <xtce:IntegerParameterType name="M"><xtce:IntegerDataEncoding sizeInBits="8">
                            <xtce:DefaultCalibrator><xtce:MathOperationCalibrator/></xtce:DefaultCalibrator>
                            </xtce:IntegerDataEncoding></xtce:IntegerParameterType>
                            """,
                          parameters: #"<xtce:Parameter name="X" parameterTypeRef="M"/>"#,
                          containers: simple, marker: "<xtce:MathOperationCalibrator")
        expectUnsupported("FloatDataEncoding",
                          types: #"<xtce:FloatParameterType name="MIL"><xtce:FloatDataEncoding sizeInBits="32" encoding="MILSTD_1750A"/></xtce:FloatParameterType>"#,
                          parameters: #"<xtce:Parameter name="X" parameterTypeRef="MIL"/>"#,
                          containers: simple, marker: "MILSTD_1750A")
        expectUnsupported("TerminationChar",
                          types: """
                            <xtce:StringParameterType name="S"><xtce:StringDataEncoding>
                            <xtce:SizeInBits><xtce:Fixed><xtce:FixedValue>64</xtce:FixedValue></xtce:Fixed>
                            <xtce:TerminationChar>00</xtce:TerminationChar></xtce:SizeInBits></xtce:StringDataEncoding></xtce:StringParameterType>
                            """,
                          parameters: #"<xtce:Parameter name="X" parameterTypeRef="S"/>"#,
                          containers: simple, marker: "<xtce:TerminationChar")
        expectUnsupported("IncludeCondition",
                          parameters: #"<xtce:Parameter name="X" parameterTypeRef="U16"/>"#,
                          containers: """
                            <xtce:SequenceContainer name="P">
                              <xtce:EntryList>
                                <xtce:ParameterRefEntry parameterRef="X">
                                  <xtce:IncludeCondition><xtce:Comparison parameterRef="PKT_APID" value="1"/></xtce:IncludeCondition>
                                </xtce:ParameterRefEntry>
                              </xtce:EntryList>
                            </xtce:SequenceContainer>
                            """, marker: "<xtce:IncludeCondition")
        expectUnsupported("BooleanExpression",
                          parameters: #"<xtce:Parameter name="X" parameterTypeRef="U16"/>"#,
                          containers: """
                            <xtce:SequenceContainer name="P">
                              <xtce:BaseContainer containerRef="CCSDSPacket">
                                <xtce:RestrictionCriteria><xtce:BooleanExpression/></xtce:RestrictionCriteria>
                              </xtce:BaseContainer>
                              <xtce:EntryList><xtce:ParameterRefEntry parameterRef="X"/></xtce:EntryList>
                            </xtce:SequenceContainer>
                            """, marker: "<xtce:BooleanExpression")
        expectUnsupported("IntegerDataEncoding",
                          types: #"<xtce:IntegerParameterType name="LE12"><xtce:IntegerDataEncoding sizeInBits="12" byteOrder="leastSignificantByteFirst"/></xtce:IntegerParameterType>"#,
                          parameters: #"<xtce:Parameter name="X" parameterTypeRef="LE12"/>"#,
                          containers: simple, marker: "LE12\"><xtce:IntegerDataEncoding")
    }

    @Test("Layouts with two variable-size fields or dangling references are rejected")
    func invalidLayouts() {
        let blob = """
            <xtce:BinaryParameterType name="BLOB"><xtce:BinaryDataEncoding><xtce:SizeInBits><xtce:DynamicValue>
            <xtce:ParameterInstanceRef parameterRef="PKT_LEN"/><xtce:LinearAdjustment slope="4" intercept="0"/>
            </xtce:DynamicValue></xtce:SizeInBits></xtce:BinaryDataEncoding></xtce:BinaryParameterType>
            """
        let twoBlobs = xtceDocument(types: blob, parameters: """
            <xtce:Parameter name="A" parameterTypeRef="BLOB"/><xtce:Parameter name="B" parameterTypeRef="BLOB"/>
            """, containers: apidContainer("P", apid: 1, entries: ["A", "B"]))
        #expect {
            try PacketDefinition(data: twoBlobs)
        } throws: { error in
            guard case let .unsupportedLayout(container, _, reason) = error as? XTCEError else { return false }
            return container == "P" && reason.contains("more than one variable-size field")
        }
        let dangling = xtceDocument(types: "", parameters: "", containers: apidContainer("P", apid: 1, entries: ["NOPE"]))
        #expect(throws: XTCEError.self) { try PacketDefinition(data: dangling) }
        #expect {
            try PacketDefinition(data: Data("<SpaceSystem><Telemetry".utf8))
        } throws: { error in
            if case .malformedXML = error as? XTCEError { return true }
            return false
        }
    }
}
