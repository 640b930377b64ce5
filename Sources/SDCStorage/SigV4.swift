import Crypto
import Foundation
import SDCCore

/// AWS credentials: an access key, its secret and, for temporary credentials, a session token.
/// Printing them never shows the secret or the token.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    /// The access key ID (`AKIA...`, or `ASIA...` for temporary credentials), sent in every signature's scope.
    public var accessKeyID: String
    /// The secret the signing key derives from; never sent.
    public var secretAccessKey: String
    /// Present for temporary credentials (STS); sent as `x-amz-security-token`.
    public var sessionToken: String?

    /// Credentials as given.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The standard variables `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, when set and not empty,
    /// `AWS_SESSION_TOKEN`.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(S3ConfigurationError) -> AWSCredentials {
        func required(_ name: String) throws(S3ConfigurationError) -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw S3ConfigurationError("\(name) is not set: the S3 store takes its credentials from AWS_ACCESS_KEY_ID, "
                                           + "AWS_SECRET_ACCESS_KEY and, for temporary credentials, AWS_SESSION_TOKEN")
            }
            return value
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: try required("AWS_ACCESS_KEY_ID"),
                              secretAccessKey: try required("AWS_SECRET_ACCESS_KEY"), sessionToken: token)
    }

    /// The access key ID; the secret and the token are hidden.
    public var description: String {
        "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <hidden>\(sessionToken == nil ? "" : ", sessionToken: <hidden>"))"
    }
}

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`), written once for every signed S3 request and presigned URL:
/// canonical request, string to sign, signing key, `Authorization` header, and query-string authentication.
/// Paths are encoded once with the RFC 3986 unreserved set, `/` kept, as S3 expects (no normalisation, no double
/// encoding); query names and values with the unreserved set only.
public struct SigV4Signer: Sendable {
    /// The algorithm's name, first in every `Authorization` header and string to sign.
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The SHA-256 of an empty payload.
    public static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// The payload hash of presigned URLs, whose body is not known when they are signed.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// Whose signature it is.
    public let credentials: AWSCredentials
    /// The region of the credential scope (the bucket's region for S3).
    public let region: String
    /// The service of the credential scope: `s3`.
    public let service: String

    /// A signer for `service` in `region`.
    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// One HTTP request as the signature sees it.
    public struct Request: Sendable {
        /// `GET`, `PUT`, `HEAD`, `POST` or `DELETE`.
        public var method: String
        /// The `Host` header: the host, with `:port` when the port is not the scheme's default.
        public var host: String
        /// The path, not yet percent-encoded, starting with `/`.
        public var path: String
        /// Query parameters, not yet percent-encoded, in the order they are sent.
        public var query: [(name: String, value: String)]
        /// Headers to sign besides `host` (and, for ``SigV4Signer/signedHeaders(for:payloadSHA256:at:)``, the
        /// `x-amz-*` headers the signer adds), in any letter case; repeated names are joined with commas in order.
        public var headers: [(name: String, value: String)]

        /// A request to sign.
        public init(method: String, host: String, path: String, query: [(name: String, value: String)] = [],
                    headers: [(name: String, value: String)] = []) {
            self.method = method
            self.host = host
            self.path = path
            self.query = query
            self.headers = headers
        }

        /// The path as sent and signed.
        public var encodedPath: String { path.percentEncoded(safe: "/") }

        /// The query as sent, in the given order: `name=value`, or `name` alone for an empty value (`?uploads`).
        public var encodedQuery: String {
            query.map { $0.value.isEmpty ? $0.name.percentEncoded() : $0.name.percentEncoded() + "=" + $0.value.percentEncoded() }
                .joined(separator: "&")
        }

        /// Path and query, as in the request line.
        public var target: String { encodedQuery.isEmpty ? encodedPath : encodedPath + "?" + encodedQuery }
    }

    /// `YYYYMMDDTHHMMSSZ`, the `x-amz-date` form of `time`.
    public static func timestamp(_ time: UTCTime) -> String {
        time.iso8601.filter { $0 != "-" && $0 != ":" }
    }

    /// The canonical request and its `SignedHeaders` list (lowercase names, sorted, `;`-separated).
    public func canonicalRequest(_ request: Request, payloadSHA256: String) -> (text: String, signedHeaders: String) {
        var values: [String: [String]] = [:]
        for (name, value) in [("host", request.host)] + request.headers {
            values[name.lowercased(), default: []].append(value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " "))
        }
        let names = values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let canonicalHeaders = names.map { "\($0):\(values[$0, default: []].joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let text = [request.method, request.encodedPath, Self.canonicalQuery(request.query), canonicalHeaders, signedHeaders,
                    payloadSHA256].joined(separator: "\n")
        return (text, signedHeaders)
    }

    /// Query parameters encoded, sorted by name and then value (byte order), joined with `&`; empty values keep `=`.
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { ($0.name.percentEncoded(), $0.value.percentEncoded()) }
            .sorted { $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// The credential scope: `YYYYMMDD/region/service/aws4_request`.
    public func scope(day: String) -> String { "\(day)/\(region)/\(service)/aws4_request" }

    /// The string to sign for a canonical request made at `timestamp` (`YYYYMMDDTHHMMSSZ`).
    public func stringToSign(canonicalRequest: String, timestamp: String) -> String {
        let digest = SHA256.hash(data: Array(canonicalRequest.utf8)).hexString
        return [Self.algorithm, timestamp, scope(day: String(timestamp.prefix(8))), digest].joined(separator: "\n")
    }

    /// The signing key of `day` (`YYYYMMDD`): HMAC-SHA256 chained over the day, region, service and `aws4_request`,
    /// starting from `AWS4` + the secret access key.
    public func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// The lowercase hex signature of a string to sign.
    public func signature(stringToSign: String, timestamp: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(day: String(timestamp.prefix(8)))).hexString
    }

    /// The `Authorization` header value for `request`, whose headers already carry everything to sign (the date
    /// among them); the building block of ``signedHeaders(for:payloadSHA256:at:)``.
    public func authorization(for request: Request, payloadSHA256: String, timestamp: String) -> String {
        let canonical = canonicalRequest(request, payloadSHA256: payloadSHA256)
        let signature = signature(stringToSign: stringToSign(canonicalRequest: canonical.text, timestamp: timestamp), timestamp: timestamp)
        return "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(day: String(timestamp.prefix(8)))), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
    }

    /// The headers to add to an S3 request made at `time` whose body has the SHA-256 `payloadSHA256`:
    /// `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` (with temporary credentials) and `Authorization`,
    /// all but the last of them signed along with `host` and the request's own headers.
    public func signedHeaders(for request: Request, payloadSHA256: String, at time: UTCTime) -> [(name: String, value: String)] {
        let timestamp = Self.timestamp(time)
        var added: [(name: String, value: String)] = [("x-amz-date", timestamp), ("x-amz-content-sha256", payloadSHA256)]
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        var signed = request
        signed.headers += added
        return added + [("Authorization", authorization(for: signed, payloadSHA256: payloadSHA256, timestamp: timestamp))]
    }

    /// The query string of a presigned URL for `request` made at `time`, valid for `seconds`: the request's own
    /// parameters, then `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`,
    /// `X-Amz-Security-Token` (with temporary credentials) and last `X-Amz-Signature`, in botocore's order.
    public func presignedQuery(for request: Request, expiresIn seconds: Int64, at time: UTCTime) -> String {
        let timestamp = Self.timestamp(time)
        var signed = request
        signed.query += [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(day: String(timestamp.prefix(8))))"),
            ("X-Amz-Date", timestamp),
            ("X-Amz-Expires", String(seconds)),
            ("X-Amz-SignedHeaders", canonicalRequest(request, payloadSHA256: Self.unsignedPayload).signedHeaders),
        ]
        if let token = credentials.sessionToken { signed.query.append(("X-Amz-Security-Token", token)) }
        let canonical = canonicalRequest(signed, payloadSHA256: Self.unsignedPayload).text
        let signature = signature(stringToSign: stringToSign(canonicalRequest: canonical, timestamp: timestamp), timestamp: timestamp)
        return signed.encodedQuery + "&X-Amz-Signature=" + signature
    }
}
