extension JSONValue {
    /// Parses one JSON document (UTF-8, surrounded by optional whitespace) the way Python's `json.loads` reads it.
    ///
    /// Integers without fraction or exponent become `.int` and stay exact over all 64 bits (CDF TT2000 values
    /// need every bit); other numbers become `.double`. Objects keep their key order. See `JSONParser` for the
    /// Python details this follows.
    public init(parsing bytes: [UInt8]) throws(JSONParseError) {
        self = try JSONParser.parse(bytes)
    }
}

/// The one JSON parser of sdc, hand-written rather than `JSONSerialization` because sdc needs what that cannot
/// give: byte-identical output with Python's `json` module after a parse and re-serialisation (the client prints
/// server responses exactly as imap-data-access does), integers exact to 64 bits (TT2000 in CDF JSON specs), and
/// object keys in document order. It reads JSON as Python's `json.loads` does:
///
/// * object keys keep their order; a repeated key keeps its first position and takes the last value (dict semantics);
/// * numbers with a fraction or exponent are floats, others integers (beyond 64 bits, the nearest double);
/// * `NaN`, `Infinity` and `-Infinity` are accepted;
/// * control characters inside strings are rejected (`strict=True`);
/// * nesting deeper than 512 containers is refused, as Python's recursion limit would.
///
/// A lone UTF-16 surrogate escape (`"\ud800"`), which Python keeps, becomes U+FFFD: Swift strings cannot hold one.
struct JSONParser {
    private let bytes: [UInt8]
    private var position = 0
    /// Nesting guard, like Python's recursion limit.
    private var depth = 0
    private static let maximumDepth = 512

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Parses one JSON document, surrounded by optional whitespace.
    static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.error("Extra data") }
        return value
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard position < bytes.count else { throw error("Expecting value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "N"): try expectLiteral("NaN"); return .double(.nan)
        case UInt8(ascii: "I"): try expectLiteral("Infinity"); return .double(.infinity)
        case UInt8(ascii: "-") where matches("-Infinity"):
            position += 9
            return .double(-.infinity)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("Expecting value")
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        position += 1
        var members: [(String, JSONValue)] = []
        var indexOfKey: [String: Int] = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            guard peek() == UInt8(ascii: "\"") else {
                throw error("Expecting property name enclosed in double quotes")
            }
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw error("Expecting ':' delimiter") }
            position += 1
            skipWhitespace()
            let value = try parseValue()
            if let existing = indexOfKey[key] {
                members[existing].1 = value
            } else {
                indexOfKey[key] = members.count
                members.append((key, value))
            }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                position += 1
                return .object(members)
            default:
                throw error("Expecting ',' delimiter")
            }
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        position += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            items.append(try parseValue())
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                position += 1
                return .array(items)
            default:
                throw error("Expecting ',' delimiter")
            }
        }
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        let start = position
        position += 1
        // Fast path: no escapes.
        var scan = position
        while scan < bytes.count, bytes[scan] != UInt8(ascii: "\""), bytes[scan] != UInt8(ascii: "\\"), bytes[scan] >= 0x20 {
            scan += 1
        }
        if scan < bytes.count, bytes[scan] == UInt8(ascii: "\"") {
            let text = String(decoding: bytes[position..<scan], as: UTF8.self)
            position = scan + 1
            return text
        }
        var utf8: [UInt8] = Array(bytes[position..<scan])
        position = scan
        while true {
            guard position < bytes.count else {
                position = start
                throw error("Unterminated string starting at")
            }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                position += 1
                try appendEscape(to: &utf8)
            case 0..<0x20:
                throw error("Invalid control character at")
            default:
                utf8.append(byte)
                position += 1
            }
        }
    }

    private mutating func appendEscape(to utf8: inout [UInt8]) throws(JSONParseError) {
        guard position < bytes.count else { throw error("Unterminated string starting at") }
        let escape = bytes[position]
        position += 1
        let simple: UInt8? = switch escape {
        case UInt8(ascii: "\""): UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): UInt8(ascii: "\\")
        case UInt8(ascii: "/"): UInt8(ascii: "/")
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
        if let simple {
            utf8.append(simple)
            return
        }
        guard escape == UInt8(ascii: "u") else {
            position -= 2
            throw error("Invalid \\escape")
        }
        var scalarValue = try parseHex4()
        if (0xD800...0xDBFF).contains(scalarValue), matches("\\u") {
            let save = position
            position += 2
            let low = try parseHex4()
            if (0xDC00...0xDFFF).contains(low) {
                scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
            } else {
                position = save
            }
        }
        let scalar = Unicode.Scalar(scalarValue) ?? "\u{FFFD}"
        utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("Invalid \\uXXXX escape") }
        var value: UInt32 = 0
        for byte in bytes[position..<(position + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("Invalid \\uXXXX escape")
            }
            value = value << 4 | UInt32(digit)
        }
        position += 4
        return value
    }

    /// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`, as Python's scanner reads it.
    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else { throw error("Expecting value", at: start) }
        position += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        var isFloat = false
        if peek() == UInt8(ascii: "."), position + 1 < bytes.count, isDigit(bytes[position + 1]) {
            isFloat = true
            position += 1
            skipDigits()
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            var lookahead = position + 1
            if lookahead < bytes.count, bytes[lookahead] == UInt8(ascii: "+") || bytes[lookahead] == UInt8(ascii: "-") {
                lookahead += 1
            }
            if lookahead < bytes.count, isDigit(bytes[lookahead]) {
                isFloat = true
                position = lookahead
                skipDigits()
            }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if !isFloat, let integer = Int(text) { return .int(integer) }
        // Integers beyond 64 bits (Python keeps them exact) degrade to the nearest double.
        guard let value = Double(text) else { throw error("Expecting value", at: start) }
        return .double(value)
    }

    private mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        guard depth <= JSONParser.maximumDepth else { throw error("Nesting too deep") }
    }

    private mutating func expectLiteral(_ literal: String) throws(JSONParseError) {
        guard matches(literal) else { throw error("Expecting value") }
        position += literal.utf8.count
    }

    private func matches(_ literal: String) -> Bool {
        let utf8 = literal.utf8
        guard position + utf8.count <= bytes.count else { return false }
        return bytes[position..<(position + utf8.count)].elementsEqual(utf8)
    }

    private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { position += 1 }
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    private func error(_ reason: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(reason: reason, offset: offset ?? position)
    }
}

/// JSON text that Python's `json.loads` would also refuse; the message follows Python's wording.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in Python's words (`Expecting value`, `Extra data`, ...).
    public var reason: String
    /// Byte offset of the problem in the document.
    public var offset: Int

    /// `reason: char offset`, as Python's `JSONDecodeError` begins.
    public var description: String { "\(reason): char \(offset)" }
}
