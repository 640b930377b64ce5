/// Why a file name is not a valid IMAP file name. The message names the part that is wrong and what was expected.
public struct NamingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The name that was rejected.
    public let name: String
    /// The human-readable reason.
    public let message: String

    public init(name: String, message: String) {
        self.name = name
        self.message = message
    }

    /// A part of the name has the wrong value: `invalid data level 'l9' in imap_swe_l9_...: expected one of l0, l1, ...`.
    static func invalid(_ part: String, _ value: some StringProtocol, in name: String, expected: String) -> NamingError {
        NamingError(name: name, message: "invalid \(part) '\(value)' in \(name): expected \(expected)")
    }

    public var description: String { message }
}
