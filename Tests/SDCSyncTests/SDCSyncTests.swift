import Foundation
import NIOPosix
import SDCClient
import Synchronization
import Testing

@testable import SDCSync

/// A fresh folder under the system's temporary folder, removed afterwards.
private func withScratchFolder<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = NSTemporaryDirectory() + "sdc-sync-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// Records the events of a source as they come, so a test can wait for observable progress.
private final class EventRecorder: Sendable {
    private final class Log: Sendable {
        let events = Mutex<[DirectoryEvent]>([])
    }

    private let log = Log()
    private let task: Task<Void, Never>
    let source: any DirectoryEventSource

    init(_ source: any DirectoryEventSource) {
        self.source = source
        let log = self.log
        task = Task { for await event in source.events { log.events.withLock { $0.append(event) } } }
    }

    var events: [DirectoryEvent] { log.events.withLock { $0 } }

    /// Waits (polling every 20 ms, at most `timeout`) until `predicate` holds for the events so far.
    func wait(for what: String, timeout: Duration = .seconds(60), _ predicate: ([DirectoryEvent]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !predicate(events) {
            guard ContinuousClock.now < deadline else { throw WaitTimeout(what: what, seen: events) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func stop() async {
        source.stop()
        await task.value
    }
}

private struct WaitTimeout: Error, CustomStringConvertible {
    var what: String
    var seen: [DirectoryEvent]
    var description: String { "timed out waiting for \(what); events: \(seen)" }
}

@Suite("Watch: names, options, state")
struct WatchBasicsTests {
    @Test func namesAreCheckedWithTheIMAPGrammar() {
        #expect(FileWatcher.nameProblem("imap_swapi_l0_raw_20250101_v001.pkts") == nil)
        #expect(FileWatcher.nameProblem("imap_mag_l1a_norm-mago_20250101_v001.0000.cdf") == nil)
        let bad = FileWatcher.nameProblem("notes.txt")
        #expect(bad?.contains("notes.txt is not a valid IMAP file name") == true)
        // Above Level 0 a science name needs a major version, as imap-data-access demands.
        #expect(FileWatcher.nameProblem("imap_mag_l1a_norm-mago_20250101_v001.cdf")?.contains("vMMM.mmmm") == true)
    }

    @Test func afterUploadParsesItsThreeForms() {
        #expect(AfterUpload(argument: "keep") == .keep)
        #expect(AfterUpload(argument: "delete") == .delete)
        #expect(AfterUpload(argument: "move:/srv/sent") == .move("/srv/sent"))
        #expect(AfterUpload(argument: "move:") == nil)
        #expect(AfterUpload(argument: "remove") == nil)
    }

    @Test func stateSurvivesReopeningAndKeepsTheFirstStart() async throws {
        try await withScratchFolder { folder in
            let path = folder + "/state/watch.sqlite"
            let first = try WatchState(path: path)
            #expect(try await first.watchingSince(now: 100) == 100)
            try await first.record(WatchRecord(path: "a/x.pkts", size: 3, modified: 7, sha256: "ab", outcome: .uploaded, attempts: 1, detail: nil))
            try await first.record(WatchRecord(path: "bad.txt", size: 1, modified: 2, sha256: nil, outcome: .rejected, attempts: 0, detail: "why"))
            try await first.record(WatchRecord(path: "a/x.pkts", size: 4, modified: 8, sha256: "cd", outcome: .conflict, attempts: 2, detail: "differs"))

            let reopened = try WatchState(path: path)
            #expect(try await reopened.watchingSince(now: 999) == 100)
            let records = try await reopened.all().sorted { $0.path < $1.path }
            #expect(records.map(\.path) == ["a/x.pkts", "bad.txt"])
            #expect(records[0].outcome == .conflict && records[0].sha256 == "cd" && records[0].size == 4)
            #expect(records[1].detail == "why")
        }
    }

    @Test func excludedFoldersAreTheRejectedStateAndMoveFolders() {
        var configuration = WatchConfiguration(directory: "/data/in")
        configuration.afterUpload = .move("/data/in/sent")
        #expect(configuration.excludedFolders == ["/data/in/rejected", "/data/in/.sdc-watch", "/data/in/sent"])
    }
}

@Suite("Watch: directory events")
struct DirectoryEventTests {
    @Test func inotifyReportsClosedAndMovedInFilesAndNewFolders() async throws {
        try await withScratchFolder { folder in
            try FileManager.default.createDirectory(atPath: folder + "/rejected", withIntermediateDirectories: true)
            let recorder = EventRecorder(InotifySource(root: folder, excluded: [folder + "/rejected"]))
            try await recorder.wait(for: "the watches") { $0.contains(.ready) }
            _ = FileManager.default.createFile(atPath: folder + "/written.pkts", contents: Data([1, 2, 3]))
            _ = FileManager.default.createFile(atPath: folder + "/.hidden-tmp", contents: Data([4]))
            try FileManager.default.moveItem(atPath: folder + "/.hidden-tmp", toPath: folder + "/moved.pkts")
            _ = FileManager.default.createFile(atPath: folder + "/rejected/ignored.pkts", contents: Data([5]))
            try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
            // The new folder is watched before its event is reported.
            try await recorder.wait(for: "the new folder") { $0.contains(.directory("sub")) }
            _ = FileManager.default.createFile(atPath: folder + "/sub/deep.pkts", contents: Data([6]))
            try await recorder.wait(for: "the three files") { seen in
                seen.contains(.file("sub/deep.pkts")) && seen.contains(.file("moved.pkts")) && seen.contains(.file("written.pkts"))
            }
            await recorder.stop()
            let seen = recorder.events
            #expect(seen.first == .ready)
            #expect(!seen.contains(.file("rejected/ignored.pkts")))
            #expect(!seen.contains(.file(".hidden-tmp")))
        }
    }

    @Test func pollingReportsNewAndChangedFiles() async throws {
        try await withScratchFolder { folder in
            _ = FileManager.default.createFile(atPath: folder + "/old.pkts", contents: Data([1]))
            _ = FileManager.default.createFile(atPath: folder + "/same.pkts", contents: Data([1]))
            // A pool of its own: the shared one may be busy with other suites' blocking work when tests run in parallel.
            let pool = NIOThreadPool(numberOfThreads: 1)
            pool.start()
            let recorder = EventRecorder(PollingSource(root: folder, excluded: [], interval: .milliseconds(50), threadPool: pool))
            try await recorder.wait(for: "the first listing") { $0.contains(.ready) }
            try FileManager.default.createDirectory(atPath: folder + "/new", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: folder + "/new/one.pkts", contents: Data([2]))
            let handle = try #require(FileHandle(forWritingAtPath: folder + "/old.pkts"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data([3, 4]))
            try handle.close()
            try await recorder.wait(for: "the new and the changed file") { seen in
                seen.contains(.file("new/one.pkts")) && seen.contains(.file("old.pkts"))
            }
            await recorder.stop()
            #expect(recorder.events.first == .ready)
            #expect(!recorder.events.contains(.file("same.pkts")))
            try await pool.shutdownGracefully()
        }
    }

    @Test func leftoverPartialDownloadsAreRecognised() {
        #expect(Mirror.isPartialName("imap_swapi_l0_raw_20250101_v001.pkts.part-1f3a"))
        #expect(!Mirror.isPartialName("imap_swapi_l0_raw_20250101_v001.pkts"))
        #expect(!Mirror.isPartialName("report.part-final"))
    }
}

@Suite("Mirror: state")
struct MirrorStateTests {
    @Test func filesAndCursorsPersist() async throws {
        try await withScratchFolder { folder in
            let path = folder + "/m/state.sqlite"
            let state = try MirrorState(path: path)
            #expect(try await state.cursor(for: "instrument=mag") == MirrorCursor())
            try await state.record(MirroredFile(key: "imap/mag/l1a/2025/01/a.cdf", size: 10, modified: 5, sha256: "aa", ingestionDate: "20250102 00:00:00"))
            try await state.record(MirroredFile(key: "imap/mag/l1a/2025/01/b.cdf", size: 11, modified: 6, sha256: "bb", ingestionDate: "20250103 00:00:00"))
            try await state.forget("imap/mag/l1a/2025/01/a.cdf")
            try await state.setCursor(MirrorCursor(highWater: "20250103 00:00:00", lastFullPass: 42), for: "instrument=mag")

            let reopened = try MirrorState(path: path)
            let files = try await reopened.files()
            #expect(Array(files.keys) == ["imap/mag/l1a/2025/01/b.cdf"])
            #expect(files["imap/mag/l1a/2025/01/b.cdf"]?.sha256 == "bb")
            #expect(try await reopened.cursor(for: "instrument=mag") == MirrorCursor(highWater: "20250103 00:00:00", lastFullPass: 42))
            #expect(try await reopened.cursor(for: "instrument=swe") == MirrorCursor())
        }
    }

    @Test func anUnwritableStateIsATypedErrorNamingThePath() throws {
        #expect(throws: SyncError.self) { try MirrorState(path: "/proc/sdc-cannot-write/state.sqlite") }
    }
}
