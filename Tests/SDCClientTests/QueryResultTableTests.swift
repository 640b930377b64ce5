import SDCCore
import Testing
@testable import SDCClient

@Suite("Query result table (imap-data-access cli.py printer)")
struct QueryResultTableTests {
    private func rows(_ json: String) throws -> [JSONValue] {
        guard case .array(let rows) = try JSONValue(parsing: Array(json.utf8)) else {
            Issue.record("not an array")
            return []
        }
        return rows
    }

    @Test func emptyResultPrintsOnlyTheCount() throws {
        #expect(try QueryResultTable.render([]) == "Found [0] matching files\n")
    }

    @Test func ancillaryTableMatchesTheVerifiedExample() throws {
        let text = try QueryResultTable.render(rows("""
            [{"file_path": "imap/ancillary/mag/imap_mag_l1b-cal_20250101_20250201_v002.cdf", "instrument": "mag",
              "descriptor": "l1b-cal", "start_date": "20250101", "end_date": "20250201", "version": "v002",
              "extension": "cdf", "ingestion_date": "20250103 00:00:00", "released": true},
             {"file_path": "imap/ancillary/mag/imap_mag_l1b-cal_20250101_v001.cdf", "instrument": "mag",
              "descriptor": "l1b-cal", "start_date": "20250101", "end_date": null, "version": "v001",
              "extension": "cdf", "ingestion_date": "20250102 00:00:00", "released": true}]
            """))
        let expected = """
            Found [2] matching files in ancillary table
            |-----------------------------------------------------------------------------------------------------------------------------|
            | Instrument | Descriptor | Start Date | End Date | Ingestion Date    | Version | Filename                                    |
            |-----------------------------------------------------------------------------------------------------------------------------|
            | mag        | l1b-cal    | 20250101   | 20250201 | 20250103 00:00:00 | v002    | imap_mag_l1b-cal_20250101_20250201_v002.cdf |
            | mag        | l1b-cal    | 20250101   | None     | 20250102 00:00:00 | v001    | imap_mag_l1b-cal_20250101_v001.cdf          |
            |-----------------------------------------------------------------------------------------------------------------------------|

            """
        #expect(text == expected)
    }

    @Test func scienceTableRebuildsVersionsAndOmitsEmptyOptionalColumns() throws {
        let text = try QueryResultTable.render(rows("""
            [{"file_path": "imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0002.cdf", "instrument": "swe",
              "data_level": "l1a", "descriptor": "sci", "start_date": "20240105", "repointing": null,
              "major_version": 1, "minor_version": 2, "ingestion_date": "20240108 10:00:00", "cr": null,
              "crid": null, "released": true, "extension": "cdf", "version": "ignored"}]
            """))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "Found [1] matching files in science table")
        #expect(lines[2] == "| Instrument | Data Level | Descriptor | Start Date | Ingestion Date    | Version   | Filename                                |")
        #expect(lines[4] == "| swe        | l1a        | sci        | 20240105   | 20240108 10:00:00 | v001.0002 | imap_swe_l1a_sci_20240105_v001.0002.cdf |")
        #expect(lines[1].count == lines[2].count)
        #expect(lines.count == 7 && lines[6].isEmpty)
    }

    @Test func scienceTableAddsCRAndRepointingWhenAnyRowHasThem() throws {
        let text = try QueryResultTable.render(rows("""
            [{"file_path": "a/imap_hi_l1c_pset_20250415-repoint00012_v001.0000.cdf", "instrument": "hi",
              "data_level": "l1c", "descriptor": "pset", "start_date": "20250415", "repointing": 12,
              "major_version": 1, "minor_version": 0, "ingestion_date": "20250416 00:00:00", "cr": null},
             {"file_path": "b/imap_hi_l1c_pset_20250416_v001.0000.cdf", "instrument": "hi",
              "data_level": "l1c", "descriptor": "pset", "start_date": "20250416", "repointing": null,
              "major_version": 1, "minor_version": 0, "ingestion_date": "20250417 00:00:00", "cr": 2301}]
            """))
        let lines = text.split(separator: "\n")
        #expect(lines[2] == "| Instrument | Data Level | Descriptor | Start Date | Ingestion Date    | Version   | CR   | Repointing | Filename                                             |")
        #expect(lines[4] == "| hi         | l1c        | pset       | 20250415   | 20250416 00:00:00 | v001.0000 | None | 12         | imap_hi_l1c_pset_20250415-repoint00012_v001.0000.cdf |")
        #expect(lines[5] == "| hi         | l1c        | pset       | 20250416   | 20250417 00:00:00 | v001.0000 | 2301 | None       | imap_hi_l1c_pset_20250416_v001.0000.cdf              |")
        #expect(lines[1].count == lines[2].count)
    }

    @Test func spiceFilenamesOverflowTheirColumn() throws {
        let text = try QueryResultTable.render(rows("""
            [{"file_name": "ck/imap_2025_118_2025_120_009.ah.bc", "file_root": "imap_2025_118_2025_120_.ah.bc",
              "kernel_type": "attitude_history", "version": 9, "min_date_datetime": "2025-04-29, 23:20:06",
              "max_date_datetime": "2025-04-30, 00:25:13", "ingestion_date": "2025-04-09, 21:12:53",
              "timestamp": 1744233173.0}]
            """))
        let lines = text.split(separator: "\n")
        #expect(lines[0] == "Found [1] matching files in spice table")
        #expect(lines[2] == "| Kernel Type      | Min Date             | Max Date             | Ingestion Date       | Version | Filename                         |")
        #expect(lines[4] == "| attitude_history | 2025-04-29, 23:20:06 | 2025-04-30, 00:25:13 | 2025-04-09, 21:12:53 | 9       | ck/imap_2025_118_2025_120_009.ah.bc |")
        #expect(lines[1].count == lines[2].count)
    }

    @Test func rowsOfAnUnknownShapePrintScienceCellsUnderAncillaryHeaders() throws {
        let text = try QueryResultTable.render(rows("""
            [{"instrument": "swe", "data_level": "l1a", "file_path": "x/y.cdf", "ingestion_date": "d", "version": "v1"}]
            """))
        let lines = text.split(separator: "\n")
        #expect(lines[0] == "Found [1] matching files in  table")
        #expect(lines[2] == "| Instrument | Descriptor | Start Date | End Date | Ingestion Date | Version | Filename |")
        #expect(lines[4] == "| swe        | l1a        |            |          | d              | v1      | y.cdf    |")
    }

    @Test func nullIngestionDateFailsLikePythonAfterTheCountLine() throws {
        var printed = ""
        let error = #expect(throws: SDCClientError.self) {
            try QueryResultTable.render(rows("""
                [{"instrument": "mag", "descriptor": "x", "start_date": "20250101", "end_date": null,
                  "ingestion_date": null, "version": "v001", "file_path": "a/b.cdf"}]
                """), into: &printed)
        }
        #expect(printed == "Found [1] matching files in ancillary table\n")
        #expect(error?.description == "TypeError('expected str, bytes or os.PathLike object, not NoneType')")
    }

    @Test func outOfRangeScienceVersionFailsLikePython() throws {
        let error = #expect(throws: SDCClientError.self) {
            try QueryResultTable.render(rows("""
                [{"repointing": null, "major_version": 1, "minor_version": 10000, "ingestion_date": "x", "file_path": "f"}]
                """))
        }
        #expect(error?.description == "ValueError('Version 10000 must be between 0 and 9999')")
    }

    @Test func widthsCountCodePoints() throws {
        let text = try QueryResultTable.render(rows("""
            [{"instrument": "mag", "descriptor": "caf\\u00e9", "start_date": "20250101", "end_date": null,
              "ingestion_date": "i", "version": "v001", "file_path": "a/b.cdf"}]
            """))
        let lines = text.split(separator: "\n")
        #expect(lines[4] == "| mag        | café       | 20250101   | None     | i              | v001    | b.cdf    |")
    }
}
