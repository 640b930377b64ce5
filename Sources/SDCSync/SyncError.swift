/// What can stop the watcher or the mirror as a whole (one file's failure is logged and recorded instead).
public enum SyncError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The state database at `path` could not be opened, migrated, read or written.
    case state(path: String, reason: String)
    /// A local file operation failed: `operation` names it, `path` is the file, `reason` is `strerror`.
    case fileSystem(operation: String, path: String, reason: String)
    /// inotify could not be set up (and polling was not allowed to replace it).
    case inotify(String)
    /// An option or argument that cannot work, named in the message.
    case configuration(String)

    public var description: String {
        switch self {
        case .state(let path, let reason): "state database \(path): \(reason)"
        case .fileSystem(let operation, let path, let reason): "cannot \(operation) \(path): \(reason)"
        case .inotify(let reason): "inotify: \(reason)"
        case .configuration(let message): message
        }
    }
}
