/// Everything that can go wrong in the client. `description` is what the `sdc` commands print on stderr: the
/// same `repr(exception)` text the imap-data-access CLI prints (`ValueError('...')`,
/// `IMAPDataAccessError('404 Not Found: ...')`), so scripts matching on those messages keep working.
public enum SDCClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An argument failed the client-side checks; no request was made (Python `ValueError`).
    case invalidArgument(String)
    /// Arguments that cannot be combined (Python `TypeError`).
    case conflictingArguments(String)
    /// The file to upload does not exist (Python `FileNotFoundError`); `path` is absolute.
    case fileNotFound(path: String)
    /// The server answered with an error status; `body` is the response text.
    case http(status: Int, reason: String, body: String)
    /// No usable response: connection refused or reset, timeout, too many redirects.
    case transport(String)
    /// A response the client cannot use (not JSON, not the expected shape); `pythonType` is the exception
    /// type the Python client raises for it.
    case unexpectedResponse(pythonType: String, message: String)
    /// The downloaded bytes do not have the SHA-256 the server announced; nothing was written.
    case checksumMismatch(key: String, expected: String, actual: String)
    /// A local file operation failed (`operation` names it, `path` is the file, `reason` is `strerror`).
    case fileSystem(operation: String, path: String, reason: String)

    /// The error's text without the exception wrapper.
    public var message: String {
        switch self {
        case .invalidArgument(let text), .conflictingArguments(let text), .transport(let text):
            text
        case .fileNotFound(let path):
            "No such file: \(path)"
        case .http(let status, let reason, let body):
            "\(status) \(reason): \(body)"
        case .unexpectedResponse(_, let text):
            text
        case .checksumMismatch(let key, let expected, let actual):
            "Downloaded \(key) has SHA-256 \(actual), but the server announced \(expected); the file was not saved."
        case .fileSystem(let operation, let path, let reason):
            "Cannot \(operation) \(path): \(reason)"
        }
    }

    /// The name of the Python exception imap-data-access raises in the same situation.
    public var pythonExceptionName: String {
        switch self {
        case .invalidArgument: "ValueError"
        case .conflictingArguments: "TypeError"
        case .fileNotFound: "FileNotFoundError"
        case .http, .transport, .checksumMismatch: "IMAPDataAccessError"
        case .unexpectedResponse(let pythonType, _): pythonType
        case .fileSystem: "OSError"
        }
    }

    /// `repr(exception)` as the Python CLI prints it: `ValueError('Not a valid start date, ...')`.
    public var description: String {
        if case .fileNotFound(let path) = self {
            return "FileNotFoundError(PosixPath(\(PythonText.repr(path))))"
        }
        return "\(pythonExceptionName)(\(PythonText.repr(message)))"
    }
}
