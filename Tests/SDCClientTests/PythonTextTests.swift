import SDCCore
import Testing
@testable import SDCClient

@Suite("Python text conversions")
struct PythonTextTests {
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
