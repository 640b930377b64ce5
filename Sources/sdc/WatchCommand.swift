import ArgumentParser
import Foundation
import Logging
import SDCClient
import SDCCore
import SDCSync
import ServiceLifecycle

/// `sdc watch`: the directory watcher (SWxSOC's FSWatcher) as a service.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch a folder and its subfolders and upload every complete, well-named file to the data center.",
        discussion: """
            A file is complete when it was closed after writing or moved in (inotify) or, when polling, when its size \
            and times stay the same for --settle seconds. Badly named files move to the rejected folder beside a \
            .reason file. A state database remembers every decision, so a restart neither uploads a file twice nor \
            misses one that arrived while the watcher was down. A 409 for identical bytes counts as done; a 409 for \
            different bytes is reported as a conflict and never overwritten. SIGTERM stops cleanly: uploads in flight \
            finish. Hidden files and folders (names starting with '.') are ignored: write to a hidden name and rename.
            """)

    @Argument(help: "The folder to watch.")
    var directory: String

    @Option(help: "URL of the data center API (default: $IMAP_DATA_ACCESS_URL).")
    var url: String?

    @Option(help: "API key with write scope (default: $IMAP_API_KEY).")
    var apiKey: String?

    @Flag(help: "Also upload files that were in the folder before the watcher first started.")
    var backfill = false

    @Option(help: "After a file is in the data center: keep, delete, or move:DIR (keeping its relative path).")
    var afterUpload: String = "keep"

    @Option(help: "Where badly named files go, each beside a .reason file (default: DIR/rejected).")
    var rejectedDir: String?

    @Option(help: "The state database (default: DIR/.sdc-watch/state.sqlite).")
    var state: String?

    @Option(help: "How new files are noticed: auto (inotify, else polling), inotify, or poll.")
    var detection: String = "auto"

    @Option(help: "Seconds between two listings of the folder when polling.")
    var pollInterval: Double = 2

    @Option(help: "Seconds a file's size and times must stay the same before it is uploaded.")
    var settle: Double = 0.5

    @Option(help: "Uploads in flight at once.")
    var concurrency = 4

    @Option(help: "Attempts per file before it is recorded as failed (tried again at the next start).")
    var attempts = 8

    @Option(help: "Longest wait in seconds between two attempts (the wait doubles from 1 s).")
    var maxBackoff: Double = 60

    @Option(help: "Seconds between two progress lines.")
    var progressInterval: Double = 10

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "The missions whose files to upload, comma-separated (imap, hermes, padre, or missions of --missions-config): each file goes to the mission its name is written for (a SWxSOC mission's to /missions/<m>/upload/); names of other missions are rejected. Default: imap.")
    var mission: String?

    @Option(help: "A missions configuration file defining the missions --mission names (as for sdc serve).")
    var missionsConfig: String?

    /// The watched missions (IMAP alone without --mission).
    func watchedMissions() throws -> MissionSet {
        do {
            return try MissionSet.resolve(names: mission.map { $0.split(separator: ",").map(String.init) } ?? ["imap"],
                                          configuration: try loadMissionConfiguration(missionsConfig))
        } catch let error as MissionConfigurationError {
            throw ValidationError(error.description)
        }
    }

    func validate() throws {
        guard AfterUpload(argument: afterUpload) != nil else {
            throw ValidationError("--after-upload must be keep, delete or move:DIR, not '\(afterUpload)'")
        }
        guard DetectionMode(rawValue: detection) != nil else {
            throw ValidationError("--detection must be auto, inotify or poll, not '\(detection)'")
        }
        guard concurrency >= 1, attempts >= 1 else { throw ValidationError("--concurrency and --attempts must be at least 1") }
        guard pollInterval > 0, settle >= 0, maxBackoff >= 1, progressInterval > 0 else {
            throw ValidationError("--poll-interval and --progress-interval must be positive, --settle not negative, --max-backoff at least 1")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("The folder to watch, \(directory), does not exist")
        }
        _ = try watchedMissions()
    }

    func run() async throws {
        bootstrapLogging(logLevel)
        let logger = Logger(label: "sdc.watch")
        var settings = WatchConfiguration(directory: directory)
        if let rejectedDir { settings.rejectedDirectory = URL(fileURLWithPath: rejectedDir).standardizedFileURL.path }
        if let state { settings.statePath = URL(fileURLWithPath: state).standardizedFileURL.path }
        settings.afterUpload = AfterUpload(argument: afterUpload) ?? .keep
        settings.backfill = backfill
        settings.detection = DetectionMode(rawValue: detection) ?? .auto
        settings.pollInterval = .milliseconds(Int64(pollInterval * 1000))
        settings.settle = .milliseconds(Int64(settle * 1000))
        settings.concurrency = concurrency
        settings.attempts = attempts
        settings.maximumBackoff = .milliseconds(Int64(maxBackoff * 1000))
        settings.progressInterval = .milliseconds(Int64(progressInterval * 1000))

        var client = SDCClientConfiguration(environment: ProcessInfo.processInfo.environment,
                                            currentDirectory: FileManager.default.currentDirectoryPath)
        if let url, !url.isEmpty { client.url = url }
        if let apiKey, !apiKey.isEmpty { client.credentials = .apiKey(apiKey) }
        guard case .apiKey = client.credentials else {
            throw ValidationError("sdc watch uploads: give an API key with write scope (--api-key or $IMAP_API_KEY)")
        }
        let watchState: WatchState
        do { watchState = try WatchState(path: settings.statePath) } catch {
            StandardError.write("sdc watch: \(error)\n")
            throw ExitCode.failure
        }
        let missions = try watchedMissions()
        let clientLogger = Logger(label: "sdc.watch.client")
        try await DataAccessClient.withClient(configuration: client, logger: clientLogger) { imap in
            try await Self.withMissionClients(configuration: client, missions: missions.missions.filter { $0.grammar == .swxsoc }[...],
                                              logger: clientLogger) { clients in
                let uploader: any WatchUploader = missions == .imapOnly ? IMAPWatchUploader(client: imap)
                    : MissionWatchUploader(missions: missions, imap: imap, clients: clients)
                let watcher = FileWatcher(configuration: settings, uploader: uploader, state: watchState, logger: logger)
                let group = ServiceGroup(configuration: .init(
                    services: [.init(service: watcher)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            }
        }
    }

    /// Runs `body` with a client of each of `missions` (each living exactly as long as the call).
    private static func withMissionClients(configuration: SDCClientConfiguration, missions: ArraySlice<MissionProfile>, logger: Logger,
                                           opened: [MissionClient] = [], _ body: ([MissionClient]) async throws -> Void) async throws {
        guard let first = missions.first else { return try await body(opened) }
        try await MissionClient.withClient(configuration: configuration, mission: first, logger: logger) { client in
            try await withMissionClients(configuration: configuration, missions: missions.dropFirst(), logger: logger, opened: opened + [client], body)
        }
    }
}
