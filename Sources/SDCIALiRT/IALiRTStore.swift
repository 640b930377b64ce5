import Foundation
import SDCCDF
import SDCCore

/// Why the I-ALiRT store failed.
public enum IALiRTStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database failed (the reason names it).
    case database(String)
    /// A stored row cannot be read back.
    case corruptRow(String)

    public var description: String {
        switch self {
        case .database(let reason): "I-ALiRT store: \(reason)"
        case .corruptRow(let reason): "I-ALiRT store: corrupt row: \(reason)"
        }
    }
}

/// One arrival of I-ALiRT packets (a live POST, or an uploaded L0 file): its packets, their records and its log.
///
/// The files ialirt-data-access lists are named as the SDC names them (sds-data-manager's I-ALiRT lambdas):
/// - packets: `iois_<instance>_packets_<YYYY>_<DOY>_<HH>_<MM>_<SS>.bin`, the time being the spacecraft time of the
///   batch's first packet; batches of the same second append to the same file;
/// - logs: `flight_iois_<instance>.log.<YYYY>-<DOY>T<HH>_<MM>_<SS>.<microseconds>`, the time of arrival.
public struct IALiRTBatch: Sendable {
    /// The ground-system instance the packets came through, 1 or 2.
    public let instance: Int
    /// Arrival time, microseconds since 1970.
    public let receivedAt: Int64
    /// Where the packets came from, for the log (`upload imap_ialirt_l0_raw_20251101_v001.pkts`, `POST by key ...`).
    public let source: String
    /// The raw I-ALiRT packets.
    public let packets: [[UInt8]]
    /// Their records.
    public let records: [IALiRTRecord]
    /// What was skipped, for the log.
    public let skipped: [String]

    public init(instance: Int, receivedAt: Int64, source: String, packets: [[UInt8]], records: [IALiRTRecord], skipped: [String]) {
        self.instance = instance
        self.receivedAt = receivedAt
        self.source = source
        self.packets = packets
        self.records = records
        self.skipped = skipped
    }

    /// Seconds since 1970 of the first packet's spacecraft time (of the arrival if there is no packet).
    var packetFileTime: Int64 {
        records.first.map { TT2000.unixSeconds($0.ttj2000ns) } ?? receivedAt / 1_000_000
    }

    /// The days (`YYYYMMDD`) of the batch's records, in order.
    var days: [String] {
        var seen: Set<String> = []
        return records.compactMap { record in
            let day = record.timeUTC.prefix(10).replacingOccurrences(of: "-", with: "")
            return seen.insert(day).inserted ? day : nil
        }
    }

    /// The packets file the batch's packets go to.
    public var packetFileName: String {
        let time = IALiRTTime(secondsSince1970: packetFileTime)
        return "iois_\(instance)_packets_\(time.year)_\(time.dayOfYear)_\(time.hour)_\(time.minute)_\(time.second).bin"
    }

    /// The batch's log file.
    public var logName: String {
        let time = IALiRTTime(secondsSince1970: receivedAt / 1_000_000)
        let micro = String(receivedAt % 1_000_000)
        return "flight_iois_\(instance).log.\(time.year)-\(time.dayOfYear)T\(time.hour)_\(time.minute)_\(time.second)."
            + String(repeating: "0", count: 6 - micro.count) + micro
    }

    /// The batch's log: lines `YYYY/DOY-HH:MM:SS.mmm message`, as the ground system's logs are written.
    public var logText: String {
        let time = IALiRTTime(secondsSince1970: receivedAt / 1_000_000)
        let millis = String((receivedAt % 1_000_000) / 1000)
        let stamp = "\(time.year)/\(time.dayOfYear)-\(time.hour):\(time.minute):\(time.second)." + String(repeating: "0", count: 3 - millis.count) + millis
        var lines = ["\(stamp) received \(packets.count) I-ALiRT packets (APID \(IALiRTPacket.apid)) from \(source)"]
        if let first = records.first, let last = records.last {
            lines.append("\(stamp) spacecraft time \(first.timeUTC) to \(last.timeUTC) (MET \(first.met) to \(last.met)); \(records.count) real-time records")
            lines.append("\(stamp) packets appended to \(packetFileName)")
        }
        lines += skipped.map { "\(stamp) \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A stored record, its fields kept as the JSON object text they were stored as.
public struct StoredIALiRTRecord: Sendable, Equatable {
    public let instrument: String
    public let timeUTC: String
    public let met: Int64
    public let ttj2000ns: Int64
    /// `{"mag_data": 1, ...}`.
    public let fieldsJSON: String

    public init(instrument: String, timeUTC: String, met: Int64, ttj2000ns: Int64, fieldsJSON: String) {
        self.instrument = instrument
        self.timeUTC = timeUTC
        self.met = met
        self.ttj2000ns = ttj2000ns
        self.fieldsJSON = fieldsJSON
    }

    /// The fields, parsed; nil when the stored text is not a JSON object of numbers.
    public var fields: [(name: String, value: Double)]? {
        guard case .object(let members)? = try? JSONValue(parsing: Array(fieldsJSON.utf8)) else { return nil }
        var fields: [(name: String, value: Double)] = []
        for (name, value) in members {
            switch value {
            case .int(let number): fields.append((name, Double(number)))
            case .double(let number): fields.append((name, number))
            default: return nil
            }
        }
        return fields
    }
}

/// The durable store of I-ALiRT data: the raw packets (grouped in packets files), the logs of their arrival, and the
/// real-time records per instrument, keyed like the SDC's table by (instrument, `time_utc`): a packet received twice
/// (uploaded and posted live) leaves one record per instrument.
///
/// ``SQLiteIALiRTStore`` (embedded data center) and ``PostgresIALiRTStore`` (scaled out) implement it.
public protocol IALiRTStore: Sendable {
    /// Stores a batch in one transaction: packets, log, records (a record of an existing (instrument, `time_utc`)
    /// replaces it).
    func save(_ batch: IALiRTBatch) async throws(IALiRTStoreError)

    /// Records of `instrument` with `start <= time_utc <= end` (`YYYY-MM-DDTHH:MM:SS`), in time order, at most
    /// `limit` of them.
    func records(instrument: String, start: String, end: String, limit: Int) async throws(IALiRTStoreError) -> [StoredIALiRTRecord]

    /// The days (`YYYYMMDD`) that have records, in order.
    func recordDays() async throws(IALiRTStoreError) -> [String]

    /// The names of the log files starting with `prefix`, in order.
    func logNames(prefix: String) async throws(IALiRTStoreError) -> [String]

    /// The text of the log file `name`; nil if there is none.
    func log(named name: String) async throws(IALiRTStoreError) -> String?

    /// The names of the packets files starting with `prefix` whose time (seconds since 1970) is within `times`, in order.
    func packetFileNames(prefix: String, times: ClosedRange<Int64>) async throws(IALiRTStoreError) -> [String]

    /// The packets of the packets file `name`, back to back; nil if there is none.
    func packets(inFile name: String) async throws(IALiRTStoreError) -> [UInt8]?
}

/// Calendar fields of a UTC second, zero-padded as the I-ALiRT file names write them.
struct IALiRTTime {
    let year: String, dayOfYear: String, hour: String, minute: String, second: String

    init(secondsSince1970: Int64) {
        let time = UTCTime(secondsSince1970: secondsSince1970)
        let date = time.date
        let day = FileDate(year: date.year, month: 1, day: 1).map { date.ordinal - $0.ordinal + 1 } ?? 0
        let secondOfDay = Int(secondsSince1970 - (UTCTime(date: date).secondsSince1970))
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        year = pad(date.year, 4)
        dayOfYear = pad(day, 3)
        hour = pad(secondOfDay / 3600, 2)
        minute = pad(secondOfDay / 60 % 60, 2)
        second = pad(secondOfDay % 60, 2)
    }
}

extension TT2000 {
    /// Unix seconds of a TT2000 instant (UTC, leap seconds not counted).
    static func unixSeconds(_ value: Int64) -> Int64 {
        let utc = TT2000.utc(value)
        guard let date = FileDate(year: utc.year, month: utc.month, day: utc.day) else { return 0 }
        return UTCTime(date: date).secondsSince1970 + Int64(utc.hour * 3600 + utc.minute * 60 + utc.second)
    }
}
