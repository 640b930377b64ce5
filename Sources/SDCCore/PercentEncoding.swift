extension String {
    /// The one percent-encoder of sdc: every UTF-8 byte becomes `%XX` (uppercase hex) except the RFC 3986
    /// unreserved characters `A-Z a-z 0-9 - . _ ~` and the ASCII characters of `safe`, exactly as Python's
    /// `urllib.parse.quote(text, safe=safe)` writes it (and so as `requests` and imap-data-access send it).
    /// With `spaceAsPlus`, a space becomes `+`: `quote_plus`, the `application/x-www-form-urlencoded` form.
    ///
    /// Hand-written rather than Foundation's `addingPercentEncoding` because that keeps every Unicode letter of
    /// `CharacterSet.alphanumerics` unencoded, and URLs must be byte-identical to Python's.
    ///
    /// - `percentEncoded()`: a query value or path segment (`/` encoded).
    /// - `percentEncoded(safe: "/")`: a URL path, as `quote(path)`.
    public func percentEncoded(safe: String = "", spaceAsPlus: Bool = false) -> String {
        let safeBytes = Array(safe.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: " ") where spaceAsPlus:
                out.append(UInt8(ascii: "+"))
            case _ where byte < 0x80 && safeBytes.contains(byte):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.appendHex(CollectionOfOne(byte), uppercase: true)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension StringProtocol {
    /// The text with its `%XX` escapes decoded (and `+` read as a space when `plusAsSpace`), or nil when an escape is
    /// not `%` and two hex digits or the decoded bytes are not UTF-8: the strict reading of Foundation's
    /// `removingPercentEncoding`. Decodes the UTF-8 bytes directly, without bridging to `NSString`; text without
    /// escapes is returned as it is.
    public func percentDecoded(plusAsSpace: Bool = false) -> String? {
        let utf8 = self.utf8
        guard utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) else { return String(self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            index = utf8.index(after: index)
            switch byte {
            case UInt8(ascii: "%"):
                guard index != utf8.endIndex, let high = Self.hexValue(utf8[index]) else { return nil }
                index = utf8.index(after: index)
                guard index != utf8.endIndex, let low = Self.hexValue(utf8[index]) else { return nil }
                index = utf8.index(after: index)
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusAsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension String {
    /// The name-value pairs of an `application/x-www-form-urlencoded` text (a URL query or a form body), in order:
    /// `+` is a space and `%XX` escapes are decoded (a name or value with an invalid escape, or whose bytes are not
    /// UTF-8, is kept as written, `+` read as a space); pairs without a name are dropped and a name without `=` has the
    /// empty value, as Python's `parse_qsl(..., keep_blank_values=True)`.
    public var formDecodedPairs: [(String, String)] {
        split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                text.percentDecoded(plusAsSpace: true) ?? String(text.map { $0 == "+" ? " " : $0 })
            }
            guard let name = parts.first, !name.isEmpty else { return nil }
            return (decode(name), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}
