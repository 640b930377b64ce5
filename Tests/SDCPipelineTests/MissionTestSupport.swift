import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NIOCore
import SDCStorage
import Testing

/// What the SWxSOC flow's tests share: object bodies from text, a bucket on moto, and a HERMES test package.
enum MissionTestSupport {
    /// An object body holding `text`.
    static func body(_ text: String) -> ObjectBody { ObjectBody(ByteBuffer(string: text)) }

    /// Stores `text` under `key`.
    static func put(_ key: String, _ text: String, in store: any ObjectStore) async throws {
        _ = try await store.put(ObjectKey(key), body: body(text), expectedLength: Int64(text.utf8.count), maximumSize: 1 << 20)
    }

    /// A store in a new bucket of the moto server at `$SDC_TEST_S3_ENDPOINT` (`name` starts the bucket's name).
    static func motoStore(_ name: String) async throws -> S3ObjectStore {
        let endpoint = try #require(ProcessInfo.processInfo.environment["SDC_TEST_S3_ENDPOINT"])
        let bucket = name + "-" + UUID().uuidString.lowercased().prefix(16)
        var create = URLRequest(url: try #require(URL(string: "\(endpoint)/\(bucket)")))
        create.httpMethod = "PUT"
        let (_, created) = try await URLSession.shared.data(for: create)
        try #require((created as? HTTPURLResponse)?.statusCode == 200)
        return S3ObjectStore(location: try S3Location(bucket: bucket, prefix: "archive", endpoint: endpoint, region: "us-east-1"),
                             credentials: AWSCredentials(accessKeyID: "AKIDSDCTESTS", secretAccessKey: "sdc-tests-secret"))
    }

    /// Writes a package `hermes_eea` under `root/packages` and returns that folder (for `PYTHONPATH`): its
    /// `process_file` writes, for an L0 of day D, the L1 `hermes_eea_l1_<D>T000000_v0.1.0.cdf` holding the L0's bytes
    /// reversed; it raises for a file holding "bad", and returns `[None]` for anything but an L0 (as swxsoc's
    /// packages do at their last level).
    static func writeHermesEEAPackage(under root: URL) throws -> URL {
        let module = root.appendingPathComponent("packages/hermes_eea/calibration")
        try FileManager.default.createDirectory(at: module, withIntermediateDirectories: true)
        try "".write(to: module.deletingLastPathComponent().appendingPathComponent("__init__.py"), atomically: true, encoding: .utf8)
        try """
            import datetime
            from pathlib import Path
            def process_file(path):
                path = Path(path)
                if b"bad" in path.read_bytes():
                    raise ValueError("damaged L0")
                if "_l0_" not in path.name:
                    return [None]
                time = datetime.datetime.strptime(path.name.split("_")[3], "%Y%j-%H%M%S")
                out = path.parent / f"hermes_eea_l1_{time:%Y%m%dT%H%M%S}_v0.1.0.cdf"
                out.write_bytes(path.read_bytes()[::-1])
                return [out]
            """.write(to: module.appendingPathComponent("__init__.py"), atomically: true, encoding: .utf8)
        return root.appendingPathComponent("packages")
    }
}
