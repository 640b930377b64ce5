import SDCIntegrity
import Testing

@Suite struct QuantitiesTests {
    @Test func durationsTakeAUnit() throws {
        #expect(try Quantities.duration("30d") == .seconds(30 * 86_400))
        #expect(try Quantities.duration("12h") == .seconds(43_200))
        #expect(try Quantities.duration("90") == .seconds(90))
        #expect(throws: IntegrityError.self) { try Quantities.duration("0d") }
        #expect(throws: IntegrityError.self) { try Quantities.duration("soon") }
    }

    @Test func ratesTakeDecimalAndBinaryUnits() throws {
        #expect(try Quantities.bytesPerSecond("50MB/s") == 50e6)
        #expect(try Quantities.bytesPerSecond("1GiB/s") == 1_073_741_824)
        #expect(try Quantities.bytesPerSecond("2.5kB") == 2_500)
        #expect(try Quantities.bytesPerSecond("4096") == 4_096)
        #expect(throws: IntegrityError.self) { try Quantities.bytesPerSecond("-1MB/s") }
        #expect(throws: IntegrityError.self) { try Quantities.bytesPerSecond("fast") }
    }

    @Test func aScheduleSpreadsAPassOverItsPeriodWithinItsMaximum() {
        var schedule = ScrubSchedule(period: .seconds(100), maximumBytesPerSecond: 1e7)
        #expect(schedule.rate(forBytes: 500_000_000) == 5e6)
        #expect(schedule.rate(forBytes: 5_000_000_000) == 1e7)
        #expect(schedule.rate(forBytes: 0) == schedule.minimumBytesPerSecond)
        schedule.maximumBytesPerSecond = nil
        #expect(schedule.rate(forBytes: 5_000_000_000) == 5e7)
    }
}
