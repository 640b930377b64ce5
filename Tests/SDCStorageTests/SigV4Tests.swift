import Crypto
import Foundation
import SDCCore
import Testing
@testable import SDCStorage

/// The signer against published values: AWS's Signature Version 4 test suite, the worked examples of the S3 API
/// reference, and requests and presigned URLs signed by botocore (Fixtures/sigv4_botocore.json, made by
/// Fixtures/make_sigv4_vectors.py), all compared byte for byte.
struct SigV4Tests {
    /// 2015-08-30T12:36:00Z, the time of AWS's test suite.
    static let suiteTime = "20150830T123600Z"

    // MARK: AWS Signature Version 4 test suite (service "service", us-east-1)

    struct SuiteCase: Sendable, CustomTestStringConvertible {
        let name: String
        let method: String
        let path: String
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var body = ""
        let canonicalRequest: String
        let stringToSign: String
        let authorization: String
        var testDescription: String { name }
    }

    static let suite: [SuiteCase] = [
        SuiteCase(
            name: "get-vanilla", method: "GET", path: "/",
            canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        SuiteCase(
            name: "get-vanilla-query-order-key-case", method: "GET", path: "/", query: [("Param2", "value2"), ("Param1", "value1")],
            canonicalRequest: "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        SuiteCase(
            name: "get-vanilla-query-order-key", method: "GET", path: "/", query: [("Param1", "value2"), ("Param1", "Value1")],
            canonicalRequest: "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"),
        SuiteCase(
            name: "get-vanilla-query-unreserved", method: "GET", path: "/",
            query: [("-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")],
            canonicalRequest: "GET\n/\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nc30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
        SuiteCase(
            name: "get-vanilla-utf8-query", method: "GET", path: "/", query: [("\u{1234}", "bar")],
            canonicalRequest: "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\neb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        SuiteCase(
            name: "get-unreserved", method: "GET", path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            canonicalRequest: "GET\n/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
        SuiteCase(
            name: "get-utf8", method: "GET", path: "/\u{1234}",
            canonicalRequest: "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        SuiteCase(
            name: "get-header-key-duplicate", method: "GET", path: "/",
            headers: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
            canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\ndc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
        SuiteCase(
            name: "get-header-value-trim", method: "GET", path: "/", headers: [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
            canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\na726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
        SuiteCase(
            name: "post-header-value-case", method: "POST", path: "/", headers: [("My-Header1", "VALUE1")],
            canonicalRequest: "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:VALUE1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nd51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
        SuiteCase(
            name: "post-vanilla-query", method: "POST", path: "/", query: [("Param1", "value1")],
            canonicalRequest: "POST\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
    ]

    @Test(arguments: suite) func awsTestSuite(_ vector: SuiteCase) {
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                                 region: "us-east-1", service: "service")
        let request = SigV4Signer.Request(method: vector.method, host: "example.amazonaws.com", path: vector.path, query: vector.query,
                                          headers: vector.headers + [("X-Amz-Date", Self.suiteTime)])
        let payload = sha256Hex(Array(vector.body.utf8))
        let canonical = signer.canonicalRequest(request, payloadSHA256: payload).text
        #expect(canonical == vector.canonicalRequest)
        #expect(signer.stringToSign(canonicalRequest: canonical, timestamp: Self.suiteTime) == vector.stringToSign)
        #expect(signer.authorization(for: request, payloadSHA256: payload, timestamp: Self.suiteTime) == vector.authorization)
    }

    // MARK: The S3 API reference's examples (examplebucket, 2013-05-24T00:00:00Z)

    static let s3Example = SigV4Signer(
        credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")

    static func may24() throws -> UTCTime { UTCTime(date: try #require(FileDate(year: 2013, month: 5, day: 24))) }

    /// The signature at the end of an `Authorization` header value.
    static func signature(in headers: [(name: String, value: String)]) -> String? {
        headers.first { $0.name == "Authorization" }?.value.components(separatedBy: "Signature=").last
    }

    @Test func s3ReferenceHeaderExamples() throws {
        let host = "examplebucket.s3.amazonaws.com"
        let empty = SigV4Signer.emptyPayloadSHA256
        let get = SigV4Signer.Request(method: "GET", host: host, path: "/test.txt", headers: [("Range", "bytes=0-9")])
        #expect(Self.signature(in: Self.s3Example.signedHeaders(for: get, payloadSHA256: empty, at: try Self.may24()))
                == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")

        let body = "Welcome to Amazon S3."
        let put = SigV4Signer.Request(method: "PUT", host: host, path: "/test$file.text",
                                      headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")])
        let putHeaders = Self.s3Example.signedHeaders(for: put, payloadSHA256: sha256Hex(Array(body.utf8)), at: try Self.may24())
        #expect(putHeaders.first { $0.name == "x-amz-content-sha256" }?.value == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        #expect(Self.signature(in: putHeaders) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
        #expect(put.encodedPath == "/test%24file.text")

        let lifecycle = SigV4Signer.Request(method: "GET", host: host, path: "/", query: [("lifecycle", "")])
        #expect(Self.signature(in: Self.s3Example.signedHeaders(for: lifecycle, payloadSHA256: empty, at: try Self.may24()))
                == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
        #expect(lifecycle.target == "/?lifecycle")

        let list = SigV4Signer.Request(method: "GET", host: host, path: "/", query: [("max-keys", "2"), ("prefix", "J")])
        #expect(Self.signature(in: Self.s3Example.signedHeaders(for: list, payloadSHA256: empty, at: try Self.may24()))
                == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func s3ReferencePresignedExample() throws {
        let request = SigV4Signer.Request(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt")
        #expect(Self.s3Example.presignedQuery(for: request, expiresIn: 86_400, at: try Self.may24())
                == "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    // MARK: botocore

    struct Vectors: Decodable {
        let time: String
        let accessKeyID: String
        let secretAccessKey: String
        let sessionToken: String
        let requests: [SignedRequest]
        let presigned: [Presigned]
    }

    struct SignedRequest: Decodable {
        let name, method, endpoint, region, bucket: String
        let key: String?
        let query, headers: [[String]]
        let body: String
        let sessionToken: Bool
        let url, canonicalRequest, stringToSign: String
        let addedHeaders: [String: String]
    }

    struct Presigned: Decodable {
        let method, endpoint, region, bucket, key: String
        let expires: Int64
        let sessionToken: Bool
        let url: String
    }

    static func botocore() throws -> Vectors {
        let url = try #require(Bundle.module.url(forResource: "sigv4_botocore", withExtension: "json"))
        return try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }

    static func time(_ timestamp: String) throws -> UTCTime {
        let digits = Array(timestamp.utf8).map { Int($0) - 48 }
        func number(_ range: Range<Int>) -> Int { digits[range].reduce(0) { $0 * 10 + $1 } }
        let day = try #require(FileDate(year: number(0..<4), month: number(4..<6), day: number(6..<8)))
        return UTCTime(secondsSince1970: UTCTime(date: day).secondsSince1970 + Int64(number(9..<11) * 3600 + number(11..<13) * 60 + number(13..<15)))
    }

    static func pairs(_ items: [[String]]) throws -> [(name: String, value: String)] {
        try items.map { item in
            try #require(item.count == 2)
            return (item[0], item[1])
        }
    }

    @Test func signedRequestsMatchBotocore() throws {
        let vectors = try Self.botocore()
        let time = try Self.time(vectors.time)
        #expect(SigV4Signer.timestamp(time) == vectors.time)
        #expect(vectors.requests.count >= 70)
        for vector in vectors.requests {
            let location = try S3Location(bucket: vector.bucket, endpoint: vector.endpoint, region: vector.region)
            let credentials = AWSCredentials(accessKeyID: vectors.accessKeyID, secretAccessKey: vectors.secretAccessKey,
                                             sessionToken: vector.sessionToken ? vectors.sessionToken : nil)
            let signer = SigV4Signer(credentials: credentials, region: vector.region)
            let request = SigV4Signer.Request(method: vector.method, host: location.endpoint.hostHeader, path: location.path(of: vector.key),
                                              query: try Self.pairs(vector.query), headers: try Self.pairs(vector.headers))
            let payload = sha256Hex(Array(vector.body.utf8))
            #expect(location.endpoint.url + request.target == vector.url, "\(vector.name)")
            let added = signer.signedHeaders(for: request, payloadSHA256: payload, at: time)
            #expect(Dictionary(added.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
                    == Dictionary(uniqueKeysWithValues: vector.addedHeaders.map { ($0.key.lowercased(), $0.value) }), "\(vector.name)")
            // The steps on the way, on the request with the headers the signer added (all but Authorization are signed).
            var signed = request
            signed.headers += added.filter { $0.name != "Authorization" }
            let canonical = signer.canonicalRequest(signed, payloadSHA256: payload).text
            #expect(canonical == vector.canonicalRequest, "\(vector.name)")
            #expect(signer.stringToSign(canonicalRequest: canonical, timestamp: vectors.time) == vector.stringToSign, "\(vector.name)")
        }
    }

    @Test func presignedURLsMatchBotocore() throws {
        let vectors = try Self.botocore()
        let time = try Self.time(vectors.time)
        #expect(vectors.presigned.count == 16)
        for vector in vectors.presigned {
            let store = S3ObjectStore(
                location: try S3Location(bucket: vector.bucket, endpoint: vector.endpoint, region: vector.region),
                credentials: AWSCredentials(accessKeyID: vectors.accessKeyID, secretAccessKey: vectors.secretAccessKey,
                                            sessionToken: vector.sessionToken ? vectors.sessionToken : nil))
            let method = try #require(PresignedMethod(rawValue: vector.method))
            #expect(store.presignedURL(for: try ObjectKey(vector.key), method: method, expiresIn: vector.expires, at: time) == vector.url)
        }
    }

    // MARK: Credentials

    @Test func credentialsComeFromTheStandardVariables() throws {
        let full = try AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_SESSION_TOKEN": "t0k3n"])
        #expect(full == AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s3cr3t", sessionToken: "t0k3n"))
        #expect(try AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": ""]).sessionToken == nil)
        #expect(throws: S3ConfigurationError.self) { try AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID"]) }
        do {
            _ = try AWSCredentials.fromEnvironment(["AWS_SECRET_ACCESS_KEY": "secret"])
            Issue.record("credentials without an access key were accepted")
        } catch {
            #expect(error.description.hasPrefix("AWS_ACCESS_KEY_ID is not set"))
        }
        // Printing credentials never shows the secret or the token.
        #expect(!full.description.contains("s3cr3t") && !full.description.contains("t0k3n") && full.description.contains("AKID"))
    }

    // MARK: S3XML

    @Test func s3XMLReadsElementsAndEntities() {
        let reply = "<Error><Code>SignatureDoesNotMatch</Code><Message>a &lt;b&gt; &amp; &quot;c&quot; &#233;&#x4E2D; &bogus;</Message></Error>"
        #expect(S3XML.value("Code", in: reply[...]) == "SignatureDoesNotMatch")
        #expect(S3XML.value("Message", in: reply[...]) == "a <b> & \"c\" é中 &bogus;")
        #expect(S3XML.value("RequestId", in: reply[...]) == nil)
        let list = "<R><Upload><Key>a</Key><UploadId>1</UploadId></Upload><Upload><Key>b &amp; c</Key><UploadId>2</UploadId></Upload></R>"
        #expect(S3XML.elements("Upload", in: list[...]).compactMap { S3XML.value("Key", in: $0) } == ["a", "b & c"])
        #expect(S3XML.escape("\"x\" <&>") == "\"x\" &lt;&amp;&gt;")
    }
}

/// `s3://` locations: what parses, and the message for what does not.
struct S3LocationTests {
    @Test func parsesBucketPrefixEndpointAndRegion() throws {
        let location = try S3Location(parsing: "s3://sdc-data/archive/v1/?endpoint=http://127.0.0.1:9000&region=us-east-1")
        #expect(location.bucket == "sdc-data" && location.prefix == "archive/v1" && location.region == "us-east-1")
        #expect(location.endpoint == S3Location.Endpoint(scheme: "http", host: "127.0.0.1", port: 9000))
        #expect(location.endpoint.hostHeader == "127.0.0.1:9000")
        #expect(location.objectName(of: try ObjectKey("imap/a.cdf")) == "archive/v1/imap/a.cdf")
        #expect(try S3Location(parsing: location.description) == location)

        let aws = try S3Location(parsing: "s3://sdc-data?region=eu-west-1")
        #expect(aws.prefix == nil && aws.endpoint.url == "https://s3.eu-west-1.amazonaws.com")
        #expect(aws.objectName(of: try ObjectKey("imap/a.cdf")) == "imap/a.cdf")

        let encoded = try S3Location(parsing: "s3://sdc-data/my%20prefix?region=us-east-1&endpoint=https%3A%2F%2Fminio.example.org%3A443")
        #expect(encoded.prefix == "my prefix" && encoded.endpoint.hostHeader == "minio.example.org")
        #expect(try S3Location(parsing: "s3://sdc-data?region=us-east-1&endpoint=http://[::1]:9000").endpoint.url == "http://[::1]:9000")
    }

    @Test(arguments: [
        ("https://bucket/x?region=us-east-1", "is not an S3 location"),
        ("s3://?region=us-east-1", "names no bucket"),
        ("s3://Bad_Bucket?region=us-east-1", "invalid bucket name 'Bad_Bucket'"),
        ("s3://ab?region=us-east-1", "invalid bucket name 'ab'"),
        ("s3://192.168.1.1?region=us-east-1", "cannot be an IP address"),
        ("s3://sdc-data", "gives no region"),
        ("s3://sdc-data?region=us-east-1&bucket=x", "unknown parameter 'bucket'"),
        ("s3://sdc-data?region=us-east-1&region=eu-west-1", "given twice"),
        ("s3://sdc-data?region=", "parameter 'region' has no value"),
        ("s3://sdc-data?region=US_EAST", "invalid region 'US_EAST'"),
        ("s3://sdc-data?region=us-east-1&endpoint=ftp://host", "invalid endpoint 'ftp://host'"),
        ("s3://sdc-data?region=us-east-1&endpoint=http://host/path", "with no path, query or credentials"),
        ("s3://sdc-data/a/../b?region=us-east-1", "invalid prefix 'a/../b'"),
    ])
    func refusesMalformedLocationsClearly(_ text: String, _ message: String) {
        do {
            _ = try S3Location(parsing: text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }
}
