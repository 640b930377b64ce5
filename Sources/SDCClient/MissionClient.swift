import AsyncHTTPClient
import Logging
import NIOCore
import SDCCore

/// A client of the `/missions/<mission>/` routes of `sdc serve --missions ...` (HERMES, PADRE and other SWxSOC-style
/// missions hosted beside IMAP): query, upload and checksum-verified download, with the IMAP client's credentials,
/// retries and redirect rules.
public struct MissionClient: Sendable {
    public let configuration: SDCClientConfiguration
    /// The mission's routes are checked against its grammar before anything is sent.
    public let mission: MissionProfile
    private let transport: HTTPTransport

    /// A client sending through `httpClient` (which must not follow redirects itself, as for ``DataAccessClient``).
    public init(configuration: SDCClientConfiguration, mission: MissionProfile, httpClient: HTTPClient,
                logger: Logger = DataAccessClient.silentLogger) {
        self.configuration = configuration
        self.mission = mission
        self.transport = HTTPTransport(client: httpClient, credentials: configuration.credentials, retry: configuration.retry, logger: logger)
    }

    /// Runs `body` with a client whose HTTP client lives exactly as long as the call.
    public static func withClient<Result>(
        configuration: SDCClientConfiguration, mission: MissionProfile, logger: Logger = DataAccessClient.silentLogger,
        _ body: (MissionClient) async throws -> Result
    ) async throws -> Result {
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton,
                                    configuration: DataAccessClient.httpClientConfiguration(for: configuration))
        let result: Result
        do {
            result = try await body(MissionClient(configuration: configuration, mission: mission, httpClient: httpClient, logger: logger))
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
        return result
    }

    private var base: String { configuration.url.trimmingTrailingSlashes + "/missions/" + mission.name }

    /// `GET /missions/<m>/query`: the files matching `parameters` (instrument, level, descriptor, start_time, end_time).
    public func query(_ parameters: [(String, String)]) async throws(SDCClientError) -> [JSONValue] {
        let query = parameters.map { FormEncoding.quotePlus($0.0) + "=" + FormEncoding.quotePlus($0.1) }.joined(separator: "&")
        let answer = try await transport.sendForJSON(.init(.GET, base + "/query" + (query.isEmpty ? "" : "?" + query)))
        guard case .array(let rows) = answer else {
            throw .unexpectedResponse(pythonType: "TypeError", message: "expected a JSON list of files, got \(answer.serialized())")
        }
        return rows
    }

    /// `PUT /missions/<m>/upload/<name>`: sends the file; returns the server's answer (its storage key and status).
    public func upload(_ filePath: String) async throws(SDCClientError) -> JSONValue {
        let path = LocalPath.resolved(filePath)
        guard LocalPath.kind(of: path) == .file, let size = LocalPath.fileSize(path) else { throw .fileNotFound(path: path) }
        let name = LocalPath.name(path)
        do { _ = try mission.parse(name) } catch { throw .invalidArgument("\(name) is not a valid \(mission.name) file name: \(error.message)") }
        let body: @Sendable () -> HTTPClientRequest.Body = { .stream(FileChunks(path: path) { _ in }, length: .known(size)) }
        return try await transport.send(.init(.PUT, base + "/upload/" + FormEncoding.quotePath(name), body: body)) { response in
            try JSONValue(parsing: try await HTTPTransport.prefix(of: response.body))
        }
    }

    /// `GET /missions/<m>/download/<key>` into `<data dir>/<key>`, checked against the announced SHA-256.
    public func download(key: String) async throws(SDCClientError) -> String {
        guard key.hasPrefix(mission.name + "/") else { throw .invalidArgument("\(key) is not a \(mission.name) storage key") }
        let destination = LocalPath.join(configuration.dataDirectory, key)
        try await transport.send(.init(.GET, base + "/download/" + FormEncoding.quotePath(key))) { response in
            let partial = try PartialDownload(destination: destination)
            for try await chunk in response.body { try partial.write(chunk) }
            if let expected = response.announcedSHA256, expected != partial.sha256 {
                throw SDCClientError.checksumMismatch(key: key, expected: expected, actual: partial.sha256)
            }
            try partial.commit()
        }
        return destination
    }
}

private extension String {
    var trimmingTrailingSlashes: String {
        var text = self
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
