/// How requests authenticate, chosen as imap-data-access does: an API key wins over an access token.
public enum Credentials: Sendable, Hashable {
    /// `x-api-key: <key>` on every request; routes under `/api-key`.
    case apiKey(String)
    /// `Authorization: Bearer <token>`; routes under `/authorized`.
    case accessToken(String)
    /// No credentials; only released files are visible.
    case anonymous

    /// The credentials from an API key and an access token, either possibly absent or empty.
    public init(apiKey: String?, accessToken: String?) {
        if let apiKey, !apiKey.isEmpty {
            self = .apiKey(apiKey)
        } else if let accessToken, !accessToken.isEmpty {
            self = .accessToken(accessToken)
        } else {
            self = .anonymous
        }
    }
}

/// When to retry a request, and how long to wait in between.
///
/// Only `503 Service Unavailable` responses and failures to get a response at all (connection refused or
/// reset, timeouts) are retried; every other status is final.
public struct RetryPolicy: Sendable, Hashable {
    /// Total attempts, the first included (1 disables retries).
    public var maximumAttempts: Int
    /// The wait before the second attempt.
    public var initialBackoff: Duration
    /// Each further wait is the previous one times this factor ...
    public var multiplier: Double
    /// ... up to this bound.
    public var maximumBackoff: Duration

    public init(maximumAttempts: Int = 4, initialBackoff: Duration = .milliseconds(500), multiplier: Double = 2,
                maximumBackoff: Duration = .seconds(8)) {
        precondition(maximumAttempts >= 1, "a request needs at least one attempt")
        self.maximumAttempts = maximumAttempts
        self.initialBackoff = initialBackoff
        self.multiplier = multiplier
        self.maximumBackoff = maximumBackoff
    }

    /// The wait after failed attempt number `attempt` (1-based).
    public func backoff(afterAttempt attempt: Int) -> Duration {
        var delay = initialBackoff
        for _ in 1..<max(1, attempt) {
            delay = delay * multiplier
            if delay >= maximumBackoff { return maximumBackoff }
        }
        return min(delay, maximumBackoff)
    }
}

/// Where the data center is, who is asking, and where downloads go.
public struct SDCClientConfiguration: Sendable, Hashable {
    /// imap-data-access's default `IMAP_DATA_ACCESS_URL`.
    public static let defaultURL = "https://api.imap-mission.com"

    /// The API root, without the `/api-key` or `/authorized` route prefix (added from `credentials`).
    public var url: String
    public var credentials: Credentials
    /// Root of the local `imap/...` hierarchy, as given (relative paths stay relative).
    public var dataDirectory: String
    public var retry: RetryPolicy
    /// How long one attempt may spend establishing a connection (refused connections are retried within it).
    public var connectTimeout: Duration
    /// The longest silence tolerated while reading a response.
    public var readTimeout: Duration

    public init(url: String = SDCClientConfiguration.defaultURL, credentials: Credentials = .anonymous,
                dataDirectory: String, retry: RetryPolicy = RetryPolicy(), connectTimeout: Duration = .seconds(3),
                readTimeout: Duration = .seconds(60)) {
        self.url = url
        self.credentials = credentials
        self.dataDirectory = dataDirectory
        self.retry = retry
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }

    /// The configuration imap-data-access reads at import: `IMAP_DATA_ACCESS_URL`, `IMAP_API_KEY`,
    /// `IMAP_ACCESS_TOKEN` and `IMAP_DATA_DIR` (default `<current directory>/data`); empty values count as unset.
    public init(environment: [String: String], currentDirectory: String) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        self.init(
            url: value("IMAP_DATA_ACCESS_URL") ?? SDCClientConfiguration.defaultURL,
            credentials: Credentials(apiKey: value("IMAP_API_KEY"), accessToken: value("IMAP_ACCESS_TOKEN")),
            dataDirectory: value("IMAP_DATA_DIR") ?? LocalPath.join(currentDirectory, "data"))
    }

    /// The base every endpoint is appended to: `<url>/api-key` with an API key, `<url>/authorized` with an
    /// access token (neither doubled when `url` already ends with it), else `url`.
    public var routeBase: String {
        switch credentials {
        case .apiKey where !url.hasSuffix("/api-key"): url + "/api-key"
        case .accessToken where !url.hasSuffix("/authorized"): url + "/authorized"
        default: url
        }
    }
}

extension SDCClientConfiguration {
    /// `Path(path).resolve()` (absolute, symbolic links resolved) when something exists at `path`, else nil:
    /// how imap-data-access checks and stores `--data-dir`.
    public static func resolvedExistingPath(_ path: String) -> String? {
        LocalPath.kind(of: path) == .missing ? nil : LocalPath.resolved(path)
    }
}
