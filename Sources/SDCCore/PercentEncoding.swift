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

extension String {
    /// The name-value pairs of an `application/x-www-form-urlencoded` text (a URL query or a form body), in order:
    /// `+` is a space and `%XX` escapes are decoded (an invalid escape is kept as written); pairs without a name are
    /// dropped and a name without `=` has the empty value, as Python's `parse_qsl(..., keep_blank_values=True)`.
    public var formDecodedPairs: [(String, String)] {
        split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            guard let name = parts.first, !name.isEmpty else { return nil }
            return (decode(name), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}
