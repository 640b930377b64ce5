/// Why a packet was not decoded.
public enum PacketDamage: String, Sendable, CaseIterable, Comparable {
    /// The file ends inside the packet (its `PKT_LEN` runs past the end of the file).
    case truncated
    /// No concrete container of the definition matches the packet (usually: unknown APID).
    case unknownAPID
    /// The packet is shorter than its container's layout.
    case shorterThanLayout
    /// The packet is longer than its container's layout.
    case longerThanLayout
    /// The variable-size field's size rule gives a negative or unreadable size.
    case invalidVariableSize
    /// More than one sibling container matches the packet.
    case ambiguousContainer

    public static func < (lhs: PacketDamage, rhs: PacketDamage) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// How many packets suffered one kind of damage, and where the first one starts.
public struct DamageCount: Sendable, Equatable {
    public internal(set) var count: Int
    /// Byte offset of the first damaged packet in the file.
    public let firstOffset: Int
}

/// A break in an APID's source sequence counter (`after != (before + 1) % 16384`).
public struct SequenceGap: Sendable, Equatable {
    /// Byte offset of the packet after the gap.
    public let offset: Int
    public let before: Int
    public let after: Int
    /// `(after - before - 1) mod 16384`.
    public var missing: Int { (after - before - 1 + 16384) % 16384 }
}

/// Statistics of one APID in a file.
public struct APIDReport: Sendable, Equatable {
    /// The most gaps listed individually; all are counted.
    public static let listedGapLimit = 100

    public let apid: Int
    /// The container its packets decode into (nil when unknown or damaged).
    public internal(set) var container: String?
    /// Complete packets framed (decoded or not; truncated ones are not included).
    public internal(set) var packets = 0
    /// Packets decoded into `container`.
    public internal(set) var decoded = 0
    /// Bytes of the complete packets.
    public internal(set) var bytes = 0
    public internal(set) var minimumSize = Int.max
    public internal(set) var maximumSize = 0
    /// Damage by kind.
    public internal(set) var damage: [PacketDamage: DamageCount] = [:]
    /// Number of sequence-counter gaps, and the packets they imply are missing.
    public internal(set) var gapCount = 0
    public internal(set) var missingPackets = 0
    /// The first `listedGapLimit` gaps.
    public internal(set) var gaps: [SequenceGap] = []
    /// Smallest and largest MET (the 32 bits after the primary header, IMAP's `SHCOARSE`) of complete packets.
    public internal(set) var metRange: ClosedRange<UInt32>?

    /// Damaged packets of this APID.
    public var damagedPackets: Int { damage.values.reduce(0) { $0 + $1.count } }

    init(apid: Int) {
        self.apid = apid
    }

    mutating func recordDamage(_ kind: PacketDamage, at offset: Int) {
        if damage[kind] == nil {
            damage[kind] = DamageCount(count: 1, firstOffset: offset)
        } else {
            damage[kind]?.count += 1
        }
    }
}

/// Bytes at the end of a stream too few to hold a primary header.
public struct TrailingBytes: Sendable, Equatable {
    public let offset: Int
    public let count: Int
}

/// What a scan of a packet file found: per-APID statistics, damage and sequence gaps.
public struct DecodeReport: Sendable, Equatable {
    /// Size of the scanned data in bytes.
    public let byteCount: Int
    /// Statistics per APID, ascending.
    public let apids: [APIDReport]
    /// Bytes at the end of the file too few to hold a primary header, if any.
    public let trailingBytes: TrailingBytes?

    /// Complete packets framed.
    public var packets: Int { apids.reduce(0) { $0 + $1.packets } }
    /// Packets decoded.
    public var decoded: Int { apids.reduce(0) { $0 + $1.decoded } }
    /// Packets not decoded, by damage kind, over all APIDs.
    public var damage: [PacketDamage: Int] {
        apids.reduce(into: [:]) { totals, report in
            for (kind, count) in report.damage { totals[kind, default: 0] += count.count }
        }
    }

    /// The report of one APID.
    public func report(forAPID apid: Int) -> APIDReport? {
        apids.first { $0.apid == apid }
    }
}
