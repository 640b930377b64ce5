import Crypto
import Foundation
import SDCCore

/// Signs and verifies expiring URLs for one object and one method (HMAC-SHA256 over method, key and expiry),
/// the filesystem store's equivalent of S3 presigned URLs.
public struct URLSigner: Sendable {
    private let secret: [UInt8]

    /// Query parameter names, styled after S3's `X-Amz-*`.
    public static let expiresParameter = "X-Sdc-Expires"
    public static let signatureParameter = "X-Sdc-Signature"

    public init(secret: [UInt8]) {
        self.secret = secret
    }

    /// Loads the secret from `path`, creating a random one (mode 0600) on first use.
    public static func loadOrCreate(at path: String) throws -> URLSigner {
        if let existing = FileManager.default.contents(atPath: path), existing.count >= 32 {
            return URLSigner(secret: Array(existing))
        }
        let secret = SecureRandom.bytes(32)
        guard FileManager.default.createFile(atPath: path, contents: Data(secret), attributes: [.posixPermissions: 0o600]) else {
            throw StorageError.io("cannot write the URL-signing secret \(path)")
        }
        return URLSigner(secret: secret)
    }

    /// The signature for `method` on `key` until `expires` (Unix seconds).
    public func signature(method: PresignedMethod, key: ObjectKey, expires: Int64) -> String {
        let message = "\(method.rawValue)\n\(key.path)\n\(expires)"
        return HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: secret)).hexString
    }


    /// The query string (`X-Sdc-Expires=...&X-Sdc-Signature=...`) granting `method` on `key` for `seconds`.
    public func queryString(method: PresignedMethod, key: ObjectKey, expiresIn seconds: Int64, now: Int64) -> String {
        let expires = now + seconds
        return "\(Self.expiresParameter)=\(expires)&\(Self.signatureParameter)=\(signature(method: method, key: key, expires: expires))"
    }

    /// Why a presigned request is refused.
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case missing
        case expired
        case badSignature
        /// The store's presigned URLs point at its S3 bucket, which checks them; this server issues none.
        case servedByBucket

        public var description: String {
            switch self {
            case .missing: "the URL carries no \(URLSigner.expiresParameter) and \(URLSigner.signatureParameter) parameters"
            case .expired: "the URL has expired: request a new one"
            case .badSignature: "the URL's signature does not match its method, key and expiry"
            case .servedByBucket: "objects are stored in an S3 bucket: presigned URLs point at the bucket, and this server issues none"
            }
        }
    }

    /// Checks a presigned request; constant-time comparison of the signature.
    public func verify(method: PresignedMethod, key: ObjectKey, expires: String?, signature: String?, now: Int64) throws(Refusal) {
        guard let expires, let signature, let expiry = Int64(expires) else { throw .missing }
        guard expiry >= now else { throw .expired }
        let expected = Array(self.signature(method: method, key: key, expires: expiry).utf8)
        let given = Array(signature.utf8)
        guard expected.count == given.count else { throw .badSignature }
        var difference: UInt8 = 0
        for (a, b) in zip(expected, given) { difference |= a ^ b }
        guard difference == 0 else { throw .badSignature }
    }
}
