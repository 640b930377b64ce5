import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SDCAssembly
import SDCCore
import SDCIALiRT
import SDCIngest
import SDCServer
import Testing

/// An embedded data center in a new folder (real SQLite files) served with the I-ALiRT routes and listener.
struct IALiRTTestServer {
    let folder: URL
    let dataCenter: DataCenter
    let ingest: IALiRTIngest
    /// Decodes uploaded L0 files in the background, as in `sdc serve`: run it beside the application.
    let decoder: QueuedIngestListener
    let writeKey: String
    let readKey: String

    init() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-ialirt-server-\(UUID().uuidString)")
        dataCenter = try DataCenter(root: folder)
        ingest = IALiRTIngest(store: dataCenter.ialirt, objects: dataCenter.store)
        decoder = ingest.listener()
        writeKey = try await dataCenter.catalog.createKey(name: "writer", scope: .write).secret
        readKey = try await dataCenter.catalog.createKey(name: "reader", scope: .read).secret
    }

    func application() -> some ApplicationProtocol {
        var configuration = ServerConfiguration()
        configuration.port = 0
        return DataCenterServer(configuration: configuration, ingestor: dataCenter.ingestor(listeners: [decoder]), keys: dataCenter.catalog,
                                requestLog: dataCenter.catalog, extensions: [IALiRTRoutes(ingest: ingest, keys: dataCenter.catalog)]).application()
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }
}

let xAPIKey = HTTPField.Name("x-api-key")!

extension TestResponse {
    var text: String { String(buffer: body) }
    var jsonObject: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] }
}

struct IALiRTServerTests {
    /// MET of 2025-11-05T00:53:17Z.
    let met: UInt32 = 500_000_000

    @Test func uploadedL0FileAndLivePacketsAreServedAsTheClientExpects() async throws {
        let server = try await IALiRTTestServer()
        defer { server.remove() }
        let decoding = Task { try await server.decoder.run() }
        defer { decoding.cancel() }
        try await server.application().test(.live) { client in
            // An I-ALiRT L0 file through the upload API: decoded by the ingest listener, after the upload is answered.
            let name = "imap_ialirt_l0_raw_20251105_v001.pkts"
            let grant = try await client.execute(uri: "/api-key/upload/\(name)", method: .get, headers: [xAPIKey: server.writeKey])
            #expect(grant.status == .ok, "\(grant.text)")
            let url = try #require(try JSONSerialization.jsonObject(with: Data(grant.text.utf8), options: .fragmentsAllowed) as? String)
            let signed = try #require(URLComponents(string: url))
            let bytes = PacketBuilder.stream(from: met, count: 10)
            let put = try await client.execute(uri: signed.path + "?" + (signed.percentEncodedQuery ?? ""), method: .put,
                                               headers: [.contentLength: "\(bytes.count)"], body: ByteBuffer(bytes: bytes))
            #expect(put.status == .ok, "\(put.text)")

            // /space-weather: meta + data, items keyed like the SDC's table (once the background decoding has stored them).
            let magQuery = "/space-weather?instrument=mag&time_utc_start=2025-11-05T00%3A53%3A17&time_utc_end=2025-11-05T00%3A53%3A20"
            let deadline = ContinuousClock.now + .seconds(60)
            var weather = try await client.execute(uri: magQuery, method: .get)
            while !weather.text.contains(#""count": 4"#), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                weather = try await client.execute(uri: magQuery, method: .get)
            }
            #expect(weather.status == .ok)
            let object = try #require(weather.jsonObject)
            #expect(weather.text.hasPrefix(#"{"meta": {"count": 4, "type": "science", "instrument": "mag"}, "data": [{"instrument": "mag", "time_utc": "2025-11-05T00:53:17", "met": 500000000, "met_in_utc": "2025-11-05T00:53:17", "ttj2000ns": "#))
            let items = try #require(object["data"] as? [[String: Any]])
            #expect(items.map { $0["time_utc"] as? String } == ["2025-11-05T00:53:17", "2025-11-05T00:53:18", "2025-11-05T00:53:19", "2025-11-05T00:53:20"])
            #expect(items.map { $0["mag_data"] as? Int } == [1000, 1001, 1002, 1003])
            #expect(items.first?["instrument"] as? String == "mag" && items.first?["met"] as? Int == 500_000_000)
            // Every science instrument for one hour from the start when none is named.
            let all = try await client.execute(uri: "/space-weather?time_utc_start=2025-11-05T00:30:00", method: .get)
            #expect(all.text.hasPrefix(#"{"meta": {"count": 60, "type": "science", "instrument": "all"}, "data": [{"instrument": "hit", "#))
            let hk = try await client.execute(uri: "/space-weather?instrument=mag_hk&time_utc_end=2025-11-05T01:00:00", method: .get)
            #expect(hk.text == #"{"meta": {"count": 0, "type": "hk", "instrument": "mag_hk"}, "data": []}"#)

            // Live packets: a write-scope key; the next seconds.
            let live = PacketBuilder.stream(from: met + 10, count: 5)
            let posted = try await client.execute(uri: "/api-key/ialirt-packets?instance=2", method: .post, headers: [xAPIKey: server.writeKey],
                                                  body: ByteBuffer(bytes: live))
            #expect(posted.status == .ok, "\(posted.text)")
            let summary = try #require(posted.jsonObject)
            #expect(summary["packets"] as? Int == 5 && summary["records"] as? Int == 30)
            #expect(summary["packet_file"] as? String == "iois_2_packets_2025_309_00_53_27.bin")

            // Packet query, both modes, and the download of what it lists (logs and packets need a key).
            let packets = try #require(try await client.execute(uri: "/ialirt-packet-query?year=2025&doy=309&hh=0&mm=53", method: .get).jsonObject)
            #expect(packets["files"] as? [String] == ["iois_1_packets_2025_309_00_53_17.bin", "iois_2_packets_2025_309_00_53_27.bin"])
            let range = try #require(try await client.execute(
                uri: "/ialirt-packet-query?time_utc_start=2025-11-05T00%3A53%3A20&time_utc_end=2025-11-05T00%3A54%3A00", method: .get).jsonObject)
            #expect(range["files"] as? [String] == ["iois_2_packets_2025_309_00_53_27.bin"])
            let anonymous = try await client.execute(uri: "/ialirt-download/packets/iois_2_packets_2025_309_00_53_27.bin", method: .get)
            #expect(anonymous.status == .forbidden && anonymous.text == "I-ALiRT logs and packet data are not publicly downloadable.")
            let keyless = try await client.execute(uri: "/api-key/ialirt-download/packets/iois_2_packets_2025_309_00_53_27.bin", method: .get)
            #expect(keyless.status == .unauthorized)
            let downloaded = try await client.execute(uri: "/api-key/ialirt-download/packets/iois_2_packets_2025_309_00_53_27.bin", method: .get,
                                                      headers: [xAPIKey: server.readKey])
            #expect(downloaded.status == .ok && Array(downloaded.body.readableBytesView) == live)

            let today = IALiRTTestDay.now
            let logs = try #require(try await client.execute(uri: "/ialirt-log-query?year=\(today.year)&doy=\(today.doy)&instance=2", method: .get).jsonObject)
            let logNames = try #require(logs["files"] as? [String])
            #expect(logNames.count == 1 && logNames.first == summary["log_file"] as? String)
            let log = try await client.execute(uri: "/api-key/ialirt-download/logs/\(logNames[0])", method: .get, headers: [xAPIKey: server.readKey])
            #expect(log.status == .ok && log.text.contains("received 5 I-ALiRT packets (APID 478) from POST by API key 'writer'"))

            // Archive: one CDF per day with records, public.
            let archive = try #require(try await client.execute(uri: "/ialirt-archive-query?year=2025&month=11", method: .get).jsonObject)
            #expect(archive["files"] as? [String] == ["imap_ialirt_l1_realtime_20251105_v001.cdf"])
            let since = try #require(try await client.execute(uri: "/ialirt-archive-query?since=20251106", method: .get).jsonObject)
            #expect(since["files"] as? [String] == [])
            let cdf = try await client.execute(uri: "/ialirt-download/archive/imap_ialirt_l1_realtime_20251105_v001.cdf", method: .get)
            #expect(cdf.status == .ok && Array(cdf.body.readableBytesView.prefix(4)) == [0xCD, 0xF3, 0x00, 0x01])
            let missing = try await client.execute(uri: "/ialirt-download/archive/imap_ialirt_l1_realtime_20251106_v001.cdf", method: .get)
            #expect(missing.status == .notFound)
        }
    }

    @Test func badInputIsRefusedWithAClearError() async throws {
        let server = try await IALiRTTestServer()
        defer { server.remove() }
        try await server.application().test(.live) { client in
            let good = PacketBuilder.packet(met: met)
            let anonymous = try await client.execute(uri: "/ialirt-packets", method: .post, body: ByteBuffer(bytes: good))
            #expect(anonymous.status == .unauthorized && anonymous.text.contains("requires an API key with write scope"))
            let reader = try await client.execute(uri: "/api-key/ialirt-packets", method: .post, headers: [xAPIKey: server.readKey], body: ByteBuffer(bytes: good))
            #expect(reader.status == .forbidden && reader.text.contains("requires write scope"))
            let wrongKey = try await client.execute(uri: "/api-key/ialirt-packets", method: .post, headers: [xAPIKey: "nope"], body: ByteBuffer(bytes: good))
            #expect(wrongKey.status == .forbidden && wrongKey.text.contains("InvalidAPIKey"))
            let otherAPID = try await client.execute(uri: "/api-key/ialirt-packets", method: .post, headers: [xAPIKey: server.writeKey],
                                                     body: ByteBuffer(bytes: good + PacketBuilder.packet(met: met, apid: 1136)))
            #expect(otherAPID.status == .badRequest && otherAPID.text.contains("packet 1 at byte 183 has APID 1136"))
            let longer = try await client.execute(uri: "/api-key/ialirt-packets", method: .post, headers: [xAPIKey: server.writeKey],
                                                  body: ByteBuffer(bytes: PacketBuilder.packet(met: met, length: 190)))
            #expect(longer.status == .badRequest && longer.text.contains("declares 190 bytes"))
            let instance = try await client.execute(uri: "/api-key/ialirt-packets?instance=3", method: .post, headers: [xAPIKey: server.writeKey],
                                                    body: ByteBuffer(bytes: good))
            #expect(instance.status == .badRequest && instance.text.contains("Invalid instance '3'"))
            // Nothing of the refused posts was stored.
            let stored = try await server.dataCenter.ialirt.records(instrument: "mag", start: "2000-01-01T00:00:00", end: "2100-01-01T00:00:00", limit: 10)
            #expect(stored.isEmpty)

            let queries: [(String, String)] = [
                ("/ialirt-log-query?year=25&doy=001&instance=1", #"{"error": "Invalid year or day format. Use YYYY and DOY."}"#),
                ("/ialirt-log-query?year=2025&doy=366&instance=1", #"{"error": "Invalid year or day format. Use YYYY and DOY."}"#),
                ("/ialirt-log-query?year=2025&doy=001&instance=7", #"{"error": "Invalid instance '7': use 1 or 2."}"#),
                ("/ialirt-packet-query?year=2025", #"{"error": "At minimum, 'year' and 'doy' must be provided."}"#),
                ("/ialirt-packet-query?year=2025&doy=10&hh=24", #"{"error": "Invalid hh '24': use 00 to 23."}"#),
                ("/ialirt-packet-query?time_utc_start=2025-10-29", #"{"error": "Invalid time_utc_start '2025-10-29': use ISO 8601 YYYY-MM-DDTHH:MM:SS."}"#),
                ("/ialirt-packet-query?time_utc_end=2025-10-29T00:00:00", #"{"error": "time_utc_start is required in UTC range mode."}"#),
                ("/ialirt-archive-query?month=05", #"{"error": "Date parts must be specified in order: year, month, day."}"#),
                ("/ialirt-archive-query?since=20240521&year=2024", #"{"error": "since cannot be combined with year, month, or day."}"#),
                ("/ialirt-archive-query?version=one", #"{"error": "Invalid version format. Must be an integer."}"#),
                ("/space-weather?instrument=mag&color=red", #"{"message": "Unexpected parameters: color"}"#),
                ("/space-weather?time_utc_start=yesterday", #"{"message": "Invalid time format"}"#),
            ]
            for (uri, body) in queries {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .badRequest, "\(uri)")
                #expect(response.text == body, "\(uri)")
            }
            let filetype = try await client.execute(uri: "/ialirt-download/secrets/x.bin", method: .get)
            #expect(filetype.status == .badRequest && filetype.text.contains("Unknown filetype 'secrets'"))
            let coverage = try await client.execute(uri: "/ialirt-download/coverage/x.json", method: .get)
            #expect(coverage.status == .notFound)
        }
    }
}

/// Today's year and day of year (UTC), as the log names of live arrivals carry them.
enum IALiRTTestDay {
    static var now: (year: String, doy: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = Date()
        let doy = calendar.ordinality(of: .day, in: .year, for: date) ?? 0
        return (String(calendar.component(.year, from: date)), String(format: "%03d", doy))
    }
}
