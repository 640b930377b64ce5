import SDCCDF

/// HAPI's restricted ISO 8601 times (HAPI 3.3 §3.7.6) as TT2000 nanoseconds, the time of sdc's CDF products.
public enum HAPITime {
    /// Characters of every time value sdc sends: `yyyy-mm-ddThh:mm:ss.sssssssssZ` (nanoseconds, the resolution of TT2000).
    /// §3.7.6.2: one format and length within a dataset.
    public static let length = 30

    /// Parses an incoming time (§3.7.6.1): `yyyy[-mm[-dd]]` or `yyyy-ddd`, optionally followed by
    /// `Thh[:mm[:ss[.f…]]]`, with or without the trailing `Z` (UTC is assumed either way). Missing elements take their
    /// smallest value; hour 24 (only as `24:00:00`) is midnight of the next day; second 60 is a leap second. Returns nil
    /// for anything else.
    public static func parse(_ text: String) -> Int64? {
        var bytes = Array(text.utf8)
        if bytes.last == UInt8(ascii: "Z") { bytes.removeLast() }
        var index = 0
        func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + count)] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += count
            return value
        }
        func next(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue else { return false }
            index += 1
            return true
        }
        func digitRun() -> Int {
            var count = 0
            while index + count < bytes.count, bytes[index + count] >= 0x30, bytes[index + count] <= 0x39 { count += 1 }
            return count
        }
        guard let year = digits(4) else { return nil }
        var month = 1, day = 1
        if next("-") {
            switch digitRun() {
            case 2:
                guard let parsedMonth = digits(2) else { return nil }
                month = parsedMonth
                if next("-") {
                    guard digitRun() == 2, let parsedDay = digits(2) else { return nil }
                    day = parsedDay
                }
            case 3:
                guard let dayOfYear = digits(3), dayOfYear >= 1, dayOfYear <= (isLeap(year) ? 366 : 365) else { return nil }
                (month, day) = monthDay(year: year, dayOfYear: dayOfYear)
            default: return nil
            }
        }
        var hour = 0, minute = 0, second = 0, nanosecond = 0
        if next("T") {
            guard let parsedHour = digits(2) else { return nil }
            hour = parsedHour
            if next(":") {
                guard let parsedMinute = digits(2) else { return nil }
                minute = parsedMinute
                if next(":") {
                    guard let parsedSecond = digits(2) else { return nil }
                    second = parsedSecond
                    if next(".") {
                        let count = digitRun()
                        guard count >= 1, count <= 9, let fraction = digits(count) else { return nil }
                        nanosecond = fraction
                        for _ in count..<9 { nanosecond *= 10 }
                    }
                }
            }
        }
        guard index == bytes.count, (1...12).contains(month), day >= 1, day <= daysInMonth(year, month),
              (0...24).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
        var rollover = false
        if hour == 24 {
            guard minute == 0, second == 0, nanosecond == 0 else { return nil }
            hour = 0
            rollover = true
        }
        let utc = CDFDateTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second, nanosecond: nanosecond)
        guard let value = try? TT2000.from(utc) else { return nil }
        // Midnight of the next day, leap seconds included (TT2000 counts them).
        return rollover ? nextMidnight(after: utc, value: value) : value
    }

    /// `yyyy-mm-ddThh:mm:ss.sssssssssZ` of a TT2000 value (always ``length`` characters; an inserted leap second
    /// prints as second 60, the TT2000 fill value as `9999-12-31T23:59:59.999999999Z`).
    public static func format(_ value: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        append(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``format(_:)``'s ``length`` bytes to `bytes`.
    public static func append(_ value: Int64, to bytes: inout [UInt8]) {
        let utc = TT2000.utc(value)
        func put(_ number: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = max(0, number)
            while divisor > 0 {
                bytes.append(0x30 + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        put(utc.year, 4); bytes.append(0x2D); put(utc.month, 2); bytes.append(0x2D); put(utc.day, 2)
        bytes.append(0x54); put(utc.hour, 2); bytes.append(0x3A); put(utc.minute, 2); bytes.append(0x3A); put(utc.second, 2)
        bytes.append(0x2E); put(utc.nanosecond, 9); bytes.append(0x5A)
    }

    /// The TT2000 value of the first instant of day `date` (`yyyy-mm-dd` midnight UTC).
    static func midnight(year: Int, month: Int, day: Int) -> Int64? {
        try? TT2000.from(CDFDateTime(year: year, month: month, day: day))
    }

    private static func nextMidnight(after utc: CDFDateTime, value: Int64) -> Int64? {
        var year = utc.year, month = utc.month, day = utc.day + 1
        if day > daysInMonth(year, month) { day = 1; month += 1 }
        if month > 12 { month = 1; year += 1 }
        return midnight(year: year, month: month, day: day)
    }

    static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func monthDay(year: Int, dayOfYear: Int) -> (Int, Int) {
        var remaining = dayOfYear
        for month in 1...12 {
            let days = daysInMonth(year, month)
            if remaining <= days { return (month, remaining) }
            remaining -= days
        }
        return (12, 31)
    }
}
