import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The log handler of sdc's commands: lines in exactly swift-log's `StreamLogHandler` format
/// (`<time> <level> <label>: <key=value ...> [<source>] <message>`), written to a file descriptor (standard error by
/// default) with one `write(2)` each.
///
/// `StreamLogHandler` formats the time with `localtime` and `strftime` for every line (glibc's `localtime` checks the
/// time zone file each time) and writes through stdio's lock and flush; at one line per request that was about 5% of
/// the server's CPU time. This handler formats the time once per second, formats metadata only for lines it writes,
/// and builds each line in one string.
public struct StandardErrorLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    /// Formatted only when a line is written: Hummingbird and the authentication middleware set metadata on every
    /// request's logger, and most requests write no line through it.
    public var metadata = Logger.Metadata()

    private let label: String
    private let fileDescriptor: Int32

    /// A handler for `label` writing to `fileDescriptor` (standard error unless given), with the logging system's
    /// metadata provider.
    public init(label: String, fileDescriptor: Int32 = STDERR_FILENO, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.fileDescriptor = fileDescriptor
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { _, provided in provided } }
        if let explicit = event.metadata, !explicit.isEmpty { merged.merge(explicit) { _, explicit in explicit } }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        let pretty = Self.prettify(merged)
        let message = event.message.description
        var line = LogClock.timestamp()
        line.reserveCapacity(line.utf8.count + 64 + (pretty?.utf8.count ?? 0) + message.utf8.count)
        line += " "
        line += event.level.rawValue
        if !label.isEmpty {
            line += " "
            line += label
        }
        line += ":"
        if let pretty {
            line += " "
            line += pretty
        }
        line += " ["
        line += event.source
        line += "] "
        line += message
        line += "\n"
        line.withUTF8 { Self.writeAll($0, to: fileDescriptor) }
    }

    /// `key=value` pairs sorted by key, separated by spaces, as `StreamLogHandler` writes them; nil when empty.
    static func prettify(_ metadata: Logger.Metadata) -> String? {
        guard !metadata.isEmpty else { return nil }
        var out = ""
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            if !out.isEmpty { out += " " }
            out += key
            out += "="
            out += value.description
        }
        return out
    }

    /// Writes every byte, retrying interrupted and partial writes; a failing log write is dropped, as stdio would.
    private static func writeAll(_ bytes: UnsafeBufferPointer<UInt8>, to fileDescriptor: Int32) {
        guard var next = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = write(fileDescriptor, next, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            next += written
            remaining -= written
        }
    }
}

/// The current second as `StreamLogHandler` writes it (`strftime` `%Y-%m-%dT%H:%M:%S%z`, local time), formatted once
/// per second.
enum LogClock {
    private static let cached = Mutex<(second: Int, text: String)>((-1, ""))

    static func timestamp() -> String {
        var now = time(nil)
        let second = Int(now)
        if let text = cached.withLock({ $0.second == second ? $0.text : nil }) { return text }
        var local = tm()
        guard localtime_r(&now, &local) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        let text = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        cached.withLock { $0 = (second, text) }
        return text
    }
}
