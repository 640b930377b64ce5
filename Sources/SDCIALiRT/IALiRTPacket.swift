import Foundation
import SDCCDF
import SDCCore
import SDCPackets

/// The I-ALiRT real-time packet: CCSDS APID 478, 183 bytes, defined by imap-processing's `ialirt.xml` (container
/// `IALiRTPacket`, 1,464 bits), one per second from the spacecraft, every instrument's real-time fields in each.
public enum IALiRTPacket {
    /// The APID of every I-ALiRT packet.
    public static let apid = 478
    /// The size of every I-ALiRT packet in bytes, primary header included.
    public static let length = 183
    /// The XTCE container of the packet.
    static let containerName = "IALiRTPacket"
    /// TT2000 of MET 0 (2010-01-01T00:00:00 UTC), the offset the built-in L1A uses for IMAP's MET.
    static let metEpochTT2000: Int64 = 315_576_066_184_000_000

    /// The packet definition, loaded once from the bundled copy of imap-processing 1.0.40's `ialirt.xml`.
    static let definition: Result<PacketDefinitionBox, IALiRTError> = {
        guard let url = Bundle.module.url(forResource: "ialirt", withExtension: "xml") else {
            return .failure(.definition("ialirt.xml is missing from the SDCIALiRT bundle"))
        }
        do { return .success(PacketDefinitionBox(definition: try .init(contentsOf: url))) } catch {
            return .failure(.definition("ialirt.xml cannot be loaded: \(error)"))
        }
    }()

    /// Splits a live upload, packets back to back, into its packets; every one must be an I-ALiRT packet (APID 478,
    /// 183 bytes as its own length field says). Throws ``IALiRTError/badPacket(_:)`` naming the first packet that is
    /// not, by index and byte offset.
    public static func split(_ bytes: [UInt8]) throws(IALiRTError) -> [ArraySlice<UInt8>] {
        guard !bytes.isEmpty else { throw .badPacket("the body is empty: send I-ALiRT packets (APID \(apid), \(length) bytes each) back to back") }
        var packets: [ArraySlice<UInt8>] = []
        var offset = 0
        while offset < bytes.count {
            let index = packets.count
            guard bytes.count - offset >= 6 else {
                throw .badPacket("packet \(index) at byte \(offset): \(bytes.count - offset) trailing bytes are too few for a CCSDS primary header (6 bytes)")
            }
            let packetAPID = Int(bytes[offset] & 0x07) << 8 | Int(bytes[offset + 1])
            let declared = (Int(bytes[offset + 4]) << 8 | Int(bytes[offset + 5])) + 7
            guard packetAPID == apid else {
                throw .badPacket("packet \(index) at byte \(offset) has APID \(packetAPID): only I-ALiRT packets (APID \(apid)) are accepted")
            }
            guard declared == length else {
                throw .badPacket("packet \(index) at byte \(offset) declares \(declared) bytes: I-ALiRT packets are \(length) bytes")
            }
            guard bytes.count - offset >= length else {
                throw .badPacket("packet \(index) at byte \(offset) is cut short: \(bytes.count - offset) of \(length) bytes")
            }
            packets.append(bytes[offset..<offset + length])
            offset += length
        }
        return packets
    }

    /// TT2000 of a MET in seconds.
    static func tt2000(met: Int64) -> Int64 { metEpochTT2000 + met * 1_000_000_000 }

    /// `YYYY-MM-DDTHH:MM:SS` (UTC) of a MET in seconds: the `time_utc` of the real-time records.
    static func timeUTC(met: Int64) -> String { TT2000.utc(tt2000(met: met)).iso8601(fractionDigits: 0) }
}

/// The compiled definition, in a box so that one copy is shared.
struct PacketDefinitionBox: Sendable {
    let definition: PacketDefinition
}

/// Why I-ALiRT input or a query was refused.
public enum IALiRTError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A live upload holds something other than I-ALiRT packets.
    case badPacket(String)
    /// The bundled packet definition cannot be used.
    case definition(String)
    /// A query parameter is missing or malformed.
    case badQuery(String)

    public var description: String {
        switch self {
        case .badPacket(let reason), .definition(let reason), .badQuery(let reason): reason
        }
    }
}
