import Foundation
import SDCCDF
import SDCCore
import SDCHAPI
import Testing

/// The HAPI server over a real SQLite catalog and filesystem store, on 127.0.0.1.
@Suite(.serialized) struct HAPIServerTests {
    static let day1 = "2025-01-01T00:00:00.000000000Z"

    @Test func catalogFollowsTheEmbargoAndInfoDescribesTheParameters() async throws {
        let f = try await HAPIFixture()
        defer { f.remove() }
        try await f.withServer { client in
            let anonymous = try await client.get("/hapi/catalog")
            #expect(anonymous.status == 200 && anonymous.header("access-control-allow-origin") == "*")
            #expect(try anonymous.json()["catalog"] == .array([.object([("id", .string(HAPIFixture.dataset)), ("title", .string("IMAP SWAPI L1A test"))])]))
            let publicInfo = try await client.get("/hapi/info?dataset=\(HAPIFixture.dataset)").json()
            #expect(publicInfo["startDate"] == .string("2025-01-01T00:00:00Z") && publicInfo["stopDate"] == .string("2025-01-03T00:00:00Z"))
            // A key holder also sees the unreleased third day.
            let info = try await client.get("/hapi/info?id=\(HAPIFixture.dataset)", key: f.readKey).json()
            #expect(info["stopDate"] == .string("2025-01-04T00:00:00Z") && info["HAPI"] == .string("3.3"))
            guard case .array(let parameters)? = info["parameters"] else { Issue.record("no parameters"); return }
            #expect(parameters.map { $0["name"] } == ["epoch", "counts", "temperature", "spectrum", "matrix", "mode"].map { .string($0) })
            #expect(parameters[0] == .object([("name", "epoch"), ("type", "isotime"), ("length", .int(30)), ("units", "UTC"), ("fill", .null),
                                              ("description", "Time of the record")]))
            #expect(parameters[1] == .object([("name", "counts"), ("type", "integer"), ("units", "counts"), ("fill", "-32768"),
                                              ("description", "Counts in the record"), ("label", "Counts")]))
            #expect(parameters[2]["type"] == "double" && parameters[2]["fill"] == .string("-9.999999848243207e+30"))
            #expect(parameters[3]["size"] == .array([.int(4)]))
            #expect(parameters[3]["bins"] == .array([.object([("name", "energy"), ("units", "eV"),
                                                               ("centers", .array([.double(10), .double(20), .double(40), .double(80)]))])]))
            #expect(parameters[4]["size"] == .array([.int(2), .int(3)]) && parameters[4]["type"] == "double" && parameters[4]["units"] == .null)
            #expect(parameters[5]["type"] == "string" && parameters[5]["length"] == .int(6))
            let subset = try await client.get("/hapi/info?dataset=\(HAPIFixture.dataset)&parameters=temperature,mode").json()
            guard case .array(let subsetParameters)? = subset["parameters"] else { Issue.record("no parameters"); return }
            #expect(subsetParameters.map { $0["name"] } == [.string("epoch"), .string("temperature"), .string("mode")])
            let invalidKey = try await client.get("/hapi/catalog", key: "sdc_not-a-key")
            #expect(invalidKey.status == 403)
            let landing = try await client.get("/hapi")
            #expect(landing.status == 200 && landing.text.contains("A HAPI 3.3 server") && landing.header("content-type")?.hasPrefix("text/html") == true)
            let capabilities = try await client.get("/hapi/capabilities").json()
            #expect(capabilities["outputFormats"] == .array(["csv", "binary", "json"]))
            #expect(try await client.get("/hapi/about").json()["id"] == "IMAP-SDC")
        }
    }

    @Test func csvSlicesTimeAcrossDaysWithTheLatestVersion() async throws {
        let f = try await HAPIFixture()
        defer { f.remove() }
        try await f.withServer { client in
            // From record 140 of day 1 (inclusive) to record 3 of day 2 (exclusive): 4 + 3 records.
            let start = TT2000.iso8601(try HAPIFixture.time(day: 1, record: 140)) + "Z"
            let stop = TT2000.iso8601(try HAPIFixture.time(day: 2, record: 3)) + "Z"
            let answer = try await client.get("/hapi/data?dataset=\(HAPIFixture.dataset)&start=\(start)&stop=\(stop)&parameters=counts")
            #expect(answer.status == 200 && answer.header("content-type") == "text/csv")
            let rows = answer.text.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
            #expect(rows.count == 7)
            #expect(rows.first?.first == String(start.prefix(19)) + ".000000000Z")
            // Day 2 is served from v002, the latest version.
            #expect(rows.map { $0[1] } == ["1340", "1341", "1342", "1343", "2400", "2401", "2402"])
            // HAPI 2 aliases and day-of-year times: the whole of day 2 (2025-002).
            let day2 = try await client.get("/hapi/data?id=\(HAPIFixture.dataset)&time.min=2025-002Z&time.max=2025-003T00:00Z&parameters=counts")
            #expect(day2.text.split(separator: "\n").count == HAPIFixture.recordsPerDay)
            // The third day is embargoed: anonymous callers get days 1 and 2 only, key holders all three.
            let all = try await client.get("/hapi/data?dataset=\(HAPIFixture.dataset)&start=2025-01-01&stop=2025-01-04&parameters=counts")
            #expect(all.text.split(separator: "\n").count == 2 * HAPIFixture.recordsPerDay)
            let withKey = try await client.get("/hapi/data?dataset=\(HAPIFixture.dataset)&start=2025-01-01&stop=2025-01-04&parameters=counts",
                                               key: f.readKey)
            #expect(withKey.text.split(separator: "\n").count == 3 * HAPIFixture.recordsPerDay)
            // Arrays unwind into columns, strings with commas and quotes are quoted (RFC 4180).
            let first = try await client.get("/hapi/data?dataset=\(HAPIFixture.dataset)&start=2025-01-01&stop=2025-01-01T00:10:01Z")
            let lines = first.text.split(separator: "\n").map(String.init)
            #expect(lines == [
                "\(Self.day1),1200,1.0,0.0,0.125,0.25,0.375,4000000000.0,4000000001.0,4000000002.0,4000000003.0,4000000004.0,4000000005.0,\"hv,on\"",
                "2025-01-01T00:10:00.000000000Z,1201,1.100000023841858,0.5,0.625,0.75,0.875,4000000006.0,4000000007.0,4000000008.0,4000000009.0,4000000010.0,4000000011.0,\"off\"\"1\"",
            ])
        }
    }

    @Test func binaryAndJSONCarryTheSameRecordsAsCSV() async throws {
        let f = try await HAPIFixture()
        defer { f.remove() }
        try await f.withServer { client in
            let query = "/hapi/data?dataset=\(HAPIFixture.dataset)&start=2025-01-01T23:50Z&stop=2025-01-02T00:10Z"
            let binary = try await client.get(query + "&format=binary")
            #expect(binary.header("content-type") == "application/octet-stream")
            // epoch 30 + counts 4 + temperature 8 + spectrum 32 + matrix 48 + mode 6 bytes.
            let width = 30 + 4 + 8 + 32 + 48 + 6
            #expect(binary.body.count == 2 * width)
            let second = Array(binary.body[width..<(2 * width)])
            #expect(String(decoding: second[0..<30], as: UTF8.self) == "2025-01-02T00:00:00.000000000Z")
            #expect(second[30..<34].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) } == 2400)
            #expect(second[34..<42].withUnsafeBytes { $0.loadUnaligned(as: Double.self) } == Double(Float(2)))
            #expect(Array(second[122..<128]) == Array("hv,on".utf8) + [0])
            let json = try await client.get(query + "&format=json").json()
            #expect(json["format"] == "json" && json["status"]?["code"] == .int(1200))
            guard case .array(let rows)? = json["data"] else { Issue.record("no data"); return }
            #expect(rows.count == 2)
            let spectrum: [Double] = [0, 0.125, 0.25, 0.375]
            let matrix: [[Double]] = [[4e9, 4e9 + 1, 4e9 + 2], [4e9 + 3, 4e9 + 4, 4e9 + 5]]
            let expected: [JSONValue] = [.string("2025-01-02T00:00:00.000000000Z"), .int(2400), .double(2), .array(spectrum.map(JSONValue.double)),
                                         .array(matrix.map { JSONValue.array($0.map(JSONValue.double)) }), .string("hv,on")]
            #expect(rows[1] == .array(expected))
            // include=header prefixes the info header, marked with '#', with the format.
            let headed = try await client.get(query + "&parameters=counts&include=header")
            let headerLine = try #require(headed.text.split(separator: "\n").first)
            #expect(headerLine.hasPrefix("#{"))
            let header = try JSONValue(parsing: Array(headerLine.dropFirst().utf8))
            #expect(header["format"] == "csv" && header["status"]?["code"] == .int(1200))
            #expect(headed.text.split(separator: "\n").count == 3)
        }
    }

    @Test func everyErrorHasItsHAPICodeAndHTTPStatus() async throws {
        let f = try await HAPIFixture()
        defer { f.remove() }
        try await f.withServer { client in
            let d = "dataset=\(HAPIFixture.dataset)"
            let cases: [(String, Int, Int)] = [
                ("/hapi/info?dataset=imap_swapi_l1a_nothing", 1406, 404),
                ("/hapi/info?dataset=not-a-source", 1406, 404),
                ("/hapi/data?dataset=imap_mag_l1a_norm&start=2025-01-01Z&stop=2025-01-02Z", 1406, 404),
                ("/hapi/info?\(d)&parameters=nope", 1407, 404),
                ("/hapi/data?\(d)&start=2025-01-01Z&stop=2025-01-02Z&parameters=counts,nope", 1407, 404),
                ("/hapi/data?\(d)&start=2025-01-01Z&stop=2025-01-02Z&parameters=mode,counts", 1411, 400),
                ("/hapi/data?\(d)&start=2025-01-01Z&stop=2025-01-02Z&parameters=counts,counts", 1411, 400),
                ("/hapi/data?\(d)&start=2025-01-02Z&stop=2025-01-01Z", 1404, 400),
                ("/hapi/data?\(d)&start=2025-01-01Z&stop=2025-01-01Z", 1404, 400),
                ("/hapi/data?\(d)&start=yesterday&stop=2025-01-02Z", 1402, 400),
                ("/hapi/data?\(d)&start=2025-13-01Z&stop=2025-01-02Z", 1402, 400),
                ("/hapi/data?\(d)&start=2025-01-01Z&stop=2025-01-02T25:00Z", 1403, 400),
                ("/hapi/data?\(d)&start=1990-01-01Z&stop=1990-02-01Z", 1405, 400),
                ("/hapi/data?\(d)&start=2030-01-01Z&stop=2099-01-01Z", 1405, 400),
                ("/hapi/data?\(d)&start=2025-01-01Z&stop=2025-01-02Z&format=xml", 1409, 400),
                ("/hapi/data?\(d)&start=2025-01-01Z&stop=2025-01-02Z&include=all", 1410, 400),
                ("/hapi/data?\(d)&start=2025-01-01Z&stop=2025-01-02Z&averagingInterval=5s", 1401, 400),
                ("/hapi/catalog?depth=all", 1413, 400),
                ("/hapi/info?\(d)&resolve_references=maybe", 1412, 400),
                ("/hapi/data?\(d)&stop=2025-01-02Z", 1400, 400),
                ("/hapi/data?start=2025-01-01Z&stop=2025-01-02Z", 1400, 400),
                ("/hapi/capabilities?x=1", 1401, 400),
                ("/hapi/nothing", 1400, 400),
            ]
            for (path, code, http) in cases {
                let answer = try await client.get(path)
                #expect(answer.status == http, "\(path)")
                #expect(try answer.hapiCode() == code, "\(path): \(answer.text)")
                #expect(answer.header("content-type") == "application/json", "\(path)")
            }
            // The embargoed third day is outside the range anonymous callers may ask for.
            let embargoed = try await client.get("/hapi/data?\(d)&start=2025-01-03Z&stop=2025-01-04Z")
            #expect(try embargoed.hapiCode() == 1405)
            // In range, but no record there: 200 with 1201.
            try await f.ingest(day: 5, version: 1, released: true, records: 1)
            let query = "/hapi/data?\(d)&start=2025-01-05T12:00Z&stop=2025-01-05T13:00Z&include=header"
            // The new product shows once the dataset view is rebuilt (at most the check interval later).
            let deadline = ContinuousClock.now + .seconds(10)
            var empty = try await client.get(query)
            while empty.status != 200, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                empty = try await client.get(query)
            }
            #expect(empty.status == 200, "\(empty.text)")
            #expect(try JSONValue(parsing: Array(empty.text.dropFirst().utf8))["status"]?["code"] == .int(1201))
            #expect(empty.text.hasPrefix("#") && empty.text.split(separator: "\n").count == 1)
        }
    }

    @Test func aDamagedProductIsSkippedAndTheRestServed() async throws {
        let f = try await HAPIFixture()
        defer { f.remove() }
        var damaged = Array("this is not a CDF".utf8)
        damaged += [UInt8](repeating: 0, count: 100)
        try await f.ingest(name: "imap_swapi_l1a_test_20241231_v001.cdf", bytes: damaged, released: true)
        // A truncated product in the middle of the range.
        let whole = try await f.ingest(day: 4, version: 1, released: true)
        _ = whole
        let truncated = try Data(contentsOf: f.root.appendingPathComponent("staging-imap_swapi_l1a_test_20250104_v001.cdf"))
        try await f.ingest(name: "imap_swapi_l1a_test_20250104_v002.cdf", bytes: Array(truncated.prefix(truncated.count / 2)), released: true)
        try await f.ingest(day: 5, version: 1, released: true)
        try await f.withServer { client in
            let answer = try await client.get("/hapi/data?dataset=\(HAPIFixture.dataset)&start=2024-12-31Z&stop=2025-01-06Z&parameters=counts&include=header")
            #expect(answer.status == 200)
            let lines = answer.text.split(separator: "\n")
            let header = try JSONValue(parsing: Array(lines[0].dropFirst().utf8))
            guard case .string(let message)? = header["status"]?["message"] else { Issue.record("no status message"); return }
            #expect(message.contains("imap_swapi_l1a_test_20241231_v001.cdf") && message.contains("imap_swapi_l1a_test_20250104_v002.cdf"))
            #expect(header["status"]?["code"] == .int(1200))
            #expect(answer.header("x-hapi-status")?.contains("20250104_v002") == true)
            // Days 1, 2 and 5 are served; the damaged days are skipped.
            #expect(lines.count - 1 == 3 * HAPIFixture.recordsPerDay)
            #expect(lines.last?.hasPrefix("2025-01-05T23:50:00") == true)
        }
    }

    @Test func datasetsFollowNewProducts() async throws {
        let f = try await HAPIFixture()
        defer { f.remove() }
        try await f.withServer { client in
            #expect(try await client.get("/hapi/info?dataset=\(HAPIFixture.dataset)").json()["stopDate"] == .string("2025-01-03T00:00:00Z"))
            try await f.ingest(day: 9, version: 1, released: true)
            try await f.ingest(day: 1, version: 1, released: true, descriptor: "other")
            let deadline = ContinuousClock.now + .seconds(10)
            var stopDate: JSONValue?
            while ContinuousClock.now < deadline {
                stopDate = try await client.get("/hapi/info?dataset=\(HAPIFixture.dataset)").json()["stopDate"]
                if stopDate == .string("2025-01-10T00:00:00Z") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(stopDate == .string("2025-01-10T00:00:00Z"))
            let catalog = try await client.get("/hapi/catalog").json()
            guard case .array(let entries)? = catalog["catalog"] else { Issue.record("no catalog"); return }
            #expect(entries.map { $0["id"] } == [.string("imap_swapi_l1a_other"), .string(HAPIFixture.dataset)])
        }
    }
}

struct HAPITimeTests {
    @Test func parsesTheRestrictedISO8601Forms() throws {
        let midnight = try TT2000.from(CDFDateTime(year: 2017, month: 1, day: 15))
        for text in ["2017-01-15", "2017-01-15Z", "2017-015Z", "2017-01-15T00Z", "2017-01-15T00:00Z", "2017-01-15T00:00:00.000Z",
                     "2017-01-14T24:00:00Z", "2017-014T24Z"] {
            #expect(HAPITime.parse(text) == midnight, "\(text)")
        }
        #expect(HAPITime.parse("2017Z") == (try TT2000.from(CDFDateTime(year: 2017, month: 1, day: 1))))
        #expect(HAPITime.parse("2017-02Z") == (try TT2000.from(CDFDateTime(year: 2017, month: 2, day: 1))))
        #expect(HAPITime.parse("2017-01-15T01:02:03.123456789Z") == midnight + 3_723_123_456_789)
        // The leap second at the end of 2016.
        let newYear = try TT2000.from(CDFDateTime(year: 2017, month: 1, day: 1))
        #expect(HAPITime.parse("2016-12-31T23:59:60Z") == newYear - 1_000_000_000)
        #expect(HAPITime.parse("2016-12-31T23:59:59Z") == newYear - 2_000_000_000)
        for text in ["", "2017-1-15", "2017-01-15T", "2017-01-32", "2017-366Z", "2017-01-15T24:00:01Z", "2017-01-15T12:60Z",
                     "2017-01-15T00:00:00.1234567890Z", "2017-01-15 00:00", "tomorrow"] {
            #expect(HAPITime.parse(text) == nil, "\(text)")
        }
        #expect(HAPITime.format(midnight + 1) == "2017-01-15T00:00:00.000000001Z")
        #expect(HAPITime.format(try TT2000.from(CDFDateTime(year: 2016, month: 12, day: 31, hour: 23, minute: 59, second: 60))) == "2016-12-31T23:59:60.000000000Z")
    }
}
