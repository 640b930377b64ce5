import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SDCCore

/// Sends requests the way imap-data-access does (`io.py: _make_request`): the credential header on every
/// request, redirects followed by hand (up to 30; `x-api-key` re-sent to any host, `Authorization` dropped
/// when the host changes), statuses from 400 up turned into `SDCClientError.http`. On top of that, `503` and
/// connection failures are retried with exponential backoff.
struct HTTPTransport: Sendable {
    /// The header carrying an object's SHA-256 on `sdc serve` download responses (including redirects).
    static let checksumHeader = "x-checksum-sha256"
    static let maximumRedirects = 30
    /// The most bytes of an error response kept for the message.
    static let maximumErrorBodyBytes = 1 << 20
    /// Time allowed until a response head arrives. Uploads send their whole body first, so this is long;
    /// stalled connections are caught by the configured connect and read timeouts instead.
    static let responseDeadline = TimeAmount.hours(24)

    let client: HTTPClient
    let credentials: Credentials
    let retry: RetryPolicy
    let logger: Logger

    /// What to send.
    struct Request: Sendable {
        var method: HTTPMethod
        var url: String
        /// Builds the body for each attempt (a streamed body cannot be replayed).
        var body: (@Sendable () -> HTTPClientRequest.Body)?
        /// When false, a redirect is the response (its headers are what the caller wants).
        var followsRedirects: Bool

        init(_ method: HTTPMethod, _ url: String, body: (@Sendable () -> HTTPClientRequest.Body)? = nil,
             followsRedirects: Bool = true) {
            self.method = method
            self.url = url
            self.body = body
            self.followsRedirects = followsRedirects
        }
    }

    /// A successful response (status below 400) after redirects.
    struct Response {
        var headers: HTTPHeaders
        var body: HTTPClientResponse.Body
        /// The SHA-256 announced by the first response in the redirect chain that carried one.
        var announcedSHA256: String?
    }

    /// Sends `request` and hands the successful response to `handle`, retrying the whole exchange (the
    /// handler's body streaming included) after a 503 or a connection failure.
    func send<Result>(
        _ request: Request, handle: (Response) async throws -> Result
    ) async throws(SDCClientError) -> Result {
        var attempt = 1
        while true {
            let failure: SDCClientError
            let retryable: Bool
            do {
                let response = try await followingRedirects(request)
                return try await handle(response)
            } catch let error as SDCClientError {
                failure = error
                if case .http(503, _, _) = error { retryable = true } else { retryable = false }
            } catch is CancellationError {
                throw .transport("The request to \(request.url) was cancelled.")
            } catch {
                failure = .transport("Connection to \(request.url) failed: \(error)")
                retryable = !Self.isPermanent(error)
            }
            guard retryable, attempt < retry.maximumAttempts else { throw failure }
            let delay = retry.backoff(afterAttempt: attempt)
            logger.info("retrying after failure", metadata: [
                "url": "\(request.url)", "attempt": "\(attempt)", "error": "\(failure.message)", "delay": "\(delay)",
            ])
            do { try await Task.sleep(for: delay) } catch { throw .transport("cancelled") }
            attempt += 1
        }
    }

    /// Sends `request`, returning the decoded JSON body.
    func sendForJSON(_ request: Request) async throws(SDCClientError) -> JSONValue {
        let bytes = try await send(request) { response in
            try await Array(buffer: response.body.collect(upTo: .max))
        }
        do throws(JSONParseError) {
            return try JSONValue(parsing: bytes)
        } catch {
            throw .unexpectedResponse(
                pythonType: "JSONDecodeError", message: "\(error.description) in the response to \(request.url)")
        }
    }

    private func followingRedirects(_ original: Request) async throws -> Response {
        var request = original
        var host = Self.host(of: original.url)
        var announced: String?
        for _ in 0...Self.maximumRedirects {
            var outgoing = HTTPClientRequest(url: request.url)
            outgoing.method = request.method
            outgoing.headers.add(name: "User-Agent", value: "sdc")
            switch credentials {
            case .apiKey(let key): outgoing.headers.add(name: "x-api-key", value: key)
            case .accessToken(let token) where host == Self.host(of: original.url):
                outgoing.headers.add(name: "Authorization", value: "Bearer \(token)")
            default: break
            }
            if let body = request.body {
                outgoing.body = body()
            } else if request.method == .POST || request.method == .PUT {
                outgoing.headers.add(name: "Content-Length", value: "0")
            }
            logger.debug("request", metadata: ["method": "\(request.method.rawValue)", "url": "\(request.url)"])
            let response = try await client.execute(outgoing, timeout: Self.responseDeadline, logger: logger)
            announced = announced ?? response.headers.first(name: Self.checksumHeader)
            logger.debug("response", metadata: ["status": "\(response.status.code)", "url": "\(request.url)"])

            if request.followsRedirects, (300..<400).contains(response.status.code),
               let location = response.headers.first(name: "Location") {
                _ = try await Self.prefix(of: response.body)
                request = redirected(request, status: response.status.code, to: location)
                host = Self.host(of: request.url)
                continue
            }
            guard response.status.code < 400 else {
                let body = try await Self.prefix(of: response.body)
                throw SDCClientError.http(
                    status: Int(response.status.code), reason: response.status.reasonPhrase,
                    body: String(decoding: body, as: UTF8.self))
            }
            return Response(headers: response.headers, body: response.body,
                            announcedSHA256: announced?.lowercased())
        }
        throw SDCClientError.transport("Exceeded \(Self.maximumRedirects) redirects.")
    }

    /// Reads a whole body, keeping its first `maximumErrorBodyBytes` bytes.
    static func prefix(of body: HTTPClientResponse.Body) async throws -> [UInt8] {
        var kept: [UInt8] = []
        for try await chunk in body where kept.count < maximumErrorBodyBytes {
            kept += chunk.readableBytesView.prefix(maximumErrorBodyBytes - kept.count)
        }
        return kept
    }

    /// The next request of a redirect chain, with `requests`' method rules: 302 and 303 turn anything but HEAD
    /// into GET, 301 turns POST into GET, 307/308 keep method and body.
    private func redirected(_ request: Request, status: UInt, to location: String) -> Request {
        let target = URL(string: location, relativeTo: URL(string: request.url))?.absoluteString ?? location
        var next = Request(request.method, target, body: request.body, followsRedirects: true)
        let becomesGET = ((status == 302 || status == 303) && request.method != .HEAD) || (status == 301 && request.method == .POST)
        if becomesGET {
            next.method = .GET
            next.body = nil
        }
        return next
    }

    private static func host(of url: String) -> String? { URL(string: url)?.host }

    /// Whether another attempt cannot help: the URL itself is unusable.
    private static func isPermanent(_ error: any Error) -> Bool {
        guard let error = error as? HTTPClientError else { return false }
        return [.invalidURL, .emptyHost, .emptyScheme].contains(error) || "\(error)".contains("unsupportedScheme")
    }
}
