import SDCCore

/// Parallel loops of the CDF codec, on ``ProcessingPool/shared``.
enum Parallel {
    /// Calls `body` for every index in `0..<count` on the calling thread and up to `width - 1` threads of the
    /// processing pool; `body` must only touch memory that no other index touches (disjoint output regions).
    /// Rethrows the error of the lowest failing index.
    static func forEach(_ count: Int, width: Int, _ body: (Int) throws -> Void) throws {
        var failures = [(any Error)?](repeating: nil, count: count)
        failures.withUnsafeMutableBufferPointer { slots in
            ProcessingPool.shared.forEach(count, width: width) { _, index in
                do { try body(index) } catch { slots[index] = error }
            }
        }
        if let failure = failures.lazy.compactMap({ $0 }).first { throw failure }
    }
}
