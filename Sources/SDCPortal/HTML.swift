import Foundation
import SDCCore

/// A fragment of HTML. Interpolated strings are escaped; interpolated fragments are not, so markup is built from
/// literals and user-controlled text can only ever appear as text.
public struct HTML: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public private(set) var rendered: String

    public init(stringLiteral literal: String) { rendered = literal }
    public init(stringInterpolation: StringInterpolation) { rendered = stringInterpolation.rendered }
    /// Trusted markup, used as is.
    init(trusted markup: String) { rendered = markup }
    /// Escaped text.
    init(text: String) { rendered = HTML.escape(text) }

    public var description: String { rendered }

    public struct StringInterpolation: StringInterpolationProtocol {
        var rendered = ""

        public init(literalCapacity: Int, interpolationCount: Int) { rendered.reserveCapacity(literalCapacity * 2) }
        public mutating func appendLiteral(_ literal: String) { rendered += literal }
        public mutating func appendInterpolation(_ fragment: HTML) { rendered += fragment.rendered }
        public mutating func appendInterpolation(_ fragments: [HTML]) { for fragment in fragments { rendered += fragment.rendered } }
        public mutating func appendInterpolation(_ text: String) { rendered += HTML.escape(text) }
        public mutating func appendInterpolation(_ text: Substring) { rendered += HTML.escape(String(text)) }
        public mutating func appendInterpolation<Number: Numeric>(_ number: Number) { rendered += "\(number)" }
    }

    /// Escapes `&`, `<`, `>`, `"` and `'` so that text is safe in element content and quoted attribute values.
    public static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">")
            || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") }) else { return text }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count + 16)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }
}

/// Portal links: query strings built with SDCCore's percent-encoding.
enum URLText {
    /// `name=value&...` with encoded values.
    static func query(_ items: [(String, String)]) -> String {
        items.map { "\($0.0)=\($0.1.percentEncoded())" }.joined(separator: "&")
    }
}
