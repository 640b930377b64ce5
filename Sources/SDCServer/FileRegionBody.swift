import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix
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
///
/// A channel without NIO's HTTP/1 encoder (an in-memory test channel) gets the region's bytes through the body
/// writer instead, read in chunks on NIO's thread pool. The encoder is looked up in the same event-loop trip that
/// writes the region, so a download costs no trip to find out.
struct FileRegionBody {
    /// Bytes read per chunk when the region goes through the body writer.
    static let chunkSize = 256 * 1024

    let region: LocalFileRegion
    let channel: any Channel

    /// Writes the region and finishes the body; closes the file in every case.
    func write(to writer: inout any ResponseBodyWriter) async throws {
        defer { region.close() }
        let channel = channel, fileRegion = region.fileRegion
        let sentByChannel = try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<Bool> in
            guard let encoder = try? channel.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) else {
                return channel.eventLoop.makeSucceededFuture(false)
            }
            let sent = channel.eventLoop.makePromise(of: Void.self)
            encoder.writeAndFlush(NIOAny(IOData.fileRegion(fileRegion)), promise: sent)
            return sent.futureResult.map { true }
        }.get()
        if !sentByChannel {
            let fileIO = NonBlockingFileIO(threadPool: .singleton)
            var offset = region.offset
            let end = region.offset + region.length
            while offset < end {
                let count = Int(min(Int64(Self.chunkSize), end - offset))
                let chunk = try await fileIO.read(fileHandle: region.handle, fromOffset: offset, byteCount: count, allocator: ByteBufferAllocator())
                guard chunk.readableBytes > 0 else { throw FileRegionError.shrank(offset: offset, end: end) }
                try await writer.write(chunk)
                offset += Int64(chunk.readableBytes)
            }
        }
        try await writer.finish(nil)
    }
}

/// Why a file region could not be sent.
enum FileRegionError: Error, CustomStringConvertible {
    /// The file ended at `offset`, before the region's `end`.
    case shrank(offset: Int64, end: Int64)

    var description: String {
        switch self {
        case .shrank(let offset, let end): "the object's file ended at byte \(offset), before the end of the requested span at \(end)"
        }
    }
}
