import SDCCore

/// The query parameters of the ialirt-data-access 0.10.0 endpoints, validated as the SDC's lambdas validate them
/// (sds-data-manager `lambda_code/IAlirtCode/ialirt_query_api.py`, `ialirt_packets_query_api.py`,
/// `ialirt_archive_query_api.py`, `ialirt_data_query_api.py`), with the same error messages where they have one.
enum IALiRTQueries {
    /// `/ialirt-log-query?year&doy&instance`: the prefix of the log names of that day, `flight_iois_<i>.log.YYYY-DOY`.
    static func logPrefix(_ parameters: [String: String]) throws(IALiRTError) -> String {
        let (year, doy) = try yearAndDay(parameters)
        guard let instance = parameters["instance"], instance == "1" || instance == "2" else {
            throw .badQuery("Invalid instance '\(parameters["instance"] ?? "")': use 1 or 2.")
        }
        return "flight_iois_\(instance).log.\(year)-\(doy)"
    }

    /// `/ialirt-packet-query`: the name prefix (without `iois_<instance>_`) and time range of the packets files asked for.
    /// UTC range mode (`time_utc_start` [`time_utc_end`], strict `YYYY-MM-DDTHH:MM:SS`) or individual parameters mode
    /// (`year`, `doy` [`hh` [`mm` [`ss`]]]), never both.
    static func packetFiles(_ parameters: [String: String]) throws(IALiRTError) -> (suffixPrefix: String, times: ClosedRange<Int64>) {
        let partial = ["year", "doy", "hh", "mm", "ss"].filter { parameters[$0] != nil }
        if parameters["time_utc_start"] != nil || parameters["time_utc_end"] != nil {
            guard partial.isEmpty else {
                throw .badQuery("UTC range mode (time_utc_start, time_utc_end) cannot be combined with \(partial.joined(separator: ", ")).")
            }
            guard let startText = parameters["time_utc_start"] else { throw .badQuery("time_utc_start is required in UTC range mode.") }
            let start = try strictTime(startText, name: "time_utc_start")
            let end = try parameters["time_utc_end"].map { text throws(IALiRTError) in try strictTime(text, name: "time_utc_end") } ?? Int64.max
            guard start <= end else { throw .badQuery("time_utc_end (\(parameters["time_utc_end"] ?? "")) is before time_utc_start (\(startText)).") }
            return ("packets_", start...end)
        }
        guard parameters["year"] != nil, parameters["doy"] != nil else {
            throw .badQuery("At minimum, 'year' and 'doy' must be provided.")
        }
        let (year, doy) = try yearAndDay(parameters)
        var parts = [year, doy]
        for (name, limit) in [("hh", 23), ("mm", 59), ("ss", 59)] {
            guard let text = parameters[name] else { break }
            guard let value = Int(text), text.allSatisfy(\.isASCII), (0...limit).contains(value) else {
                throw .badQuery("Invalid \(name) '\(text)': use 00 to \(limit).")
            }
            parts.append(value < 10 ? "0\(value)" : "\(value)")
        }
        return ("packets_" + parts.joined(separator: "_"), Int64.min...Int64.max)
    }

    /// `/ialirt-archive-query`: which days (`YYYYMMDD` prefix, or on or after `since`) and which version.
    static func archive(_ parameters: [String: String]) throws(IALiRTError) -> (prefix: String, since: String?, version: Int) {
        let year = parameters["year"], month = parameters["month"], day = parameters["day"], since = parameters["since"]
        if since != nil && (year != nil || month != nil || day != nil) {
            throw .badQuery("since cannot be combined with year, month, or day.")
        }
        if (day != nil && month == nil) || (month != nil && year == nil) {
            throw .badQuery("Date parts must be specified in order: year, month, day.")
        }
        guard let version = Int(parameters["version"] ?? "1"), version >= 0 else {
            throw .badQuery("Invalid version format. Must be an integer.")
        }
        if let since {
            guard since.count == 8, since.allSatisfy(\.isASCII), FileDate(yyyymmdd: since) != nil else {
                throw .badQuery("Invalid since '\(since)': use YYYYMMDD.")
            }
            return ("", since, version)
        }
        var prefix = ""
        for (name, text, width) in [("year", year, 4), ("month", month, 2), ("day", day, 2)] {
            guard let text else { break }
            guard text.count <= width, let value = Int(text), value >= 0, text.allSatisfy(\.isASCII) else {
                throw .badQuery("Invalid \(name) '\(text)': use \(width) digits.")
            }
            prefix += String(repeating: "0", count: width - String(value).count) + String(value)
        }
        return (prefix, nil, version)
    }

    /// The archive file name of a day: `imap_ialirt_l1_realtime_<YYYYMMDD>_v<NNN>.cdf`.
    static func archiveName(day: String, version: Int) -> String {
        let digits = String(version)
        return "imap_ialirt_l1_realtime_\(day)_v" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits + ".cdf"
    }

    /// The parameters `/space-weather` accepts (`ialirt_data_query_api.py`).
    static let spaceWeatherParameters: Set<String> = ["instrument", "time_utc_start", "time_utc_end", "met_in_utc_start", "met_in_utc_end"]

    /// `/space-weather`: the instruments to query, the `meta` type and instrument, and the inclusive `time_utc` range
    /// (`YYYY-MM-DDTHH:MM:SS`): start and end, start + 1 hour, end - 1 hour, or the last hour.
    static func spaceWeather(_ parameters: [String: String], now: Int64) throws(IALiRTError)
        -> (instruments: [String], type: String, instrument: String, start: String, end: String) {
        let unexpected = parameters.keys.filter { !spaceWeatherParameters.contains($0) }.sorted()
        guard unexpected.isEmpty else { throw .badQuery("Unexpected parameters: \(unexpected.joined(separator: ", "))") }
        let requested = parameters["instrument"].flatMap { $0.isEmpty ? nil : $0 }
        let type: String, metaInstrument: String
        switch requested {
        case nil: (type, metaInstrument) = ("science", "all")
        case "spice"?: (type, metaInstrument) = ("spice", "spice")
        case let name? where name.hasSuffix("hk"): (type, metaInstrument) = ("hk", name)
        case "spacecraft"?: (type, metaInstrument) = ("spacecraft", "spacecraft")
        case let name?: (type, metaInstrument) = ("science", name)
        }
        let startText = parameters["time_utc_start"] ?? parameters["met_in_utc_start"]
        let endText = parameters["time_utc_end"] ?? parameters["met_in_utc_end"]
        let start: Int64, end: Int64
        switch (startText.map(isoTime), endText.map(isoTime)) {
        case (nil, nil): (start, end) = (now - 3600, now)
        case (let first??, nil): (start, end) = (first, first + 3600)
        case (nil, let last??): (start, end) = (last - 3600, last)
        case (let first??, let last??): (start, end) = (first, last)
        default: throw .badQuery("Invalid time format")
        }
        return (requested.map { [$0] } ?? IALiRTRecord.instruments.map(\.name), type, metaInstrument, format(start), format(end))
    }

    // MARK: Times

    /// Year (4 digits) and day of year (zero-padded to 3), checked as `datetime.strptime(year + doy, "%Y%j")` would.
    static func yearAndDay(_ parameters: [String: String]) throws(IALiRTError) -> (String, String) {
        let invalid = IALiRTError.badQuery("Invalid year or day format. Use YYYY and DOY.")
        guard let year = parameters["year"], let doy = parameters["doy"], year.count == 4, year.allSatisfy(\.isASCII),
              let yearValue = Int(year), doy.count <= 3, doy.allSatisfy(\.isASCII), let day = Int(doy), day >= 1,
              let first = FileDate(year: yearValue, month: 1, day: 1), let next = FileDate(year: yearValue + 1, month: 1, day: 1),
              day <= next.ordinal - first.ordinal else { throw invalid }
        return (year, String(repeating: "0", count: 3 - String(day).count) + String(day))
    }

    /// Seconds since 1970 of a strict `YYYY-MM-DDTHH:MM:SS`.
    static func strictTime(_ text: String, name: String) throws(IALiRTError) -> Int64 {
        guard text.count == 19, let seconds = isoTime(text) else {
            throw .badQuery("Invalid \(name) '\(text)': use ISO 8601 YYYY-MM-DDTHH:MM:SS.")
        }
        return seconds
    }

    /// Seconds since 1970 of what Python's `datetime.fromisoformat` accepts for these queries: `YYYY-MM-DD`, optionally
    /// followed by `THH:MM`, `:SS` and a fraction (dropped), and an optional `Z`; nil otherwise.
    static func isoTime(_ text: String) -> Int64? {
        var body = Substring(text)
        if body.hasSuffix("Z") { body = body.dropLast() }
        let utf8 = Array(body.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= utf8.count, range.allSatisfy({ utf8[$0] >= 48 && utf8[$0] <= 57 }) else { return nil }
            return range.reduce(0) { $0 * 10 + Int(utf8[$1] - 48) }
        }
        guard utf8.count >= 10, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-"),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let date = FileDate(year: year, month: month, day: day) else { return nil }
        var seconds = 0
        if utf8.count > 10 {
            guard utf8.count >= 16, utf8[10] == UInt8(ascii: "T") || utf8[10] == UInt8(ascii: " "), utf8[13] == UInt8(ascii: ":"),
                  let hour = number(11..<13), let minute = number(14..<16), hour < 24, minute < 60 else { return nil }
            seconds = hour * 3600 + minute * 60
            if utf8.count > 16 {
                guard utf8.count >= 19, utf8[16] == UInt8(ascii: ":"), let second = number(17..<19), second < 60 else { return nil }
                seconds += second
                if utf8.count > 19 {
                    guard utf8[19] == UInt8(ascii: "."), utf8.count > 20, number(20..<utf8.count) != nil else { return nil }
                }
            }
        }
        return UTCTime(date: date).secondsSince1970 + Int64(seconds)
    }

    /// `YYYY-MM-DDTHH:MM:SS` of seconds since 1970.
    static func format(_ seconds: Int64) -> String {
        String(UTCTime(secondsSince1970: seconds).iso8601.dropLast())
    }
}
