#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// POSIX path text handled the way Python's `pathlib` prints it, so reported paths match imap-data-access.
enum LocalPath {
    /// `str(PurePosixPath(path))`: repeated `/` and `.` components removed, no trailing `/`, `.` when empty.
    static func normalized(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// `str(PurePosixPath(base) / relative)`.
    static func join(_ base: String, _ relative: String) -> String {
        relative.hasPrefix("/") ? normalized(relative) : normalized(base + "/" + relative)
    }

    /// `PurePosixPath(path).name`: the last component, `""` for `/`, `.` or an empty path.
    static func name(_ path: String) -> String {
        let last = normalized(path).split(separator: "/").last.map(String.init) ?? ""
        return last == "." ? "" : last
    }

    /// The directory part of a normalized path.
    static func parent(_ path: String) -> String {
        let normal = normalized(path)
        guard let slash = normal.lastIndex(of: "/") else { return "." }
        return slash == normal.startIndex ? "/" : String(normal[..<slash])
    }

    /// The process's working directory.
    static func currentDirectory() -> String {
        guard let buffer = getcwd(nil, 0) else { return "." }
        defer { free(buffer) }
        return String(cString: buffer)
    }

    /// `Path(path).resolve()` (non-strict): absolute, with symbolic links of the existing part resolved and
    /// `..` applied.
    static func resolved(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
        var existing = normalized(absolute)
        var missing: [String] = []
        while existing != "/", realPath(existing) == nil {
            missing.append(name(existing))
            existing = parent(existing)
        }
        let base = realPath(existing) ?? existing
        return lexicallyResolved(([base] + missing.reversed()).joined(separator: "/"))
    }

    private static func realPath(_ path: String) -> String? {
        guard let buffer = realpath(path, nil) else { return nil }
        defer { free(buffer) }
        return String(cString: buffer)
    }

    /// Applies `..` components textually.
    private static func lexicallyResolved(_ path: String) -> String {
        var parts: [Substring] = []
        for part in normalized(path).split(separator: "/") {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// What is at `path`, following symbolic links.
    enum Kind { case missing, file, directory, other }

    static func kind(of path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// The size of the regular file at `path`.
    static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// `mkdir -p`.
    static func createDirectories(_ path: String) throws(SDCClientError) {
        let normal = normalized(path)
        if kind(of: normal) == .directory { return }
        let parentPath = parent(normal)
        if parentPath != normal { try createDirectories(parentPath) }
        if mkdir(normal, 0o777) != 0 && errno != EEXIST {
            throw .fileSystem(operation: "create directory", path: normal, reason: lastErrorDescription())
        }
    }

    static func lastErrorDescription() -> String { String(cString: strerror(errno)) }
}
