import Testing
@testable import SDCClient

@Suite("Configuration, paths and progress lines")
struct ConfigurationTests {
    @Test func environmentDefaultsMatchImapDataAccess() {
        let configuration = SDCClientConfiguration(environment: ["IMAP_API_KEY": ""], currentDirectory: "/work/x")
        #expect(configuration.url == "https://api.imap-mission.com")
        #expect(configuration.dataDirectory == "/work/x/data")
        #expect(configuration.credentials == .anonymous)
        #expect(configuration.routeBase == "https://api.imap-mission.com")
    }

    @Test func routePrefixesFollowTheCredentials() {
        var configuration = SDCClientConfiguration(environment: [
            "IMAP_DATA_ACCESS_URL": "http://h:1", "IMAP_API_KEY": "k", "IMAP_ACCESS_TOKEN": "t", "IMAP_DATA_DIR": "d/",
        ], currentDirectory: "/")
        #expect(configuration.credentials == .apiKey("k"))
        #expect(configuration.routeBase == "http://h:1/api-key")
        #expect(configuration.dataDirectory == "d/")
        configuration.url = "http://h:1/api-key"
        #expect(configuration.routeBase == "http://h:1/api-key")
        configuration.credentials = Credentials(apiKey: nil, accessToken: "t")
        configuration.url = "http://h:1"
        #expect(configuration.routeBase == "http://h:1/authorized")
    }

    @Test func backoffGrowsExponentiallyUpToTheBound() {
        let policy = RetryPolicy(maximumAttempts: 6, initialBackoff: .milliseconds(500), multiplier: 2, maximumBackoff: .seconds(3))
        #expect((1...5).map(policy.backoff(afterAttempt:))
            == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(3), .seconds(3)])
    }

    @Test func pathsPrintLikePathlib() {
        #expect(LocalPath.join("data/", "imap/swe/x.cdf") == "data/imap/swe/x.cdf")
        #expect(LocalPath.join("./data", "imap/x") == "data/imap/x")
        #expect(LocalPath.join("/a//b/", "c") == "/a/b/c")
        #expect(LocalPath.name("imap/spice/spk/x.bsp") == "x.bsp")
        #expect(LocalPath.name("dir/x.cdf/") == "x.cdf")
        #expect(LocalPath.name("/") == "")
        #expect(LocalPath.parent("/a/b") == "/a")
        #expect(LocalPath.parent("/a") == "/")
        #expect(LocalPath.resolved("/no/such/dir/../file.cdf") == "/no/such/file.cdf")
    }

    @Test func progressLines() {
        #expect(ProgressLine.byteCount(512) == "512 B")
        #expect(ProgressLine.byteCount(1536) == "1.5 KiB")
        #expect(ProgressLine.byteCount(5 * 1024 * 1024) == "5.0 MiB")
        #expect(ProgressLine.render(label: "f.cdf", completed: 1024 * 1024, total: 4 * 1024 * 1024, elapsed: .seconds(2))
            == "f.cdf  25% [======>                 ] 1.0 MiB / 4.0 MiB 512.0 KiB/s")
        #expect(ProgressLine.render(label: "f.cdf", completed: 2048, total: 2048, elapsed: .seconds(1))
            == "f.cdf 100% [========================] 2.0 KiB / 2.0 KiB 2.0 KiB/s")
        #expect(ProgressLine.render(label: "f.cdf", completed: 2048, total: nil, elapsed: .seconds(2))
            == "f.cdf 2.0 KiB 1.0 KiB/s")
    }
}
