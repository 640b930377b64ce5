import Foundation
import SDCClient
import SDCCore

/// Where `sdc watch` sends a complete file: checks its name, uploads it, and reads back the checksum the data center
/// holds under that name (to tell a 409 for the same bytes from a conflict).
public protocol WatchUploader: Sendable {
    /// Why `name` cannot be uploaded (the file then goes to the rejected folder with this reason), or nil.
    func nameProblem(_ name: String) -> String?
    /// Uploads the file at `path`; a refusal is ``SDCClientError/http(status:reason:body:)`` with the server's answer.
    func upload(_ path: String) async throws(SDCClientError)
    /// The SHA-256 the data center holds for the file called `name`, or nil when it holds none.
    func storedChecksum(of name: String) async throws(SDCClientError) -> String?
}

/// IMAP's routes, through ``DataAccessClient``: what `sdc watch` does without `--mission`.
public struct IMAPWatchUploader: WatchUploader {
    public let client: DataAccessClient

    public init(client: DataAccessClient) { self.client = client }

    public func nameProblem(_ name: String) -> String? { FileWatcher.nameProblem(name) }

    public func upload(_ path: String) async throws(SDCClientError) { try await client.upload(path) }

    public func storedChecksum(of name: String) async throws(SDCClientError) -> String? { try await client.storedChecksum(of: name) }
}

/// The missions a data center hosts (`sdc watch --mission hermes`, or `imap,hermes`): each file goes to the mission its
/// name is written for, IMAP's files to IMAP's routes and a SWxSOC mission's to `/missions/<m>/upload/`. A name of no
/// watched mission (another mission's, or no mission's) is refused with the reason.
public struct MissionWatchUploader: WatchUploader {
    public let missions: MissionSet
    let imap: DataAccessClient
    let clients: [String: MissionClient]

    /// Uploads `missions`' files: IMAP's with `imap`, the others' with a ``MissionClient`` each of `clients`.
    public init(missions: MissionSet, imap: DataAccessClient, clients: [MissionClient]) {
        self.missions = missions
        self.imap = imap
        self.clients = Dictionary(clients.map { ($0.mission.name, $0) }) { first, _ in first }
    }

    /// The watched mission `name` is written for, or why there is none.
    func destination(of name: String) -> Result<MissionProfile, NamingError> {
        if let owner = missions.owner(of: name) { return .success(owner) }
        let watched = missions.names.joined(separator: ", ")
        if let other = missions.unhostedOwner(of: name) {
            return .failure(NamingError(name: name, message: "\(name) is a file name of \(other.name.uppercased()), not of the watched missions (\(watched))"))
        }
        return .failure(NamingError(name: name, message: "\(name) is not a file name of a watched mission (\(watched))"))
    }

    public func nameProblem(_ name: String) -> String? {
        switch destination(of: name) {
        case .failure(let error): return error.message
        case .success(let mission) where mission.grammar == .imap: return FileWatcher.nameProblem(name)
        case .success(let mission):
            do { _ = try mission.parse(name) } catch { return "\(name) is not a valid \(mission.name) file name: \(error.message)" }
            return nil
        }
    }

    public func upload(_ path: String) async throws(SDCClientError) {
        switch destination(of: URL(fileURLWithPath: path).lastPathComponent) {
        case .failure(let error): throw .invalidArgument(error.message)
        case .success(let mission) where mission.grammar == .imap: try await imap.upload(path)
        case .success(let mission):
            guard let client = clients[mission.name] else { throw .invalidArgument("no client for the mission \(mission.name)") }
            _ = try await client.upload(path)
        }
    }

    /// For a SWxSOC mission: the row of the mission's query (instrument, level and the file's time) whose storage key
    /// is the name's.
    public func storedChecksum(of name: String) async throws(SDCClientError) -> String? {
        guard case .success(let mission) = destination(of: name) else { return nil }
        if mission.grammar == .imap { return try await imap.storedChecksum(of: name) }
        guard let client = clients[mission.name] else { throw .invalidArgument("no client for the mission \(mission.name)") }
        let file: SWxSOCFileName
        do {
            guard case .swxsoc(let parsed) = try mission.parse(name) else { return nil }
            file = parsed
        } catch {
            throw .invalidArgument("\(name) is not a valid \(mission.name) file name: \(error.message)")
        }
        let second = String(file.time.isot.prefix(19))
        let rows = try await client.query([("instrument", file.instrument.name), ("level", file.level),
                                           ("start_time", second), ("end_time", second)])
        for row in rows where row["file_path"] == .string(file.key) {
            if case .string(let sha256)? = row["sha256"] { return sha256 }
        }
        return nil
    }
}
