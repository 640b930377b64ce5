import HTTPTypes
import Hummingbird
import NIOCore
import SDCCore

/// The HAPI version this server implements.
public let hapiVersion = "3.3"

/// A HAPI status code with its message and the HTTP status it travels with (HAPI 3.3 §4.2, "status Error Codes").
public enum HAPIStatusCode: Int, Sendable, CaseIterable {
    case ok = 1200
    case okNoData = 1201
    case userInputError = 1400
    case unknownParameterName = 1401
    case badStart = 1402
    case badStop = 1403
    case startNotBeforeStop = 1404
    case timeOutsideRange = 1405
    case unknownDataset = 1406
    case unknownDatasetParameter = 1407
    case tooMuchData = 1408
    case unsupportedFormat = 1409
    case unsupportedInclude = 1410
    case parameterOrder = 1411
    case unsupportedResolveReferences = 1412
    case unsupportedDepth = 1413
    case internalError = 1500

    /// The spec's message for the code.
    public var message: String {
        switch self {
        case .ok: "OK"
        case .okNoData: "OK - no data for time range"
        case .userInputError: "Bad request - user input error"
        case .unknownParameterName: "Bad request - unknown API parameter name"
        case .badStart: "Bad request - syntax error in start time"
        case .badStop: "Bad request - syntax error in stop time"
        case .startNotBeforeStop: "Bad request - start equal to or after stop"
        case .timeOutsideRange: "Bad request - start < startDate and/or stop > stopDate"
        case .unknownDataset: "Bad request - unknown dataset id"
        case .unknownDatasetParameter: "Bad request - unknown dataset parameter"
        case .tooMuchData: "Bad request - too much time or data requested"
        case .unsupportedFormat: "Bad request - unsupported output format"
        case .unsupportedInclude: "Bad request - unsupported include value"
        case .parameterOrder: "Bad request - out-of-order or duplicate parameters"
        case .unsupportedResolveReferences: "Bad request - unsupported resolve_references value"
        case .unsupportedDepth: "Bad request - unsupported depth value"
        case .internalError: "Internal server error"
        }
    }

    /// The HTTP status of the table in §4.2: 404 for an unknown dataset or parameter, 400 for other user errors.
    public var httpCode: Int {
        switch rawValue {
        case 1200..<1300: 200
        case 1406, 1407: 404
        case 1400..<1500: 400
        default: 500
        }
    }

    /// The HTTP status. (§4 recommends the HAPI code in the reason phrase too; NIO's HTTP/1 encoder writes the
    /// standard phrase of every known code, so the HAPI status travels in the body and, for data, the header.)
    public var httpStatus: HTTPResponse.Status { HTTPResponse.Status(code: httpCode) }
}

/// A HAPI `status` object: a code and a message that conceptually matches it (§4.1).
public struct HAPIStatus: Sendable, Equatable {
    public var code: HAPIStatusCode
    public var message: String

    /// The code with its standard message, followed by `detail` when given.
    public init(_ code: HAPIStatusCode, detail: String? = nil) {
        self.code = code
        self.message = detail.map { "\(code.message): \($0)" } ?? code.message
    }

    /// `{"code": ..., "message": ...}`.
    public var json: JSONValue { .object([("code", .int(code.rawValue)), ("message", .string(message))]) }
}

/// A request the HAPI server refuses: answered with the HTTP status of its code and a JSON body that is a HAPI header
/// holding only the status, whatever format was asked for (§4.2: "The JSON object should be returned even if the
/// request was for non-JSON data").
public struct HAPIError: HTTPResponseError, Equatable {
    /// The HAPI status the body carries.
    public let hapiStatus: HAPIStatus

    public init(_ code: HAPIStatusCode, _ detail: String? = nil) {
        hapiStatus = HAPIStatus(code, detail: detail)
    }

    public var code: HAPIStatusCode { hapiStatus.code }

    /// The HTTP status of the code (Hummingbird's ``HTTPResponseError``).
    public var status: HTTPResponse.Status { hapiStatus.code.httpStatus }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = JSONValue.object([("HAPI", .string(hapiVersion)), ("status", hapiStatus.json)]).serialized(pythonStyle: false)
        return Response(status: status, headers: HAPIResponses.headers(contentType: "application/json"),
                        body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

extension HAPIError: CustomStringConvertible {
    public var description: String { "HAPI \(hapiStatus.code.rawValue) \(hapiStatus.message)" }
}

/// Headers every HAPI answer carries.
enum HAPIResponses {
    /// The content type plus the CORS headers §5.1 recommends, so browser clients of any origin can read the data.
    static func headers(contentType: String) -> HTTPFields {
        [.contentType: contentType, .accessControlAllowOrigin: "*", .accessControlAllowMethods: "GET, HEAD",
         .accessControlAllowHeaders: "Content-Type, x-api-key"]
    }

    /// 200 with a HAPI JSON document.
    static func json(_ value: JSONValue) -> Response {
        Response(status: HAPIStatusCode.ok.httpStatus, headers: headers(contentType: "application/json"),
                 body: .init(byteBuffer: ByteBuffer(string: value.serialized(pythonStyle: false))))
    }
}
