import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NIOCore
import SDCCatalog
import SDCCore
import SDCIngest
import SDCJobs
import SDCStorage
import Testing
@testable import SDCPipeline

/// The SWxSOC flow's intake on a real filesystem store and a real SQLite mission catalog: files a stopped process left
/// in the incoming area, re-sent files, and instrument packages run from installed algorithm environments.
struct MissionIntakeTests {
    let root: URL
    let store: FileSystemObjectStore
    let catalog: SQLiteMissionCatalog
    let missions = try! MissionSet([.imap, .hermes])

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-intake-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        store = try FileSystemObjectStore(root: root.appendingPathComponent("objects").path, signer: URLSigner(secret: SecureRandom.bytes(32)))
        catalog = try SQLiteMissionCatalog(path: root.appendingPathComponent("missions.sqlite").path, missions: missions)
    }

    func flow(processing: MissionProcessing? = nil, lifetime: Int64 = 3600) -> MissionFlow {
        MissionFlow(missions: missions, catalog: catalog, store: store, processing: processing,
                    scratch: root.appendingPathComponent("work"), maximumSize: 1 << 20, reservationLifetime: lifetime)
    }

    func body(_ text: String) -> ObjectBody { MissionTestSupport.body(text) }

    func put(_ key: String, _ text: String) async throws { try await MissionTestSupport.put(key, text, in: store) }

    func exists(_ key: String) async throws -> Bool { try await store.size(of: ObjectKey(key)) != nil }

    /// Whether none of `keys` is stored.
    func gone(_ keys: String...) async throws -> Bool {
        for key in keys where try await exists(key) { return false }
        return true
    }

    /// A process of this host that has ended (its ID, as a stopped server's).
    func endedProcess() throws -> ProcessIdentity {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return ProcessIdentity(host: ProcessIdentity.current.host, pid: process.processIdentifier)
    }

    @Test func filesLeftInTheIncomingAreaAreSortedOnlyWhenTheirArrivalIsAbandoned() async throws {
        let now = UTCTime.now.secondsSince1970
        // A dead process's arrival, one without a note, and a live process's arrival older than the lifetime: sorted.
        try await put("hermes/incoming/hermes_EEA_l0_2024042-000000_v0.bin", "dead owner")
        try await put("hermes/arrivals/hermes_EEA_l0_2024042-000000_v0.bin", "\(try endedProcess()) \(now)\n")
        try await put("hermes/incoming/hermes_EEA_l0_2024043-000000_v0.bin", "no note")
        try await put("hermes/incoming/hermes_EEA_l0_2024044-000000_v0.bin", "too old")
        try await put("hermes/arrivals/hermes_EEA_l0_2024044-000000_v0.bin", "\(ProcessIdentity.current) \(now - 7200)\n")
        // A live process's arrival in flight: left alone.
        try await put("hermes/incoming/hermes_EEA_l0_2024045-000000_v0.bin", "in flight")
        try await put("hermes/arrivals/hermes_EEA_l0_2024045-000000_v0.bin", "\(ProcessIdentity.current) \(now)\n")
        // A bad name left there: kept aside with the reason.
        try await put("hermes/incoming/hermes_XYZ_l0_2024042-000000_v0.bin", "unknown instrument")

        let recovered = try await flow().recoverIncoming(mission: .hermes)
        #expect(recovered.sorted() == ["hermes_EEA_l0_2024042-000000_v0.bin", "hermes_EEA_l0_2024043-000000_v0.bin",
                                       "hermes_EEA_l0_2024044-000000_v0.bin", "hermes_XYZ_l0_2024042-000000_v0.bin"])
        for day in [11, 12, 13] {
            let name = "hermes_EEA_l0_20240\(day + 31)-000000_v0.bin"
            let key = "hermes/eea/l0/2024/02/\(day)/\(name)"
            let status = try await catalog.status(forKey: key)
            #expect(status?.state == .pending && status?.message == "received", "\(key)")
            #expect(try await gone("hermes/incoming/\(name)", "hermes/arrivals/\(name)"))
        }
        #expect(try await exists("hermes/incoming/hermes_EEA_l0_2024045-000000_v0.bin"))
        #expect(try await exists("hermes/arrivals/hermes_EEA_l0_2024045-000000_v0.bin"))
        #expect(try await catalog.record(forKey: "hermes/eea/l0/2024/02/14/hermes_EEA_l0_2024045-000000_v0.bin") == nil)
        let rejected = try await catalog.rejected(mission: "hermes")
        #expect(rejected.map(\.name) == ["hermes_XYZ_l0_2024042-000000_v0.bin"] && rejected[0].reason.contains("instrument"))
    }

    @Test func aStopBetweenCopyAndCatalogLeavesAFileThatIsSortedAgain() async throws {
        let name = "hermes_EEA_l0_2024042-000000_v0.bin"
        // Copied into the instrument's area, not yet cataloged, still incoming (a kill between the two steps).
        try await put("hermes/incoming/\(name)", "copied")
        try await put("hermes/eea/l0/2024/02/11/\(name)", "copied")
        #expect(try await flow(lifetime: 0).recoverIncoming(mission: .hermes) == [name])
        let record = try #require(try await catalog.record(forKey: "hermes/eea/l0/2024/02/11/\(name)"))
        #expect(record.size == 6)
        #expect(try await gone("hermes/incoming/\(name)"))
    }

    @Test func theSameBytesSentAgainAreAlreadyThereAndOtherBytesAreKeptAside() async throws {
        let flow = flow()
        let name = "hermes_EEA_l0_2024042-000000_v0.bin"
        _ = try await flow.receive(mission: .hermes, name: name, body: body("first"), expectedLength: 5)
        await #expect(throws: IngestError.alreadyExists(key: "hermes/eea/l0/2024/02/11/\(name)")) {
            _ = try await flow.receive(mission: .hermes, name: name, body: body("first"), expectedLength: 5)
        }
        #expect(try await gone("hermes/incoming/\(name)", "hermes/arrivals/\(name)"))
        #expect(try await catalog.rejected(mission: "hermes").isEmpty)
        guard case .rejected(let different) = try await flow.receive(mission: .hermes, name: name, body: body("other"), expectedLength: 5) else {
            Issue.record("different bytes under a stored name were not kept aside"); return
        }
        #expect(different.reason.contains("already stored"))
    }

    @Test func aLiveArrivalOfTheSameNameIsRefused() async throws {
        let name = "hermes_EEA_l0_2024042-000000_v0.bin"
        try await put("hermes/arrivals/\(name)", "\(ProcessIdentity.current) \(UTCTime.now.secondsSince1970)\n")
        await #expect(throws: IngestError.alreadyExists(key: "hermes/incoming/\(name)")) {
            _ = try await flow().receive(mission: .hermes, name: name, body: body("x"), expectedLength: 1)
        }
        #expect(try await gone("hermes/incoming/\(name)"))
    }

    @Test func anArrivalCutShortByAStopDoesNotBlockTheName() async throws {
        let name = "hermes_EEA_l0_2024042-000000_v0.bin"
        // The note of an upload whose process was killed before the body was stored.
        try await put("hermes/arrivals/\(name)", "\(try endedProcess()) \(UTCTime.now.secondsSince1970)\n")
        guard case .sorted(let record) = try await flow().receive(mission: .hermes, name: name, body: body("x"), expectedLength: 1) else {
            Issue.record("not sorted"); return
        }
        #expect(record.key == "hermes/eea/l0/2024/02/11/\(name)")
        #expect(try await gone("hermes/arrivals/\(name)", "hermes/incoming/\(name)"))
    }

    /// A package `hermes_eea` (project `sdc-hermes-eea-test`) whose L1 records the interpreter prefix it ran in.
    static func writePackage() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-hermes-pkg-\(UUID().uuidString)")
        let module = folder.appendingPathComponent("hermes_eea/calibration")
        try FileManager.default.createDirectory(at: module, withIntermediateDirectories: true)
        try """
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "sdc-hermes-eea-test"
            version = "0.2.0"
            """.write(to: folder.appendingPathComponent("pyproject.toml"), atomically: true, encoding: .utf8)
        try "".write(to: module.deletingLastPathComponent().appendingPathComponent("__init__.py"), atomically: true, encoding: .utf8)
        try """
            import sys
            from pathlib import Path
            def process_file(path):
                path = Path(path)
                if "_l0_" not in path.name:
                    return []
                out = path.parent / "hermes_eea_l1_20240211T000000_v0.2.0.cdf"
                out.write_text("made in " + sys.prefix)
                return [out]
            """.write(to: module.appendingPathComponent("__init__.py"), atomically: true, encoding: .utf8)
        return folder
    }

    @Test func anInstrumentPackageRunsInItsInstalledAlgorithmsEnvironment() async throws {
        let environments = AlgorithmEnvironments(folder: root.appendingPathComponent("algorithms"))
        let package = try Self.writePackage()
        defer { try? FileManager.default.removeItem(at: package) }
        let built = try await environments.build(spec: package.path) { _ in }
        let algorithms = try SQLiteAlgorithmStore(path: root.appendingPathComponent("jobs.sqlite").path)
        _ = try await algorithms.register(built.registration(name: "hermes-eea", spec: package.path))
        let configured = try MissionAlgorithms(configuration: ["hermes": ["eea": "hermes-eea==0.2.0"]], environments: environments, store: algorithms)
        // No interpreter besides the algorithm's: an instrument without one stays pending.
        let flow = flow(processing: MissionProcessing(python: nil, algorithms: configured))
        guard case .sorted(let l0) = try await flow.receive(mission: .hermes, name: "hermes_EEA_l0_2024042-000000_v0.bin",
                                                            body: body("l0"), expectedLength: 2) else { Issue.record("not sorted"); return }
        await flow.process(key: l0.key)
        let l1Key = "hermes/eea/l1/unknown/2024/02/11/hermes_eea_l1_20240211T000000_v0.2.0.cdf"
        let l1 = try #require(try await catalog.record(forKey: l1Key))
        #expect(l1.origins == [l0.key])
        var text = ""
        for try await chunk in try await store.read(ObjectKey(l1Key), range: nil) { text += String(buffer: chunk) }
        #expect(text == "made in " + built.folder.path)
        let status = try #require(try await catalog.status(forKey: l0.key))
        #expect(status.state == .success && status.message == "produced \(l1Key) by hermes-eea==0.2.0 (\(built.digest))")
        guard case .sorted(let nemisis) = try await flow.receive(mission: .hermes, name: "hermes_NEM_l0_2024042-000000_v0.bin",
                                                                 body: body("l0"), expectedLength: 2) else { Issue.record("not sorted"); return }
        await flow.process(key: nemisis.key)
        #expect(try await catalog.status(forKey: nemisis.key)?.message == "no processing configured for hermes nemisis")
    }

    /// Two processes sharing one catalog (replicas) asked at once to process the same file: one claims and processes
    /// it, the other leaves it (a second run would have failed the file on its duplicate output). A claim left by a
    /// stopped process of this host is taken over; a live process's claim is left to it.
    @Test func eachFileIsProcessedByOneOfTheProcessesSharingTheCatalog() async throws {
        let processing = MissionProcessing(python: "python3", pythonPath: [try MissionTestSupport.writeHermesEEAPackage(under: root).path])
        let first = flow(processing: processing)
        let second = flow(processing: processing)
        func arrive(_ name: String) async throws -> String {
            guard case .sorted(let record) = try await first.receive(mission: .hermes, name: name, body: body("l0"), expectedLength: 2) else {
                throw CatalogError.notFound(key: name)
            }
            return record.key
        }
        let raw = try await arrive("hermes_EEA_l0_2024042-000000_v0.bin")
        async let one: Void = first.process(key: raw)
        async let other: Void = second.process(key: raw)
        _ = await (one, other)
        let status = try #require(try await catalog.status(forKey: raw))
        #expect(status.state == .success && status.reprocessedCount == 1)

        let abandoned = try await arrive("hermes_EEA_l0_2024043-000000_v0.bin")
        let claimedByEnded = try await catalog.claim(key: abandoned, owner: try endedProcess(), expecting: "received")
        #expect(claimedByEnded)
        await second.process(key: abandoned)
        #expect(try await catalog.status(forKey: abandoned)?.state == .success)

        let live = try await arrive("hermes_EEA_l0_2024044-000000_v0.bin")
        let elsewhere = ProcessIdentity(host: "another-host", pid: 1)
        let claimedElsewhere = try await catalog.claim(key: live, owner: elsewhere, expecting: "received")
        #expect(claimedElsewhere)
        await second.process(key: live)
        let left = try #require(try await catalog.status(forKey: live))
        #expect(left.state == .pending && left.claimant == elsewhere)
    }

    @Test func anAlgorithmThatIsNotInstalledFailsTheFileNamingWhatToInstall() async throws {
        let algorithms = try SQLiteAlgorithmStore(path: root.appendingPathComponent("jobs.sqlite").path)
        let configured = try MissionAlgorithms(configuration: ["hermes": ["eea": "hermes-eea"]],
                                               environments: AlgorithmEnvironments(folder: root.appendingPathComponent("algorithms")), store: algorithms)
        let flow = flow(processing: MissionProcessing(python: nil, algorithms: configured))
        guard case .sorted(let l0) = try await flow.receive(mission: .hermes, name: "hermes_EEA_l0_2024042-000000_v0.bin",
                                                            body: body("l0"), expectedLength: 2) else { Issue.record("not sorted"); return }
        await flow.process(key: l0.key)
        let status = try #require(try await catalog.status(forKey: l0.key))
        #expect(status.state == .failed && status.message.contains("hermes-eea is not installed: sdc algorithms install hermes-eea SPEC"))
    }

    @Test func configurationErrorsNameTheMissionAndTheInstrument() throws {
        let error = #expect(throws: MissionConfigurationError.self) {
            try MissionConfiguration(json: Array(#"{"missions": [{"name": "hermes", "algorithms": {"xyz": "a"}}]}"#.utf8))
        }
        #expect(error?.description.contains("mission 'hermes': field 'algorithms'") == true && error?.description.contains("'xyz' is not a hermes instrument") == true)
        let configuration = try MissionConfiguration(json: Array(#"{"missions": ["imap", {"name": "hermes", "algorithms": {"eea": "hermes-eea==0.1.0"}}]}"#.utf8))
        #expect(configuration.algorithms == ["hermes": ["eea": "hermes-eea==0.1.0"]])
        #expect(configuration.missions.map(\.name) == ["imap", "hermes"])
        let store = try SQLiteAlgorithmStore(path: root.appendingPathComponent("jobs.sqlite").path)
        let bad = #expect(throws: MissionConfigurationError.self) {
            try MissionAlgorithms(configuration: ["hermes": ["eea": "a==b==c"]], environments: AlgorithmEnvironments(folder: root), store: store)
        }
        #expect(bad?.description.contains("mission 'hermes': field 'algorithms'") == true && bad?.description.contains("instrument 'eea'") == true)
    }
}

/// The incoming area of a mission in an S3 bucket (moto): listed page by page at start-up, as on the filesystem.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SDC_TEST_S3_ENDPOINT"] != nil,
                "SDC_TEST_S3_ENDPOINT is not set: scripts/test starts moto (scripts/lib/moto.sh) and sets it"))
struct MissionIntakeS3Tests {
    @Test func filesLeftInABucketsIncomingAreaAreSorted() async throws {
        let store = try await MissionTestSupport.motoStore("sdc-intake")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-intake-s3-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let missions = try MissionSet([.imap, .hermes])
        let catalog = try SQLiteMissionCatalog(path: folder.appendingPathComponent("missions.sqlite").path, missions: missions)
        let flow = MissionFlow(missions: missions, catalog: catalog, store: store, processing: nil, scratch: folder.appendingPathComponent("work"),
                               maximumSize: 1 << 20, reservationLifetime: 3600)
        func put(_ key: String, _ text: String) async throws { try await MissionTestSupport.put(key, text, in: store) }
        let now = UTCTime.now.secondsSince1970
        try await put("hermes/incoming/hermes_EEA_l0_2024042-000000_v0.bin", "abandoned")
        try await put("hermes/arrivals/hermes_EEA_l0_2024042-000000_v0.bin", "other-host/12 \(now - 7200)\n")
        try await put("hermes/incoming/hermes_EEA_l0_2024043-000000_v0.bin", "in flight on another host")
        try await put("hermes/arrivals/hermes_EEA_l0_2024043-000000_v0.bin", "other-host/12 \(now)\n")
        #expect(try await flow.recoverIncoming(mission: .hermes) == ["hermes_EEA_l0_2024042-000000_v0.bin"])
        #expect(try await catalog.record(forKey: "hermes/eea/l0/2024/02/11/hermes_EEA_l0_2024042-000000_v0.bin")?.size == 9)
        let left = try await store.listObjects(under: "hermes/", continuationToken: nil, pageSize: 100).objects.map(\.name).sorted()
        #expect(left == ["hermes/arrivals/hermes_EEA_l0_2024043-000000_v0.bin", "hermes/eea/l0/2024/02/11/hermes_EEA_l0_2024042-000000_v0.bin",
                         "hermes/incoming/hermes_EEA_l0_2024043-000000_v0.bin"])
    }
}
