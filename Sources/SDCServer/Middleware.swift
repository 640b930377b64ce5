import Hummingbird
import Logging
import Synchronization

/// One structured log line per request: method, path, status, duration and bytes.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        func log(_ status: HTTPResponse.Status, bytes: String?) {
            let elapsed = ContinuousClock.now - start
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            var metadata: Logger.Metadata = [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(status.code)",
                "duration_ms": "\((milliseconds * 10).rounded() / 10)",
            ]
            if let bytes { metadata["bytes"] = "\(bytes)" }
            logger.log(level: status.code >= 500 ? .error : .info, "request", metadata: metadata)
        }
        do {
            let response = try await next(request, context)
            log(response.status, bytes: response.headers[.contentLength])
            return response
        } catch let error as any HTTPResponseError {
            log(error.status, bytes: nil)
            throw error
        } catch {
            log(.internalServerError, bytes: nil)
            throw error
        }
    }
}

/// Answers 503 SlowDown when more than `limit` requests are in flight, so that clients back off (imap-api.md §1.3).
struct LoadSheddingMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Shared by every copy of the middleware.
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    let limit: Int
    let inFlight = Counter()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let current = inFlight.value.add(1, ordering: .relaxed).newValue
        defer { inFlight.value.subtract(1, ordering: .relaxed) }
        guard current <= limit else { throw APIError.slowDown }
        return try await next(request, context)
    }
}

/// Answers requests that match no route with the API's JSON error (`404` `NotFound`, imap-api.md §1.3) instead of
/// an empty 404. Only the router's own miss is translated (its not-found responder names the endpoint "NotFound"), so
/// every route's answers, 404s included, are left as they are.
struct UnknownRouteMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && context.endpointPath == "NotFound" {
            throw APIError.notFound("There is no \(request.method.rawValue) endpoint at \(request.uri.path).")
        }
    }
}

/// Says `Connection: close` in the answer to a request that asked for it. The server closes such a connection after
/// the answer; saying so (RFC 9112 §9.6) keeps a client from sending its next request on a connection that is closing.
struct ConnectionCloseMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Hummingbird closes exactly when the request's Connection header is "close".
        guard request.headers[.connection] == "close" else { return try await next(request, context) }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.connection] = "close"
        return response
    }
}
