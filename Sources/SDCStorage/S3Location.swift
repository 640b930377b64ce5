import Foundation
import SDCCore

/// Why an S3 store cannot be configured: a malformed `s3://` location or missing credentials.
public struct S3ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong and what is expected instead.
    public let description: String

    /// An error with its message.
    public init(_ description: String) { self.description = description }
}

/// Where an S3 store keeps its objects: `s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION`, addressed path-style
/// (`ENDPOINT/BUCKET/PREFIX/KEY`), which works with AWS and with S3-compatible servers (MinIO, Ceph, moto).
/// `region` is required (it is part of every signature); `endpoint` defaults to AWS's `https://s3.REGION.amazonaws.com`.
public struct S3Location: Sendable, Hashable, CustomStringConvertible {
    /// The bucket's name.
    public let bucket: String
    /// Keys are stored under `PREFIX/`; nil for the bucket's root.
    public let prefix: String?
    /// Where the S3 API answers.
    public let endpoint: Endpoint
    /// The bucket's region, part of every signature.
    public let region: String

    /// The HTTP(S) server that answers the S3 API.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// `http` or `https`.
        public let scheme: String
        /// The host name or address (IPv6 without brackets), lowercase.
        public let host: String
        /// The port, when the endpoint names one.
        public let port: Int?

        /// The `Host` header: the host (IPv6 in brackets), with `:port` unless it is the scheme's default.
        public var hostHeader: String {
            let name = host.contains(":") ? "[\(host)]" : host
            guard let port, port != (scheme == "https" ? 443 : 80) else { return name }
            return "\(name):\(port)"
        }

        /// `scheme://host[:port]`, without a trailing slash.
        public var url: String { "\(scheme)://\(hostHeader)" }
        /// The URL.
        public var description: String { url }
    }

    /// Checks each part: a valid S3 bucket name, a prefix that is a valid key, a region and an `http(s)` endpoint.
    public init(bucket: String, prefix: String? = nil, endpoint: String? = nil, region: String) throws(S3ConfigurationError) {
        try Self.checkBucket(bucket)
        guard !region.isEmpty, region.utf8.allSatisfy({ Self.isLowercaseAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else {
            throw S3ConfigurationError("invalid region '\(region)': expected a region name such as us-east-1")
        }
        let trimmed = prefix.map { String($0.reversed().drop { $0 == "/" }.reversed()) }
        if let trimmed, !trimmed.isEmpty {
            do { _ = try ObjectKey(trimmed) } catch {
                throw S3ConfigurationError("invalid prefix '\(trimmed)' in the S3 location: \(error)")
            }
            self.prefix = trimmed
        } else {
            self.prefix = nil
        }
        self.bucket = bucket
        self.region = region
        self.endpoint = try Self.parseEndpoint(endpoint ?? "https://s3.\(region).amazonaws.com")
    }

    /// Parses `s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION` (parameter values may be percent-encoded).
    public init(parsing text: String) throws(S3ConfigurationError) {
        let usage = "expected s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION"
        guard text.hasPrefix("s3://") else { throw S3ConfigurationError("'\(text)' is not an S3 location: \(usage)") }
        let rest = text.dropFirst("s3://".count)
        let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts[0]
        let bucket = String(path.prefix { $0 != "/" })
        guard !bucket.isEmpty else { throw S3ConfigurationError("'\(text)' names no bucket: \(usage)") }
        let rawPrefix = path.dropFirst(bucket.count).drop { $0 == "/" }
        guard let prefix = String(rawPrefix).removingPercentEncoding else {
            throw S3ConfigurationError("invalid percent-encoding in the prefix of '\(text)'")
        }
        var parameters: [String: String] = [:]
        for item in parts.count > 1 ? parts[1].split(separator: "&") : [] {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0])
            guard ["endpoint", "region"].contains(name) else {
                throw S3ConfigurationError("unknown parameter '\(name)' in '\(text)': \(usage)")
            }
            guard parameters[name] == nil else { throw S3ConfigurationError("parameter '\(name)' is given twice in '\(text)'") }
            guard pair.count == 2, let value = String(pair[1]).removingPercentEncoding, !value.isEmpty else {
                throw S3ConfigurationError("parameter '\(name)' has no value in '\(text)'")
            }
            parameters[name] = value
        }
        guard let region = parameters["region"] else {
            throw S3ConfigurationError("'\(text)' gives no region: add region=REGION (the bucket's region; us-east-1 for most S3-compatible servers)")
        }
        try self.init(bucket: bucket, prefix: prefix, endpoint: parameters["endpoint"], region: region)
    }

    /// The canonical text of the location.
    public var description: String {
        let path = prefix.map { "/" + $0.percentEncoded(safe: "/") } ?? ""
        return "s3://\(bucket)\(path)?endpoint=\(endpoint.url.percentEncoded(safe: ":/"))&region=\(region)"
    }

    /// The S3 object name of `key`: `PREFIX/KEY`, or the key alone without a prefix.
    public func objectName(of key: ObjectKey) -> String {
        prefix.map { $0 + "/" + key.path } ?? key.path
    }

    /// The path of the bucket (`object` nil) or of one object in it, not percent-encoded.
    func path(of object: String?) -> String {
        object.map { "/\(bucket)/\($0)" } ?? "/\(bucket)"
    }

    /// `s3://BUCKET/OBJECT` (or the bucket's) for messages.
    func display(_ object: String?) -> String {
        object.map { "s3://\(bucket)/\($0)" } ?? "s3://\(bucket)"
    }

    private static func isLowercaseAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// S3's bucket naming rules: 3 to 63 lowercase letters, digits, `.` and `-`, starting and ending with a letter or
    /// digit, no `..`, and not shaped like an IP address.
    private static func checkBucket(_ bucket: String) throws(S3ConfigurationError) {
        let bytes = Array(bucket.utf8)
        let rules = "3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"
        guard (3...63).contains(bytes.count),
              bytes.allSatisfy({ isLowercaseAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }),
              let first = bytes.first, let last = bytes.last, isLowercaseAlphanumeric(first), isLowercaseAlphanumeric(last),
              !bucket.contains("..")
        else { throw S3ConfigurationError("invalid bucket name '\(bucket)': expected \(rules)") }
        let octets = bucket.split(separator: ".")
        if octets.count == 4 && octets.allSatisfy({ UInt8($0) != nil }) {
            throw S3ConfigurationError("invalid bucket name '\(bucket)': a bucket name cannot be an IP address")
        }
    }

    private static func parseEndpoint(_ text: String) throws(S3ConfigurationError) -> Endpoint {
        let expected = "expected http://HOST[:PORT] or https://HOST[:PORT]"
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { throw S3ConfigurationError("invalid endpoint '\(text)': \(expected)") }
        guard components.user == nil, components.password == nil, components.query == nil, components.fragment == nil,
              components.path.isEmpty || components.path == "/"
        else { throw S3ConfigurationError("invalid endpoint '\(text)': \(expected), with no path, query or credentials") }
        if let port = components.port, !(1...65535).contains(port) {
            throw S3ConfigurationError("invalid endpoint '\(text)': port \(port) is out of range")
        }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return Endpoint(scheme: scheme, host: bare.lowercased(), port: components.port)
    }
}
