import Foundation
import Testing
@testable import SDCPackets

/// A small deterministic generator (SplitMix64) so that fuzz failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

@Suite("Damaged streams")
struct RobustnessTests {
    let definition: PacketDefinition

    init() throws {
        definition = try PacketDefinition(data: encodingsDocument)
    }

    /// Every complete packet is either decoded or counted as damaged, and all bytes are accounted for.
    private func expectConsistent(_ decoded: DecodedPackets, byteCount: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let report = decoded.report
        var framedBytes = 0
        for apid in report.apids {
            let skipped = apid.damage.filter { $0.key != .truncated }.values.reduce(0) { $0 + $1.count }
            #expect(apid.decoded + skipped == apid.packets, "APID \(apid.apid)", sourceLocation: sourceLocation)
            #expect((apid.damage[.truncated]?.count ?? 0) <= 1, sourceLocation: sourceLocation)
            framedBytes += apid.bytes
            for damage in apid.damage.values {
                #expect(damage.firstOffset >= 0 && damage.firstOffset < byteCount, sourceLocation: sourceLocation)
            }
        }
        let truncated = report.apids.compactMap { $0.damage[.truncated]?.firstOffset }
        let tail = truncated.first.map { byteCount - $0 } ?? report.trailingBytes?.count ?? 0
        #expect(framedBytes + tail == byteCount, sourceLocation: sourceLocation)
        #expect(decoded.containers.reduce(0) { $0 + $1.count } == report.decoded, sourceLocation: sourceLocation)
        // Memory stays proportional to the input: at most one value per bit, and byte columns hold input bytes.
        var values = 0
        for container in decoded.containers {
            for field in container.fields {
                #expect(field.raw.count == container.count, sourceLocation: sourceLocation)
                values += field.raw.count
                if case let .bytes(column) = field.raw {
                    #expect(column.bytes.count <= byteCount, sourceLocation: sourceLocation)
                }
            }
        }
        #expect(values <= 8 * byteCount, sourceLocation: sourceLocation)
    }

    @Test("10,000 randomly corrupted or truncated streams decode without crashing, with damage reported")
    func fuzz() throws {
        var clean: [UInt8] = []
        for index in 0..<24 {
            clean += index % 2 == 0
                ? FixedPacketValues().packet(sequence: index)
                : variablePacket(sequence: index, blob: Array(repeating: UInt8(index), count: index), tail: 7)
        }
        let decoder = PacketDecoder(definition: definition)
        var random = SplitMix64(seed: 2026)
        var damagedStreams = 0
        var derivedSuccesses = 0
        var derivedFailures = 0
        for iteration in 0..<10_000 {
            var bytes = clean
            switch Int.random(in: 0..<4, using: &random) {
            case 0:  // flip random bits
                for _ in 0..<Int.random(in: 1...8, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
                }
            case 1:  // truncate anywhere
                bytes.removeLast(Int.random(in: 1..<bytes.count, using: &random))
            case 2:  // overwrite a length field
                let offset = Int.random(in: 0..<(bytes.count - 6), using: &random)
                bytes[offset + 4] = UInt8.random(in: 0...255, using: &random)
                bytes[offset + 5] = UInt8.random(in: 0...255, using: &random)
            default:  // splice random garbage in
                let garbage = (0..<Int.random(in: 1...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                bytes.insert(contentsOf: garbage, at: Int.random(in: 0...bytes.count, using: &random))
            }
            let decoded = decoder.decode(bytes, options: DecodeOptions(parallelism: 1))
            expectConsistent(decoded, byteCount: bytes.count)
            if !decoded.report.damage.isEmpty || decoded.report.trailingBytes != nil { damagedStreams += 1 }
            for container in decoded.containers {
                do throws(DerivedValueError) {
                    let columns = try container.derivedColumns()
                    expectDerivedColumns(columns, of: container, byteCount: bytes.count, iteration: iteration)
                    derivedSuccesses += 1
                } catch {
                    expectNamesItsPacket(error, in: container, iteration: iteration)
                    derivedFailures += 1
                }
            }
        }
        #expect(damagedStreams > 5_000)
        #expect(derivedSuccesses > 1_000, "most decoded containers have derived values")
        #expect(derivedFailures > 0, "damaged values that have no derived value (unlabelled enumerations, bad UTF-8) are reported")
    }

    /// Derived values cover every field and packet, and their size stays proportional to the input.
    private func expectDerivedColumns(_ columns: [Column], of container: DecodedContainer, byteCount: Int, iteration: Int,
                                      sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(columns.count == container.fields.count, "iteration \(iteration)", sourceLocation: sourceLocation)
        var textBytes = 0
        for column in columns {
            #expect(column.count == container.count, "iteration \(iteration)", sourceLocation: sourceLocation)
            if case let .string(values) = column { textBytes += values.reduce(0) { $0 + $1.utf8.count } }
        }
        // Strings are decoded input bytes (UTF-8 at most as long) or enumeration labels (at most 4 bytes here).
        #expect(textBytes <= byteCount + 4 * container.count * columns.count, "iteration \(iteration)", sourceLocation: sourceLocation)
    }

    /// A derived-value failure names a field of the container and one of its packets, and has a message.
    private func expectNamesItsPacket(_ error: DerivedValueError, in container: DecodedContainer, iteration: Int,
                                      sourceLocation: SourceLocation = #_sourceLocation) {
        let (field, packet): (String, Int) = switch error {
        case let .unknownEnumerationValue(field, _, packet), let .outsideSplineRange(field, _, packet), let .invalidString(field, packet):
            (field, packet)
        }
        #expect(container.fields.contains { $0.name == field }, "iteration \(iteration): \(error)", sourceLocation: sourceLocation)
        #expect((0..<container.count).contains(packet), "iteration \(iteration): \(error)", sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix(field + ": "), "iteration \(iteration): \(error)", sourceLocation: sourceLocation)
    }

    @Test("A truncated last packet, a length past the end, and wrong sizes are reported per APID")
    func damageKinds() throws {
        let fixed = FixedPacketValues().packet(sequence: 0)
        var short = FixedPacketValues().packet(sequence: 1)
        short.removeLast(2)
        short[5] -= 2
        var long = FixedPacketValues().packet(sequence: 2)
        long += [0, 0, 0]
        long[5] += 3
        let unknown = ccsdsPacket(apid: 7, sequence: 0) { $0.write(0, bits: 64) }
        var tooShortForSuffix = variablePacket(sequence: 0, blob: [], tail: 1)
        tooShortForSuffix.removeLast(3)
        tooShortForSuffix[5] -= 3
        let bytes = fixed + short + long + unknown + tooShortForSuffix + fixed.prefix(20)
        let decoded = PacketDecoder(definition: definition).decode(bytes)
        let report = decoded.report
        expectConsistent(decoded, byteCount: bytes.count)
        let fixedReport = try #require(report.report(forAPID: 100))
        #expect(fixedReport.packets == 3)
        #expect(fixedReport.decoded == 1)
        #expect(fixedReport.damage[.shorterThanLayout] == DamageCount(count: 1, firstOffset: fixed.count))
        #expect(fixedReport.damage[.longerThanLayout] == DamageCount(count: 1, firstOffset: fixed.count + short.count))
        let end = fixed.count + short.count + long.count + unknown.count + tooShortForSuffix.count
        #expect(fixedReport.damage[.truncated] == DamageCount(count: 1, firstOffset: end))
        #expect(report.report(forAPID: 7)?.damage[.unknownAPID]?.count == 1)
        #expect(report.report(forAPID: 200)?.damage[.shorterThanLayout]?.count == 1)
        #expect(decoded.containers.map(\.count) == [1])
    }

    @Test("Trailing bytes too short for a header are reported")
    func trailingBytes() {
        let bytes = FixedPacketValues().packet(sequence: 0) + [1, 2, 3]
        let report = PacketDecoder(definition: definition).decode(bytes).report
        #expect(report.trailingBytes?.offset == 53)
        #expect(report.trailingBytes?.count == 3)
        #expect(report.decoded == 1)
    }

    @Test("Sequence-counter gaps are counted per APID, with wrap-around")
    func sequenceGaps() throws {
        let sequences = [16382, 16383, 0, 1, 5, 6, 2]
        var bytes: [UInt8] = []
        for sequence in sequences {
            bytes += FixedPacketValues().packet(sequence: sequence)
            bytes += variablePacket(sequence: sequence % 3, blob: [], tail: 0)
        }
        let report = PacketDecoder(definition: definition).decode(bytes).report
        let fixed = try #require(report.report(forAPID: 100))
        #expect(fixed.gapCount == 2)
        #expect(fixed.gaps.map { [$0.before, $0.after, $0.missing] } == [[1, 5, 3], [6, 2, 16379]])
        #expect(fixed.missingPackets == 3 + 16379)
        #expect(fixed.metRange == 487_000_000...487_000_000)
        #expect(try #require(report.report(forAPID: 200)).gapCount == 4)
    }

    @Test("Surveying without a definition frames packets and counts sizes")
    func survey() {
        let bytes = FixedPacketValues().packet(sequence: 0) + variablePacket(sequence: 0, blob: [1, 2], tail: 0)
            + variablePacket(sequence: 1, blob: [], tail: 0)
        let report = bytes.withUnsafeBytes { PacketDecoder.survey($0) }
        #expect(report.packets == 3)
        #expect(report.decoded == 0)
        #expect(report.report(forAPID: 200)?.minimumSize == 16)
        #expect(report.report(forAPID: 200)?.maximumSize == 18)
        #expect(report.report(forAPID: 100)?.container == nil)
    }
}
