import Foundation
import Testing
@testable import SDCPackets

@Suite("Calibrators")
struct CalibrationTests {
    @Test("Integer powers are exact before the single rounding, as Python's float(x ** n)")
    func exactPowers() {
        // Expected values printed by CPython 3.11.
        #expect(Calibrator.exactPower(WideInteger(Int64(1 << 53 + 1)), 2) == 8.11296384146067e+31)
        #expect(Calibrator.exactPower(WideInteger(UInt64.max), 3) == 6.277101735386681e+57)
        #expect(Calibrator.exactPower(WideInteger(Int64(-9_223_372_036_854_775_807)), 3) == -7.846377169233351e+56)
        #expect(Calibrator.exactPower(WideInteger(Int64(3)), 40) == 1.2157665459056929e+19)
        #expect(Calibrator.exactPower(WideInteger(Int64(0)), 0) == 1)
        #expect(Calibrator.exactPower(WideInteger(Int64(-2)), 3) == -8)
    }

    @Test("Polynomials sum terms left to right from zero")
    func polynomial() {
        let calibrator = Calibrator.polynomial([
            PolynomialTerm(coefficient: 1.5, exponent: 0), PolynomialTerm(coefficient: 0.25, exponent: 1),
            PolynomialTerm(coefficient: 0.001, exponent: 2),
        ])
        #expect(calibrator.calibrate(.integer(WideInteger(Int64(-7)))) == -0.201)
        #expect(calibrator.calibrate(.integer(WideInteger(Int64(4095)))) == 17794.275)
        let large = Calibrator.polynomial([PolynomialTerm(coefficient: 0.5, exponent: 2), PolynomialTerm(coefficient: 1, exponent: 0)])
        #expect(large.calibrate(.integer(WideInteger(UInt64.max))) == 1.7014118346046923e+38)
        #expect(Calibrator.polynomial([]).calibrate(.real(3)) == 0)
    }

    @Test("SWAPI ESA_V uses the piecewise context calibrators")
    func swapiContexts() throws {
        let definition = try sharedDefinition("swapi_packet_definition.xml")
        let layout = try #require(definition.layout(named: "SWP_HK"))
        let esaIndex = try #require(layout.fieldIndex(named: "SWP_HK.ESA_V"))
        guard case let .fromStart(offset) = layout.fields[esaIndex].placement else {
            Issue.record("ESA_V should be at a fixed offset")
            return
        }
        func packet(esa: UInt64, sequence: Int) -> [UInt8] {
            ccsdsPacket(apid: 1184, sequence: sequence) { writer in
                writer.write(0, bits: offset - 48)
                writer.write(esa, bits: 12)
                writer.write(0, bits: 84 * 8 - offset - 12)
            }
        }
        let bytes = packet(esa: 3792, sequence: 0) + packet(esa: 2047, sequence: 1) + packet(esa: 0, sequence: 2)
        let decoded = PacketDecoder(definition: definition).decode(bytes)
        let container = try #require(decoded.containers.first)
        #expect(container.field(named: "SWP_HK.ESA_V")?.raw == .uint16([3792, 2047, 0]))
        // Values from space_packet_parser (xtce-ccsds.md §2.2) and CPython.
        #expect(try container.derivedColumn(at: esaIndex) == .float64([-10472.610419149136, -1227.899049333048, 0.7328995176342232]))
        let choice = try #require(container.fields.firstIndex { $0.name == "SWP_HK.LUT_CHOICE" })
        #expect(try container.derivedColumn(at: choice) == .string(["EEPL1", "EEPL1", "EEPL1"]))
    }

    @Test("Splines step or interpolate, and fail outside their points without extrapolation")
    func splines() {
        let points = [SplinePoint(raw: 0, calibrated: 0), SplinePoint(raw: 100, calibrated: 50), SplinePoint(raw: 200, calibrated: 300)]
        let step = Calibrator.spline(points: points, order: 0, extrapolate: false)
        #expect(step.calibrate(.integer(WideInteger(Int64(150)))) == 50)
        #expect(step.calibrate(.integer(WideInteger(Int64(250)))) == nil)
        // Python's list.index(True) finds no greater point at the last one.
        #expect(step.calibrate(.integer(WideInteger(Int64(200)))) == nil)
        let linear = Calibrator.spline(points: points, order: 1, extrapolate: true)
        #expect(linear.calibrate(.real(50)) == 25)
        #expect(linear.calibrate(.real(-10)) == -5)
        #expect(linear.calibrate(.real(300)) == 550)
    }

    @Test("Comparisons coerce their value to the compared value's type")
    func comparisons() throws {
        let unsigned = WideInteger(UInt64.max)
        #expect(WideInteger(Int64(-1)) < unsigned)
        #expect(WideInteger(Int64.min) < WideInteger(Int64(-1)))
        #expect(WideInteger(parsing: " 18446744073709551615 ") == unsigned)
        #expect(WideInteger(parsing: "1.5") == nil)
        #expect(ComparisonOperator(xmlSpelling: "&gt;=") == .greaterOrEqual)
        #expect(ComparisonOperator(xmlSpelling: "leq") == .lessOrEqual)
        #expect(ComparisonOperator(xmlSpelling: "~") == nil)
    }

    @Test("An enumerated raw value without a label is an error, as in space_packet_parser")
    func unknownEnumeration() throws {
        let definition = try PacketDefinition(data: encodingsDocument)
        var values = FixedPacketValues()
        values.mode = 3
        let decoded = PacketDecoder(definition: definition).decode(values.packet(sequence: 0))
        let container = try #require(decoded.containers.first)
        let mode = try #require(container.fields.firstIndex { $0.name == "AMODE" })
        #expect(throws: DerivedValueError.unknownEnumerationValue(field: "AMODE", raw: 3, packetIndex: 0)) {
            try container.derivedColumn(at: mode)
        }
        #expect(container.fields[mode].raw == .uint8([3]))
    }
}
