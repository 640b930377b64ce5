import SDCCore
import Testing
@testable import SDCClient

/// Expected query strings and messages were produced by imap-data-access 1.3.0 with its request sender stubbed.
@Suite("Query, SPICE query and reprocess parameters")
struct QueriesTests {
    @Test func scienceQueryOrderEncodingAndLatest() throws {
        let query = FileQueryParameters(
            table: .science, instrument: "swe", descriptor: "sci two+&", repointing: "repoint00012",
            version: "latest", majorVersion: "1", fileExtension: "cdf")
        #expect(try query.requestItems().formEncoded
            == "table=science&instrument=swe&descriptor=sci+two%2B%26&repointing=12&major_version=1&extension=cdf&latest=true")
        #expect(!query.needsClientSideLatest)
    }

    @Test func ancillaryLatestIsResolvedByTheClientAndDatesAreLenient() throws {
        let query = FileQueryParameters(table: .ancillary, instrument: "mag", startDate: "2024011", version: "latest")
        #expect(try query.requestItems().formEncoded == "table=ancillary&instrument=mag&start_date=2024011")
        #expect(query.needsClientSideLatest)
    }

    @Test func versionIsUncheckedNextToARepointing() throws {
        let query = FileQueryParameters(repointing: "-5", version: "v001.0002")
        #expect(try query.requestItems().formEncoded == "table=science&repointing=-5&version=v001.0002")
    }

    @Test(arguments: [
        (FileQueryParameters(), "At least one query parameter must be provided. Run 'query -h' for more information."),
        (FileQueryParameters(version: "latest"), "At least one query parameter must be provided. Run 'query -h' for more information."),
        (FileQueryParameters(instrument: "foo"), "Not a valid instrument, please choose from codice, glows, hi, hit, ialirt, idex, l1const, lo, mag, spacecraft, swapi, swe, ultra"),
        (FileQueryParameters(dataLevel: "l9"), "Not a valid data level, choose from l0, l1, l1a, l1b, l1c, l1ca, l1cb, l1d, l2, l2a, l2b, l2c, l3, l3a, l3b, l3c, l3d, l3e"),
        (FileQueryParameters(startDate: "20240230"), "Not a valid start date, use format 'YYYYMMDD'."),
        (FileQueryParameters(ingestionEndDate: "2024"), "Not a valid ingestion end date, use format 'YYYYMMDD'."),
        (FileQueryParameters(version: "v001.0002"), "Not a valid version, use format 'vXXX'."),
        (FileQueryParameters(repointing: "r12"), "Not a valid repointing, use format repoint<num>, where <num> is a 5 digit integer."),
        (FileQueryParameters(majorVersion: "a"), "Not a valid major_version, use an integer."),
        (FileQueryParameters(minorVersion: "-1"), "Not a valid minor_version, use an integer."),
        (FileQueryParameters(fileExtension: "png"), "Not a valid extension for 'science', choose from {'cdf', 'pkts'}."),
        (FileQueryParameters(table: .spice, fileExtension: "x"), "Not a valid table."),
    ])
    func invalidQueriesFailBeforeAnyRequest(query: FileQueryParameters, message: String) {
        #expect(throws: SDCClientError.invalidArgument(message)) { try query.requestItems() }
    }

    @Test func spiceQueryRenamesIngestionDatesAndMovesThemLast() throws {
        let query = SPICEQueryParameters(ingestionStartDate: "20260301", kernelType: "ephemeris_predicted", version: "latest")
        #expect(try query.requestItems().formEncoded == "type=ephemeris_predicted&latest=true&start_ingest_date=20260301")
        let dated = SPICEQueryParameters(
            startDate: "20250101", endDate: "x", ingestionEndDate: "20250301", kernelType: "spin", version: "01")
        #expect(try dated.requestItems().formEncoded
            == "start_date=20250101&end_date=x&type=spin&version=01&end_ingest_date=20250301")
    }

    @Test func spiceQueryNeedsAType() {
        #expect(throws: SDCClientError.invalidArgument(
            "The 'type' parameter is required for SPICE queries. Run 'query -h' for more information.")) {
            try SPICEQueryParameters(startDate: "1").requestItems()
        }
        #expect(throws: SDCClientError.invalidArgument("One other parameter must be run with 'version'")) {
            try SPICEQueryParameters(version: "latest").requestItems()
        }
    }

    @Test func reprocessParameters() throws {
        let request = ReprocessParameters(startDate: "20250101", endDate: "20250102", instrument: "swe", descriptor: "")
        #expect(try request.requestItems().formEncoded
            == "start_date=20250101&end_date=20250102&instrument=swe&descriptor=&reprocessing=True")
    }

    @Test(arguments: [
        (ReprocessParameters(startDate: "", endDate: "1"), "Start date and end date are required for a reprocessing Event."),
        (ReprocessParameters(startDate: "20250101", endDate: "20250101", instrument: "swe", dataLevel: "l1a"),
         "If data_level is provided, instrument and descriptor are required."),
        (ReprocessParameters(startDate: "20250101", endDate: "20250101", descriptor: "x"),
         "If descriptor is provided, instrument must also be provided."),
        (ReprocessParameters(startDate: "20250101", endDate: "2025", instrument: "swe"),
         "Not a valid end date, use format 'YYYYMMDD'."),
    ])
    func invalidReprocessRequests(request: ReprocessParameters, message: String) {
        #expect(throws: SDCClientError.invalidArgument(message)) { try request.requestItems() }
    }

    @Test func pathQuotingKeepsSeparatorsAndEscapesTheRest() {
        #expect(FormEncoding.quotePath("imap/swe/l1a/2024/01/a b%#?é.cdf") == "imap/swe/l1a/2024/01/a%20b%25%23%3F%C3%A9.cdf")
    }
}

@Suite("Client-side latest version for non-science tables")
struct LatestVersionFilterTests {
    private func row(_ descriptor: String, _ start: String, _ version: String) -> JSONValue {
        .object([("instrument", .string("mag")), ("descriptor", .string(descriptor)),
                 ("start_date", .string(start)), ("end_date", .null), ("version", .string(version))])
    }

    @Test func keepsTheGreatestVersionPerSeriesInFirstSeenOrder() throws {
        let rows = [row("cal", "20250101", "v001"), row("other", "20250101", "v001"),
                    row("cal", "20250101", "v003"), row("cal", "20250101", "v002"), row("cal", "20250102", "v001")]
        #expect(try LatestVersionFilter.apply(rows)
            == [row("cal", "20250101", "v003"), row("other", "20250101", "v001"), row("cal", "20250102", "v001")])
    }

    @Test func missingKeysFailLikePython() {
        #expect(throws: SDCClientError.unexpectedResponse(pythonType: "KeyError", message: "instrument")) {
            try LatestVersionFilter.apply([.object([("descriptor", .string("x"))])])
        }
    }
}

@Suite("query --filename")
struct FileNameQueryTests {
    @Test func scienceNamesSelectTheirSeriesDayAndVersion() throws {
        let query = try FileQueryParameters(fileName: "imap_hi_l1c_45sensor-pset_20250415-repoint00012_v001.0002.cdf")
        #expect(try query.requestItems().formEncoded
            == "table=science&instrument=hi&data_level=l1c&descriptor=45sensor-pset&start_date=20250415&end_date=20250415"
            + "&repointing=12&major_version=1&minor_version=2&extension=cdf")
        let legacy = try FileQueryParameters(fileName: "imap_swe_l0_raw_20240105_v003.pkts")
        #expect(try legacy.requestItems().formEncoded
            == "table=science&instrument=swe&data_level=l0&descriptor=raw&start_date=20240105&end_date=20240105&version=v003&extension=pkts")
    }

    @Test func ancillaryNamesQueryTheAncillaryTable() throws {
        let query = try FileQueryParameters(fileName: "imap_mag_l1b-cal_20250101_20250201_v002.cdf")
        #expect(try query.requestItems().formEncoded
            == "table=ancillary&instrument=mag&descriptor=l1b-cal&start_date=20250101&end_date=20250101&version=v002&extension=cdf")
    }

    @Test func otherNamesAreRefused() {
        #expect(throws: SDCClientError.invalidArgument("Unrecognized file path type.")) {
            try FileQueryParameters(fileName: "naif0012.tls")
        }
        #expect(throws: SDCClientError.invalidArgument("Invalid file type for x.cdf. It does not matchany file formats.")) {
            try FileQueryParameters(fileName: "x.cdf")
        }
    }
}
