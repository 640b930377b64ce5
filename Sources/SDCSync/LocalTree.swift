import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What `stat(2)` says about a regular file, as the watcher and the mirror compare it between looks.
public struct FileStamp: Sendable, Hashable {
    public var size: Int64
    /// Modification time, nanoseconds since 1970.
    public var modified: Int64
    /// Status-change time (also set by a rename into the folder), nanoseconds since 1970.
    public var changed: Int64

    public init(size: Int64, modified: Int64, changed: Int64) {
        self.size = size
        self.modified = modified
        self.changed = changed
    }
}

/// Blocking file-system helpers (run them on a thread pool, not on the cooperative pool).
enum LocalTree {
    /// The stamp of the regular file at `path` (symbolic links not followed), nil when it is missing or not a file.
    static func stamp(_ path: String) -> FileStamp? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return FileStamp(
            size: Int64(info.st_size),
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            changed: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec))
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// Every regular file under `root` (relative paths), skipping hidden entries and the folders `excluded` holds
    /// (absolute paths), in no particular order. Unreadable folders are skipped.
    static func files(under root: String, excluding excluded: Set<String> = []) -> [String] {
        var found: [String] = []
        var pending = [""]
        while let relative = pending.popLast() {
            let absolute = relative.isEmpty ? root : root + "/" + relative
            guard let directory = opendir(absolute) else { continue }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name.hasPrefix(".") { continue }
                let child = relative.isEmpty ? name : relative + "/" + name
                let childPath = root + "/" + child
                var type = entry.pointee.d_type
                if type == UInt8(DT_UNKNOWN) {
                    var info = stat()
                    guard lstat(childPath, &info) == 0 else { continue }
                    type = info.st_mode & S_IFMT == S_IFDIR ? UInt8(DT_DIR) : info.st_mode & S_IFMT == S_IFREG ? UInt8(DT_REG) : 0
                }
                if type == UInt8(DT_DIR) {
                    if !excluded.contains(childPath) { pending.append(child) }
                } else if type == UInt8(DT_REG) {
                    found.append(child)
                }
            }
        }
        return found
    }

    /// `mkdir -p`.
    static func createDirectories(_ path: String) throws(SyncError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .fileSystem(operation: "create the folder", path: path, reason: "\(error.localizedDescription)")
        }
    }

    /// Moves `source` to `destination` (creating its folder), by `rename(2)`, or by copy and delete across file
    /// systems. An existing destination is replaced.
    static func move(_ source: String, to destination: String) throws(SyncError) {
        try createDirectories((destination as NSString).deletingLastPathComponent)
        if rename(source, destination) == 0 { return }
        guard errno == EXDEV else {
            throw .fileSystem(operation: "move \(source) to", path: destination, reason: lastError())
        }
        do {
            let temporary = destination + ".sdc-moving"
            try? FileManager.default.removeItem(atPath: temporary)
            try FileManager.default.copyItem(atPath: source, toPath: temporary)
            guard rename(temporary, destination) == 0 else {
                throw SyncError.fileSystem(operation: "move \(source) to", path: destination, reason: lastError())
            }
            try FileManager.default.removeItem(atPath: source)
        } catch let error as SyncError {
            throw error
        } catch {
            throw .fileSystem(operation: "move \(source) to", path: destination, reason: error.localizedDescription)
        }
    }

    /// Removes the file at `path`; a missing file is not an error.
    static func remove(_ path: String) throws(SyncError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw .fileSystem(operation: "delete", path: path, reason: lastError())
        }
    }

    /// Writes `text` to `path` (replacing it).
    static func write(_ text: String, to path: String) throws(SyncError) {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .fileSystem(operation: "write", path: path, reason: error.localizedDescription)
        }
    }

    /// A path that does not exist yet: `path`, else `path.1`, `path.2`, ...
    static func unusedPath(_ path: String) -> String {
        var candidate = path
        var counter = 1
        while access(candidate, F_OK) == 0 {
            candidate = "\(path).\(counter)"
            counter += 1
        }
        return candidate
    }

    /// `path` made absolute against the working directory, without `.`/`..` or doubled `/`.
    static func absolute(_ path: String) -> String {
        let base = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts: [Substring] = []
        for part in base.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}
