/// A calendar day (proleptic Gregorian), as used in file names (`YYYYMMDD`).
public struct FileDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Creates a date when `year`, `month` and `day` name a real calendar day.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...FileDate.daysInMonth(month, year: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly eight ASCII digits `YYYYMMDD` that name a real day (`20230229` is rejected).
    public init?<S: StringProtocol>(yyyymmdd text: S) {
        let digits = Array(text.utf8)
        guard digits.count == 8, let value = ASCII.integer(digits[...]) else { return nil }
        self.init(year: value / 10000, month: value / 100 % 100, day: value % 100)
    }

    /// Parses six ASCII digits `YYMMDD` the way Python's `%y%m%d` does: years 69-99 are 19xx, 00-68 are 20xx.
    public init?<S: StringProtocol>(yymmdd text: S) {
        let digits = Array(text.utf8)
        guard digits.count == 6, let value = ASCII.integer(digits[...]) else { return nil }
        let shortYear = value / 10000
        self.init(year: shortYear < 69 ? 2000 + shortYear : 1900 + shortYear, month: value / 100 % 100, day: value % 100)
    }

    /// Parses `YYYY_DDD` the way Python's `%Y_%j` does: day 001-366 in any year, so day 366 of a
    /// common year rolls over to 1 January of the next year.
    public init?<S: StringProtocol>(yearDayOfYear text: S) {
        let bytes = Array(text.utf8)
        guard bytes.count == 8, bytes[4] == UInt8(ascii: "_"),
              let year = ASCII.integer(bytes[0..<4]), let dayOfYear = ASCII.integer(bytes[5..<8]),
              (1...366).contains(dayOfYear), year >= 1 else { return nil }
        self.init(ordinal: FileDate.ordinalOfJanuaryFirst(year) + dayOfYear - 1)
    }

    /// The `dayOfYear`-th day (1-based) of `year`, or nil when that year has no such day.
    public init?(year: Int, dayOfYear: Int) {
        guard (1...9999).contains(year), (1...(FileDate.isLeapYear(year) ? 366 : 365)).contains(dayOfYear) else { return nil }
        self.init(ordinal: FileDate.ordinalOfJanuaryFirst(year) + dayOfYear - 1)
    }

    /// Parses a query-parameter date leniently, as Python's `datetime.strptime(text, "%Y%m%d")` does:
    /// a four-digit year, then a one- or two-digit month and day (`2024011` is 1 January 2024).
    public init?<S: StringProtocol>(lenient text: S) {
        let bytes = Array(text.utf8)
        guard (6...8).contains(bytes.count), let year = ASCII.integer(bytes[0..<4]) else { return nil }
        for monthDigits in [2, 1] where bytes.count - 4 - monthDigits >= 1 && bytes.count - 4 - monthDigits <= 2 {
            guard let month = ASCII.integer(bytes[4..<(4 + monthDigits)]),
                  let day = ASCII.integer(bytes[(4 + monthDigits)...]),
                  let date = FileDate(year: year, month: month, day: day) else { continue }
            self = date
            return
        }
        return nil
    }

    init(ordinal: Int) {
        // Inverse of `ordinal` (days since 0001-01-01 = 1), Python's date.fromordinal.
        var n = ordinal - 1
        let n400 = n / 146_097; n %= 146_097
        let n100 = n / 36_524; n %= 36_524
        let n4 = n / 1_461; n %= 1_461
        let n1 = n / 365; n %= 365
        var year = n400 * 400 + n100 * 100 + n4 * 4 + n1 + 1
        if n1 == 4 || n100 == 4 {
            year -= 1
            self.init(year: year, month: 12, day: 31)!
            return
        }
        var month = 1
        while n >= FileDate.daysInMonth(month, year: year) {
            n -= FileDate.daysInMonth(month, year: year)
            month += 1
        }
        self.init(year: year, month: month, day: n + 1)!
    }

    /// Days since 0001-01-01, which is day 1 (Python's `date.toordinal`).
    public var ordinal: Int { FileDate.ordinalOfJanuaryFirst(year) + dayOfYear - 1 }

    /// The day's number in its year, 1 for 1 January.
    public var dayOfYear: Int { (1..<month).reduce(day) { $0 + FileDate.daysInMonth($1, year: year) } }

    /// The ordinal of 1 January of `year`.
    private static func ordinalOfJanuaryFirst(_ year: Int) -> Int {
        let y = year - 1
        return y * 365 + y / 4 - y / 100 + y / 400 + 1
    }

    /// The following calendar day.
    public var nextDay: FileDate { FileDate(ordinal: ordinal + 1) }

    /// `YYYYMMDD`.
    public var description: String { pad(year, 4) + pad(month, 2) + pad(day, 2) }

    /// `YYYY-MM-DD`.
    public var isoDate: String { pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) }

    /// `YYYY-MM-DDT00:00:00`, the form Python prints for a parsed `datetime`.
    public var isoMidnight: String { isoDate + "T00:00:00" }

    public static func < (lhs: FileDate, rhs: FileDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    public static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = FileDate(yyyymmdd: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a YYYYMMDD date: \(text)"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Zero-pads a non-negative integer to `width` digits.
func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}

/// Small helpers for ASCII text without Foundation.
enum ASCII {
    /// The value of a non-empty run of ASCII digits, or nil.
    static func integer(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// The value of a non-empty run of ASCII digits, or nil.
    static func integer(_ text: some StringProtocol) -> Int? { integer(ArraySlice(text.utf8)) }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// True when `text` is exactly `count` ASCII digits.
    static func isDigits<S: StringProtocol>(_ text: S, count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy(isDigit)
    }
}
