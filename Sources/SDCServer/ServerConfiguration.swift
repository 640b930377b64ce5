import SDCStorage

/// How downloads are answered.
public enum DownloadMode: String, Sendable, CaseIterable {
    /// 200 with the bytes streamed from the store (HTTP Range supported).
    case stream
    /// 302 to a time-limited presigned GET URL, as the IMAP SDC does with S3.
    case redirect
}

/// Settings of the API server.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port = 8080
    /// The URL clients reach this server at, used in presigned URLs; by default `http://<Host header>`.
    public var publicURL: String?
    public var downloadMode = DownloadMode.stream
    /// How `/upload` lets clients send bytes: through this server (relay), or with a presigned `PUT` straight to the
    /// S3 bucket (direct), after reserving the name (see ``SDCIngest/BucketIngest``).
    public var uploadMode = UploadMode.relay
    /// Largest accepted upload in bytes (413 above).
    public var maximumUploadSize: Int64 = 50 * 1024 * 1024 * 1024
    /// Requests in flight above which new ones get 503 SlowDown.
    public var maximumConcurrentRequests = 512
    /// Lifetime of presigned upload URLs (seconds); the IMAP SDC uses one hour.
    public var uploadURLLifetime: Int64 = 3_600
    /// Lifetime of presigned download URLs (seconds); the IMAP SDC uses one day.
    public var downloadURLLifetime: Int64 = 86_400

    public init() {}
}
