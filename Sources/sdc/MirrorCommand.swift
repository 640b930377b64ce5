import ArgumentParser
import Foundation
import Logging
import SDCClient
import SDCCore
import SDCSync
import ServiceLifecycle

/// `sdc mirror`: keeps a local tree in step with a data center (SWxSOC's S3Watcher, turned around).
struct MirrorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "Keep a local folder in IMAP_DATA_DIR layout in step with a data center.",
        discussion: """
            Each pass lists the files matching the filters (incrementally: ingested since the newest ingestion date \
            already seen; the whole listing every --reconcile-hours, on the first run, and with --verify) and \
            downloads what is missing or changed, in parallel, each to a temporary file checked against the data \
            center's SHA-256 and renamed into place. An interrupted run resumes: finished files are in the state \
            database, partial ones are discarded. A file the data center no longer offers (embargoed again: 403, or \
            removed: 404) is deleted locally unless --keep-withdrawn. A newer version is a new file and is \
            downloaded; older versions stay unless --latest, which mirrors only the newest version of each science \
            product and deletes the local copies of older ones.
            """)

    @Argument(help: "URL of the data center API.")
    var url: String

    @Argument(help: "The local folder (created if missing); files go to DIR/<storage key>.")
    var directory: String

    @Option(help: "API key (default: $IMAP_API_KEY); without one only released files are mirrored.")
    var apiKey: String?

    @Option(help: "The catalog table: science or ancillary.")
    var table: CatalogTable = .science

    @Option(help: "Name of the instrument.")
    var instrument: Instrument?

    @Option(help: "Data level (l0, l1a, l2, ...).")
    var dataLevel: String?

    @Option(help: "Descriptor of the product.")
    var descriptor: String?

    @Option(help: "Files starting on or after this date (YYYYMMDD).")
    var startDate: String?

    @Option(help: "Files starting on or before this date (YYYYMMDD).")
    var endDate: String?

    @Option(help: "Files ingested on or after this date (YYYYMMDD).")
    var ingestionStartDate: String?

    @Option(help: "Repointing number (repoint00000).")
    var repointing: String?

    @Option(help: "Version (vXXX).")
    var version: String?

    @Option(help: "File extension (cdf, pkts).")
    var `extension`: String?

    @Flag(help: "Only the newest version of each science product; delete local copies of older versions.")
    var latest = false

    @Option(help: "Downloads at once.")
    var concurrency = 4

    @Flag(help: "Re-hash every local copy against the data center's SHA-256 (a full pass).")
    var verify = false

    @Flag(help: "Keep local copies of files the data center no longer offers.")
    var keepWithdrawn = false

    @Option(help: "Hours between two full comparisons of the listing with the local tree.")
    var reconcileHours: Double = 1

    @Option(help: "Keep going: seconds between passes.")
    var watch: Double?

    @Option(help: "The state database (default: DIR/.sdc-mirror/state.sqlite).")
    var state: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .notice

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        if let watch, watch <= 0 { throw ValidationError("--watch must be a positive number of seconds") }
        guard reconcileHours >= 0 else { throw ValidationError("--reconcile-hours must not be negative") }
        guard table != .spice else { throw ValidationError("--table must be science or ancillary") }
    }

    func run() async throws {
        bootstrapLogging(logLevel)
        let logger = Logger(label: "sdc.mirror")
        let query = FileQueryParameters(
            table: table, instrument: instrument?.rawValue, dataLevel: dataLevel, descriptor: descriptor, startDate: startDate,
            endDate: endDate, ingestionStartDate: ingestionStartDate, repointing: repointing, version: version,
            fileExtension: `extension`)
        var settings = MirrorConfiguration(directory: directory, query: query)
        if let state { settings.statePath = URL(fileURLWithPath: state).standardizedFileURL.path }
        settings.latestOnly = latest
        settings.concurrency = concurrency
        settings.verify = verify
        settings.keepWithdrawn = keepWithdrawn
        settings.reconcileInterval = .milliseconds(Int64(reconcileHours * 3_600_000))
        settings.watchInterval = watch.map { .milliseconds(Int64($0 * 1000)) }
        settings.progress = .terminal

        var client = SDCClientConfiguration(environment: ProcessInfo.processInfo.environment,
                                            currentDirectory: FileManager.default.currentDirectoryPath)
        client.url = url
        if let apiKey, !apiKey.isEmpty { client.credentials = .apiKey(apiKey) }
        client.dataDirectory = settings.directory
        let mirrorState: MirrorState
        do {
            try FileManager.default.createDirectory(atPath: settings.directory, withIntermediateDirectories: true)
            mirrorState = try MirrorState(path: settings.statePath)
        } catch {
            StandardError.write("sdc mirror: \(error)\n")
            throw ExitCode.failure
        }
        let failures = try await DataAccessClient.withClient(configuration: client, logger: Logger(label: "sdc.mirror.client")) { client in
            let mirror = Mirror(configuration: settings, client: client, state: mirrorState, logger: logger)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: mirror, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            do {
                try await group.run()
            } catch let error as SDCClientError {
                StandardError.write(error.description + "\n")
                throw ExitCode.failure
            }
            return mirror.failures
        }
        if failures > 0 { throw ExitCode.failure }
    }
}
