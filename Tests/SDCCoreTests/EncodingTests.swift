import Testing
import SDCCore

/// The shared hex and percent encoders; expected strings come from Python (`hashlib`, `format`, `urllib.parse`).
@Suite("Hex and percent encoding")
struct EncodingTests {
    @Test func hexOfBytesIsLowercaseTwoDigitsEach() {
        #expect([UInt8]().hexString == "")
        #expect([0x00, 0x01, 0x0F, 0x10, 0xAB, 0xFF].hexString == "00010f10abff")
        // SHA-256("abc"), as hashlib.sha256(b"abc").hexdigest() prints it.
        let digest: [UInt8] = [
            0xBA, 0x78, 0x16, 0xBF, 0x8F, 0x01, 0xCF, 0xEA, 0x41, 0x41, 0x40, 0xDE, 0x5D, 0xAE, 0x22, 0x23,
            0xB0, 0x03, 0x61, 0xA3, 0x96, 0x17, 0x7A, 0x9C, 0xB4, 0x10, 0xFF, 0x61, 0xF2, 0x00, 0x15, 0xAD,
        ]
        #expect(digest.hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var out: [UInt8] = Array("x=".utf8)
        out.appendHex(digest[0..<2], uppercase: true)
        #expect(String(decoding: out, as: UTF8.self) == "x=BA78")
    }

    @Test func hexOfIntegersIsZeroPadded() {
        #expect(UInt32(0xE9).hexString(digits: 4) == "00e9")
        #expect(UInt32(0x1F600).hexString(digits: 4) == "1f600", "never truncated")
        #expect(UInt16(0x1F).hexString(digits: 4, uppercase: true) == "001F")
        #expect(UInt8(0).hexString(digits: 1) == "0")
        #expect(Int8(-1).hexString(digits: 2) == "ff", "two's complement of the type's width")
        #expect(UInt64.max.hexString(digits: 2) == "ffffffffffffffff")
    }

    @Test func percentEncodingMatchesPythonsQuote() {
        let text = "imap/swe l1a/é%#?&=+~_.-!*'()"
        #expect(text.percentEncoded() == "imap%2Fswe%20l1a%2F%C3%A9%25%23%3F%26%3D%2B~_.-%21%2A%27%28%29")  // quote(s, safe="")
        #expect(text.percentEncoded(safe: "/") == "imap/swe%20l1a/%C3%A9%25%23%3F%26%3D%2B~_.-%21%2A%27%28%29")  // quote(s)
        #expect(text.percentEncoded(spaceAsPlus: true) == "imap%2Fswe+l1a%2F%C3%A9%25%23%3F%26%3D%2B~_.-%21%2A%27%28%29")  // quote_plus(s)
        #expect(text.percentEncoded(safe: "!$&'()*+,;=:@/") == "imap/swe%20l1a/%C3%A9%25%23%3F&=+~_.-!*'()")
        #expect("é".percentEncoded(safe: "é") == "%C3%A9", "only ASCII characters can be kept")
    }

    @Test func jsonStringsEscapeAsPythonsDumps() {
        func literal(_ text: String, ensureASCII: Bool) -> String {
            var out: [UInt8] = []
            out.appendJSONString(text, ensureASCII: ensureASCII)
            return String(decoding: out, as: UTF8.self)
        }
        // json.dumps(s) and json.dumps(s, ensure_ascii=False) for s = 'é😀\x7f\b\f\x01"\\/\n'.
        let text = "é😀\u{7F}\u{8}\u{C}\u{1}\"\\/\n"
        #expect(literal(text, ensureASCII: true) == #""\u00e9\ud83d\ude00\u007f\b\f\u0001\"\\/\n""#)
        #expect(literal(text, ensureASCII: false) == "\"é😀\u{7F}\\b\\f\\u0001\\\"\\\\/\\n\"")
    }
}
