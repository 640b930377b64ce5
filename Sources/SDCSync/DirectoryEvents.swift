import Foundation
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a source of directory events reports; paths are relative to the watched folder.
public enum DirectoryEvent: Sendable, Hashable {
    /// The source watches the whole tree: a full scan now misses nothing.
    case ready
    /// A file was closed after writing, moved in, or (polling) is new or changed.
    case file(String)
    /// A folder appeared (created or moved in): its contents need a scan.
    case directory(String)
    /// Events were lost (the kernel's queue overflowed): everything needs a scan.
    case overflow
    /// The source cannot work (`reason` says why); it has stopped.
    case unavailable(String)
}

/// How the watcher notices new files.
public enum DetectionMode: String, Sendable, CaseIterable {
    /// inotify, or polling when inotify cannot be set up.
    case auto
    /// inotify only (Linux).
    case inotify
    /// Listing the tree every poll interval.
    case poll
}

/// A source of ``DirectoryEvent``s that runs until stopped.
protocol DirectoryEventSource: Sendable {
    /// The events; the stream finishes when the source stops.
    var events: AsyncStream<DirectoryEvent> { get }
    func stop()
}

/// inotify on every folder of the tree, read by a thread of its own (its blocking `poll(2)` never occupies the
/// cooperative pool). New folders are watched as they appear; the thread wakes every 250 ms to see whether it
/// should stop.
final class InotifySource: DirectoryEventSource {
    let events: AsyncStream<DirectoryEvent>
    private let continuation: AsyncStream<DirectoryEvent>.Continuation
    private let root: String
    private let excluded: Set<String>
    private let stopping = Atomic<Bool>(false)

    /// The events inotify reports for the watcher: files finished or moved in, folders created or moved in.
    private static let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR | IN_EXCL_UNLINK)

    /// Starts watching `root` (absolute) and its subfolders except hidden ones and those in `excluded` (absolute).
    init(root: String, excluded: Set<String>) {
        self.root = root
        self.excluded = excluded
        (events, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
        let thread = Thread { [self] in self.run() }
        thread.name = "sdc-inotify"
        thread.start()
    }

    func stop() { stopping.store(true, ordering: .relaxed) }

    private func run() {
        defer { continuation.finish() }
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else {
            continuation.yield(.unavailable("inotify_init1 failed: \(LocalTree.lastError())"))
            return
        }
        defer { close(descriptor) }
        var folders: [Int32: String] = [:]
        func watch(_ relative: String) -> String? {
            var pending = [relative]
            while let folder = pending.popLast() {
                let path = folder.isEmpty ? root : root + "/" + folder
                if excluded.contains(path) { continue }
                let handle = inotify_add_watch(descriptor, path, Self.mask)
                if handle < 0 {
                    if errno == ENOENT || errno == ENOTDIR { continue }
                    return "cannot watch \(path): \(LocalTree.lastError())"
                        + (errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "")
                }
                folders[handle] = folder
                guard let directory = opendir(path) else { continue }
                while let entry = readdir(directory) {
                    let name = Self.name(of: entry)
                    if name.hasPrefix(".") { continue }
                    let child = folder.isEmpty ? name : folder + "/" + name
                    if entry.pointee.d_type == UInt8(DT_DIR) || (entry.pointee.d_type == UInt8(DT_UNKNOWN) && LocalTree.isDirectory(root + "/" + child)) {
                        pending.append(child)
                    }
                }
                closedir(directory)
            }
            return nil
        }
        if let failure = watch("") {
            continuation.yield(.unavailable(failure))
            return
        }
        continuation.yield(.ready)

        let bufferSize = 256 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        while !stopping.load(ordering: .relaxed) {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 250)
            if ready <= 0 { continue }
            while true {
                let count = read(descriptor, buffer, bufferSize)
                if count <= 0 { break }
                var offset = 0
                while offset + MemoryLayout<inotify_event>.size <= count {
                    let event = (buffer + offset).loadUnaligned(as: inotify_event.self)
                    let nameStart = buffer + offset + MemoryLayout<inotify_event>.size
                    let name = String(decoding: UnsafeRawBufferPointer(start: nameStart, count: Int(event.len)).prefix { $0 != 0 }, as: UTF8.self)
                    offset += MemoryLayout<inotify_event>.size + Int(event.len)
                    if event.mask & UInt32(IN_Q_OVERFLOW) != 0 {
                        continuation.yield(.overflow)
                        continue
                    }
                    if event.mask & UInt32(IN_IGNORED) != 0 {
                        folders[event.wd] = nil
                        continue
                    }
                    guard let folder = folders[event.wd], !name.isEmpty, !name.hasPrefix(".") else { continue }
                    let relative = folder.isEmpty ? name : folder + "/" + name
                    if event.mask & UInt32(IN_ISDIR) != 0 {
                        guard event.mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0, !excluded.contains(root + "/" + relative) else { continue }
                        if let failure = watch(relative) {
                            continuation.yield(.unavailable(failure))
                            return
                        }
                        continuation.yield(.directory(relative))
                    } else if event.mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 {
                        continuation.yield(.file(relative))
                    }
                }
            }
        }
    }

    private static func name(of entry: UnsafeMutablePointer<dirent>) -> String {
        withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// Lists the tree every `interval` (on the blocking-I/O thread pool) and reports files that are new or whose size,
/// modification or status-change time differ from the previous listing: the fallback where inotify is unavailable
/// (network file systems, other platforms), as SWxSOC's FSWatcher falls back to `find` every 5 s.
final class PollingSource: DirectoryEventSource {
    let events: AsyncStream<DirectoryEvent>
    private let task: Task<Void, Never>

    init(root: String, excluded: Set<String>, interval: Duration, threadPool: NIOThreadPool) {
        let (events, continuation) = AsyncStream.makeStream(of: DirectoryEvent.self, bufferingPolicy: .unbounded)
        self.events = events
        task = Task {
            defer { continuation.finish() }
            var previous: [String: FileStamp]?
            while !Task.isCancelled {
                let listing: [String: FileStamp]
                do {
                    listing = try await threadPool.runIfActive {
                        var stamps: [String: FileStamp] = [:]
                        for relative in LocalTree.files(under: root, excluding: excluded) {
                            if let stamp = LocalTree.stamp(root + "/" + relative) { stamps[relative] = stamp }
                        }
                        return stamps
                    }
                } catch {
                    continuation.yield(.unavailable("the thread pool stopped: \(error)"))
                    return
                }
                if let previous {
                    for (relative, stamp) in listing where previous[relative] != stamp { continuation.yield(.file(relative)) }
                } else {
                    continuation.yield(.ready)
                }
                previous = listing
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }

    func stop() { task.cancel() }
}
