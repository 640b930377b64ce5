import Foundation
import Logging
import NIOPosix
import SDCClient
import SDCCore
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How `sdc mirror` behaves.
public struct MirrorConfiguration: Sendable {
    /// The local tree, absolute; files go to `<directory>/<storage key>` (the `IMAP_DATA_DIR` layout).
    public var directory: String
    /// The state database (default `<directory>/.sdc-mirror/state.sqlite`).
    public var statePath: String
    /// The table and filters of `GET /query` that select what is mirrored.
    public var query: FileQueryParameters
    /// Only the newest version of each science product (`latest=true`); local copies of older versions the mirror
    /// fetched are deleted when a newer one arrives.
    public var latestOnly = false
    /// Downloads at once.
    public var concurrency = 4
    /// Re-hash every local copy (against the data center's SHA-256) instead of trusting unchanged size and time.
    public var verify = false
    /// Keep local copies of files the data center no longer offers (embargoed again, or removed).
    public var keepWithdrawn = false
    /// How often the whole listing is compared with the local tree (also on the first pass after this long).
    public var reconcileInterval: Duration = .seconds(3600)
    /// Time between passes; nil for one pass.
    public var watchInterval: Duration?
    public var progress: ProgressDisplay = .hidden

    public init(directory: String, query: FileQueryParameters) {
        self.directory = LocalTree.absolute(directory)
        self.statePath = self.directory + "/.sdc-mirror/state.sqlite"
        self.query = query
    }
}

/// What one pass did.
public struct MirrorPassResult: Sendable, Hashable, CustomStringConvertible {
    public var listed = 0
    public var downloaded = 0
    /// Local copies found intact (by SHA-256) that were not yet recorded, or re-hashed with --verify.
    public var verified = 0
    public var unchanged = 0
    /// Local copies removed: withdrawn by the data center, or superseded with --latest.
    public var withdrawn = 0
    public var superseded = 0
    public var failed = 0
    public var bytes: Int64 = 0
    public var full = false

    public var description: String {
        "\(full ? "full" : "incremental") pass: \(listed) listed, \(downloaded) downloaded, \(verified) verified, \(unchanged) unchanged, "
            + "\(withdrawn) withdrawn, \(superseded) superseded, \(failed) failed"
    }
}

/// The S3Watcher turned around (swxsoc.md §3): keeps a local tree in `IMAP_DATA_DIR` layout in step with a data
/// center, incrementally by ingestion date, through ``DataAccessClient`` downloads (temporary file, SHA-256 check,
/// atomic rename). Runs one pass, or one every `watchInterval` as a ServiceLifecycle service.
public final class Mirror: Service {
    public let configuration: MirrorConfiguration
    private let client: DataAccessClient
    private let state: MirrorState
    private let logger: Logger
    private let threadPool: NIOThreadPool
    private let failedPasses = Atomic<Int>(0)

    public init(configuration: MirrorConfiguration, client: DataAccessClient, state: MirrorState, logger: Logger,
                threadPool: NIOThreadPool = .singleton) {
        self.configuration = configuration
        self.client = client
        self.state = state
        self.logger = logger
        self.threadPool = threadPool
    }

    /// Passes with failed files so far (a one-pass run exits non-zero when this is not 0).
    public var failures: Int { failedPasses.load(ordering: .relaxed) }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                var forceFull = self.configuration.verify
                while true {
                    let result = try await self.pass(forceFull: forceFull)
                    forceFull = false
                    if result.failed > 0 { self.failedPasses.add(1, ordering: .relaxed) }
                    guard let interval = self.configuration.watchInterval else { return }
                    try await Task.sleep(for: interval)
                }
            }
        } catch {
            // Stopped by SIGTERM: a pass cut short leaves only verified files and discarded partial downloads.
            if await Task.isShuttingDownGracefully { return }
            throw error
        }
    }

    /// The query's identity in the state (the cursor belongs to one filter set).
    var filterKey: String {
        (try? configuration.query.requestItems().map(\.description).joined(separator: "&")) ?? "\(configuration.query)"
    }

    /// One pass: list, download what is missing or changed, and on a full pass handle files no longer listed.
    public func pass(forceFull: Bool = false) async throws -> MirrorPassResult {
        let now = FileWatcher.nowNanoseconds()
        var cursor = try await state.cursor(for: filterKey)
        let reconcile = Int64(configuration.reconcileInterval.components.seconds) * 1_000_000_000
        var result = MirrorPassResult()
        result.full = forceFull || cursor.highWater == nil || cursor.lastFullPass.map { now - $0 >= reconcile } ?? true

        var query = configuration.query
        if configuration.latestOnly, query.version == nil, query.table == .science { query.version = "latest" }
        if !result.full, let highWater = cursor.highWater {
            let day = String(highWater.prefix(8))
            if !day.isEmpty, query.ingestionStartDate.map({ $0 < day }) ?? true { query.ingestionStartDate = day }
        }
        if (try? query.requestItems()) == nil, query.ingestionStartDate == nil {
            // No filter at all: everything ingested since 1970.
            query.ingestionStartDate = "19700101"
        }
        let rows = try await client.query(query)
        var listed: [(key: String, ingested: String)] = []
        for row in rows {
            guard case .string(let key)? = row["file_path"] else { continue }
            if case .string(let ingested)? = row["ingestion_date"] { listed.append((key, ingested)) } else { listed.append((key, "")) }
        }
        result.listed = listed.count
        let root = configuration.directory
        if result.full {
            let removed = try await threadPool.runIfActive { Self.removeLeftoverPartials(under: root) }
            if removed > 0 { logger.notice("removed partial downloads of an interrupted run", metadata: ["count": "\(removed)"]) }
        }

        var known = try await state.files()
        let keys = listed.map(\.key)
        let stamps = try await threadPool.runIfActive { keys.map { LocalTree.stamp(root + "/" + $0) } }
        var todo: [(key: String, ingested: String)] = []
        for (entry, stamp) in zip(listed, stamps) {
            if !configuration.verify, let file = known[entry.key], let stamp, stamp.size == file.size, stamp.modified == file.modified {
                result.unchanged += 1
            } else {
                if let file = known[entry.key], stamp != nil {
                    logger.warning("local copy changed since it was verified; checking it against the data center",
                                   metadata: ["file": "\(file.key)"])
                }
                todo.append(entry)
            }
        }

        let progress = MirrorProgress(display: configuration.progress, total: todo.count)
        await withTaskGroup(of: (String, Outcome).self) { group in
            var next = 0
            func launch() {
                let entry = todo[next]
                next += 1
                group.addTask { (entry.key, await self.fetch(entry.key, ingested: entry.ingested, progress: progress)) }
            }
            while next < todo.count && next < max(1, configuration.concurrency) { launch() }
            while let (key, outcome) = await group.next() {
                switch outcome {
                case .downloaded(let file):
                    result.downloaded += 1
                    result.bytes += file.size
                    known[key] = file
                case .verified(let file):
                    result.verified += 1
                    known[key] = file
                case .withdrawn:
                    result.withdrawn += 1
                    known[key] = nil
                case .failed:
                    result.failed += 1
                }
                if next < todo.count { launch() }
            }
        }
        progress.finish()

        if result.full {
            let listedKeys = Set(keys)
            for key in known.keys where !listedKeys.contains(key) {
                if try await withdrawIfGone(key) {
                    result.withdrawn += 1
                    known[key] = nil
                }
            }
        }
        if configuration.latestOnly { result.superseded = try await pruneSuperseded(known) }

        if let newest = listed.map(\.ingested).max(), newest > (cursor.highWater ?? "") { cursor.highWater = newest }
        if result.full && result.failed == 0 { cursor.lastFullPass = now }
        try await state.setCursor(cursor, for: filterKey)
        logger.notice("mirror pass", metadata: [
            "full": "\(result.full)", "listed": "\(result.listed)", "downloaded": "\(result.downloaded)", "verified": "\(result.verified)",
            "unchanged": "\(result.unchanged)", "withdrawn": "\(result.withdrawn)", "superseded": "\(result.superseded)",
            "failed": "\(result.failed)", "bytes": "\(result.bytes)",
        ])
        return result
    }

    enum Outcome: Sendable {
        case downloaded(MirroredFile), verified(MirroredFile), withdrawn, failed
    }

    /// Downloads (or verifies the local copy of) one file and records it.
    private func fetch(_ key: String, ingested: String, progress: MirrorProgress) async -> Outcome {
        let path = configuration.directory + "/" + key
        let name = String(key.split(separator: "/").last ?? Substring(key))
        do {
            let download = try await client.download(name)
            let sha256: String
            if let verified = download.sha256 {
                sha256 = verified
            } else {
                sha256 = try await threadPool.runIfActive { try DataAccessClient.sha256(ofFileAt: path) }
            }
            guard let stamp = try await threadPool.runIfActive({ LocalTree.stamp(path) }) else {
                throw SyncError.fileSystem(operation: "find the downloaded file", path: path, reason: "missing")
            }
            let file = MirroredFile(key: key, size: stamp.size, modified: stamp.modified, sha256: sha256, ingestionDate: ingested)
            try await state.record(file)
            progress.advance(bytes: download.reusedLocalCopy ? 0 : stamp.size)
            if download.reusedLocalCopy {
                logger.debug("local copy verified", metadata: ["file": "\(key)"])
                return .verified(file)
            }
            logger.info("downloaded", metadata: ["file": "\(key)", "bytes": "\(stamp.size)", "sha256": "\(sha256)"])
            return .downloaded(file)
        } catch SDCClientError.http(let status, _, let body) where status == 403 || status == 404 {
            progress.advance(bytes: 0)
            logger.warning("listed but not downloadable: withdrawn", metadata: ["file": "\(key)", "status": "\(status)", "body": "\(body)"])
            return (try? await withdraw(key)) == true ? .withdrawn : .failed
        } catch {
            progress.advance(bytes: 0)
            logger.error("download failed", metadata: ["file": "\(key)", "error": "\(error)"])
            return .failed
        }
    }

    /// For a recorded file the listing no longer has: asks the data center (`HEAD /download`). A 403 (embargoed
    /// again) or 404 (removed) withdraws the local copy; a file still there (outside the query's version rule now,
    /// for example) is kept.
    private func withdrawIfGone(_ key: String) async throws -> Bool {
        do {
            if try await client.storedChecksum(of: key) != nil { return false }
        } catch .http(403, _, _) {
        } catch {
            logger.warning("cannot tell whether an unlisted file was withdrawn; kept", metadata: ["file": "\(key)", "error": "\(error)"])
            return false
        }
        return try await withdraw(key)
    }

    /// Forgets a withdrawn file and deletes its local copy (unless keepWithdrawn).
    private func withdraw(_ key: String) async throws -> Bool {
        try await state.forget(key)
        if configuration.keepWithdrawn {
            logger.warning("withdrawn by the data center; local copy kept (--keep-withdrawn)", metadata: ["file": "\(key)"])
            return true
        }
        let path = configuration.directory + "/" + key
        try await threadPool.runIfActive { try LocalTree.remove(path) }
        logger.warning("withdrawn by the data center; local copy deleted", metadata: ["file": "\(key)"])
        return true
    }

    /// With --latest: deletes recorded science files of which a newer version (major, then minor) of the same product
    /// (instrument, level, descriptor, start date, repointing) is recorded too.
    private func pruneSuperseded(_ known: [String: MirroredFile]) async throws -> Int {
        struct Series: Hashable {
            var instrument: String, level: String, descriptor: String, start: String, repointing: Int?
        }
        var newest: [Series: (key: String, version: (Int, Int))] = [:]
        var older: [String] = []
        for key in known.keys.sorted() {
            guard let name = try? IMAPFileName.parse(String(key.split(separator: "/").last ?? "")), name.fileClass == .science,
                  let science = name.science else { continue }
            let series = Series(instrument: science.instrument.rawValue, level: science.dataLevel.rawValue, descriptor: science.descriptor,
                                start: science.startDate.description, repointing: science.repointing)
            let version = (science.version.major ?? -1, science.version.minor)
            if let current = newest[series] {
                if version > current.version {
                    older.append(current.key)
                    newest[series] = (key, version)
                } else {
                    older.append(key)
                }
            } else {
                newest[series] = (key, version)
            }
        }
        for key in older {
            try await state.forget(key)
            let path = configuration.directory + "/" + key
            try await threadPool.runIfActive { try LocalTree.remove(path) }
            logger.notice("superseded by a newer version; local copy deleted (--latest)", metadata: ["file": "\(key)"])
        }
        return older.count
    }

    /// Deletes `*.part-*` files that an interrupted download left (the client writes `<name>.part-<hex>` and renames
    /// it into place); returns how many.
    static func removeLeftoverPartials(under root: String) -> Int {
        var removed = 0
        for relative in LocalTree.files(under: root) where isPartialName(String(relative.split(separator: "/").last ?? "")) {
            if unlink(root + "/" + relative) == 0 { removed += 1 }
        }
        return removed
    }

    /// `<anything>.part-<hex>`.
    static func isPartialName(_ name: String) -> Bool {
        guard let range = name.range(of: ".part-", options: .backwards) else { return false }
        let suffix = name[range.upperBound...]
        return !suffix.isEmpty && suffix.allSatisfy(\.isHexDigit)
    }
}

/// The mirror's progress on a terminal: `mirror 12/40 files 3.1 MiB 4.2 MiB/s`, redrawn at most ten times a second.
final class MirrorProgress: Sendable {
    private struct Counts {
        var done = 0
        var bytes: Int64 = 0
        var lastDrawn: ContinuousClock.Instant?
    }

    private let visible: Bool
    private let total: Int
    private let started = ContinuousClock.now
    private let counts = Mutex(Counts())

    init(display: ProgressDisplay, total: Int) {
        visible = display == .terminal && isatty(STDERR_FILENO) == 1 && total > 0
        self.total = total
    }

    func advance(bytes: Int64) {
        guard visible else { return }
        let now = ContinuousClock.now
        let line: String? = counts.withLock { counts in
            counts.done += 1
            counts.bytes += bytes
            if let last = counts.lastDrawn, now - last < .milliseconds(100), counts.done < total { return nil }
            counts.lastDrawn = now
            return render(counts, now: now)
        }
        if let line { draw("\r" + line + "\u{1B}[K") }
    }

    func finish() {
        guard visible else { return }
        let line = counts.withLock { render($0, now: .now) }
        draw("\r" + line + "\u{1B}[K\n")
    }

    private func render(_ counts: Counts, now: ContinuousClock.Instant) -> String {
        ProgressLine.render(label: "mirror \(counts.done)/\(total) files", completed: counts.bytes, total: nil, elapsed: now - started)
    }

    private func draw(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
