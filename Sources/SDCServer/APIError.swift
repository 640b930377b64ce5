import Foundation
import Hummingbird
import SDCCore

/// An error answered to the client: status, reason phrase and `{"error": CODE, "message": text}`.
///
/// imap-data-access shows `"<status> <reason>: <body>"` to its user, and processing code matches on
/// `409` + `FileAlreadyExists` and `503` + `SlowDown`, so codes follow S3's and the IMAP SDC's names.
public struct APIError: HTTPResponseError, Equatable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        let body = JSONValue.object([("error", .string(code)), ("message", .string(message))]).serialized()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    public static func badRequest(_ message: String, code: String = "BadRequest") -> APIError { APIError(.badRequest, code, message) }
    public static func notFound(_ message: String) -> APIError { APIError(.notFound, "NotFound", message) }
    public static func forbidden(_ message: String, code: String = "Forbidden") -> APIError { APIError(.forbidden, code, message) }
    public static func unauthorized(_ message: String) -> APIError { APIError(.unauthorized, "Unauthorized", message) }

    public static func fileAlreadyExists(_ key: String) -> APIError {
        APIError(.conflict, "FileAlreadyExists",
                 "The file '\(key)' already exists. Rename it or remove the existing file before uploading again.")
    }

    public static func tooLarge(limit: Int64) -> APIError {
        APIError(.contentTooLarge, "EntityTooLarge", "The upload is larger than this data center accepts (\(limit) bytes).")
    }

    public static let slowDown = APIError(.serviceUnavailable, "SlowDown",
                                          "The data center is busy: please reduce your request rate and retry.")

    public static func internalError(_ message: String) -> APIError { APIError(.internalServerError, "InternalError", message) }
}
