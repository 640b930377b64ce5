import Foundation
import Testing
@testable import SDCPackets

/// Round trips through the IMAP definitions: packets written field by field decode to the written values.
@Suite("IMAP definitions")
struct SharedDefinitionTests {
    static let cases: [(file: String, variableBytes: [Int])] = [
        ("swapi_packet_definition.xml", [0]), ("MAG_SCI_COMBINED.xml", [0, 1, 96, 384]),
        ("P_GLX_TMSCHIST.xml", [0]), ("P_GLX_TMSCDE.xml", [0]),
    ]

    @Test("Every field of every concrete container decodes to the value written", arguments: cases.indices)
    func roundTrip(_ caseIndex: Int) throws {
        let (file, variableBytes) = Self.cases[caseIndex]
        let definition = try sharedDefinition(file)
        var random = SplitMix64(seed: UInt64(caseIndex) + 1)
        var bytes: [UInt8] = []
        var written: [String: [[UInt64?]]] = [:]
        for sequence in 0..<200 {
            for layout in definition.concreteLayouts {
                let packetAPID = try #require(apid(of: layout))
                let packet = randomPacket(for: layout, apid: packetAPID, sequence: sequence,
                                          variableBytes: variableBytes[sequence % variableBytes.count], using: &random)
                bytes += packet.bytes
                written[layout.name, default: []].append(packet.patterns)
            }
        }
        let decoded = PacketDecoder(definition: definition).decode(bytes)
        #expect(decoded.report.damage.isEmpty)
        #expect(decoded.containers.map(\.name) == definition.concreteLayouts.map(\.name))
        for container in decoded.containers {
            let rows = try #require(written[container.name])
            #expect(container.count == rows.count)
            for (index, field) in container.fields.enumerated() {
                guard let bits = field.parameter.encoding.fixedBitCount, case .integer = field.parameter.encoding else { continue }
                #expect(field.raw.patterns(bits: bits) == rows.map { $0[index] ?? 0 }, "\(container.name).\(field.name)")
            }
            _ = try container.derivedColumns()
        }
    }

    @Test("Randomly corrupted MAG streams with variable-size packets decode without crashing")
    func corruptedMagnetometerStreams() throws {
        let definition = try sharedDefinition("MAG_SCI_COMBINED.xml")
        let decoder = PacketDecoder(definition: definition)
        var random = SplitMix64(seed: 7)
        var clean: [UInt8] = []
        for sequence in 0..<16 {
            for layout in definition.concreteLayouts {
                clean += randomPacket(for: layout, apid: apid(of: layout)!, sequence: sequence,
                                      variableBytes: Int.random(in: 0...64, using: &random), using: &random).bytes
            }
        }
        for _ in 0..<2_000 {
            var bytes = clean
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            bytes.removeLast(Int.random(in: 0..<64, using: &random))
            let decoded = decoder.decode(bytes, options: DecodeOptions(parallelism: 1))
            let framed = decoded.report.apids.reduce(0) { $0 + $1.bytes }
            let truncatedAt = decoded.report.apids.compactMap { $0.damage[.truncated]?.firstOffset }.first
            #expect(framed + (truncatedAt.map { bytes.count - $0 } ?? decoded.report.trailingBytes?.count ?? 0) == bytes.count)
            #expect(decoded.containers.reduce(0) { $0 + $1.count } == decoded.report.decoded)
        }
    }

    /// The APID a layout's restriction criteria require.
    private func apid(of layout: PacketLayout) -> Int? {
        for criterion in layout.restrictions {
            if case let .field(index) = criterion.source, layout.fields[index].name == "PKT_APID",
               criterion.comparisonOperator == .equal, case let .integer(value) = criterion.comparand {
                return Int(value.bits)
            }
        }
        return nil
    }
}
