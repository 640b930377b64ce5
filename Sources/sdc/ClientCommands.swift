import ArgumentParser
import Foundation
import Logging
import SDCClient
import SDCCore

/// Where the data center is and who is asking; each option falls back to the environment variable
/// imap-data-access reads.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "URL of the IMAP SDC API (default: $IMAP_DATA_ACCESS_URL, else https://api.imap-mission.com).")
    var url: String?

    @Option(help: "API key to authenticate with the IMAP SDC (default: $IMAP_API_KEY). Needed for uploads.")
    var apiKey: String?

    @Option(help: "Directory for reading and writing IMAP data (default: $IMAP_DATA_DIR, else ./data).")
    var dataDir: String?

    @Flag(help: "Print lots of debugging statements.")
    var debug = false

    @Flag(name: [.short, .long], help: "Add verbose output.")
    var verbose = false

    func validate() throws {
        if let dataDir, SDCClientConfiguration.resolvedExistingPath(dataDir) == nil {
            throw ValidationError("Data directory \(dataDir) does not exist")
        }
    }

    /// The environment's configuration with the command-line options applied (empty options are ignored).
    func configuration() -> SDCClientConfiguration {
        var configuration = SDCClientConfiguration(
            environment: ProcessInfo.processInfo.environment,
            currentDirectory: FileManager.default.currentDirectoryPath)
        if let dataDir, let resolved = SDCClientConfiguration.resolvedExistingPath(dataDir) {
            configuration.dataDirectory = resolved
        }
        if let url, !url.isEmpty { configuration.url = url }
        if let apiKey, !apiKey.isEmpty { configuration.credentials = .apiKey(apiKey) }
        return configuration
    }

    var logger: Logger {
        var logger = Logger(label: "sdc.client") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = debug ? .debug : verbose ? .info : .warning
        return logger
    }

    /// Runs `body` with a client, printing a client error as imap-data-access does (`repr(exception)` on
    /// stderr) and exiting with status 1.
    func withClient(_ body: (DataAccessClient) async throws(SDCClientError) -> Void) async throws {
        do {
            try await DataAccessClient.withClient(configuration: configuration(), logger: logger) { client in
                try await body(client)
            }
        } catch let error as SDCClientError {
            StandardError.write(error.description + "\n")
            throw ExitCode.failure
        }
    }
}

extension CatalogTable: ExpressibleByArgument {}
extension Instrument: ExpressibleByArgument {}

/// `sdc query`: imap-data-access's `query` subcommand.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Query the IMAP SDC for files matching the query parameters.",
        discussion: "The query parameters are optional, but at least one must be provided.")

    enum OutputFormat: String, CaseIterable, ExpressibleByArgument {
        case table, json
    }

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Query a specific table within the IMAP SDC storage bucket.")
    var table: CatalogTable = .science

    @Option(help: "Name of the instrument.")
    var instrument: Instrument?

    @Option(help: "Data level of the product (l0, l1a, l2, etc.).")
    var dataLevel: String?

    @Option(help: "Descriptor of the product (raw, burst, etc.).")
    var descriptor: String?

    @Option(help: "Start date for files in YYYYMMDD format.")
    var startDate: String?

    @Option(help: "End date for a range of file timestamps in YYYYMMDD format.")
    var endDate: String?

    @Option(help: "Ingestion start date for a range of file timestamps in YYYYMMDD format.")
    var ingestionStartDate: String?

    @Option(help: "Ingestion end date for a range of file timestamps in YYYYMMDD format.")
    var ingestionEndDate: String?

    @Option(help: "Repointing number (repoint00000).")
    var repointing: String?

    @Option(help: "Version of the product ('v000'), or 'latest' for the latest version per dataset and day or repointing.")
    var version: String?

    @Option(help: "Science major version to filter on (e.g. '1'); by default the latest major version.")
    var majorVersion: String?

    @Option(help: "Science minor version to filter on (e.g. '2').")
    var minorVersion: String?

    @Option(help: "File extension (cdf, pkts).")
    var `extension`: String?

    @Option(help: "How to format the output.")
    var outputFormat: OutputFormat = .table

    @Option(help: "Name of a file to search for; use it by itself.")
    var filename: String?

    @Option(help: "SPICE kernel type (ephemeris_predicted, attitude_history, ...). Only used with --table spice.")
    var type: String?

    func run() async throws {
        try await connection.withClient { client throws(SDCClientError) in
            let rows: [JSONValue]
            if let filename {
                rows = try await client.query(try fileNameQuery(filename))
            } else if table == .spice {
                rows = try await client.query(SPICEQueryParameters(
                    startDate: startDate, endDate: endDate, ingestionStartDate: ingestionStartDate,
                    ingestionEndDate: ingestionEndDate, kernelType: type, version: version))
            } else {
                if type != nil {
                    throw .conflictingArguments("query() got an unexpected keyword argument 'type'")
                }
                rows = try await client.query(FileQueryParameters(
                    table: table, instrument: instrument?.rawValue, dataLevel: dataLevel, descriptor: descriptor,
                    startDate: startDate, endDate: endDate, ingestionStartDate: ingestionStartDate,
                    ingestionEndDate: ingestionEndDate, repointing: repointing, version: version,
                    majorVersion: majorVersion, minorVersion: minorVersion, fileExtension: `extension`))
            }
            switch outputFormat {
            case .table:
                // Like Python, a row that cannot be printed fails after the count line was printed.
                var text = ""
                defer { StandardOutput.write(text) }
                try QueryResultTable.render(rows, into: &text)
            case .json: StandardOutput.write(JSONValue.array(rows).serialized() + "\n")
            }
        }
    }

    /// `--filename` must be used by itself.
    private func fileNameQuery(_ filename: String) throws(SDCClientError) -> FileQueryParameters {
        let others: [String?] = [
            instrument?.rawValue, dataLevel, descriptor, startDate, endDate, ingestionStartDate, ingestionEndDate,
            repointing, version, majorVersion, minorVersion, `extension`, type,
        ]
        guard others.allSatisfy({ $0 == nil }) else {
            throw .conflictingArguments("Too many arguments: '--filename' should be used by itself.")
        }
        return try FileQueryParameters(fileName: filename)
    }
}

/// `sdc download`: imap-data-access's `download` subcommand.
struct DownloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download a file from the IMAP SDC to the locally configured data directory.",
        discussion: """
            An existing local copy is kept when its SHA-256 matches the server's; otherwise the file is \
            downloaded again.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The file to download; only its name counts (e.g. imap_mag_l0_raw_20250101_v001.pkts).")
    var filePath: String

    func run() async throws {
        try await connection.withClient { client throws(SDCClientError) in
            let download = try await client.download(filePath, progress: .terminal)
            StandardOutput.write("Successfully downloaded the file to: \(download.path)\n")
        }
    }
}

/// `sdc upload`: imap-data-access's `upload` subcommand.
struct UploadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Upload a file to the IMAP SDC.")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Path of the file to upload (e.g. imap_mag_l0_raw_20250101_v001.0000.pkts).")
    var filePath: String

    func run() async throws {
        try await connection.withClient { client throws(SDCClientError) in
            try await client.upload(filePath, progress: .terminal)
            StandardOutput.write("Successfully uploaded the file to the IMAP SDC\n")
        }
    }
}

/// `sdc reprocess`: imap-data-access's `reprocess` subcommand.
struct ReprocessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprocess",
        abstract: "Trigger reprocessing for files in the range of the given start and end date.",
        discussion: "Instrument, data level and descriptor are optional; without them every product is reprocessed.")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Start date for reprocessing in YYYYMMDD format.")
    var startDate: String

    @Option(help: "End date for reprocessing in YYYYMMDD format.")
    var endDate: String

    @Option(help: "Name of the instrument to reprocess.")
    var instrument: Instrument?

    @Option(help: "Data level of the product to reprocess (l0, l1a, l2, etc.).")
    var dataLevel: String?

    @Option(help: "Descriptor of the product to reprocess (raw, burst, etc.).")
    var descriptor: String?

    @Option(help: "The installed algorithm version the reprocessed jobs run, NAME==VERSION (sdc only; default: the newest installed, or the version the pipeline configuration pins).")
    var algorithm: String?

    func run() async throws {
        try await connection.withClient { client throws(SDCClientError) in
            if startDate.isEmpty { throw .invalidArgument("The 'start_date' argument is required.") }
            if endDate.isEmpty { throw .invalidArgument("The 'end_date' argument is required.") }
            try await client.reprocess(ReprocessParameters(
                startDate: startDate, endDate: endDate, instrument: instrument?.rawValue, dataLevel: dataLevel,
                descriptor: descriptor, algorithm: algorithm))
            StandardOutput.write("Successfully triggered reprocessing for the given parameters.\n")
        }
    }
}

/// Writes to the standard streams.
enum StandardOutput {
    static func write(_ text: String) { print(text, terminator: "") }
}

enum StandardError {
    static func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
