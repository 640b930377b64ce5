/// The packets of one (container, APID) pair, located in the scanned bytes.
struct PacketGroup: Sendable {
    let layoutIndex: Int
    let apid: Int
    /// Byte offset of each packet.
    var starts: [Int] = []
    /// Size in bytes of each packet.
    var sizes: [Int32] = []
}

/// The sequential pass over a packet stream: frames packets by their primary header, chooses each packet's layout,
/// validates its size, and gathers statistics. Decoding of the fields happens afterwards, per group.
struct PacketIndexer {
    static let headerSize = 6

    /// Per-APID counters updated for every packet (plain integers, so updates stay in place).
    private struct Tally {
        var packets = 0
        var bytes = 0
        var minimumSize = Int.max
        var maximumSize = 0
        var decoded = 0
        var lastSequence = -1
        var metMinimum = UInt32.max
        var metMaximum = UInt32.min
        var layoutIndex = -1
        var group = -1
    }

    private let dispatcher: PacketDispatcher?
    private let sizeRules: [SizeRule]
    /// Per layout, whether its packets are grouped for decoding.
    private let selected: [Bool]

    private var tallies = [Tally](repeating: Tally(), count: 2048)
    /// Damage and gaps, which are rare, kept apart from the tallies.
    private var anomalies = [APIDReport?](repeating: nil, count: 2048)
    private var groupIndexByKey: [Int: Int] = [:]
    private var groups: [PacketGroup] = []
    private var trailingBytes: TrailingBytes?

    init(dispatcher: PacketDispatcher?, selectedLayouts: Set<Int>?) {
        self.dispatcher = dispatcher
        let layouts = dispatcher?.definition.layouts ?? []
        self.sizeRules = layouts.map(SizeRule.init)
        self.selected = layouts.indices.map { selectedLayouts?.contains($0) ?? true }
    }

    /// Offset of the next packet to frame.
    private(set) var position = 0
    /// Whether the stream has been scanned to its end (or to damage that ends framing).
    private(set) var isFinished = false

    /// Frames the packets that start before `limit` in a stream of `count` bytes, continuing where the previous
    /// call stopped. Never reads outside the bytes and always advances, so damaged input terminates.
    mutating func scan(_ base: UnsafePointer<UInt8>, count: Int, until limit: Int) {
        while position < min(limit, count) {
            let remaining = count - position
            guard remaining >= Self.headerSize else {
                trailingBytes = TrailingBytes(offset: position, count: remaining)
                position = count
                break
            }
            let header = base + position
            let apid = Int(header[0] & 0x07) << 8 | Int(header[1])
            let size = (Int(header[4]) << 8 | Int(header[5])) + 7
            guard size <= remaining else {
                recordDamage(.truncated, apid: apid, at: position)
                position = count
                break
            }
            record(header, size: size, apid: apid, at: position)
            if let dispatcher {
                route(header, size: size, apid: apid, at: position, dispatcher: dispatcher)
            }
            position += size
        }
        isFinished = position >= count
    }

    /// The groups framed since the last call, which start afresh.
    mutating func takeGroups() -> [PacketGroup] {
        defer {
            groups = []
            groupIndexByKey = [:]
            for apid in tallies.indices { tallies[apid].group = -1 }
        }
        return groups
    }

    /// The statistics gathered so far.
    func report(byteCount: Int) -> DecodeReport {
        var reports: [APIDReport] = []
        for apid in 0..<2048 {
            let tally = tallies[apid]
            guard tally.packets > 0 || anomalies[apid] != nil else { continue }
            var report = anomalies[apid] ?? APIDReport(apid: apid)
            report.packets = tally.packets
            report.bytes = tally.bytes
            report.minimumSize = tally.minimumSize
            report.maximumSize = tally.maximumSize
            report.decoded = tally.decoded
            if tally.metMinimum <= tally.metMaximum { report.metRange = tally.metMinimum...tally.metMaximum }
            if tally.layoutIndex >= 0, let dispatcher { report.container = dispatcher.definition.layouts[tally.layoutIndex].name }
            reports.append(report)
        }
        return DecodeReport(byteCount: byteCount, apids: reports, trailingBytes: trailingBytes)
    }

    @inline(__always)
    private mutating func record(_ header: UnsafePointer<UInt8>, size: Int, apid: Int, at offset: Int) {
        let sequence = Int(header[2] & 0x3F) << 8 | Int(header[3])
        let previous = tallies[apid].lastSequence
        tallies[apid].lastSequence = sequence
        tallies[apid].packets += 1
        tallies[apid].bytes += size
        if size < tallies[apid].minimumSize { tallies[apid].minimumSize = size }
        if size > tallies[apid].maximumSize { tallies[apid].maximumSize = size }
        if size >= 10 {
            let met = UInt32(header[6]) << 24 | UInt32(header[7]) << 16 | UInt32(header[8]) << 8 | UInt32(header[9])
            if met < tallies[apid].metMinimum { tallies[apid].metMinimum = met }
            if met > tallies[apid].metMaximum { tallies[apid].metMaximum = met }
        }
        if previous >= 0 && sequence != (previous + 1) & 0x3FFF {
            recordGap(SequenceGap(offset: offset, before: previous, after: sequence), apid: apid)
        }
    }

    private mutating func recordDamage(_ kind: PacketDamage, apid: Int, at offset: Int) {
        if anomalies[apid] == nil { anomalies[apid] = APIDReport(apid: apid) }
        anomalies[apid]!.recordDamage(kind, at: offset)
    }

    private mutating func recordGap(_ gap: SequenceGap, apid: Int) {
        if anomalies[apid] == nil { anomalies[apid] = APIDReport(apid: apid) }
        anomalies[apid]!.gapCount += 1
        anomalies[apid]!.missingPackets += gap.missing
        if anomalies[apid]!.gaps.count < APIDReport.listedGapLimit { anomalies[apid]!.gaps.append(gap) }
    }

    @inline(__always)
    private mutating func route(_ packet: UnsafePointer<UInt8>, size: Int, apid: Int, at offset: Int, dispatcher: PacketDispatcher) {
        let layoutIndex: Int
        switch dispatcher.decide(apid: apid, base: packet, count: size) {
        case let .layout(index): layoutIndex = index
        case .unknown: return recordDamage(.unknownAPID, apid: apid, at: offset)
        case .ambiguous: return recordDamage(.ambiguousContainer, apid: apid, at: offset)
        case .tooShort: return recordDamage(.shorterThanLayout, apid: apid, at: offset)
        }
        if let damage = sizeRules[layoutIndex].damage(packet, size: size, layout: dispatcher.definition.layouts[layoutIndex]) {
            return recordDamage(damage, apid: apid, at: offset)
        }
        guard selected[layoutIndex] else { return }
        tallies[apid].decoded += 1
        tallies[apid].layoutIndex = layoutIndex
        var groupIndex = tallies[apid].group
        if groupIndex < 0 || groups[groupIndex].layoutIndex != layoutIndex {
            groupIndex = group(layoutIndex: layoutIndex, apid: apid)
            tallies[apid].group = groupIndex
        }
        groups[groupIndex].starts.append(offset)
        groups[groupIndex].sizes.append(Int32(size))
    }

    private mutating func group(layoutIndex: Int, apid: Int) -> Int {
        let key = layoutIndex << 11 | apid
        if let existing = groupIndexByKey[key] { return existing }
        groups.append(PacketGroup(layoutIndex: layoutIndex, apid: apid))
        groupIndexByKey[key] = groups.count - 1
        return groups.count - 1
    }
}

/// Checks a packet's size against its layout; precomputed so that fixed layouts need one comparison.
struct SizeRule: Sendable {
    private enum Kind: Sendable {
        case fixed(bits: Int)
        /// The size field is a raw integer at a fixed position (the `PKT_LEN` case).
        case variableFromField(bit: Int, decoding: IntegerDecoding, slope: Double, intercept: Double, fixedBits: Int)
        /// Anything else: evaluate through a `PacketView`.
        case variable
    }

    private let kind: Kind

    init(_ layout: PacketLayout) {
        if let fixed = layout.fixedBitCount {
            kind = .fixed(bits: fixed)
        } else if let rule = layout.variableSize, !rule.useCalibratedValue,
                  case let .fromStart(bit) = layout.fields[rule.referenceField].placement,
                  case let .integer(width, signed, byteOrder) = layout.fields[rule.referenceField].parameter.encoding {
            let decoding = IntegerDecoding(width: width, signed: signed, littleEndian: byteOrder == .leastSignificantByteFirst)
            kind = .variableFromField(bit: bit, decoding: decoding, slope: rule.slope, intercept: rule.intercept,
                                      fixedBits: layout.prefixBits + layout.suffixBits)
        } else {
            kind = .variable
        }
    }

    /// Whether a packet of `size` bytes disagrees with the layout (nil: it fits exactly).
    @inline(__always)
    func damage(_ packet: UnsafePointer<UInt8>, size: Int, layout: @autoclosure () -> PacketLayout) -> PacketDamage? {
        let bits = size * 8
        let expected: Int
        switch kind {
        case let .fixed(fixedBits):
            expected = fixedBits
        case let .variableFromField(bit, decoding, slope, intercept, fixedBits):
            guard bits >= fixedBits, bit + decoding.width <= bits else { return .shorterThanLayout }
            let value = decoding.wideInteger(BitReader.read(packet, count: size, bit: bit, width: decoding.width))
            let variableBits = slope * value.doubleValue + intercept
            // Python's int() truncates toward zero.
            guard variableBits.isFinite, abs(variableBits) < 1e15, Int(variableBits) >= 0 else { return .invalidVariableSize }
            expected = fixedBits + Int(variableBits)
        case .variable:
            let layout = layout()
            guard bits >= layout.prefixBits + layout.suffixBits else { return .shorterThanLayout }
            guard let variable = PacketView(base: packet, count: size, layout: layout).variableFieldBits(), variable >= 0 else {
                return .invalidVariableSize
            }
            expected = layout.prefixBits + variable + layout.suffixBits
        }
        return bits < expected ? .shorterThanLayout : (bits > expected ? .longerThanLayout : nil)
    }
}
