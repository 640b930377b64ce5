import Foundation
@testable import SDCCDF

/// Locates the shared test data: `$SDC_SHARED/testdata` or `<repo>/../shared/testdata`.
enum TestData {
    static var folder: String {
        if let shared = ProcessInfo.processInfo.environment["SDC_SHARED"] { return shared + "/testdata" }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/testdata").path
    }

    static func cdf(_ name: String) -> String { folder + "/cdf/" + name }

    static func bytes(_ name: String) throws -> [UInt8] {
        try bytes(atPath: cdf(name))
    }

    static func bytes(atPath path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "sdccdf-\(UUID().uuidString)-" + name
    }
}
