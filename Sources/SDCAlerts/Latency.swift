import SDCCatalog
import SDCCore
import SDCJobs
import Synchronization

/// Percentiles of the Level 0 receipt → availability time of one instrument's products at one level.
public struct LatencySummary: Sendable, Hashable {
    public var instrument: String
    public var level: String
    public var count: Int
    /// Seconds.
    public var p50: Int64
    public var p90: Int64
    public var p99: Int64
    public var maximum: Int64
    /// How many were available within the requirement.
    public var withinRequirement: Int

    /// Nearest-rank percentiles of `latencies`, grouped by instrument and level, sorted by both.
    public static func summarize(_ latencies: [ProductLatency], requirement: Int64) -> [LatencySummary] {
        let groups = Dictionary(grouping: latencies) { [$0.instrument, $0.level] }
        return groups.map { key, group in
            let seconds = group.map(\.seconds).sorted()
            func percentile(_ p: Double) -> Int64 {
                let rank = Int((p * Double(seconds.count)).rounded(.up))
                return seconds[min(max(rank, 1), seconds.count) - 1]
            }
            return LatencySummary(instrument: key[0], level: key[1], count: seconds.count, p50: percentile(0.5), p90: percentile(0.9),
                                  p99: percentile(0.99), maximum: seconds.last ?? 0,
                                  withinRequirement: seconds.count { $0 <= requirement })
        }.sorted { ($0.instrument, $0.level) < ($1.instrument, $1.level) }
    }
}

/// Records the latency of products as their jobs succeed: for each product of a recently succeeded job, the latest
/// Level 0 file it descends from (following the job store's lineage up, product → inputs → their inputs) gives the
/// receipt time, and the product's own catalog record its availability time.
public struct LatencyTracker: Sendable {
    let jobs: any JobStore
    let catalog: any FileCatalog
    let store: any AlertStore
    /// How many succeeded jobs each pass looks at (most recent first).
    let window: Int
    /// Products already recorded, or found to descend from no Level 0 file, so that a pass does not ask again (forgotten
    /// past 100,000, to bound the memory: the store still refuses a second record).
    private let settled = Settled()

    private final class Settled: Sendable {
        let keys = Mutex<Set<String>>([])
    }

    public init(jobs: any JobStore, catalog: any FileCatalog, store: any AlertStore, window: Int = 500) {
        self.jobs = jobs
        self.catalog = catalog
        self.store = store
        self.window = window
    }

    /// Records the products not yet recorded; returns them.
    public func recordNewProducts() async throws -> [ProductLatency] {
        var recorded: [ProductLatency] = []
        for job in try await jobs.jobs(matching: JobFilter(status: .succeeded, limit: window)) {
            for key in job.outputs where !settled.keys.withLock({ $0.contains(key) }) {
                if try await !store.hasLatency(key: key), let latency = try await latency(ofProduct: key), try await store.recordLatency(latency) {
                    recorded.append(latency)
                }
                settled.keys.withLock { keys in
                    if keys.count >= 100_000 { keys.removeAll() }
                    keys.insert(key)
                }
            }
        }
        return recorded
    }

    /// The latency of the product stored under `key`; nil when it is not a cataloged science product or descends
    /// from no cataloged Level 0 file.
    public func latency(ofProduct key: String) async throws -> ProductLatency? {
        guard let record = try await catalog.record(forKey: key), let science = record.file.science, science.dataLevel != .l0,
              let source = try await latestLevelZero(above: key) else { return nil }
        return ProductLatency(key: key, instrument: science.instrument.rawValue, level: science.dataLevel.rawValue, descriptor: science.descriptor,
                              sourceName: source.file.name, receivedAt: source.ingestionDate, availableAt: record.ingestionDate)
    }

    /// The most recently received Level 0 file among the ancestors of the product `key`.
    private func latestLevelZero(above key: String) async throws -> CatalogRecord? {
        var latest: CatalogRecord?
        var pending = [key]
        var seen: Set<String> = [key]
        while let next = pending.popLast() {
            for name in try await jobs.inputs(ofProduct: next) {
                guard let file = try? IMAPFileName.parse(name), seen.insert(file.key).inserted else { continue }
                if file.science?.dataLevel == .l0 {
                    if let record = try await catalog.record(forKey: file.key), record.ingestionDate > (latest?.ingestionDate ?? UTCTime(secondsSince1970: .min)) {
                        latest = record
                    }
                } else {
                    pending.append(file.key)
                }
            }
        }
        return latest
    }
}
