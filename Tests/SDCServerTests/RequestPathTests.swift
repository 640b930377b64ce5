import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// How the part of a request's path after its route (`/download/<key>`, `/upload/<name>`) is read: percent-decoded,
/// with empty segments dropped, and refused with 400 when its percent-encoding is broken.
struct RequestPathTests {
    let science = "imap_swe_l1a_sci_20240105_v001.0000.cdf"
    let scienceKey = "imap/swe/l1a/2024/01/imap_swe_l1a_sci_20240105_v001.0000.cdf"

    @Test func keysArePercentDecodedAndEmptySegmentsDropped() async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        let bytes: [UInt8] = Array("a science file".utf8)
        try await t.server().application().test(.live) { client in
            // The name itself percent-encoded in the upload grant's path.
            let encodedName = science.replacingOccurrences(of: "_", with: "%5F")
            #expect(try await client.upload(encodedName, bytes, key: t.writeKey).status == .ok)
            for uri in ["/api-key/download/\(scienceKey)", "/api-key/download/imap/swe/l1a/2024/01/\(encodedName)",
                        "/api-key/download//imap/swe/l1a//2024/01/\(science)", "/download/imap%2Fswe/l1a/2024/01/\(science)"] {
                let response = try await client.execute(uri: uri, method: .get, headers: [apiKeyHeader: t.readKey])
                #expect(response.status == .ok && Array(buffer: response.body) == bytes, "\(uri)")
            }
            let broken = try await client.execute(uri: "/api-key/download/imap/swe/%ZZ", method: .get, headers: [apiKeyHeader: t.readKey])
            #expect(broken.status == .badRequest && broken.text.contains("'imap/swe/%ZZ' is not valid percent-encoding"), "\(broken.text)")
            let empty = try await client.execute(uri: "/api-key/download/", method: .get, headers: [apiKeyHeader: t.readKey])
            #expect(empty.status == .badRequest && empty.text.contains("No file requested"), "\(empty.text)")
        }
    }
}
