import Synchronization

/// Keys recently found valid, by hash, for a short time, so that most requests authenticate without a database read.
///
/// A key revoked through the catalog that holds the cache is dropped from it at once; a key revoked by another
/// process on the same database (`sdc keys revoke`) stops working within ``lifetime``. Unknown or revoked secrets are
/// never cached, so a new key works at once and a flood of made-up keys cannot fill memory.
final class KeyCache: Sendable {
    /// How long a positive answer is reused.
    let lifetime: Duration
    /// Most keys held; the cache starts over when it is full.
    let capacity: Int
    private let state = Mutex(State())

    private struct State {
        var entries: [String: Entry] = [:]
        /// Counts ``removeAll()`` calls, so that a lookup that raced with a revocation is not remembered.
        var generation: UInt64 = 0
    }

    private struct Entry {
        let info: APIKeyInfo
        let expires: ContinuousClock.Instant
    }

    init(lifetime: Duration = .seconds(1), capacity: Int = 4_096) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// The key with this hash if it was found valid less than ``lifetime`` ago, else the generation to pass to
    /// ``remember(_:hash:generation:)`` after looking the key up.
    func key(forHash hash: String) -> (info: APIKeyInfo?, generation: UInt64) {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let entry = state.entries[hash], now < entry.expires else { return (nil, state.generation) }
            return (entry.info, state.generation)
        }
    }

    /// Remembers a key just found valid, unless the cache was cleared since the lookup began (`generation`).
    func remember(_ info: APIKeyInfo, hash: String, generation: UInt64) {
        let expires = ContinuousClock.now + lifetime
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[hash] = Entry(info: info, expires: expires)
        }
    }

    /// Forgets every key (after a revocation), including lookups in flight.
    func removeAll() {
        state.withLock { state in
            state.entries.removeAll()
            state.generation &+= 1
        }
    }
}
