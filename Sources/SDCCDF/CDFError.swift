/// Errors raised while reading, writing or interpreting CDF files. Messages name the file offset and the
/// internal record involved so that a damaged file can be diagnosed.
public enum CDFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The first eight bytes are not a CDF magic number.
    case notCDF(magic: String)
    /// A record or field extends past the end of the data.
    case truncated(record: String, offset: Int, needed: Int, available: Int)
    /// A structural field has an impossible value.
    case malformed(record: String, offset: Int, reason: String)
    /// A record pointer leads to a record of the wrong type.
    case unexpectedRecordType(expected: String, found: Int32, offset: Int)
    /// A linked list of records revisits a record or exceeds its declared length.
    case cycle(record: String, offset: Int)
    /// A data type code that CDF does not define (or a non-IEEE VAX encoding).
    case unsupportedDataType(code: Int32, record: String, offset: Int)
    /// A data encoding that cannot be decoded (VAX/Alpha D and G floats).
    case unsupportedEncoding(Int32)
    /// A compression algorithm this implementation does not decode (Huffman, adaptive Huffman).
    case unsupportedCompression(code: Int32, record: String, offset: Int)
    /// Inflating compressed data failed or produced the wrong size.
    case decompressionFailed(record: String, offset: Int, reason: String)
    /// Decoding would need more memory than the file can justify.
    case allocationTooLarge(record: String, offset: Int, bytes: Int, limit: Int)
    /// The MD5 trailer does not match the file contents.
    case checksumMismatch(expected: String, actual: String)
    /// No variable or attribute with this name.
    case notFound(String)
    /// The values given for a variable or attribute do not fit its declaration.
    case invalidValues(name: String, reason: String)
    /// A definition cannot be written (bad name, duplicate, wrong state).
    case invalidDefinition(String)
    /// A system call failed.
    case io(path: String, operation: String, errno: Int32)
    /// A time value is outside the representable range or malformed.
    case invalidTime(String)

    public var description: String {
        switch self {
        case .notCDF(let magic): "not a CDF file (magic \(magic))"
        case let .truncated(record, offset, needed, available):
            "\(record) at offset \(offset): needs \(needed) bytes, only \(available) available (file truncated?)"
        case let .malformed(record, offset, reason): "\(record) at offset \(offset): \(reason)"
        case let .unexpectedRecordType(expected, found, offset):
            "expected \(expected) at offset \(offset), found record type \(found)"
        case let .cycle(record, offset): "\(record) chain loops or is longer than declared at offset \(offset)"
        case let .unsupportedDataType(code, record, offset): "\(record) at offset \(offset): unknown data type \(code)"
        case .unsupportedEncoding(let code): "data encoding \(code) (VAX/Alpha floating point) is not supported"
        case let .unsupportedCompression(code, record, offset):
            "\(record) at offset \(offset): compression type \(code) is not supported (only GZIP and RLE)"
        case let .decompressionFailed(record, offset, reason): "\(record) at offset \(offset): decompression failed: \(reason)"
        case let .allocationTooLarge(record, offset, bytes, limit):
            "\(record) at offset \(offset): decoding needs \(bytes) bytes, more than the \(limit) the file justifies"
        case let .checksumMismatch(expected, actual): "MD5 mismatch: trailer says \(expected), contents hash to \(actual)"
        case .notFound(let name): "no variable or attribute named '\(name)'"
        case let .invalidValues(name, reason): "values of '\(name)': \(reason)"
        case .invalidDefinition(let reason): "invalid definition: \(reason)"
        case let .io(path, operation, errno): "\(operation) \(path) failed (errno \(errno))"
        case .invalidTime(let reason): "invalid time: \(reason)"
        }
    }
}
