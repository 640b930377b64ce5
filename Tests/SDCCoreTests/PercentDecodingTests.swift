import SDCCore
import Testing

/// The byte-level percent decoder agrees with Foundation's strict reading and keeps `formDecodedPairs`' rules.
struct PercentDecodingTests {
    @Test func decodesEscapesAndPlusesLikeFoundation() {
        #expect("imap/swe/l1a/a%20b%2Fc".percentDecoded() == "imap/swe/l1a/a b/c")
        #expect("caf%C3%A9+x".percentDecoded() == "café+x")
        #expect("caf%c3%a9+x".percentDecoded(plusAsSpace: true) == "café x")
        #expect("plain".percentDecoded() == "plain")
        #expect("".percentDecoded() == "")
    }

    @Test func refusesInvalidEscapesAndBytesThatAreNotUTF8() {
        for text in ["%", "%4", "%zz", "a%2", "%G1", "%FF", "%C3"] {
            #expect(text.percentDecoded() == nil, "\(text)")
        }
    }

    @Test func formPairsKeepAnInvalidComponentAsWritten() {
        let pairs = "a=1+2&b=%3C&c=%zz+y&&=x&d".formDecodedPairs.map { [$0.0, $0.1] }
        #expect(pairs == [["a", "1 2"], ["b", "<"], ["c", "%zz y"], ["d", ""]])
    }
}
