import Testing
@testable import SDCCore

struct NamingTests {
    @Test func errorNamesTheWrongPartAndTheChoices() {
        #expect(throws: NamingError.invalid("data level", "l9", in: "imap_swe_l9_sci_20240105_v001.0000.cdf",
                                            expected: "one of \(DataLevel.choicesDescription)")) {
            try IMAPFileName.parse("imap_swe_l9_sci_20240105_v001.0000.cdf")
        }
        let error = #expect(throws: NamingError.self) { try IMAPFileName.parse("imap_swe_l9_sci_20240105_v001.0000.cdf") }
        #expect(error?.message.hasPrefix("invalid data level 'l9' in imap_swe_l9_sci_20240105_v001.0000.cdf: expected one of l0, l1, l1a") == true)
    }

    @Test(arguments: [
        ("imap_SWE_l1a_sci_20240105_v001.0000.cdf", "instrument 'SWE'"),
        ("imap_swe_l1a_sci_20230229_v001.0000.cdf", "start date '20230229'"),
        ("imap_swe_l1a_sci_20240105_v001.0000.nc", "extension 'nc'"),
        ("imap_swe_l1a_sci_20240105_v01.0002.cdf", "version and extension 'v01.0002.cdf'"),
        ("imap_swe_l1a_sci_data_20240105_v001.cdf", "descriptor 'sci_data'"),
        ("imap_mag_l1b-cal_20250230_v001.cdf", "start date '20250230'"),
        ("imap_mag_cal_20250101_v001.png", "extension 'png'"),
        ("NAIF0012.TLS", "SPICE kernel type 'NAIF'"),
        ("IMAP_swe_l1a_sci_20240105_v001.cdf", "mission 'IMAP'"),
    ])
    func errorsPointAtThePart(name: String, part: String) {
        let error = #expect(throws: NamingError.self) { try IMAPFileName.parse(name) }
        #expect(error?.message.contains("invalid \(part)") == true, "\(error?.message ?? "")")
    }

    @Test(arguments: ["", ".", "..", "../etc/passwd", "a/b.cdf", "imap_swe_l1a_sci_20240105_v001.0000.cdf\0",
                      "x\\y", String(repeating: "a", count: 256), "imap_swe_l1a_sci_20240105_v001.0000.cdf\n"])
    func rejectsUnsafeNames(name: String) {
        #expect(throws: NamingError.self) { try IMAPFileName.parse(name) }
    }

    @Test func formatsScienceNamesBack() throws {
        let names = ["imap_hi_l1c_45sensor-pset_20250415-repoint00012_v001.0000.cdf",
                     "imap_glows_l3e_survival-probability-ul_20250415-cr02301_v001.0002.cdf",
                     "imap_swe_l0_raw_20240105_v001.pkts"]
        for name in names {
            #expect(try IMAPFileName.parse(name).science?.name == name)
        }
        let ancillary = try #require(try IMAPFileName.parse("imap_mag_l1b-cal_20250101_20250201_v001.cdf").ancillary)
        #expect(ancillary.name == "imap_mag_l1b-cal_20250101_20250201_v001.cdf")
    }

    @Test func versionOrderingPutsLegacyBelowMajored() {
        let legacy = ProductVersion("v999")!
        let majored = ProductVersion("v000.0000")!
        #expect(legacy < majored)
        #expect(ProductVersion("v001.0002")! < ProductVersion("v001.0010")!)
        #expect(ProductVersion("v001.0002")! < ProductVersion("v002.0000")!)
        #expect(ProductVersion("v1.0002") == nil)
        #expect(ProductVersion("v001.0002")!.description == "v001.0002")
    }

    @Test func datesFollowPythonStrptime() {
        #expect(FileDate(yearDayOfYear: "2025_366")?.description == "20260101")
        #expect(FileDate(yearDayOfYear: "2024_366")?.description == "20241231")
        #expect(FileDate(yearDayOfYear: "2025_000") == nil)
        #expect(FileDate(yymmdd: "690101")?.year == 1969)
        #expect(FileDate(yymmdd: "680101")?.year == 2068)
        #expect(FileDate(lenient: "2024011")?.description == "20240101")
        #expect(FileDate(lenient: "20240230") == nil)
        #expect(FileDate(yyyymmdd: "20241231")?.nextDay.description == "20250101")
    }
}
