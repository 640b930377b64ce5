import Foundation
import Logging
import NIOPosix
import SDCClient
import SDCCore
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the watcher does with a file once the data center has it.
public enum AfterUpload: Sendable, Hashable, CustomStringConvertible {
    /// Leave it; the state database remembers it was sent.
    case keep
    /// Delete it.
    case delete
    /// Move it under this folder (absolute), keeping its path relative to the watched folder.
    case move(String)

    /// `keep`, `delete` or `move:DIR` (DIR made absolute against the working directory).
    public init?(argument: String) {
        switch argument {
        case "keep": self = .keep
        case "delete": self = .delete
        default:
            guard argument.hasPrefix("move:"), argument.count > 5 else { return nil }
            self = .move(LocalTree.absolute(String(argument.dropFirst(5))))
        }
    }

    public var description: String {
        switch self {
        case .keep: "keep"
        case .delete: "delete"
        case .move(let folder): "move:\(folder)"
        }
    }
}

/// How `sdc watch` behaves.
public struct WatchConfiguration: Sendable {
    /// The watched folder, absolute.
    public var directory: String
    /// The state database (default `<directory>/.sdc-watch/state.sqlite`).
    public var statePath: String
    /// Where badly named files go, each beside a `.reason` file (default `<directory>/rejected`).
    public var rejectedDirectory: String
    public var afterUpload: AfterUpload = .keep
    /// Upload files that were there before the watcher first started (otherwise only files that arrived since).
    public var backfill = false
    public var detection: DetectionMode = .auto
    /// Time between two listings in polling mode.
    public var pollInterval: Duration = .seconds(2)
    /// A file counts as complete when its size and times stay the same for this long after it was closed, moved in
    /// or first seen.
    public var settle: Duration = .milliseconds(500)
    /// Uploads in flight at once.
    public var concurrency = 4
    /// Attempts per file (on top of the client's own retries of 503s and connection failures) before it is recorded
    /// as failed; failed files are tried again at the next start.
    public var attempts = 8
    public var initialBackoff: Duration = .seconds(1)
    public var maximumBackoff: Duration = .seconds(60)
    /// Time between two progress lines.
    public var progressInterval: Duration = .seconds(10)

    public init(directory: String) {
        self.directory = LocalTree.absolute(directory)
        statePath = self.directory + "/.sdc-watch/state.sqlite"
        rejectedDirectory = self.directory + "/rejected"
    }

    /// Folders inside the watched one that are not watched: the rejected folder, the state's folder and the
    /// after-upload folder.
    var excludedFolders: Set<String> {
        var folders: Set<String> = [rejectedDirectory, (statePath as NSString).deletingLastPathComponent]
        if case .move(let folder) = afterUpload { folders.insert(folder) }
        return folders
    }
}


/// Counts of what the watcher decided since it started.
public struct WatchCounts: Sendable, Hashable, CustomStringConvertible {
    public var uploaded = 0
    public var alreadyPresent = 0
    public var rejected = 0
    public var conflicts = 0
    public var failed = 0
    public var bytes: Int64 = 0

    public var description: String {
        "uploaded \(uploaded), already present \(alreadyPresent), rejected \(rejected), conflicts \(conflicts), failed \(failed)"
    }
}

/// The FSWatcher (swxsoc.md §2) as a ServiceLifecycle service: watches a folder tree, waits until each file is
/// complete, validates its name, uploads it through a ``WatchUploader`` (IMAP's routes, or the hosted missions') with
/// retries and back-off, and records every decision in a ``WatchState`` so that a restart neither uploads a file twice
/// nor misses one.
///
/// On graceful shutdown (SIGTERM) it stops watching, lets uploads in flight finish and returns; files not yet
/// decided are found again by the scan at the next start.
public actor FileWatcher: Service {
    public let configuration: WatchConfiguration
    private let uploader: any WatchUploader
    private let state: WatchState
    private let logger: Logger
    private let threadPool: NIOThreadPool

    private var known: [String: WatchRecord] = [:]
    private var watchingSince: Int64 = 0
    /// Files waiting to be complete: their last stamp (nil until first looked at) and when to look again.
    private var settling: [String: (stamp: FileStamp?, due: ContinuousClock.Instant)] = [:]
    private var queue: [String] = []
    private var queueHead = 0
    private var queued: Set<String> = []
    private var inFlight: Set<String> = []
    /// Files that changed while being uploaded: looked at again afterwards.
    private var recheck: Set<String> = []
    private var waiters: [CheckedContinuation<String?, Never>] = []
    private var closed = false
    private var source: (any DirectoryEventSource)?
    private var skippedPreexisting = 0
    public private(set) var counts = WatchCounts()

    /// A watcher uploading to IMAP's routes.
    public init(configuration: WatchConfiguration, client: DataAccessClient, state: WatchState, logger: Logger,
                threadPool: NIOThreadPool = .singleton) {
        self.init(configuration: configuration, uploader: IMAPWatchUploader(client: client), state: state, logger: logger, threadPool: threadPool)
    }

    /// A watcher uploading through `uploader` (for example to the hosted missions' routes).
    public init(configuration: WatchConfiguration, uploader: any WatchUploader, state: WatchState, logger: Logger,
                threadPool: NIOThreadPool = .singleton) {
        self.configuration = configuration
        self.uploader = uploader
        self.state = state
        self.logger = logger
        self.threadPool = threadPool
    }

    public func run() async throws {
        watchingSince = try await state.watchingSince(now: Self.nowNanoseconds())
        for record in try await state.all() { known[record.path] = record }
        logger.notice("watching", metadata: [
            "folder": "\(configuration.directory)", "state": "\(state.path)", "recorded": "\(known.count)",
            "detection": "\(configuration.detection.rawValue)", "after_upload": "\(configuration.afterUpload)",
            "backfill": "\(configuration.backfill)",
        ])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await self.consumeEvents() }
                group.addTask { await self.settleLoop() }
                group.addTask { await self.progressLoop() }
                for _ in 0..<max(1, self.configuration.concurrency) {
                    group.addTask {
                        while let path = await self.nextReady() { await self.process(path) }
                    }
                }
            }
        } onGracefulShutdown: {
            Task { await self.close() }
        }
        logger.notice("stopped", metadata: ["decided": "\(counts)"])
    }

    /// Stops watching and hands no more files to the uploaders.
    public func close() {
        guard !closed else { return }
        closed = true
        source?.stop()
        for waiter in waiters { waiter.resume(returning: nil) }
        waiters.removeAll()
    }

    // MARK: Events

    private func makeSource(_ mode: DetectionMode) -> any DirectoryEventSource {
        switch mode {
        case .auto, .inotify:
            InotifySource(root: configuration.directory, excluded: configuration.excludedFolders)
        case .poll:
            PollingSource(root: configuration.directory, excluded: configuration.excludedFolders,
                          interval: configuration.pollInterval, threadPool: threadPool)
        }
    }

    private func consumeEvents() async throws {
        var mode = configuration.detection
        while !closed {
            let current = makeSource(mode)
            source = current
            if closed { current.stop() }
            for await event in current.events {
                switch event {
                case .unavailable(let reason):
                    guard mode == .auto else { throw SyncError.inotify(reason) }
                    logger.warning("inotify unavailable, polling instead", metadata: ["reason": "\(reason)",
                                                                                      "interval": "\(configuration.pollInterval)"])
                    mode = .poll
                case .ready, .overflow:
                    if event == .overflow { logger.warning("inotify queue overflowed: scanning the whole folder") }
                    await scan("")
                case .directory(let relative):
                    await scan(relative)
                case .file(let relative):
                    noticed(relative, stamp: nil, fromScan: false)
                }
            }
            if mode != .poll || closed { break }
        }
    }

    /// Lists the files under `relative` ("" for everything) and considers each.
    private func scan(_ relative: String) async {
        let root = configuration.directory
        let excluded = configuration.excludedFolders
        let base = relative.isEmpty ? root : root + "/" + relative
        let found: [(String, FileStamp)]
        do {
            found = try await threadPool.runIfActive {
                LocalTree.files(under: base, excluding: excluded).compactMap { path in
                    LocalTree.stamp(base + "/" + path).map { (relative.isEmpty ? path : relative + "/" + path, $0) }
                }
            }
        } catch {
            logger.error("scan failed", metadata: ["folder": "\(base)", "error": "\(error)"])
            return
        }
        let before = skippedPreexisting
        for (path, stamp) in found { noticed(path, stamp: stamp, fromScan: true) }
        if skippedPreexisting > before {
            logger.notice("files older than the watcher's first start left alone (use --backfill to upload them)",
                          metadata: ["count": "\(skippedPreexisting - before)"])
        }
    }

    /// A file may be new or changed: it settles, unless it is already decided with the same size and time, or it was
    /// there before the watcher first started (without --backfill).
    private func noticed(_ path: String, stamp: FileStamp?, fromScan: Bool) {
        if closed { return }
        if inFlight.contains(path) {
            recheck.insert(path)
            return
        }
        if queued.contains(path) { return }
        if let stamp {
            if let record = known[path], record.outcome.isFinal, record.size == stamp.size, record.modified == stamp.modified {
                if configuration.afterUpload != .keep, record.outcome == .uploaded || record.outcome == .alreadyPresent {
                    // Decided before a crash that came before the after-upload step.
                    enqueue(path)
                }
                return
            }
            if fromScan, !configuration.backfill, known[path] == nil,
               max(stamp.changed, stamp.modified) < watchingSince {
                skippedPreexisting += 1
                return
            }
        }
        settling[path] = (stamp, .now + (stamp == nil ? .zero : configuration.settle))
    }

    /// Every tick, looks again at the files whose time has come: one whose stamp did not change is complete.
    private func settleLoop() async {
        let tick = max(min(configuration.settle, .milliseconds(100)), .milliseconds(10))
        while !closed {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let due = settling.filter { $0.value.due <= now }
            if due.isEmpty { continue }
            let root = configuration.directory
            let paths = Array(due.keys)
            guard let stamps = try? await threadPool.runIfActive({ paths.map { LocalTree.stamp(root + "/" + $0) } }) else { continue }
            for (path, stamp) in zip(paths, stamps) {
                guard let previous = settling[path], previous.due <= now else { continue }
                guard let stamp else {
                    settling[path] = nil
                    continue
                }
                if previous.stamp == stamp {
                    settling[path] = nil
                    if let record = known[path], record.outcome.isFinal, record.size == stamp.size, record.modified == stamp.modified { continue }
                    enqueue(path)
                } else {
                    settling[path] = (stamp, .now + configuration.settle)
                }
            }
        }
    }

    private func enqueue(_ path: String) {
        guard !queued.contains(path), !inFlight.contains(path) else { return }
        if let waiter = waiters.popLast() {
            inFlight.insert(path)
            waiter.resume(returning: path)
            return
        }
        queued.insert(path)
        queue.append(path)
    }

    /// The next complete file for an uploader, or nil once the watcher is closed.
    private func nextReady() async -> String? {
        if closed { return nil }
        if queueHead < queue.count {
            let path = queue[queueHead]
            queueHead += 1
            if queueHead > 4096, queueHead * 2 > queue.count {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            queued.remove(path)
            inFlight.insert(path)
            return path
        }
        return await withCheckedContinuation { waiters.append($0) }
    }

    private func progressLoop() async {
        var last = counts
        var lastTime = ContinuousClock.now
        var next = lastTime
        while !closed {
            next += configuration.progressInterval
            while !closed, ContinuousClock.now < next { try? await Task.sleep(for: min(.milliseconds(250), next - .now)) }
            if closed { break }
            let now = ContinuousClock.now
            guard counts != last || !settling.isEmpty || queueHead < queue.count else { continue }
            let done = counts.uploaded + counts.alreadyPresent - last.uploaded - last.alreadyPresent
            let seconds = Double((now - lastTime).components.seconds) + Double((now - lastTime).components.attoseconds) * 1e-18
            logger.notice("progress", metadata: [
                "uploaded": "\(counts.uploaded)", "already_present": "\(counts.alreadyPresent)", "rejected": "\(counts.rejected)",
                "conflicts": "\(counts.conflicts)", "failed": "\(counts.failed)", "queued": "\(queue.count - queueHead)",
                "settling": "\(settling.count)", "in_flight": "\(inFlight.count)",
                "files_per_second": "\(seconds > 0 ? (Double(done) / seconds * 10).rounded() / 10 : 0)",
            ])
            last = counts
            lastTime = now
        }
    }

    // MARK: One file

    private func process(_ path: String) async {
        await decide(path)
        inFlight.remove(path)
        if recheck.remove(path) != nil { noticed(path, stamp: nil, fromScan: false) }
    }

    private func decide(_ relative: String) async {
        let path = configuration.directory + "/" + relative
        let name = String(relative.split(separator: "/").last ?? Substring(relative))

        if let reason = uploader.nameProblem(name) {
            await reject(relative, reason: reason)
            return
        }
        let looked: (FileStamp, String)?
        do {
            looked = try await threadPool.runIfActive { () throws -> (FileStamp, String)? in
                guard let stamp = LocalTree.stamp(path) else { return nil }
                return (stamp, try DataAccessClient.sha256(ofFileAt: path))
            }
        } catch {
            logger.warning("cannot read the file; it is tried again when it changes", metadata: ["file": "\(relative)", "error": "\(error)"])
            return
        }
        guard let (stamp, sha256) = looked else { return }
        if let record = known[relative], record.outcome.isFinal, record.sha256 == sha256,
           record.outcome == .uploaded || record.outcome == .alreadyPresent {
            // Same bytes as already sent (touched, or decided before a crash that came before the after-upload step).
            await finish(WatchRecord(path: relative, size: stamp.size, modified: stamp.modified, sha256: sha256,
                                     outcome: record.outcome, attempts: record.attempts, detail: record.detail), countAs: nil)
            return
        }

        var attempt = 0
        var lastError = ""
        while attempt < configuration.attempts {
            attempt += 1
            do {
                try await uploader.upload(path)
                logger.info("uploaded", metadata: ["file": "\(relative)", "bytes": "\(stamp.size)", "sha256": "\(sha256)"])
                await finish(WatchRecord(path: relative, size: stamp.size, modified: stamp.modified, sha256: sha256,
                                         outcome: .uploaded, attempts: attempt, detail: nil), countAs: .uploaded)
                return
            } catch .http(409, _, _) {
                let stored: String?
                do {
                    stored = try await uploader.storedChecksum(of: name)
                } catch {
                    lastError = "409 FileAlreadyExists, then the stored checksum could not be read: \(error.message)"
                    if await backOff(after: attempt, file: relative, error: lastError) { continue } else { return }
                }
                guard let stored else {
                    lastError = "409 FileAlreadyExists, but the data center has no such file any more"
                    if await backOff(after: attempt, file: relative, error: lastError) { continue } else { return }
                }
                if stored == sha256 {
                    logger.info("already in the data center with the same bytes", metadata: ["file": "\(relative)", "sha256": "\(sha256)"])
                    await finish(WatchRecord(path: relative, size: stamp.size, modified: stamp.modified, sha256: sha256,
                                             outcome: .alreadyPresent, attempts: attempt, detail: nil), countAs: .alreadyPresent)
                } else {
                    let detail = "the data center already holds different bytes under this name (stored SHA-256 \(stored), local \(sha256)); not overwritten"
                    logger.error("conflict", metadata: ["file": "\(relative)", "detail": "\(detail)"])
                    await finish(WatchRecord(path: relative, size: stamp.size, modified: stamp.modified, sha256: sha256,
                                             outcome: .conflict, attempts: attempt, detail: detail), countAs: .conflict)
                }
                return
            } catch .http(400, _, let body) {
                await reject(relative, reason: "the data center refused the name: \(body)")
                return
            } catch .http(let status, _, let body) where status == 401 || status == 403 {
                // The key cannot upload: more attempts cannot help; the file is tried again at the next start.
                lastError = "\(status): the API key may not upload: \(body)"
                break
            } catch .invalidArgument(let message) {
                await reject(relative, reason: message)
                return
            } catch .fileNotFound {
                logger.info("file vanished before its upload", metadata: ["file": "\(relative)"])
                return
            } catch {
                lastError = error.message
                if await backOff(after: attempt, file: relative, error: lastError) { continue } else { return }
            }
        }
        logger.error("upload failed; tried again at the next start", metadata: [
            "file": "\(relative)", "attempts": "\(attempt)", "error": "\(lastError)",
        ])
        await finish(WatchRecord(path: relative, size: stamp.size, modified: stamp.modified, sha256: sha256,
                                 outcome: .failed, attempts: attempt, detail: lastError), countAs: .failed)
    }

    /// Waits before the next attempt (exponential, bounded); false when the watcher closed meanwhile or the
    /// attempts are used up.
    private func backOff(after attempt: Int, file: String, error: String) async -> Bool {
        guard attempt < configuration.attempts else { return false }
        var delay = configuration.initialBackoff
        for _ in 1..<attempt { delay = min(delay * 2, configuration.maximumBackoff) }
        logger.warning("upload attempt failed; retrying", metadata: [
            "file": "\(file)", "attempt": "\(attempt)", "error": "\(error)", "delay": "\(delay)",
        ])
        let end = ContinuousClock.now + delay
        while ContinuousClock.now < end {
            if closed { return false }
            try? await Task.sleep(for: min(.milliseconds(250), end - .now))
        }
        return !closed
    }

    /// Records a decision, counts it, and applies the after-upload step to files the data center holds.
    private func finish(_ record: WatchRecord, countAs outcome: WatchOutcome?) async {
        do {
            try await state.record(record)
        } catch {
            logger.error("cannot record the decision; the file is looked at again at the next start",
                         metadata: ["file": "\(record.path)", "error": "\(error)"])
        }
        known[record.path] = record
        switch outcome {
        case .uploaded:
            counts.uploaded += 1
            counts.bytes += record.size
        case .alreadyPresent: counts.alreadyPresent += 1
        case .conflict: counts.conflicts += 1
        case .failed: counts.failed += 1
        case .rejected: counts.rejected += 1
        case nil: break
        }
        guard record.outcome == .uploaded || record.outcome == .alreadyPresent, configuration.afterUpload != .keep else { return }
        let source = configuration.directory + "/" + record.path
        let action = configuration.afterUpload
        do {
            try await threadPool.runIfActive { () throws in
                switch action {
                case .keep: break
                case .delete: try LocalTree.remove(source)
                case .move(let folder): try LocalTree.move(source, to: folder + "/" + record.path)
                }
            }
        } catch {
            logger.error("after-upload step failed", metadata: ["file": "\(record.path)", "step": "\(action)", "error": "\(error)"])
        }
    }

    /// Moves a badly named file to the rejected folder, beside a `.reason` file saying why.
    private func reject(_ relative: String, reason: String) async {
        let source = configuration.directory + "/" + relative
        let target = configuration.rejectedDirectory + "/" + relative
        let stamp: FileStamp?
        do {
            stamp = try await threadPool.runIfActive { () throws -> FileStamp? in
                guard let stamp = LocalTree.stamp(source) else { return nil }
                let destination = LocalTree.unusedPath(target)
                try LocalTree.move(source, to: destination)
                try LocalTree.write("\(reason)\n", to: destination + ".reason")
                return stamp
            }
        } catch {
            logger.error("cannot move the rejected file", metadata: ["file": "\(relative)", "reason": "\(reason)", "error": "\(error)"])
            return
        }
        guard let stamp else { return }
        logger.warning("rejected", metadata: ["file": "\(relative)", "reason": "\(reason)", "moved_to": "\(configuration.rejectedDirectory)"])
        await finish(WatchRecord(path: relative, size: stamp.size, modified: stamp.modified, sha256: nil, outcome: .rejected,
                                 attempts: 0, detail: reason), countAs: .rejected)
    }

    /// Why `name` cannot be uploaded, or nil: not a valid IMAP file name in any class (naming.md), or a science name
    /// above Level 0 without a major version (refused by imap-data-access and sdc's client).
    static func nameProblem(_ name: String) -> String? {
        let parsed: IMAPFileName
        do {
            parsed = try IMAPFileName.parse(name)
        } catch {
            return "\(name) is not a valid IMAP file name: \(error.message)"
        }
        if parsed.fileClass == .science, let science = parsed.science, science.version.major == nil, science.dataLevel != .l0 {
            return "\(name): science files above Level 0 need a vMMM.mmmm version (imap-data-access refuses vXXX)"
        }
        return nil
    }

    static func nowNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
