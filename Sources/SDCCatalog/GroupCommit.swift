import GRDB
import Synchronization

/// Group commit: small write transactions of concurrent callers (upload reservations and commits) share one SQLite
/// transaction, so that one fsync of the write-ahead log makes a whole batch durable instead of one caller's row.
///
/// Each caller's work runs in its own savepoint inside the batch, so a failure (a key already reserved) undoes only
/// that caller's changes. Every caller is answered only after the batch has committed: a caller that returns has its
/// row on disk, exactly as with a transaction of its own. Batches form by themselves, without waiting on a timer:
/// whatever arrives while SQLite's one writer is busy goes into the next batch, and a lone caller is committed at once.
final class GroupCommit: Sendable {
    private let pool: DatabasePool
    private let pending = Mutex<[Operation]>([])

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// One caller's work and how to answer it.
    private struct Operation: Sendable {
        /// Runs the work inside the batch's transaction, in its own savepoint.
        let run: @Sendable (Database) -> Void
        /// Answers the caller: with the batch's error when it did not commit, else with the work's own outcome.
        let finish: @Sendable ((any Error)?) -> Void
    }

    /// The outcome of one caller's work, written and read on SQLite's writer queue only (run, then finish).
    private final class Outcome<T: Sendable>: @unchecked Sendable {
        var result: Result<T, any Error> = .failure(CatalogError.database("the write did not run"))
    }

    /// Runs `body` in the next batch; returns once the batch is durable.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let outcome = Outcome<T>()
            let operation = Operation(
                run: { db in
                    do {
                        try db.inSavepoint {
                            outcome.result = .success(try body(db))
                            return .commit
                        }
                    } catch {
                        outcome.result = .failure(error)
                    }
                },
                finish: { batchError in
                    if let batchError {
                        continuation.resume(throwing: batchError)
                    } else {
                        continuation.resume(with: outcome.result)
                    }
                })
            pending.withLock { $0.append(operation) }
            pool.asyncWriteWithoutTransaction { [self] db in commitPending(db) }
        }
    }

    /// Runs every waiting operation in one transaction and answers them (on SQLite's writer queue). A later call finds
    /// nothing left when an earlier one took its operation along.
    private func commitPending(_ db: Database) {
        let batch = pending.withLock { operations in
            defer { operations.removeAll(keepingCapacity: true) }
            return operations
        }
        guard !batch.isEmpty else { return }
        do {
            try db.inTransaction(.immediate) {
                for operation in batch { operation.run(db) }
                return .commit
            }
        } catch {
            for operation in batch { operation.finish(error) }
            return
        }
        for operation in batch { operation.finish(nil) }
    }
}
