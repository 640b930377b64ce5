import NIOCore

/// A byte range of an open local file that holds an object: what a server needs to send the bytes with
/// `sendfile(2)` (NIO's `FileRegion`) instead of reading them through user space. Stores that keep objects in local
/// files offer it through ``ObjectStore/localFileRegion(_:range:)``; others (S3) stream with ``ObjectStore/read(_:range:)``.
///
/// The region owns its file handle: ``close()`` it once the bytes are sent. A region released without that closes the
/// file then, so a response that is never written (the client went away) leaks nothing.
public final class LocalFileRegion: Sendable {
    /// The open file; valid until ``close()``.
    public let handle: NIOFileHandle
    /// Where the bytes start in the file.
    public let offset: Int64
    /// How many bytes the region holds.
    public let length: Int64

    /// Takes ownership of `handle`.
    public init(handle: NIOFileHandle, offset: Int64, length: Int64) {
        self.handle = handle
        self.offset = offset
        self.length = length
    }

    deinit { close() }

    /// The region as NIO's `FileRegion`, to write to a channel (the handle must stay open until the write completes).
    public var fileRegion: FileRegion {
        FileRegion(fileHandle: handle, readerIndex: Int(offset), endIndex: Int(offset + length))
    }

    /// Closes the file (once; later calls do nothing).
    public func close() {
        if handle.isOpen { try? handle.close() }
    }
}
