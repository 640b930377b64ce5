/// A UTC calendar instant with nanosecond resolution; `second` may be 60 inside an inserted leap second.
public struct CDFDateTime: Sendable, Hashable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var nanosecond: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, nanosecond: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.nanosecond = nanosecond
    }

    /// Parses `YYYY-MM-DD[Thh:mm[:ss[.fffffffff]]][Z]` (a space may replace `T`; up to 9 fraction digits).
    public init(iso8601 text: String) throws {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) throws -> Int {
            guard index + digits <= bytes.count else { throw CDFError.invalidTime("'\(text)' is too short") }
            var value = 0
            for k in index..<(index + digits) {
                let byte = bytes[k]
                guard byte >= 0x30, byte <= 0x39 else { throw CDFError.invalidTime("'\(text)': expected a digit at \(k)") }
                value = value * 10 + Int(byte - 0x30)
            }
            index += digits
            return value
        }
        func expect(_ separators: [UInt8]) throws {
            guard index < bytes.count, separators.contains(bytes[index]) else {
                throw CDFError.invalidTime("'\(text)': unexpected character at \(index)")
            }
            index += 1
        }
        year = try number(4)
        try expect([0x2D])
        month = try number(2)
        try expect([0x2D])
        day = try number(2)
        hour = 0
        minute = 0
        second = 0
        nanosecond = 0
        if index < bytes.count, bytes[index] != 0x5A {
            try expect([0x54, 0x20])
            hour = try number(2)
            try expect([0x3A])
            minute = try number(2)
            if index < bytes.count, bytes[index] == 0x3A {
                index += 1
                second = try number(2)
                if index < bytes.count, bytes[index] == 0x2E {
                    index += 1
                    var digits = 0
                    while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                        guard digits < 9 else { throw CDFError.invalidTime("'\(text)': more than 9 fraction digits") }
                        nanosecond = nanosecond * 10 + Int(bytes[index] - 0x30)
                        digits += 1
                        index += 1
                    }
                    for _ in digits..<9 { nanosecond *= 10 }
                }
            }
        }
        if index < bytes.count, bytes[index] == 0x5A { index += 1 }
        guard index == bytes.count else { throw CDFError.invalidTime("'\(text)': trailing characters") }
        guard (1...12).contains(month), (1...CDFCalendar.daysInMonth(year, month)).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { throw CDFError.invalidTime("'\(text)' is not a valid date and time") }
    }

    /// `YYYY-MM-DDThh:mm:ss.fffffffff`.
    public var iso8601: String { iso8601(fractionDigits: 9) }

    /// ISO 8601 with `fractionDigits` (0...9) digits of the second.
    public func iso8601(fractionDigits: Int) -> String {
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(hour, 2) + ":" + pad(minute, 2) + ":" + pad(second, 2)
        if fractionDigits > 0 {
            var fraction = nanosecond
            for _ in fractionDigits..<9 { fraction /= 10 }
            text += "." + pad(fraction, fractionDigits)
        }
        return text
    }

    public var description: String { iso8601 }

    private func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

/// Proleptic Gregorian day arithmetic (H. Hinnant's algorithms).
enum CDFCalendar {
    /// Days from 1970-01-01 to `year-month-day`.
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01.
    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Floored division and remainder.
    static func floorDivMod(_ value: Int, _ divisor: Int) -> (quotient: Int, remainder: Int) {
        let q = value / divisor
        let r = value % divisor
        return r < 0 ? (q - 1, r + divisor) : (q, r)
    }

    /// Days from 1970-01-01 to 2000-01-01.
    static let j2000Day = 10957
    /// Days from 0000-01-01 to 1970-01-01.
    static let epochYearZeroDay = 719_528
}

/// CDF_TIME_TT2000: signed nanoseconds since 2000-01-01T12:00:00 TT, counting leap seconds.
public enum TT2000 {
    /// The ISTP FILLVAL (prints as 9999-12-31T23:59:59.999999999).
    public static let fillValue = Int64.min
    /// The default pad value (prints as 0000-01-01T00:00:00.000000000).
    public static let padValue = Int64.min + 1

    /// TT − TAI (32.184 s) split into whole seconds and nanoseconds.
    private static let ttMinusTAISeconds = 32
    private static let ttMinusTAINanoseconds = 184_000_000

    /// Converts a UTC instant to TT2000.
    public static func from(_ utc: CDFDateTime, table: LeapSecondTable = .standard) throws -> Int64 {
        if utc == CDFDateTime(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59, nanosecond: 999_999_999) {
            return fillValue
        }
        if utc == CDFDateTime(year: 0, month: 1, day: 1) { return padValue }
        guard (0..<1_000_000_000).contains(utc.nanosecond) else {
            throw CDFError.invalidTime("nanosecond \(utc.nanosecond) out of range")
        }
        let days = CDFCalendar.daysFromCivil(utc.year, utc.month, utc.day) - CDFCalendar.j2000Day
        let naiveSeconds = days * 86400 + utc.hour * 3600 + utc.minute * 60 + utc.second - 43200
        let steps = table.steps
        let monthIndex = 12 * utc.year + utc.month
        var nanoseconds = utc.nanosecond + ttMinusTAINanoseconds
        var seconds = naiveSeconds + ttMinusTAISeconds
        if let step = steps.last(where: { 12 * $0.year + $0.month <= monthIndex }) {
            seconds += step.taiMinusUTC
        } else if let row = table.rows.last(where: { 12 * $0.year + $0.month <= monthIndex }) {
            // Julian day number of the date (as the CDF library and cdflib compute it), then MJD.
            let julianDay = Double(CDFCalendar.daysFromCivil(utc.year, utc.month, utc.day)) + 2_440_588
            let drift = row.offset + (julianDay - 2_400_000.5 - row.mjdBase) * row.drift
            let driftNanoseconds = Int((drift * 1e9).rounded())
            seconds += driftNanoseconds / 1_000_000_000
            nanoseconds += driftNanoseconds % 1_000_000_000
        }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflow2) = scaled.addingReportingOverflow(nanoseconds)
        guard !overflow, !overflow2, total > Int(padValue) else {
            throw CDFError.invalidTime("\(utc.iso8601) is outside the TT2000 range")
        }
        return Int64(total)
    }

    /// Parses an ISO 8601 UTC string and converts it.
    public static func from(iso8601 text: String, table: LeapSecondTable = .standard) throws -> Int64 {
        try from(CDFDateTime(iso8601: text), table: table)
    }

    /// Breaks a TT2000 value down into UTC; an instant inside an inserted leap second has `second == 60`.
    public static func utc(_ value: Int64, table: LeapSecondTable = .standard) -> CDFDateTime {
        if value == fillValue {
            return CDFDateTime(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59, nanosecond: 999_999_999)
        }
        if value == padValue { return CDFDateTime(year: 0, month: 1, day: 1) }
        let steps = table.steps
        let (wholeSeconds, nanos) = CDFCalendar.floorDivMod(Int(value), 1_000_000_000)
        var seconds = wholeSeconds - ttMinusTAISeconds
        var nanoseconds = nanos - ttMinusTAINanoseconds
        if nanoseconds < 0 {
            nanoseconds += 1_000_000_000
            seconds -= 1
        }
        var inLeapSecond = false
        if let first = steps.first, value >= first.instant {
            var low = 0
            var high = steps.count - 1
            while low < high {
                let mid = (low + high + 1) / 2
                if steps[mid].instant <= value { low = mid } else { high = mid - 1 }
            }
            seconds -= steps[low].taiMinusUTC
            if low + 1 < steps.count, value >= steps[low + 1].instant - 1_000_000_000 {
                inLeapSecond = true
                seconds -= 1
            }
        } else {
            seconds -= driftSeconds(beforeSteps: seconds, nanoseconds: &nanoseconds, table: table)
        }
        var result = calendar(naiveSeconds: seconds)
        result.nanosecond = nanoseconds
        if inLeapSecond { result.second += 1 }
        return result
    }

    /// `YYYY-MM-DDThh:mm:ss.fffffffff` of a TT2000 value.
    public static func iso8601(_ value: Int64, table: LeapSecondTable = .standard) -> String {
        utc(value, table: table).iso8601
    }

    private static func calendar(naiveSeconds: Int) -> CDFDateTime {
        let (days, secondOfDay) = CDFCalendar.floorDivMod(naiveSeconds + 43200, 86400)
        let date = CDFCalendar.civilFromDays(days + CDFCalendar.j2000Day)
        return CDFDateTime(year: date.year, month: date.month, day: date.day,
                           hour: secondOfDay / 3600, minute: secondOfDay % 3600 / 60, second: secondOfDay % 60)
    }

    /// TAI − UTC in whole seconds for instants before 1972 (drift rows), adjusting `nanoseconds` for the fraction.
    private static func driftSeconds(beforeSteps seconds: Int, nanoseconds: inout Int, table: LeapSecondTable) -> Int {
        var estimate = 0.0
        for _ in 0..<3 {
            let guess = calendar(naiveSeconds: seconds - Int(estimate.rounded(.down)))
            let monthIndex = 12 * guess.year + guess.month
            guard let row = table.rows.last(where: { 12 * $0.year + $0.month <= monthIndex }) else { return 0 }
            let julianDay = Double(CDFCalendar.daysFromCivil(guess.year, guess.month, guess.day)) + 2_440_588
            estimate = row.offset + (julianDay - 2_400_000.5 - row.mjdBase) * row.drift
        }
        let driftNanoseconds = Int((estimate * 1e9).rounded())
        var whole = driftNanoseconds / 1_000_000_000
        nanoseconds -= driftNanoseconds % 1_000_000_000
        if nanoseconds < 0 {
            nanoseconds += 1_000_000_000
            whole += 1
        }
        return whole
    }
}

extension LeapSecondTable {
    /// An integer leap-second step: from `instant` (TT2000 of `year-month-01T00:00:00` UTC) on, TAI − UTC is
    /// `taiMinusUTC` seconds.
    struct Step: Sendable {
        let year: Int
        let month: Int
        let taiMinusUTC: Int
        let instant: Int64
    }

    /// The whole-second rows (1972 on) with their TT2000 instants.
    var steps: [Step] {
        rows.filter { $0.drift == 0 && $0.offset == $0.offset.rounded() }.map { row in
            let days = CDFCalendar.daysFromCivil(row.year, row.month, row.day) - CDFCalendar.j2000Day
            let seconds = days * 86400 - 43200 + Int(row.offset) + 32
            return Step(year: row.year, month: row.month, taiMinusUTC: Int(row.offset),
                        instant: Int64(seconds) * 1_000_000_000 + 184_000_000)
        }
    }
}

/// CDF_EPOCH: milliseconds since 0000-01-01T00:00:00 (no leap seconds).
public enum CDFEpochTime {
    public static func from(_ utc: CDFDateTime) -> Double {
        let days = CDFCalendar.daysFromCivil(utc.year, utc.month, utc.day) + CDFCalendar.epochYearZeroDay
        let seconds = days * 86400 + utc.hour * 3600 + utc.minute * 60 + min(utc.second, 59)
        return Double(seconds) * 1000 + Double(utc.nanosecond / 1_000_000)
    }

    public static func utc(_ value: Double) -> CDFDateTime {
        guard value.isFinite, value >= 0, value < 3.2e17 else { return CDFDateTime(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59, nanosecond: 999_000_000) }
        let milliseconds = Int(value.rounded(.down))
        let (seconds, millis) = CDFCalendar.floorDivMod(milliseconds, 1000)
        let (days, secondOfDay) = CDFCalendar.floorDivMod(seconds, 86400)
        let date = CDFCalendar.civilFromDays(days - CDFCalendar.epochYearZeroDay)
        return CDFDateTime(year: date.year, month: date.month, day: date.day, hour: secondOfDay / 3600,
                           minute: secondOfDay % 3600 / 60, second: secondOfDay % 60, nanosecond: millis * 1_000_000)
    }

    /// `YYYY-MM-DDThh:mm:ss.mmm`.
    public static func iso8601(_ value: Double) -> String { utc(value).iso8601(fractionDigits: 3) }
}

/// CDF_EPOCH16: seconds since 0000-01-01T00:00:00 plus picoseconds.
public enum CDFEpoch16Time {
    public static func from(_ utc: CDFDateTime, picoseconds: Int = 0) -> CDFEpoch16 {
        let days = CDFCalendar.daysFromCivil(utc.year, utc.month, utc.day) + CDFCalendar.epochYearZeroDay
        let seconds = days * 86400 + utc.hour * 3600 + utc.minute * 60 + min(utc.second, 59)
        return CDFEpoch16(seconds: Double(seconds), picoseconds: Double(utc.nanosecond) * 1000 + Double(picoseconds))
    }

    /// The UTC instant (nanosecond resolution; sub-nanosecond picoseconds are dropped).
    public static func utc(_ value: CDFEpoch16) -> CDFDateTime {
        guard value.seconds.isFinite, value.seconds >= 0, value.seconds < 3.2e14, value.picoseconds.isFinite else {
            return CDFDateTime(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59, nanosecond: 999_999_999)
        }
        let (days, secondOfDay) = CDFCalendar.floorDivMod(Int(value.seconds), 86400)
        let date = CDFCalendar.civilFromDays(days - CDFCalendar.epochYearZeroDay)
        let nanoseconds = min(999_999_999, max(0, Int(value.picoseconds / 1000)))
        return CDFDateTime(year: date.year, month: date.month, day: date.day, hour: secondOfDay / 3600,
                           minute: secondOfDay % 3600 / 60, second: secondOfDay % 60, nanosecond: nanoseconds)
    }

    /// `YYYY-MM-DDThh:mm:ss.mmmuuunnnppp`.
    public static func iso8601(_ value: CDFEpoch16) -> String {
        let base = utc(value).iso8601(fractionDigits: 0)
        let picoseconds = max(0, min(999_999_999_999, Int(value.picoseconds.isFinite ? value.picoseconds : 0)))
        let digits = String(picoseconds)
        return base + "." + String(repeating: "0", count: 12 - digits.count) + digits
    }
}
