import Foundation
import SDCCDF
import SDCCore

/// The daily archive CDF of the real-time records, `imap_ialirt_l1_realtime_<YYYYMMDD>_v001.cdf`, made from the store
/// when it is downloaded (so it holds every record of the day received so far).
///
/// Each instrument has its own time variable `<instrument>_epoch` (TT2000, the packets' spacecraft time) and one
/// `CDF_INT8` variable per field (`mag_data`, ...) depending on it, with ISTP-style `CATDESC`, `DEPEND_0`, `FIELDNAM`,
/// `FILLVAL` and `VAR_TYPE` attributes.
enum IALiRTArchive {
    /// The day (`YYYYMMDD`) of an archive file name of version 1; nil for any other name.
    static func day(ofArchiveName name: String) -> String? {
        let prefix = "imap_ialirt_l1_realtime_", suffix = "_v001.cdf"
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let day = String(name.dropFirst(prefix.count).dropLast(suffix.count))
        guard day.count == 8, day.allSatisfy(\.isASCII), FileDate(yyyymmdd: day) != nil else { return nil }
        return day
    }

    /// The archive CDF of `day` (`YYYYMMDD`), written on ``ProcessingPool/shared``.
    static func cdf(day: String, store: any IALiRTStore) async throws -> [UInt8] {
        let isoDay = "\(day.prefix(4))-\(day.dropFirst(4).prefix(2))-\(day.suffix(2))"
        var series: [(instrument: String, records: [StoredIALiRTRecord])] = []
        for instrument in IALiRTRecord.instruments.map(\.name) {
            let records = try await store.records(instrument: instrument, start: isoDay + "T00:00:00", end: isoDay + "T23:59:59",
                                                  limit: 86_401)
            if !records.isEmpty { series.append((instrument, records)) }
        }
        let collected = series
        return try await ProcessingPool.shared.run { try write(day: day, series: collected) }
    }

    static func write(day: String, series: [(instrument: String, records: [StoredIALiRTRecord])]) throws -> [UInt8] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-ialirt-\(UUID().uuidString).cdf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try CDFWriter.write(to: path) { writer in
            try writer.addGlobalAttribute("Project", "STP>Solar-Terrestrial Physics")
            try writer.addGlobalAttribute("Source_name", "IMAP>Interstellar Mapping and Acceleration Probe")
            try writer.addGlobalAttribute("Mission_group", "IMAP")
            try writer.addGlobalAttribute("Data_type", "L1_realtime>Level-1 I-ALiRT real-time data")
            try writer.addGlobalAttribute("Descriptor", "IALiRT>Interstellar Mapping and Acceleration Probe Active Link for Real-Time")
            try writer.addGlobalAttribute("Logical_source", "imap_ialirt_l1_realtime")
            try writer.addGlobalAttribute("Logical_file_id", "imap_ialirt_l1_realtime_\(day)_v001")
            try writer.addGlobalAttribute("Data_version", "v001")
            try writer.addGlobalAttribute("Generated_by", "sdc (I-ALiRT archive, from the real-time records)")
            for (instrument, records) in series {
                let epoch = "\(instrument)_epoch"
                try writer.writeVariable(CDFVariableSpec(name: epoch, dataType: .tt2000, attributes: [
                    CDFNamedEntry("CATDESC", .string("\(instrument) packet time (spacecraft clock)")),
                    CDFNamedEntry("FIELDNAM", .string(epoch)),
                    CDFNamedEntry("FILLVAL", .tt2000(TT2000.fillValue)),
                    CDFNamedEntry("VAR_TYPE", .string("support_data")),
                ]), values: .int64(records.map(\.ttj2000ns)))
                let parsed = records.map { $0.fields ?? [] }
                let names = parsed.first?.map(\.name) ?? []
                for (index, name) in names.enumerated() {
                    let values = parsed.map { fields in index < fields.count && fields[index].name == name ? Int64(fields[index].value) : Int64.min }
                    try writer.writeVariable(CDFVariableSpec(name: name, dataType: .int8, compression: .gzip6, attributes: [
                        CDFNamedEntry("CATDESC", .string("\(instrument) real-time field \(name) (raw)")),
                        CDFNamedEntry("DEPEND_0", .string(epoch)),
                        CDFNamedEntry("FIELDNAM", .string(name)),
                        CDFNamedEntry("FILLVAL", try CDFAttributeEntry(dataType: .int8, values: .int64([Int64.min]))),
                        CDFNamedEntry("VAR_TYPE", .string("data")),
                    ]), values: .int64(values))
                }
            }
        }
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
