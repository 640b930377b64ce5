import Testing
@testable import SDCCDF

@Suite struct TimeTests {
    /// Check values from cdf.md §8 (cdflib compute_tt2000 / encode_tt2000).
    @Test(arguments: [
        ("2000-01-01T11:58:55.816", Int64(0)),
        ("2000-01-01T12:00:00", 64_184_000_000),
        ("2010-01-01T00:00:00", 315_576_066_184_000_000),
        ("2016-03-22T12:30:31", 511_921_899_184_000_000),
        ("2016-12-31T23:59:59", 536_500_867_184_000_000),
        ("2016-12-31T23:59:60", 536_500_868_184_000_000),
        ("2017-01-01T00:00:00", 536_500_869_184_000_000),
        ("2025-04-15T00:00:00", 797_947_269_184_000_000),
        ("1990-01-01T00:00:00", -315_575_942_816_000_000),
        ("2100-01-01T00:00:00", 3_155_716_869_184_000_000),
    ])
    func checkValues(utc: String, expected: Int64) throws {
        #expect(try TT2000.from(iso8601: utc) == expected)
        let back = TT2000.utc(expected)
        #expect(try TT2000.from(back) == expected)
        #expect(back == (try CDFDateTime(iso8601: utc)))
    }

    @Test func everyLeapSecondHasASixtiethSecond() throws {
        for step in LeapSecondTable.standard.steps.dropFirst() {
            let instant = step.instant
            let inside = TT2000.utc(instant - 1)
            #expect(inside.second == 60 && inside.nanosecond == 999_999_999, "\(inside)")
            let start = TT2000.utc(instant - 1_000_000_000)
            #expect(start.second == 60 && start.nanosecond == 0)
            let before = TT2000.utc(instant - 1_000_000_001)
            #expect(before.second == 59 && before.hour == 23)
            let after = TT2000.utc(instant)
            #expect(after.day == 1 && after.hour == 0 && after.second == 0 && after.month == step.month)
            #expect(try TT2000.from(start) == instant - 1_000_000_000)
        }
    }

    @Test func specialValuesAndFormatting() throws {
        #expect(TT2000.iso8601(TT2000.fillValue) == "9999-12-31T23:59:59.999999999")
        #expect(TT2000.iso8601(TT2000.padValue) == "0000-01-01T00:00:00.000000000")
        #expect(try TT2000.from(iso8601: "9999-12-31T23:59:59.999999999") == TT2000.fillValue)
        #expect(TT2000.iso8601(511_921_899_184_000_123) == "2016-03-22T12:30:31.000000123")
        #expect(throws: CDFError.self) { try CDFDateTime(iso8601: "2016-02-30T00:00:00") }
        #expect(throws: CDFError.self) { try CDFDateTime(iso8601: "2016-01-01T00:00:00.1234567891") }
    }

    @Test func epochAndEpoch16() throws {
        let date = try CDFDateTime(iso8601: "2000-01-01T00:00:00")
        #expect(CDFEpochTime.from(date) == 63_113_904_000_000)
        #expect(CDFEpochTime.iso8601(63_113_904_000_123) == "2000-01-01T00:00:00.123")
        let e16 = CDFEpoch16Time.from(try CDFDateTime(iso8601: "2000-01-01T00:00:01.5"), picoseconds: 7)
        #expect(e16 == CDFEpoch16(seconds: 63_113_904_001, picoseconds: 500_000_000_007))
        #expect(CDFEpoch16Time.iso8601(e16) == "2000-01-01T00:00:01.500000000007")
    }

    @Test func roundTripsAcrossTheMissionRange() throws {
        var generator = SystemRandomNumberGenerator()
        let low = try TT2000.from(iso8601: "1972-01-01T00:00:00")
        let high = try TT2000.from(iso8601: "2040-12-31T23:59:59")
        for _ in 0..<20000 {
            let value = Int64.random(in: low...high, using: &generator)
            #expect(try TT2000.from(TT2000.utc(value)) == value)
        }
    }
}
