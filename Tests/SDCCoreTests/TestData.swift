import Foundation

/// Locates the shared test data: `$SDC_SHARED/testdata`, else `<repo>/../shared/testdata`.
enum TestData {
    static var root: URL {
        if let shared = ProcessInfo.processInfo.environment["SDC_SHARED"] {
            return URL(fileURLWithPath: shared).appendingPathComponent("testdata")
        }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repository.deletingLastPathComponent().appendingPathComponent("shared/testdata")
    }
}
