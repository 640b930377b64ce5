import Foundation
import SDCCore
import Testing
@testable import SDCIALiRT

/// Builds I-ALiRT packets: CCSDS header for APID 478 (or `apid`), `SC_SCLK_SEC` = `met`, `MAG_STATUS` and `MAG_DATA`
/// (the last 6 bytes of the packet: two 24-bit fields) = `magStatus` and `magData`, every other byte a pattern.
enum PacketBuilder {
    static func packet(met: UInt32, magData: UInt32 = 0x01_02_03, magStatus: UInt32 = 7, apid: Int = 478, length: Int = 183,
                       sequence: Int = 0) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: length)
        bytes[0] = 0x08 | UInt8((apid >> 8) & 0x07)
        bytes[1] = UInt8(apid & 0xFF)
        bytes[2] = 0xC0 | UInt8((sequence >> 8) & 0x3F)
        bytes[3] = UInt8(sequence & 0xFF)
        bytes[4] = UInt8(((length - 7) >> 8) & 0xFF)
        bytes[5] = UInt8((length - 7) & 0xFF)
        guard length >= 14 else { return bytes }
        bytes[6] = UInt8(met >> 24)
        bytes[7] = UInt8((met >> 16) & 0xFF)
        bytes[8] = UInt8((met >> 8) & 0xFF)
        bytes[9] = UInt8(met & 0xFF)
        for index in 10..<(length - 6) { bytes[index] = UInt8(index & 0xFF) }
        for (offset, value) in [(length - 6, magStatus), (length - 3, magData)] {
            bytes[offset] = UInt8((value >> 16) & 0xFF)
            bytes[offset + 1] = UInt8((value >> 8) & 0xFF)
            bytes[offset + 2] = UInt8(value & 0xFF)
        }
        return bytes
    }

    /// `count` packets one second apart from `met`, `MAG_DATA` = 1000 + i.
    static func stream(from met: UInt32, count: Int) -> [UInt8] {
        (0..<count).flatMap { packet(met: met + UInt32($0), magData: 1000 + UInt32($0), sequence: $0) }
    }
}

struct IALiRTPacketTests {
    @Test func splitAcceptsBackToBackIALiRTPackets() throws {
        let packets = try IALiRTPacket.split(PacketBuilder.stream(from: 500_000_000, count: 3))
        #expect(packets.count == 3)
        #expect(packets.allSatisfy { $0.count == 183 })
    }

    @Test func splitRefusesOtherAPIDsLengthsAndCutPackets() {
        let good = PacketBuilder.packet(met: 1)
        #expect(throws: IALiRTError.badPacket("packet 1 at byte 183 has APID 1136: only I-ALiRT packets (APID 478) are accepted")) {
            try IALiRTPacket.split(good + PacketBuilder.packet(met: 2, apid: 1136))
        }
        #expect(throws: IALiRTError.badPacket("packet 0 at byte 0 declares 200 bytes: I-ALiRT packets are 183 bytes")) {
            try IALiRTPacket.split(PacketBuilder.packet(met: 2, length: 200))
        }
        #expect(throws: IALiRTError.badPacket("packet 1 at byte 183 is cut short: 100 of 183 bytes")) {
            try IALiRTPacket.split(good + good.prefix(100))
        }
        #expect(throws: IALiRTError.badPacket("packet 1 at byte 183: 3 trailing bytes are too few for a CCSDS primary header (6 bytes)")) {
            try IALiRTPacket.split(good + [0, 1, 2])
        }
        #expect(throws: IALiRTError.self) { try IALiRTPacket.split([]) }
    }

    @Test func decodesOneRecordPerInstrumentWithTheSpacecraftTime() throws {
        let batch = try IALiRTDecoding.decode(PacketBuilder.stream(from: 500_000_000, count: 2))
        #expect(batch.packets.count == 2)
        #expect(batch.skipped.isEmpty)
        #expect(batch.records.map(\.instrument) == ["hit", "mag", "codice_lo", "codice_hi", "swapi", "swe", "hit", "mag", "codice_lo", "codice_hi", "swapi", "swe"])
        let mag = try #require(batch.records.first { $0.instrument == "mag" })
        // MET 500,000,000 s after 2010-01-01T00:00:00 UTC, three leap seconds (2012, 2015, 2016) in between.
        #expect(mag.timeUTC == "2025-11-05T00:53:17")
        #expect(mag.met == 500_000_000)
        #expect(mag.fields.map(\.name) == ["mag_acq_tm_coarse", "mag_acq_tm_fine", "mag_status", "mag_data"])
        #expect(mag.fields.last?.value == 1000)
        #expect(mag.fields[2].value == 7)
        #expect(mag.fieldsJSON == JSONValue.object(mag.fields.map { ($0.name, .int(Int($0.value))) }).serialized())
        #expect(mag.fieldsJSON.hasSuffix(#""mag_status": 7, "mag_data": 1000}"#))
        let swapi = try #require(batch.records.first { $0.instrument == "swapi" })
        #expect(swapi.fields.map(\.name).contains("swapi_coin_cnt5"))
        #expect(!swapi.fields.map(\.name).contains { $0.contains("spare") || $0.contains("reserved") })
    }

    @Test func decodingAFileSkipsOtherAPIDsAndTrailingBytesAndSaysSo() throws {
        let bytes = PacketBuilder.packet(met: 10) + PacketBuilder.packet(met: 11, apid: 1136, length: 20) + PacketBuilder.packet(met: 12) + [9, 9]
        let batch = try IALiRTDecoding.decode(bytes)
        #expect(batch.packets.count == 2)
        #expect(batch.records.filter { $0.instrument == "mag" }.map(\.met) == [10, 12])
        #expect(batch.skipped.contains("skipped 1 packets of APID 1136: not I-ALiRT (APID 478)"))
        #expect(batch.skipped.contains { $0.hasPrefix("skipped 2 trailing bytes") })
    }

    @Test func fileNamesFollowTheSDCs() {
        let record = IALiRTRecord(instrument: "mag", met: 500_000_000, fields: [])
        // 2025-11-05T00:53:17Z is day 309; arrival 2025-11-05T01:00:00.000042Z.
        let batch = IALiRTBatch(instance: 1, receivedAt: 1_762_304_400_000_042, source: "test", packets: [], records: [record], skipped: [])
        #expect(batch.packetFileName == "iois_1_packets_2025_309_00_53_17.bin")
        #expect(batch.logName == "flight_iois_1.log.2025-309T01_00_00.000042")
        #expect(batch.logText.hasPrefix("2025/309-01:00:00.000 received 0 I-ALiRT packets (APID 478) from test\n"))
    }
}
