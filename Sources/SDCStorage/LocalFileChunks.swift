import NIOCore
import NIOPosix

/// A local file as a sequence of 1 MiB chunks (an upload or ingest body), read on NIO's thread pool so that no
/// cooperative-pool thread blocks on the disk. The file is opened on the first `next()` and closed at its end.
public struct LocalFileChunks: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    public let path: String
    let threadPool: NIOThreadPool
    static let chunkSize = 1 << 20

    public init(path: String, threadPool: NIOThreadPool = .singleton) {
        self.path = path
        self.threadPool = threadPool
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let path: String
        let fileIO: NonBlockingFileIO
        let threadPool: NIOThreadPool
        var handle: NIOFileHandle?
        var offset: Int64 = 0
        var finished = false

        public mutating func next() async throws -> ByteBuffer? {
            guard !finished else { return nil }
            if handle == nil {
                let path = path
                handle = try await threadPool.runIfActive { try NIOFileHandle(_deprecatedPath: path) }
            }
            guard let handle else { return nil }
            let chunk = try await fileIO.read(fileHandle: handle, fromOffset: offset, byteCount: LocalFileChunks.chunkSize,
                                              allocator: ByteBufferAllocator())
            guard chunk.readableBytes > 0 else {
                finished = true
                try handle.close()
                return nil
            }
            offset += Int64(chunk.readableBytes)
            return chunk
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(path: path, fileIO: NonBlockingFileIO(threadPool: threadPool), threadPool: threadPool)
    }
}
