import Hummingbird
import NIOCore
import NIOHTTP1
import SDCStorage

/// Sends an object held in a local file with `sendfile(2)`: the kernel moves the bytes from the page cache to the
/// socket, so they never pass through user space and memory stays constant whatever the object's size.
///
/// Hummingbird's body writer carries `ByteBuffer`s only (its response parts are NIOHTTPTypes parts), so the region is
/// written past it, into the channel just below NIO's HTTP/1 encoder. That is where bytes leave the encoder, which has
/// already framed the response with its Content-Length, so the region's bytes are the body as they stand. Order is
/// kept: Hummingbird writes the head before it runs the body closure and hands it to the event loop before that
/// write returns; the region is queued on the event loop after it; `end` goes through the body writer once the whole
/// region has been sent.
struct FileRegionBody {
    let region: LocalFileRegion
    let channel: any Channel

    /// Whether responses on `channel` can carry a file region: its pipeline encodes with NIO's HTTP/1 encoder (a real
    /// connection; an in-memory test channel has none).
    static func isSupported(on channel: any Channel) async -> Bool {
        let found = try? await channel.eventLoop.submit {
            (try? channel.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)) != nil
        }.get()
        return found ?? false
    }

    /// Writes the region and finishes the body; closes the file in every case.
    func write(to writer: inout any ResponseBodyWriter) async throws {
        defer { region.close() }
        let channel = channel, fileRegion = region.fileRegion
        try await channel.eventLoop.flatSubmit {
            let sent = channel.eventLoop.makePromise(of: Void.self)
            do {
                let encoder = try channel.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
                encoder.writeAndFlush(NIOAny(IOData.fileRegion(fileRegion)), promise: sent)
            } catch {
                sent.fail(error)
            }
            return sent.futureResult
        }.get()
        try await writer.finish(nil)
    }
}
