import Testing
@testable import SDCCore

/// The one JSON parser: Python `json.loads` semantics (for the client's byte-identical output) and exact 64-bit
/// integers (for CDF JSON specs).
@Suite("JSON parsing")
struct JSONParserTests {
    private func reserialize(_ json: String) throws -> String {
        try JSONValue(parsing: Array(json.utf8)).serialized()
    }

    @Test func reserialisesLikeJSONDumps() throws {
        // Expected strings produced by Python: json.dumps(json.loads(input)).
        #expect(try reserialize(#"[{"b":1,"a":[true,false,null],"c":{"z":"x"}}]"#)
            == #"[{"b": 1, "a": [true, false, null], "c": {"z": "x"}}]"#)
        #expect(try reserialize(#"{"k": "caf\u00e9 \ud83d\ude00 \" \\ / \n\t\u0001\u007f"}"#)
            == #"{"k": "caf\u00e9 \ud83d\ude00 \" \\ / \n\t\u0001\u007f"}"#)
        #expect(try reserialize("\"é\"") == #""\u00e9""#)
        #expect(try reserialize("[1.0, 1.5e3, 1E-5, 10000000000000000.0, 9.5e15, 0.1, -2, 1744233173.0]")
            == "[1.0, 1500.0, 1e-05, 1e+16, 9500000000000000.0, 0.1, -2, 1744233173.0]")
        #expect(try reserialize("[NaN, Infinity, -Infinity]") == "[NaN, Infinity, -Infinity]")
        #expect(try reserialize(" \n[ ]\r\n") == "[]")
    }

    @Test func repeatedKeysKeepTheFirstPositionAndTheLastValue() throws {
        #expect(try reserialize(#"{"a": 1, "b": 2, "a": 3}"#) == #"{"a": 3, "b": 2}"#)
    }

    @Test func integersStayExactOverSixtyFourBits() throws {
        let value = try JSONValue(parsing: Array("[-9223372036854775808, 9223372036854775807, 9223372036854775808, 1e2]".utf8))
        #expect(value == .array([.int(Int(Int64.min)), .int(Int(Int64.max)), .double(9_223_372_036_854_775_808), .double(100)]))
    }

    @Test func loneSurrogatesBecomeReplacementCharacters() throws {
        #expect(try JSONValue(parsing: Array(#"["\ud800", "\udc00x", "\ud800\u0041"]"#.utf8))
            == .array([.string("\u{FFFD}"), .string("\u{FFFD}x"), .string("\u{FFFD}A")]))
    }

    @Test func nestingIsLimited() throws {
        #expect(throws: Never.self) { try JSONValue(parsing: Array((String(repeating: "[", count: 512) + String(repeating: "]", count: 512)).utf8)) }
        #expect(throws: JSONParseError(reason: "Nesting too deep", offset: 512)) {
            try JSONValue(parsing: Array((String(repeating: "[", count: 513) + String(repeating: "]", count: 513)).utf8))
        }
    }

    @Test func errorsNameTheOffsetAsPythonDoes() {
        #expect(throws: JSONParseError(reason: "Expecting value", offset: 0)) { try JSONValue(parsing: []) }
        #expect(throws: JSONParseError(reason: "Extra data", offset: 4)) { try JSONValue(parsing: Array("[1] x".utf8)) }
        #expect(throws: JSONParseError(reason: "Invalid control character at", offset: 4)) { try JSONValue(parsing: Array("\"tab\there\"".utf8)) }
        #expect(JSONParseError(reason: "Extra data", offset: 4).description == "Extra data: char 4")
    }

    @Test(arguments: ["", "[1,]", "{\"a\" 1}", "[01]", "\"tab\there\"", "[1] x", "{'a': 1}", "[.5]", "tru", "\"\\x\"", "-", "[1.]", "\"open"])
    func rejectsWhatPythonRejects(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: Array(text.utf8)) }
    }
}
