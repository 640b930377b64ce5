import Hummingbird
import NIOCore
import SDCStorage

/// The request context of sdc's server: Hummingbird's core storage plus the connection's channel, whose event loop
/// paces streamed responses (see ``PacedBody``).
public struct SDCRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request arrived on.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        channel = source.channel
    }
}

/// Streams an object to a response writer without running ahead of the connection.
///
/// NIO's async channel writer hands every chunk to the connection's event loop and learns that the socket is full
/// only after the event loop has run the queued writes, so a fast reader (the page cache) can queue hundreds of
/// chunks in front of a slower socket. Every `pacingBytes` the stream waits for a round trip through the event loop:
/// by then the writes before it have been processed and the writer's writability is up to date, so at most about
/// `pacingBytes` are queued beyond NIO's own high-water mark, whatever the object's size.
struct PacedBody {
    static let pacingBytes = 1 << 20

    let body: ObjectBody
    let eventLoop: any EventLoop

    func write(to writer: inout any ResponseBodyWriter) async throws {
        var sinceRoundTrip = 0
        for try await chunk in body {
            try await writer.write(chunk)
            sinceRoundTrip += chunk.readableBytes
            if sinceRoundTrip >= Self.pacingBytes {
                sinceRoundTrip = 0
                try await eventLoop.submit {}.get()
            }
        }
    }
}
