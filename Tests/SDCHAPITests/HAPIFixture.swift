import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SDCAssembly
import SDCCDF
import SDCCatalog
import SDCCore
import SDCHAPI
import SDCIngest
import SDCServer
import Testing

/// A data center in a temporary folder (real SQLite catalog, filesystem store) holding CDF products of
/// `imap_swapi_l1a_test`, served with the HAPI extension on 127.0.0.1.
///
/// Products: one record every 10 minutes (144 a day). 2025-01-01 v001 and 2025-01-02 v001 + v002 are released,
/// 2025-01-03 v001 is not. Each value encodes its day, version and record (``value(day:version:record:)``).
struct HAPIFixture {
    static let dataset = "imap_swapi_l1a_test"
    static let recordsPerDay = 144
    static let step: Int64 = 600_000_000_000

    let root: URL
    let dataCenter: DataCenter
    let ingestor: Ingestor
    let readKey: String

    init() async throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-hapi-\(UUID().uuidString)")
        dataCenter = try DataCenter(root: root)
        ingestor = dataCenter.ingestor()
        readKey = try await dataCenter.catalog.createKey(name: "reader", scope: .read).secret
        try await ingest(day: 1, version: 1, released: true)
        try await ingest(day: 2, version: 1, released: true)
        try await ingest(day: 2, version: 2, released: true)
        try await ingest(day: 3, version: 1, released: false)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// The `counts` value of a record: day * 1000 + version * 200 + record % 200 (fits CDF_INT2).
    static func value(day: Int, version: Int, record: Int) -> Int16 { Int16(day * 1000 + version * 200 + record % 200) }

    /// TT2000 of record `record` of January `day`, 2025.
    static func time(day: Int, record: Int) throws -> Int64 {
        try TT2000.from(CDFDateTime(year: 2025, month: 1, day: day)) + Int64(record) * step
    }

    /// Writes and ingests the product of January `day`, 2025, version `version`.
    @discardableResult
    func ingest(day: Int, version: Int, released: Bool, records: Int = recordsPerDay, descriptor: String = "test") async throws -> CatalogRecord {
        let name = String(format: "imap_swapi_l1a_%@_202501%02d_v%03d.cdf", descriptor, day, version)
        let path = root.appendingPathComponent("staging-\(name)").path
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Self.writeProduct(path: path, day: day, version: version, records: records)
        return try await ingest(name: name, bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))), released: released)
    }

    /// Ingests `bytes` under `name`.
    @discardableResult
    func ingest(name: String, bytes: [UInt8], released: Bool) async throws -> CatalogRecord {
        let buffer = ByteBuffer(bytes: bytes)
        return try await ingestor.ingest(try IMAPFileName.parse(name), body: [buffer].async, expectedLength: Int64(bytes.count),
                                         maximumSize: 1 << 30, released: released)
    }

    static func writeProduct(path: String, day: Int, version: Int, records: Int) throws {
        let times = try (0..<records).map { try time(day: day, record: $0) }
        func text(_ name: String, _ value: String) -> CDFNamedEntry { CDFNamedEntry(name, .string(value)) }
        func common(_ catdesc: String, units: String, label: String) -> [CDFNamedEntry] {
            [text("CATDESC", catdesc), text("DEPEND_0", "epoch"), text("FIELDNAM", label), text("LABLAXIS", label),
             text("UNITS", units), text("VAR_TYPE", "data")]
        }
        try CDFWriter.write(to: path) { writer in
            try writer.addGlobalAttribute("Logical_source", "imap_swapi_l1a_test")
            try writer.writeVariable(CDFVariableSpec(name: "epoch", dataType: .tt2000, compression: .gzip6,
                                                     attributes: [text("CATDESC", "Time of the record"), text("VAR_TYPE", "support_data")]),
                                     values: .int64(times))
            try writer.writeVariable(CDFVariableSpec(name: "counts", dataType: .int2, compression: .gzip6, attributes:
                common("Counts in the record", units: "counts", label: "Counts")
                    + [CDFNamedEntry("FILLVAL", try CDFAttributeEntry(dataType: .int2, values: .int16([-32768])))]),
                values: .int16((0..<records).map { value(day: day, version: version, record: $0) }))
            try writer.writeVariable(CDFVariableSpec(name: "temperature", dataType: .real4, attributes:
                common("Sensor temperature", units: "degC", label: "T")
                    + [CDFNamedEntry("FILLVAL", try CDFAttributeEntry(dataType: .real4, values: .float([-1e31])))]),
                values: .float((0..<records).map { Float($0) * 0.1 + Float(version) }))
            try writer.writeVariable(CDFVariableSpec(name: "energy", dataType: .real8, dimensions: [4], recordVarying: false,
                                                     attributes: [text("CATDESC", "Energy bin centers"), text("UNITS", "eV"),
                                                                  text("VAR_TYPE", "support_data")]),
                                     values: .double([10, 20, 40, 80]))
            try writer.writeVariable(CDFVariableSpec(name: "spectrum", dataType: .real8, dimensions: [4], compression: .gzip6, attributes:
                common("Counts per energy", units: "counts/s", label: "Rate") + [text("DEPEND_1", "energy")]),
                values: .double((0..<(records * 4)).map { Double($0) / 8 }))
            try writer.writeVariable(CDFVariableSpec(name: "matrix", dataType: .uint4, dimensions: [2, 3], attributes:
                common("A 2 by 3 matrix", units: " ", label: "M")),
                values: .uint32((0..<(records * 6)).map { UInt32($0) + 4_000_000_000 }))
            try writer.writeVariable(CDFVariableSpec(name: "mode", dataType: .char, stringLength: 6, attributes:
                common("Operating mode", units: " ", label: "Mode")),
                values: .strings((0..<records).map { $0 % 2 == 0 ? "hv,on" : "off\"1" }))
        }
    }

    /// The server with the HAPI extension; `datasets` replaces the default dataset cache.
    func application(datasets: HAPIDatasets? = nil) -> some ApplicationProtocol {
        var configuration = ServerConfiguration()
        configuration.port = 0
        let hapi = HAPIService(catalog: dataCenter.catalog, store: dataCenter.store, keys: dataCenter.catalog, datasets: datasets)
        let server = DataCenterServer(configuration: configuration, ingestor: ingestor, keys: dataCenter.catalog,
                                      requestLog: dataCenter.catalog, extensions: [hapi])
        return server.application()
    }

    /// Runs `body` with a live server and an HTTP client.
    func withServer(datasets: HAPIDatasets? = nil, _ body: @escaping @Sendable (HAPIClient) async throws -> Void) async throws {
        try await application(datasets: datasets).test(.live) { client in
            let port = try #require(client.port)
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                try await body(HAPIClient(http: http, base: "http://127.0.0.1:\(port)"))
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }
}

/// A response's status line and body.
struct HAPIAnswer {
    let status: Int
    let reason: String
    let headers: [(String, String)]
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }

    /// The body as JSON.
    func json() throws -> JSONValue { try JSONValue(parsing: body) }

    /// The HAPI status code of a JSON body.
    func hapiCode() throws -> Int? {
        if case .int(let code)? = try json()["status"]?["code"] { return code }
        return nil
    }
}

struct HAPIClient: Sendable {
    let http: HTTPClient
    let base: String

    func get(_ path: String, key: String? = nil) async throws -> HAPIAnswer {
        var request = HTTPClientRequest(url: base + path)
        if let key { request.headers.add(name: "x-api-key", value: key) }
        let response = try await http.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 256 << 20)
        return HAPIAnswer(status: Int(response.status.code), reason: response.status.reasonPhrase,
                          headers: response.headers.map { ($0.name, $0.value) }, body: Array(buffer: body))
    }
}

extension Array where Element: Sendable {
    /// The elements as an async sequence, for ingest bodies.
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// A string, for short expectations.
    public init(stringLiteral value: String) { self = .string(value) }
}
