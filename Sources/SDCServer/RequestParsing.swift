import Foundation
import Hummingbird
import SDCCore

extension Request {
    /// Query parameters in order, form-decoded (`+` is a space).
    var orderedQueryParameters: [(String, String)] { (uri.query ?? "").formDecodedPairs }

    /// The percent-decoded remainder of the path after `/<route>/` (and the family prefix), empty when the route
    /// segment is last or absent; empty segments (doubled slashes) are dropped. Throws 400 when the path is not valid
    /// percent-encoding. Scans the path's bytes once, without an array of segments: every upload, download and
    /// presigned request runs it.
    func pathRemainder(after route: String) throws -> String {
        let slash = UInt8(ascii: "/")
        let path = Array(uri.path.utf8), routeBytes = Array(route.utf8)
        var raw: [UInt8] = []
        var found = false
        var start = 0
        while start < path.count {
            guard path[start] != slash else {
                start += 1
                continue
            }
            var end = start + 1
            while end < path.count && path[end] != slash { end += 1 }
            if found {
                if !raw.isEmpty { raw.append(slash) }
                raw.append(contentsOf: path[start..<end])
            } else if path[start..<end].elementsEqual(routeBytes) {
                found = true
            }
            start = end
        }
        guard found else { return "" }
        let text = String(decoding: raw, as: UTF8.self)
        guard let decoded = text.percentDecoded() else {
            throw APIError.badRequest("The path '\(text)' is not valid percent-encoding.")
        }
        return decoded
    }
}

/// Collapses runs of `/` in request paths (`//query` from a base URL ending in `/`) before routing.
struct PathNormalizingResponder<Inner: HTTPResponder>: HTTPResponder {
    let inner: Inner

    func respond(to request: Request, context: Inner.Context) async throws -> Response {
        guard let path = request.head.path, path.contains("//") else {
            return try await inner.respond(to: request, context: context)
        }
        var head = request.head
        let (route, query) = path.firstIndex(of: "?").map { (path[..<$0], path[$0...]) } ?? (Substring(path), "")
        var collapsed = ""
        for character in route where !(character == "/" && collapsed.last == "/") { collapsed.append(character) }
        head.path = collapsed + query
        return try await inner.respond(to: Request(head: head, body: request.body), context: context)
    }
}

/// An inclusive byte range from a `Range: bytes=...` header.
enum ByteRange {
    /// The single range requested, nil when the header is absent or asks for several ranges (answered with the whole
    /// object, as RFC 9110 allows). Throws 416 when no part of it lies inside the object.
    static func parse(_ header: String?, size: Int64) throws -> ClosedRange<Int64>? {
        guard let header, header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let unsatisfiable = APIError(.rangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable: the object has \(size) bytes.")
        if parts[0].isEmpty {
            guard let suffix = Int64(parts[1]), suffix > 0, size > 0 else { throw unsatisfiable }
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = Int64(parts[0]) else { return nil }
        guard start < size else { throw unsatisfiable }
        let end = parts[1].isEmpty ? size - 1 : min(Int64(parts[1]) ?? -1, size - 1)
        guard end >= start else { return nil }
        return start...end
    }
}

extension DecodingError {
    /// What is wrong with a request body, in words a client can act on: the field and the problem.
    var reason: String {
        func path(_ context: Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch self {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "the field '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)' is missing"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "the field '\(path(context))' is not a \(type)"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "it is not JSON (\(context.debugDescription))" : "the field '\(path(context))' is invalid: \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}
