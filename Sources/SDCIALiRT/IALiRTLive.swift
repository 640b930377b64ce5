import SDCCore

/// The quantities of the live view: every MAG field, and the SWAPI coincidence counts summed over the six energy
/// channels of the packet (`swapi_coin_cnt0` ... `swapi_coin_cnt5`).
public enum IALiRTLive {
    /// One quantity: name, title, and (seconds since 1970, value) points in time order.
    public struct Quantity: Sendable {
        public let name: String
        public let title: String
        public let points: [(seconds: Int64, value: Double)]
    }

    /// The quantities of the hour ending at `now` (seconds since 1970).
    public static func quantities(store: any IALiRTStore, now: Int64) async throws -> [Quantity] {
        let start = IALiRTQueries.format(now - 3600), end = IALiRTQueries.format(now)
        let mag = try await store.records(instrument: "mag", start: start, end: end, limit: 3601)
        let swapi = try await store.records(instrument: "swapi", start: start, end: end, limit: 3601)
        var quantities: [Quantity] = []
        let magFields = mag.first?.fields?.map(\.name).filter { !$0.hasPrefix("mag_acq") } ?? ["mag_data"]
        for name in magFields {
            quantities.append(Quantity(name: name, title: "MAG \(name) (raw)", points: points(mag) { fields in
                fields.first { $0.name == name }?.value
            }))
        }
        quantities.append(Quantity(name: "swapi_coin_cnt_sum", title: "SWAPI coincidence counts, channels 0-5 summed", points: points(swapi) { fields in
            let counts = fields.filter { $0.name.hasPrefix("swapi_coin_cnt") }
            return counts.isEmpty ? nil : counts.reduce(0) { $0 + $1.value }
        }))
        return quantities
    }

    static func points(_ records: [StoredIALiRTRecord], value: ([(name: String, value: Double)]) -> Double?) -> [(seconds: Int64, value: Double)] {
        records.compactMap { record in
            guard let seconds = IALiRTQueries.isoTime(record.timeUTC), let fields = record.fields, let number = value(fields) else { return nil }
            return (seconds, number)
        }
    }
}
