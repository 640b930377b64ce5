import SDCCore
import Testing
@testable import SDCClient

@Suite("JSON parsing and Python text conversions")
struct JSONAndPythonTextTests {
    private func reserialize(_ json: String) throws -> String {
        try JSONParser.parse(Array(json.utf8)).serialized()
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

    @Test(arguments: ["", "[1,]", "{\"a\" 1}", "[01]", "\"tab\there\"", "[1] x", "{'a': 1}", "[.5]", "tru", "\"\\x\""])
    func rejectsWhatPythonRejects(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func pythonStrAndRepr() {
        #expect(PythonText.str(.null) == "None")
        #expect(PythonText.str(.bool(true)) == "True")
        #expect(PythonText.str(.string("it's")) == "it's")
        #expect(PythonText.str(.array([.string("a"), .int(1), .null])) == "['a', 1, None]")
        #expect(PythonText.str(.object([("k", .double(2)), ("q", .string("it's"))])) == #"{'k': 2.0, 'q': "it's"}"#)
        #expect(PythonText.repr("a'b\"c\\\n\u{7}é\u{200B}") == #"'a\'b"c\\\n\x07é\u200b'"#)
        #expect(PythonText.floatRepr(-0.0) == "-0.0")
        #expect(PythonText.floatRepr(1e16) == "1e+16")
        #expect(PythonText.floatRepr(123456789.0) == "123456789.0")
        #expect(PythonText.floatRepr(.nan) == "nan")
    }

    @Test func pythonIntegerParsing() {
        #expect(PythonText.integer("12") == "12")
        #expect(PythonText.integer(" +007 ") == "7")
        #expect(PythonText.integer("-0") == "0")
        #expect(PythonText.integer("1_000") == "1000")
        #expect(PythonText.integer("99999999999999999999999") == "99999999999999999999999")
        for invalid in ["", "1_", "_1", "1__0", "1.0", "0x10", "repoint1", "- 1"] {
            #expect(PythonText.integer(invalid) == nil, "\(invalid)")
        }
    }

    @Test func errorsPrintAsPythonReprs() {
        #expect(SDCClientError.invalidArgument("Not a valid version, use format 'vXXX'.").description
            == #"ValueError("Not a valid version, use format 'vXXX'.")"#)
        #expect(SDCClientError.http(status: 409, reason: "Conflict", body: #"{"error": "FileAlreadyExists"}"#).description
            == #"IMAPDataAccessError('409 Conflict: {"error": "FileAlreadyExists"}')"#)
        #expect(SDCClientError.fileNotFound(path: "/tmp/x.cdf").description == "FileNotFoundError(PosixPath('/tmp/x.cdf'))")
    }
}
