import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory mapping of a whole file, unmapped when released.
final class MappedFile {
    private let address: UnsafeMutableRawPointer?
    private let size: Int

    /// Why a file could not be mapped.
    struct MappingError: Error, CustomStringConvertible {
        let path: String
        let operation: String
        let code: Int32

        var description: String { "cannot \(operation) \(path): \(String(cString: strerror(code)))" }
    }

    init(url: URL) throws {
        let path = url.path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw MappingError(path: path, operation: "open", code: errno) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw MappingError(path: path, operation: "stat", code: errno) }
        size = Int(status.st_size)
        guard size > 0 else {
            address = nil
            return
        }
        let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let mapped, mapped != MAP_FAILED else { throw MappingError(path: path, operation: "map", code: errno) }
        madvise(mapped, size, MADV_SEQUENTIAL)
        address = mapped
    }

    deinit {
        if let address { munmap(address, size) }
    }

    /// Lets the kernel drop the mapped pages wholly before `offset` (they are read again if touched).
    func discardPages(before offset: Int) {
        guard let address else { return }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let length = min(offset, size) / pageSize * pageSize
        if length > 0 { madvise(address, length, MADV_DONTNEED) }
    }

    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(start: address, count: size))
    }
}
