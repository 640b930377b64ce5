import ArgumentParser
import Foundation
import SDCClient
import SDCCore

/// `sdc missions`: the client of the missions a data center hosts beside IMAP (`sdc serve --missions imap,hermes`).
struct MissionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "missions",
        abstract: "Query, upload and download the files of HERMES, PADRE and other missions hosted beside IMAP.",
        discussion: "Uses the IMAP client's settings: --url or $IMAP_DATA_ACCESS_URL, --api-key or $IMAP_API_KEY, --data-dir or $IMAP_DATA_DIR.",
        subcommands: [Query.self, Upload.self, Download.self]
    )

    struct MissionClientOptions: ParsableArguments {
        @OptionGroup var connection: ConnectionOptions

        @Option(help: "The mission: hermes, padre, or one of --missions-config.")
        var mission: String

        @Option(help: "A missions configuration file (JSON) defining further missions.")
        var missionsConfig: String?

        /// Runs `body` with a client of the chosen mission; client errors are printed and exit with status 1.
        func withClient(_ body: (MissionClient) async throws(SDCClientError) -> Void) async throws {
            let profile: MissionProfile
            do {
                profile = try MissionSet.resolve(names: [mission], configuration: try loadMissionConfiguration(missionsConfig)).missions[0]
            } catch let error as MissionConfigurationError {
                throw ValidationError(error.description)
            }
            guard profile.grammar == .swxsoc else { throw ValidationError("IMAP files are queried with sdc query, upload and download") }
            do {
                try await MissionClient.withClient(configuration: connection.configuration(), mission: profile, logger: connection.logger) { client in
                    try await body(client)
                }
            } catch let error as SDCClientError {
                StandardError.write(error.description + "\n")
                throw ExitCode.failure
            }
        }
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a mission's files (one JSON object per line) with status and lineage.")

        @OptionGroup var options: MissionClientOptions
        @Option(help: "The instrument's name (eea, nemisis, ...).") var instrument: String?
        @Option(help: "The data level.") var level: String?
        @Option(help: "The descriptor.") var descriptor: String?
        @Option(help: "Earliest file time, YYYY-MM-DD[THH:MM:SS].") var startTime: String?
        @Option(help: "Latest file time, YYYY-MM-DD[THH:MM:SS].") var endTime: String?

        func run() async throws {
            let parameters = [("instrument", instrument), ("level", level), ("descriptor", descriptor), ("start_time", startTime),
                              ("end_time", endTime)].compactMap { name, value in value.map { (name, $0) } }
            try await options.withClient { client throws(SDCClientError) in
                for row in try await client.query(parameters) { print(row.serialized()) }
            }
        }
    }

    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Upload files: each is sorted into its instrument's area and processed.")

        @OptionGroup var options: MissionClientOptions
        @Argument(help: "The files to upload.") var files: [String]

        func run() async throws {
            try await options.withClient { client throws(SDCClientError) in
                for file in files { print(try await client.upload(file).serialized()) }
            }
        }
    }

    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download files by storage key into the data directory (checksum-verified).")

        @OptionGroup var options: MissionClientOptions
        @Argument(help: "Storage keys, as the query lists them (hermes/eea/l1/...).") var keys: [String]

        func run() async throws {
            try await options.withClient { client throws(SDCClientError) in
                for key in keys { print(try await client.download(key: key)) }
            }
        }
    }
}
