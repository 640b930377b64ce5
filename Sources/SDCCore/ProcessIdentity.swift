import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A process on a host, written `host/pid`: the owner of an upload reservation or a temporary upload file. Start-up
/// recovery uses it to tell the leftovers of a dead process on this host (safe to clean up at once) from another live
/// process's uploads in flight (never touched), whatever their age within the reservation lifetime.
public struct ProcessIdentity: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let pid: Int32

    public init(host: String, pid: Int32) {
        self.host = host
        self.pid = pid
    }

    /// This process.
    public static let current = ProcessIdentity(host: ProcessInfo.processInfo.hostName, pid: getpid())

    /// Parses `host/pid`; nil for any other text.
    public init?(_ text: String) {
        guard let slash = text.lastIndex(of: "/"), let pid = Int32(text[text.index(after: slash)...]), pid > 0 else { return nil }
        self.init(host: String(text[..<slash]), pid: pid)
    }

    public var description: String { "\(host)/\(pid)" }

    /// Whether this names a process of this host that no longer runs (a process ID can be reused, which at worst
    /// delays the clean-up until the reservation lifetime has passed).
    public var hasEndedOnThisHost: Bool {
        guard host == Self.current.host, self != Self.current else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}
