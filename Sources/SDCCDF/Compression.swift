import CDeflate

/// The compression of a variable or of a whole file (CPR cType and parameter).
public enum CDFCompression: Sendable, Equatable, CustomStringConvertible {
    case none
    /// Run-length coding of zero bytes (cType 1).
    case rle
    /// Huffman (cType 2): recognised, not decoded.
    case huffman
    /// Adaptive Huffman (cType 3): recognised, not decoded.
    case adaptiveHuffman
    /// GZIP at level 1...9 (cType 5).
    case gzip(level: Int)

    /// The default IMAP uses for products.
    public static let gzip6 = CDFCompression.gzip(level: 6)

    init(code: Int32, parameter: Int32, record: String, offset: Int) throws {
        switch code {
        case 0: self = .none
        case 1: self = .rle
        case 2: self = .huffman
        case 3: self = .adaptiveHuffman
        case 5: self = .gzip(level: Int(parameter))
        default: throw CDFError.malformed(record: record, offset: offset, reason: "unknown compression type \(code)")
        }
    }

    var code: Int32 {
        switch self {
        case .none: 0
        case .rle: 1
        case .huffman: 2
        case .adaptiveHuffman: 3
        case .gzip: 5
        }
    }

    var parameter: Int32 {
        if case .gzip(let level) = self { return Int32(level) }
        return 0
    }

    /// `none`, `rle`, `huffman`, `ahuffman` or `gzip` followed by the level, e.g. `gzip6`.
    public var description: String {
        switch self {
        case .none: "none"
        case .rle: "rle"
        case .huffman: "huffman"
        case .adaptiveHuffman: "ahuffman"
        case .gzip(let level): "gzip\(level)"
        }
    }

    /// Parses the `description` form (`none`, `gzip`, `gzip6`, `rle`).
    public init?(_ text: String) {
        switch text {
        case "none", "": self = .none
        case "rle": self = .rle
        case "gzip": self = .gzip6
        default:
            guard text.hasPrefix("gzip"), let level = Int(text.dropFirst(4)), (1...9).contains(level) else { return nil }
            self = .gzip(level: level)
        }
    }
}

/// Largest expansion ratio deflate can achieve; bounds how much output a compressed block may claim.
let maximumDeflateRatio = 1032

/// GZIP decompression with libdeflate, which inflates a whole buffer at once: CDF always knows the uncompressed
/// size of a block (records times record size) or of a file (the CCR says it), so the output is allocated exactly
/// and any other size is an error.
enum Deflate {
    /// Inflates one gzip member (or, for files written by other tools, one zlib stream) into exactly
    /// `destination.count` bytes; bytes after the member are ignored. The gzip CRC-32 and length are checked.
    static func inflate(_ input: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer,
                        record: String, offset: Int) throws {
        guard let decompressor = libdeflate_alloc_decompressor() else {
            throw CDFError.decompressionFailed(record: record, offset: offset, reason: "libdeflate could not allocate a decompressor")
        }
        defer { libdeflate_free_decompressor(decompressor) }
        // A destination may be empty (a zero-length base address is allowed to be nil): give libdeflate a valid pointer.
        var scratch: UInt8 = 0
        let result = withUnsafeMutablePointer(to: &scratch) { scratchPointer in
            let out = destination.baseAddress ?? UnsafeMutableRawPointer(scratchPointer)
            let isGzip = input.count >= 2 && input[0] == 0x1F && input[1] == 0x8B
            return isGzip
                ? libdeflate_gzip_decompress(decompressor, input.baseAddress, input.count, out, destination.count, nil)
                : libdeflate_zlib_decompress(decompressor, input.baseAddress, input.count, out, destination.count, nil)
        }
        switch result {
        case LIBDEFLATE_SUCCESS:
            return
        case LIBDEFLATE_SHORT_OUTPUT:
            throw CDFError.decompressionFailed(record: record, offset: offset,
                                               reason: "inflated to fewer bytes than the expected \(destination.count)")
        case LIBDEFLATE_INSUFFICIENT_SPACE:
            throw CDFError.decompressionFailed(record: record, offset: offset,
                                               reason: "inflates past the expected \(destination.count) bytes")
        default:
            throw CDFError.decompressionFailed(record: record, offset: offset,
                                               reason: "compressed data (\(input.count) bytes) is truncated or corrupt")
        }
    }
}

/// A libdeflate compressor producing complete gzip members, reused across blocks by one thread at a time.
/// libdeflate compresses a whole buffer in one call, several times faster than zlib's streaming deflate at the
/// same level, with output about as small.
final class GzipCompressor {
    private let compressor: OpaquePointer?
    /// The compression level, 1...9 on zlib's scale.
    let level: Int

    init(level: Int) {
        self.level = level
        compressor = libdeflate_alloc_compressor(Int32(level))
    }

    deinit {
        libdeflate_free_compressor(compressor)
    }

    /// One gzip member of `input`; nil when compression fails or does not shrink it.
    func member(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let compressor, input.count > 1 else { return nil }
        // Room for anything smaller than the input: libdeflate returns 0 when the member would not fit.
        let capacity = input.count - 1
        var produced = 0
        let output = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            produced = libdeflate_gzip_compress(compressor, input.baseAddress, input.count, buffer.baseAddress, capacity)
            initialized = produced
        }
        return produced > 0 ? output : nil
    }
}

/// Run-length decoding of zero bytes (cType 1): `00 n` stands for n + 1 zeros, other bytes are literal.
enum ZeroRunLength {
    /// Decodes into exactly `destination.count` bytes.
    static func decode(_ input: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer,
                       record: String, offset: Int) throws {
        var out = 0
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == 0 {
                guard index + 1 < input.count else {
                    throw CDFError.decompressionFailed(record: record, offset: offset, reason: "RLE data ends inside a run")
                }
                let run = Int(input[index + 1]) + 1
                guard out + run <= destination.count else {
                    throw CDFError.decompressionFailed(record: record, offset: offset, reason: "RLE output exceeds \(destination.count) bytes")
                }
                for k in 0..<run { destination[out + k] = 0 }
                out += run
                index += 2
            } else {
                guard out < destination.count else {
                    throw CDFError.decompressionFailed(record: record, offset: offset, reason: "RLE output exceeds \(destination.count) bytes")
                }
                destination[out] = byte
                out += 1
                index += 1
            }
        }
        guard out == destination.count else {
            throw CDFError.decompressionFailed(record: record, offset: offset, reason: "RLE output is \(out) bytes, expected \(destination.count)")
        }
    }

    /// Upper bound of the decoded size of `input` (every `00 ff` pair is 256 zeros).
    static func maximumDecodedSize(of count: Int) -> Int { count * 128 + 1 }
}
