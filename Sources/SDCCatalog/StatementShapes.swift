import GRDB
import Synchronization

/// Which query texts keep their prepared statement on each connection (``Database/cachedStatement(sql:)``), so that
/// repeated queries skip SQLite's parser and planner.
///
/// A file query's SQL depends on which filters it uses, so the number of texts is bounded only by the filter
/// combinations: the first ``capacity`` distinct texts are cached and later ones are prepared each time, so that
/// requests cycling through combinations cannot grow the caches without bound.
final class StatementShapes: Sendable {
    /// Most texts cached.
    let capacity: Int
    private let cached = Mutex<Set<String>>([])

    init(capacity: Int = 256) {
        self.capacity = capacity
    }

    /// The statement for `sql` on `db`: cached when its text is (or can still become) one of the cached texts.
    func statement(_ sql: String, in db: Database) throws -> Statement {
        let cache = cached.withLock { texts in
            if texts.contains(sql) { return true }
            guard texts.count < capacity else { return false }
            texts.insert(sql)
            return true
        }
        return cache ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
    }
}
