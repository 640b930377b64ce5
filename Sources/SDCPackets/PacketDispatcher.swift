/// Chooses the layout of each packet.
///
/// Decisions that depend only on the APID (nearly always the case) are precomputed into a 2048-entry table; other
/// packets walk the container tree and read the discriminating fields.
final class PacketDispatcher: Sendable {
    enum Decision: Sendable, Equatable {
        /// Decodes with the layout at this index of `PacketDefinition.layouts`.
        case layout(Int)
        /// No concrete container matches (unknown APID).
        case unknown
        /// Several sibling containers match.
        case ambiguous
        /// The packet is too short to hold a field the decision depends on.
        case tooShort
    }

    private enum Precomputed: Sendable {
        case decided(Decision)
        case perPacket
    }

    let definition: PacketDefinition
    private let table: [Precomputed]

    init(definition: PacketDefinition) {
        self.definition = definition
        var table: [Precomputed] = []
        table.reserveCapacity(2048)
        for apid in 0..<2048 {
            let decision = Self.walk(definition) { layoutIndex, criterion in
                guard case let .field(index) = criterion.source, let apidIndex = definition.apidFieldIndex,
                      index == apidIndex, definition.layouts[layoutIndex].fields[index].placement == .fromStart(bitOffset: 5),
                      !(criterion.useCalibratedValue && definition.layouts[layoutIndex].fields[index].parameter.hasDerivedValue)
                else { return nil }
                return .integer(WideInteger(Int64(apid)))
            }
            table.append(decision.map(Precomputed.decided) ?? .perPacket)
        }
        self.table = table
    }

    /// The decision for one packet (`count` bytes at `base`, whose header gives `apid`).
    @inline(__always)
    func decide(apid: Int, base: UnsafePointer<UInt8>, count: Int) -> Decision {
        if case let .decided(decision) = table[apid] { return decision }
        return Self.walk(definition) { layoutIndex, criterion in
            guard case let .field(index) = criterion.source else { return nil }
            return PacketView(base: base, count: count, layout: definition.layouts[layoutIndex])
                .value(of: index, calibrated: criterion.useCalibratedValue)
        } ?? .tooShort
    }

    /// space_packet_parser's container walk. `value` returns nil when a criterion cannot be evaluated, which makes
    /// the walk return nil.
    private static func walk(_ definition: PacketDefinition, value: (Int, CompiledCriterion) -> ScalarValue?) -> Decision? {
        var node = 0
        while true {
            var matched: [Int] = []
            for child in definition.children[node] {
                var holds = true
                for criterion in definition.layouts[child].restrictions {
                    guard let current = value(child, criterion) else { return nil }
                    if !criterion.holds(for: current) {
                        holds = false
                        break
                    }
                }
                if holds { matched.append(child) }
            }
            switch matched.count {
            case 1: node = matched[0]
            case 0: return node == 0 || definition.layouts[node].isAbstract ? .unknown : .layout(node)
            default: return .ambiguous
            }
        }
    }
}
