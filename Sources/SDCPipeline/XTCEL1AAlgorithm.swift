import Foundation
import SDCCore

/// sdc's built-in Level 0 → Level 1A algorithm.
struct XTCEL1AAlgorithm {
    let configuration: XTCEL1AConfiguration

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func run(job: Job, inputs: [URL], outputFolder: URL, log: (String) -> Void) throws -> [URL] {
        throw Failure(description: "the XTCE L1A algorithm is being integrated")
    }
}
