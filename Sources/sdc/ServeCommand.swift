import ArgumentParser
import Foundation
import Logging
import SDCServer

/// Options naming the data center folder, shared by `serve` and the offline admin commands.
struct RootOption: ParsableArguments {
    @Option(name: .long, help: "The data center folder (catalog, objects, keys).")
    var root: String = "sdc-data"

    var url: URL { URL(fileURLWithPath: root).standardizedFileURL }
}

/// `sdc serve`: run the data center.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the data center: the IMAP-compatible API on HTTP.",
        discussion: "With no options it keeps everything in ./sdc-data and listens on http://127.0.0.1:8080."
    )

    @OptionGroup var root: RootOption

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @Option(help: "How downloads are answered: stream (200 with the bytes) or redirect (302 to a presigned URL).")
    var download: DownloadMode = .stream

    @Option(help: "The URL clients use to reach this server, for presigned URLs (default: from each request's Host header).")
    var publicURL: String?

    @Option(help: "Largest accepted upload in bytes.")
    var maxUploadSize: Int64 = ServerConfiguration().maximumUploadSize

    @Option(help: "Requests in flight above which new ones get 503 SlowDown.")
    var maxConcurrentRequests = ServerConfiguration().maximumConcurrentRequests

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "sdc")
        let dataCenter = try DataCenter(root: root.url)
        _ = try await dataCenter.recover(logger: logger)

        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.downloadMode = download
        configuration.publicURL = publicURL
        configuration.maximumUploadSize = maxUploadSize
        configuration.maximumConcurrentRequests = maxConcurrentRequests
        let server = DataCenterServer(configuration: configuration, ingestor: dataCenter.ingestor(logger: logger),
                                      keys: dataCenter.catalog, requestLog: dataCenter.catalog, logger: logger)
        let rootPath = root.url.path
        let host = host
        try await server.run { port in
            // Unbuffered, so that a supervising process sees the address at once.
            let banner = """
                sdc listening on http://\(host):\(port)
                data center folder: \(rootPath)
                create an API key:  sdc keys create --root \(rootPath) --scope write

                """
            FileHandle.standardOutput.write(Data(banner.utf8))
        }
    }
}

extension DownloadMode: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}
