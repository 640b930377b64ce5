import Hummingbird
import NIOCore
import SDCStorage

/// The request context of sdc's server: Hummingbird's core storage plus the connection's channel, whose event loop
/// paces streamed responses (see ``PacedBody``).
public struct SDCRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request arrived on.
    public let channel: any Channel
    /// Who made the request, resolved by ``AuthenticationMiddleware`` for the API's routes; anonymous elsewhere.
    public var caller: Caller = .anonymous

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        channel = source.channel
    }
}

/// Streams an object to a response writer without running ahead of the connection.
///
/// NIO's async channel writer hands every chunk to the connection's event loop and learns that the socket is full
/// only after the event loop has run the queued writes, so a fast reader (the page cache) can queue hundreds of
/// chunks in front of a slower socket. Every `pacingBytes` the stream sends a marker through the event loop and waits
/// for the previous marker: when it returns, the writes before that marker have been processed and the writer's
/// writability is current, so at most about `2 × pacingBytes` are queued beyond NIO's own high-water mark, whatever
/// the object's size, while one marker is always in flight and the stream never idles.
struct PacedBody {
    static let pacingBytes = 2 << 20

    let body: ObjectBody
    let eventLoop: any EventLoop

    func write(to writer: inout any ResponseBodyWriter) async throws {
        var sinceMarker = 0
        var previousMarker: EventLoopFuture<Void>?
        for try await chunk in body {
            try await writer.write(chunk)
            sinceMarker += chunk.readableBytes
            if sinceMarker >= Self.pacingBytes {
                sinceMarker = 0
                let marker = eventLoop.submit {}
                try await previousMarker?.get()
                previousMarker = marker
            }
        }
        try await previousMarker?.get()
    }
}
