import Hummingbird
import SDCCatalog

/// Answers a request that failed while the shared database cannot be reached with `503 ServiceUnavailable`, the
/// API's JSON error and `Retry-After`, instead of a `500`: the client retries, and service resumes by itself when the
/// database returns. Refusals (4xx) and the `503`s the server means (SlowDown, ShuttingDown) pass unchanged; other
/// failures are checked against ``BackendProbe`` only once they have happened.
struct OutageMiddleware<Context: RequestContext>: RouterMiddleware {
    let probe: any BackendProbe
    /// Seconds a client is asked to wait before retrying.
    static var retryAfterSeconds: Int { 5 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError where error.status.code < 500 || error.status == .serviceUnavailable {
            throw error
        } catch {
            guard let reason = await probe.unreachableReason() else { throw error }
            var outage = APIError(.serviceUnavailable, "ServiceUnavailable",
                                  "The data center's database cannot be reached (\(reason)). Nothing was changed: retry later.")
            outage.headers[.retryAfter] = String(Self.retryAfterSeconds)
            throw outage
        }
    }
}
