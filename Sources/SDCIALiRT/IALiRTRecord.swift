import SDCCore
import SDCPackets

/// One instrument's real-time values from one I-ALiRT packet: what `/space-weather` returns as one item.
///
/// Every I-ALiRT packet carries a slice of each instrument's real-time data; a record holds the instrument's fields of
/// the packet decoded with the XTCE definition (raw values; spares left out), named `<instrument>_<field>` in lower
/// case (`MAG_DATA` → `mag_data`, `COD_LO_COUNTER` → `codice_lo_counter`), and timed by the spacecraft clock of the
/// packet (`SC_SCLK_SEC`, IMAP MET seconds).
public struct IALiRTRecord: Sendable, Equatable {
    /// `mag`, `swapi`, `hit`, `swe`, `codice_lo` or `codice_hi`.
    public let instrument: String
    /// The packet's spacecraft time, MET seconds.
    public let met: Int64
    /// `YYYY-MM-DDTHH:MM:SS` (UTC) of ``met``.
    public let timeUTC: String
    /// TT2000 of ``met`` (nanoseconds).
    public let ttj2000ns: Int64
    /// The instrument's fields, in packet order.
    public let fields: [Field]

    /// One named value.
    public struct Field: Sendable, Equatable {
        public let name: String
        public let value: Int64

        public init(name: String, value: Int64) {
            self.name = name
            self.value = value
        }
    }

    public init(instrument: String, met: Int64, fields: [Field]) {
        self.init(instrument: instrument, met: met, timeUTC: IALiRTPacket.timeUTC(met: met), fields: fields)
    }

    /// A record whose `time_utc` is already known (the packet's other records share it).
    init(instrument: String, met: Int64, timeUTC: String, fields: [Field]) {
        self.instrument = instrument
        self.met = met
        self.timeUTC = timeUTC
        ttj2000ns = IALiRTPacket.tt2000(met: met)
        self.fields = fields
    }

    /// The fields as a JSON object, `{"mag_acq_tm_coarse": 1, ...}`, as the stores keep them.
    public var fieldsJSON: String {
        // Written directly (what `JSONValue.object(...).serialized()` writes), without building a value per field.
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(fields.count * 24)
        for (index, field) in fields.enumerated() {
            if index > 0 { bytes += ", ".utf8 }
            bytes.appendJSONString(field.name, ensureASCII: true)
            bytes += ": ".utf8
            bytes += String(field.value).utf8
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The science instruments of the packet: the `/space-weather` name and the prefix of their XTCE fields. (The
    /// order is the one ialirt-data-access lists them in.)
    public static let instruments: [(name: String, prefix: String)] = [
        ("hit", "HIT_"), ("mag", "MAG_"), ("codice_lo", "COD_LO_"), ("codice_hi", "COD_HI_"), ("swapi", "SWAPI_"), ("swe", "SWE_"),
    ]
}

/// What decoding a stream of packets gave: the I-ALiRT packets (raw), their records, and what was left out.
struct DecodedBatch: Sendable {
    /// The raw I-ALiRT packets, in stream order.
    var packets: [[UInt8]] = []
    /// One record per instrument and packet.
    var records: [IALiRTRecord] = []
    /// What was skipped, one line each (other APIDs, damaged packets, trailing bytes).
    var skipped: [String] = []
}

/// Decodes I-ALiRT packets with the XTCE decoder. CPU work: callers run it on ``ProcessingPool/shared``.
enum IALiRTDecoding {
    static func decode(_ bytes: [UInt8]) throws(IALiRTError) -> DecodedBatch {
        let definition = try IALiRTPacket.definition.get().definition
        let decoded = PacketDecoder(definition: definition)
            .decode(bytes, options: DecodeOptions(parallelism: 1, containers: [IALiRTPacket.containerName]))
        var batch = DecodedBatch()
        for report in decoded.report.apids {
            if report.apid != IALiRTPacket.apid {
                batch.skipped.append("skipped \(report.packets) packets of APID \(report.apid): not I-ALiRT (APID \(IALiRTPacket.apid))")
            }
            for (damage, count) in report.damage.sorted(by: { $0.key < $1.key }) {
                batch.skipped.append("skipped \(count.count) damaged packets of APID \(report.apid) (\(damage.rawValue)), the first at byte \(count.firstOffset)")
            }
        }
        if let trailing = decoded.report.trailingBytes {
            batch.skipped.append("skipped \(trailing.count) trailing bytes at byte \(trailing.offset): not a whole packet")
        }
        for container in decoded.containers(named: IALiRTPacket.containerName) where container.apid == IALiRTPacket.apid {
            let columns = container.fields.compactMap { field in integers(field.raw).map { (name: field.name, values: $0) } }
            guard let clock = columns.first(where: { $0.name == "SC_SCLK_SEC" })?.values else {
                throw .definition("ialirt.xml has no SC_SCLK_SEC field")
            }
            // Per instrument, its fields as records name them (`MAG_DATA` -> `mag_data`) with their values.
            let groups = IALiRTRecord.instruments.map { instrument in
                (instrument.name, columns.filter { column in
                    column.name.hasPrefix(instrument.prefix) && !column.name.contains("SPARE") && !column.name.contains("RESERVED")
                }.map { column in (name: instrument.name + "_" + column.name.dropFirst(instrument.prefix.count).lowercased(), values: column.values) })
            }
            for (packet, offset) in container.byteOffsets.enumerated() {
                batch.packets.append(Array(bytes[offset..<offset + IALiRTPacket.length]))
                let timeUTC = IALiRTPacket.timeUTC(met: clock[packet])
                for (instrument, fields) in groups {
                    batch.records.append(IALiRTRecord(instrument: instrument, met: clock[packet], timeUTC: timeUTC, fields: fields.map { field in
                        IALiRTRecord.Field(name: field.name, value: field.values[packet])
                    }))
                }
            }
        }
        return batch
    }

    /// An integer column as `Int64`s (every I-ALiRT field is an unsigned integer or an enumeration of one); nil for
    /// float, string and binary columns, which records leave out.
    static func integers(_ column: Column) -> [Int64]? {
        switch column {
        case .uint8(let values): values.map(Int64.init)
        case .uint16(let values): values.map(Int64.init)
        case .uint32(let values): values.map(Int64.init)
        case .uint64(let values): values.map { Int64(truncatingIfNeeded: $0) }
        case .int8(let values): values.map(Int64.init)
        case .int16(let values): values.map(Int64.init)
        case .int32(let values): values.map(Int64.init)
        case .int64(let values): values
        case .boolean(let values): values.map { $0 ? 1 : 0 }
        case .float32, .float64, .string, .bytes: nil
        }
    }
}
