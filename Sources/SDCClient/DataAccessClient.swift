import AsyncHTTPClient
import Logging
import NIOCore
import SDCCore

/// A client of the IMAP science data center API, behaving as imap-data-access 1.3.0 does (same routes,
/// parameters, validation and messages), plus checksum-verified downloads, streaming transfers and retries.
public struct DataAccessClient: Sendable {
    public let configuration: SDCClientConfiguration
    private let transport: HTTPTransport

    /// A client sending through `httpClient`, which must not follow redirects itself (see
    /// `httpClientConfiguration(for:)`): the client follows them with imap-data-access's header rules.
    public init(configuration: SDCClientConfiguration, httpClient: HTTPClient, logger: Logger = DataAccessClient.silentLogger) {
        self.configuration = configuration
        self.transport = HTTPTransport(
            client: httpClient, credentials: configuration.credentials, retry: configuration.retry, logger: logger)
    }

    /// A logger that discards everything: the library logs only where asked to.
    public static let silentLogger = Logger(label: "sdc.client") { _ in SwiftLogNoOpLogHandler() }

    /// The `HTTPClient` settings the client expects: no automatic redirects, the configuration's timeouts.
    public static func httpClientConfiguration(for configuration: SDCClientConfiguration) -> HTTPClient.Configuration {
        HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount(configuration.connectTimeout), read: TimeAmount(configuration.readTimeout)))
    }

    /// Runs `body` with a client whose HTTP client lives exactly as long as the call.
    public static func withClient<Result>(
        configuration: SDCClientConfiguration, logger: Logger = DataAccessClient.silentLogger,
        _ body: (DataAccessClient) async throws -> Result
    ) async throws -> Result {
        let httpClient = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: httpClientConfiguration(for: configuration))
        let result: Result
        do {
            result = try await body(DataAccessClient(configuration: configuration, httpClient: httpClient, logger: logger))
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
        return result
    }

    // MARK: Queries

    /// `GET /query`: the rows of the science or ancillary table matching `query`. With `version=latest`, the
    /// server picks the newest science versions; for other tables the client does, as imap-data-access does.
    public func query(_ query: FileQueryParameters) async throws(SDCClientError) -> [JSONValue] {
        let items = try query.requestItems()
        let rows = try await rows(from: configuration.routeBase + "/query?" + items.formEncoded)
        return query.needsClientSideLatest ? try LatestVersionFilter.apply(rows) : rows
    }

    /// `GET /spice-query`: the SPICE kernels matching `query`.
    public func query(_ query: SPICEQueryParameters) async throws(SDCClientError) -> [JSONValue] {
        try await rows(from: configuration.routeBase + "/spice-query?" + query.requestItems().formEncoded)
    }

    private func rows(from url: String) async throws(SDCClientError) -> [JSONValue] {
        let response = try await transport.sendForJSON(.init(.GET, url))
        guard case .array(let rows) = response else {
            throw .unexpectedResponse(
                pythonType: "TypeError", message: "expected a JSON array of rows from \(url), got \(PythonText.typeName(response))")
        }
        return rows
    }

    // MARK: Transfers

    /// Where a download went.
    public struct Download: Sendable, Hashable {
        /// `<data dir>/<storage key>`, printed as imap-data-access prints it.
        public var path: String
        /// Whether an existing local copy with the server's SHA-256 was kept instead of downloading.
        public var reusedLocalCopy: Bool
        /// The SHA-256 the file was verified against (the server's announced checksum), nil when the server
        /// announced none.
        public var sha256: String?
    }

    /// Downloads `filePath` (only its basename counts) to `<data dir>/<storage key>`.
    ///
    /// An existing local file is kept when its SHA-256 equals the one the server announces for the object
    /// (`x-checksum-sha256`), or when the server announces none; otherwise it is downloaded again. Bytes go to a
    /// temporary file, are checked against the announced SHA-256, and replace the destination atomically.
    public func download(_ filePath: String, progress: ProgressDisplay = .hidden) async throws(SDCClientError) -> Download {
        let name = LocalPath.name(filePath)
        let fileName: IMAPFileName
        do {
            fileName = try IMAPFileName.parse(name)
        } catch {
            throw .invalidArgument("Invalid file type for \(name). It does not matchany file formats.")
        }
        let destination = LocalPath.join(configuration.dataDirectory, fileName.key)
        let url = configuration.routeBase + "/download/" + FormEncoding.quotePath(fileName.key)

        if LocalPath.kind(of: destination) != .missing {
            let announced = try await transport.send(.init(.HEAD, url, followsRedirects: false)) { $0.announcedSHA256 }
            // Without a checksum to compare with, keep the copy as imap-data-access does.
            guard let announced, try sha256OfFile(at: destination) != announced else {
                return Download(path: destination, reusedLocalCopy: true, sha256: announced)
            }
        }

        let verified: String? = try await transport.send(.init(.GET, url)) { response in
            let total = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
            let bar = ProgressBar.make(progress, label: name, total: total)
            let partial = try PartialDownload(destination: destination)
            for try await chunk in response.body {
                try partial.write(chunk)
                bar?.advance(by: chunk.readableBytes)
            }
            bar?.finish()
            if let expected = response.announcedSHA256, expected != partial.sha256 {
                throw SDCClientError.checksumMismatch(key: fileName.key, expected: expected, actual: partial.sha256)
            }
            try partial.commit()
            return response.announcedSHA256
        }
        return Download(path: destination, reusedLocalCopy: false, sha256: verified)
    }

    /// The SHA-256 the data center's catalog holds for the file named `name` (announced by `HEAD /download/<key>`),
    /// or nil when it has no such file (404). Watchers use it to tell a repeated upload of the same bytes (a 409
    /// that counts as done) from a different file under the same name.
    public func storedChecksum(of name: String) async throws(SDCClientError) -> String? {
        let fileName: IMAPFileName
        do {
            fileName = try IMAPFileName.parse(LocalPath.name(name))
        } catch {
            throw .invalidArgument("Invalid file type for \(name). It does not matchany file formats.")
        }
        let url = configuration.routeBase + "/download/" + FormEncoding.quotePath(fileName.key)
        do {
            return try await transport.send(.init(.HEAD, url, followsRedirects: false)) { $0.announcedSHA256 }
        } catch .http(404, _, _) {
            return nil
        }
    }

    /// The SHA-256 of the local file at `path`, lowercase hex (read in 1 MiB chunks; blocking, so callers on the
    /// cooperative pool run it on a thread pool).
    public static func sha256(ofFileAt path: String) throws(SDCClientError) -> String {
        try sha256OfFile(at: path)
    }

    /// Uploads the file at `filePath`: asks `GET /upload/<name>` for an upload URL, then streams the file to
    /// it with `PUT`. Science names without a major version (`vXXX`) are refused before any request, as
    /// imap-data-access refuses them, except Level 0 files: the mission's L0 files are named `vNNN`, and sdc's client
    /// is how they enter.
    public func upload(_ filePath: String, progress: ProgressDisplay = .hidden) async throws(SDCClientError) {
        let path = LocalPath.resolved(filePath)
        let kind = LocalPath.kind(of: path)
        guard kind != .missing else { throw .fileNotFound(path: path) }
        let name = LocalPath.name(path)
        if let parsed = try? IMAPFileName.parse(name), parsed.fileClass == .science, let science = parsed.science,
           science.version.major == nil, science.dataLevel != .l0 {
            throw .invalidArgument("Invalid science file \(name).")
        }

        let answer = try await transport.sendForJSON(
            .init(.GET, configuration.routeBase + "/upload/" + FormEncoding.quotePath(name)))
        guard case .string(let uploadURL) = answer else {
            throw .unexpectedResponse(
                pythonType: "TypeError",
                message: "expected the upload URL as a JSON string, got \(PythonText.typeName(answer)): \(PythonText.repr(answer))")
        }
        guard kind == .file, let size = LocalPath.fileSize(path) else {
            throw .fileSystem(operation: "read", path: path, reason: "not a regular file")
        }

        let bar = ProgressBar.make(progress, label: name, total: size)
        let body: @Sendable () -> HTTPClientRequest.Body = {
            bar?.reset()
            return .stream(FileChunks(path: path) { bar?.advance(by: $0) }, length: .known(size))
        }
        try await transport.send(.init(.PUT, uploadURL, body: body)) { response in
            _ = try await HTTPTransport.prefix(of: response.body)
        }
        bar?.finish()
    }

    // MARK: Processing

    /// `POST /reprocess`: asks the pipeline to reprocess the products selected by `request`.
    public func reprocess(_ request: ReprocessParameters) async throws(SDCClientError) {
        let url = try configuration.routeBase + "/reprocess?" + request.requestItems().formEncoded
        _ = try await transport.sendForJSON(.init(.POST, url))
    }
}
