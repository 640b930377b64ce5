import Foundation
import Testing
@testable import SDCPackets

@Suite("Text output")
struct OutputTests {
    private let decoded: DecodedPackets

    init() throws {
        let definition = try PacketDefinition(data: encodingsDocument)
        var second = FixedPacketValues()
        second.float32 = .nan
        second.float64 = 1e-5
        second.text = Array("a,\"".utf8)
        decoded = PacketDecoder(definition: definition).decode(
            FixedPacketValues().packet(sequence: 0) + second.packet(sequence: 1) + variablePacket(sequence: 0, blob: [0xAB, 0x01], tail: 9))
    }

    private func json(_ container: DecodedContainer, raw: Bool) throws -> [String: Any] {
        let bytes = try DecodedOutputWriter(format: .json, raw: raw).render(container)
        #expect(bytes.last == UInt8(ascii: "\n"))
        #expect(bytes.filter { $0 == UInt8(ascii: "\n") }.count == 1)
        return try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test("JSON: one object per container with fields in definition order")
    func jsonLayout() throws {
        let variable = try #require(decoded.containers.last)
        let text = String(decoding: try DecodedOutputWriter(format: .json, raw: true).render(variable), as: UTF8.self)
        #expect(text == """
            {"container": "VAR", "apid": 200, "packets": 1, "fields": {"VERSION": [0], "TYPE": [0], "SEC_HDR_FLG": [1], \
            "PKT_APID": [200], "SEQ_FLGS": [3], "SRC_SEQ_CTR": [0], "PKT_LEN": [11], "MET": [1], "A3": [6], "A13": [-1], \
            "BLOB": ["ab01"], "TAIL": [9], "TAILBIN": ["0123"], "TAILPAD": [0]}}

            """)
    }

    @Test("JSON values: derived labels, booleans, shortest floats, non-finite floats as strings")
    func jsonValues() throws {
        let fixed = try #require(decoded.containers.first)
        let derived = try json(fixed, raw: false)
        #expect(derived["container"] as? String == "FIXED")
        #expect(derived["packets"] as? Int == 2)
        let fields = try #require(derived["fields"] as? [String: Any])
        #expect(fields["AMODE"] as? [String] == ["SAFE", "SAFE"])
        #expect(fields["AFLAG"] as? [Bool] == [true, true])
        #expect(fields["ASTR"] as? [String] == ["ABC", "a,\""])
        #expect(fields["ACAL"] as? [Double] == [17794.275, 17794.275])
        #expect((fields["AF32"] as? [Any])?.last as? String == "NaN")

        let text = String(decoding: try DecodedOutputWriter(format: .json, raw: true).render(fixed), as: UTF8.self)
        #expect(text.contains("\"AF64\": [1e-300, 1e-05]"))
        #expect(text.contains("\"ASTR\": [\"414243\", \"612c22\"]"))
        #expect(text.contains("\"AMODE\": [2, 2]"))
        #expect(text.contains("\"A64\": [18364758544493064720, 18364758544493064720]"))
        #expect(text.contains("\"AF32\": [3.25, \"NaN\"]"))
    }

    @Test("CSV: a comment line, a header row and one row per packet")
    func csv() throws {
        let fixed = try #require(decoded.containers.first)
        let text = String(decoding: try DecodedOutputWriter(format: .csv, raw: false).render(fixed), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 5)
        #expect(lines[0] == "# container FIXED apid 100 packets 2")
        #expect(lines[1].hasPrefix("VERSION,TYPE,SEC_HDR_FLG,PKT_APID,SEQ_FLGS,SRC_SEQ_CTR,PKT_LEN,MET,A3,A64,"))
        #expect(lines[3].contains(",\"a,\"\"\","))
        #expect(lines[4].isEmpty)
    }

    @Test("Inspection report as text and JSON")
    func report() throws {
        let writer = ReportWriter()
        let text = writer.text(decoded.report)
        #expect(text.hasPrefix("124 bytes, 3 complete packets, 3 decoded\n"))
        #expect(text.contains("FIXED"))
        let object = try #require(JSONSerialization.jsonObject(with: Data(writer.json(decoded.report).utf8)) as? [String: Any])
        #expect(object["packets"] as? Int == 3)
        let apids = try #require(object["apids"] as? [[String: Any]])
        #expect(apids.map { $0["apid"] as? Int } == [100, 200])
        #expect(apids.first?["container"] as? String == "FIXED")
    }
}
