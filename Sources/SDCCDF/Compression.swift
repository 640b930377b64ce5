import CZlib

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

/// Thin wrappers over zlib for gzip members.
enum Deflate {
    /// Inflates gzip (or zlib) data into exactly `destination.count` bytes.
    static func inflate(_ input: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer,
                        record: String, offset: Int) throws {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        guard inflateInit2_(stream, 47, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw CDFError.decompressionFailed(record: record, offset: offset, reason: "zlib initialisation failed")
        }
        defer { inflateEnd(stream) }
        var scratch: UInt8 = 0
        let status: Int32 = withUnsafeMutablePointer(to: &scratch) { scratchPointer in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
            stream.pointee.next_out = destination.baseAddress?.assumingMemoryBound(to: Bytef.self) ?? scratchPointer
            stream.pointee.avail_out = uInt(destination.count)
            return CZlib.inflate(stream, Z_FINISH)
        }
        let produced = destination.count - Int(stream.pointee.avail_out)
        switch status {
        case Z_STREAM_END:
            guard produced == destination.count else {
                throw CDFError.decompressionFailed(record: record, offset: offset,
                                                   reason: "inflated to \(produced) bytes, expected \(destination.count)")
            }
        case Z_BUF_ERROR, Z_OK:
            throw CDFError.decompressionFailed(record: record, offset: offset,
                                               reason: "compressed data is truncated or inflates past the expected \(destination.count) bytes")
        default:
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            throw CDFError.decompressionFailed(record: record, offset: offset, reason: message)
        }
    }
}

/// A zlib deflate stream producing complete gzip members (windowBits 31; memLevel 9, which is about 10%
/// faster than the default 8 and as small), reused across blocks.
/// The `z_stream` lives at a fixed address because zlib keeps a pointer back to it.
final class GzipCompressor {
    private let stream: UnsafeMutablePointer<z_stream>
    private let ready: Bool

    init(level: Int) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        ready = deflateInit2_(stream, Int32(level), Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY,
                              ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
    }

    deinit {
        if ready { deflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// One gzip member of `input`; nil when compression fails or (unless `allowExpansion`) does not shrink it.
    func member(_ input: UnsafeRawBufferPointer, allowExpansion: Bool = false) -> [UInt8]? {
        guard ready, deflateReset(stream) == Z_OK else { return nil }
        let bound = Int(deflateBound(stream, uLong(input.count))) + 32
        var output = [UInt8](unsafeUninitializedCapacity: bound) { _, initialized in initialized = bound }
        let produced: Int? = output.withUnsafeMutableBytes { out in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
            stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(out.count)
            guard deflate(stream, Z_FINISH) == Z_STREAM_END else { return nil }
            return out.count - Int(stream.pointee.avail_out)
        }
        guard let produced, allowExpansion || produced < input.count else { return nil }
        output.removeLast(output.count - produced)
        return output
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
