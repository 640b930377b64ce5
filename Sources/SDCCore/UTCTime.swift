import Foundation

/// A UTC instant with one-second resolution, formatted the ways the IMAP API writes times.
public struct UTCTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z (leap seconds are not counted, as in Unix time).
    public let secondsSince1970: Int64

    public init(secondsSince1970: Int64) {
        self.secondsSince1970 = secondsSince1970
    }

    /// Midnight at the start of `date`.
    public init(date: FileDate) {
        secondsSince1970 = Int64(date.ordinal - UTCTime.unixEpochOrdinal) * 86_400
    }

    /// The calendar day and the second of that day.
    public var date: FileDate { FileDate(ordinalDay: Int(floorDiv(secondsSince1970, 86_400)) + UTCTime.unixEpochOrdinal) }
    private var secondOfDay: Int { Int(secondsSince1970 - floorDiv(secondsSince1970, 86_400) * 86_400) }
    private var clock: String {
        pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
    }

    /// `YYYYMMDD HH:MM:SS`, the science and ancillary `ingestion_date` format.
    public var compact: String { date.description + " " + clock }
    /// `YYYY-MM-DD, HH:MM:SS`, the SPICE and table-endpoint format.
    public var commaSeparated: String { date.isoDate + ", " + clock }
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    public var iso8601: String { date.isoDate + "T" + clock + "Z" }
    public var description: String { iso8601 }

    /// The current time.
    public static var now: UTCTime { UTCTime(secondsSince1970: Int64(Date().timeIntervalSince1970)) }

    public static func < (lhs: UTCTime, rhs: UTCTime) -> Bool { lhs.secondsSince1970 < rhs.secondsSince1970 }

    static let unixEpochOrdinal = FileDate(year: 1970, month: 1, day: 1)!.ordinal
}

private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

extension FileDate {
    /// The day with the given ordinal (day 1 is 0001-01-01).
    public init(ordinalDay: Int) { self.init(ordinal: ordinalDay) }
}
