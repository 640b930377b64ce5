import Foundation
import NIOCore
import SDCCatalog
import SDCCore
import SDCStorage
import Testing
@testable import SDCPipeline

/// The SWxSOC flow on a real filesystem store and a real SQLite mission catalog, with a real Python instrument package.
struct MissionFlowTests {
    let root: URL
    let store: FileSystemObjectStore
    let catalog: SQLiteMissionCatalog
    let missions = try! MissionSet([.imap, .hermes])

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-missions-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        store = try FileSystemObjectStore(root: root.appendingPathComponent("objects").path, signer: URLSigner(secret: SecureRandom.bytes(32)))
        catalog = try SQLiteMissionCatalog(path: root.appendingPathComponent("missions.sqlite").path, missions: missions)
    }

    func flow(processing: MissionProcessing? = nil) -> MissionFlow {
        MissionFlow(missions: missions, catalog: catalog, store: store, processing: processing,
                    scratch: root.appendingPathComponent("work"), maximumSize: 1 << 20)
    }

    func body(_ text: String) -> ObjectBody { MissionTestSupport.body(text) }

    func contents(_ key: String) async throws -> String? {
        guard try await store.size(of: ObjectKey(key)) != nil else { return nil }
        var text = ""
        for try await chunk in try await store.read(ObjectKey(key), range: nil) { text += String(buffer: chunk) }
        return text
    }

    @Test func sortsAnArrivalIntoItsInstrumentsArea() async throws {
        let name = "hermes_EEA_l0_2024042-000000_v0.bin"
        guard case .sorted(let record) = try await flow().receive(mission: .hermes, name: name, body: body("l0 bytes"), expectedLength: 8) else {
            Issue.record("not sorted"); return
        }
        #expect(record.key == "hermes/eea/l0/2024/02/11/\(name)")
        #expect(try await contents(record.key) == "l0 bytes")
        #expect(try await contents("hermes/incoming/\(name)") == nil)
        let status = try await catalog.status(forKey: record.key)
        #expect(status?.state == .pending && status?.message == "received")
    }

    @Test func keepsUnknownNamesAndDuplicatesAsideWithTheReason() async throws {
        let flow = flow()
        guard case .rejected(let unknown) = try await flow.receive(mission: .hermes, name: "hermes_XYZ_l0_2024042-000000_v0.bin",
                                                                   body: body("keep me"), expectedLength: 7) else {
            Issue.record("not rejected"); return
        }
        #expect(unknown.key.hasPrefix("rejected/hermes/") && unknown.reason.contains("no hermes instrument found"))
        #expect(try await contents(unknown.key) == "keep me")
        let name = "hermes_NEM_l0_2024042-000000_v0.bin"
        _ = try await flow.receive(mission: .hermes, name: name, body: body("first"), expectedLength: 5)
        guard case .rejected(let duplicate) = try await flow.receive(mission: .hermes, name: name, body: body("second"), expectedLength: 6) else {
            Issue.record("duplicate not rejected"); return
        }
        #expect(duplicate.reason.contains("already stored under hermes/nemisis/l0/2024/02/11/\(name)"))
        #expect(try await contents("hermes/nemisis/l0/2024/02/11/\(name)") == "first")
        #expect(try await contents(duplicate.key) == "second")
        #expect(try await catalog.rejected(mission: "hermes").count == 2)
    }

    @Test func processesLevelByLevelWithLineageAndStatus() async throws {
        let flow = flow(processing: MissionProcessing(python: "python3", pythonPath: [try MissionTestSupport.writeHermesEEAPackage(under: root).path]))
        guard case .sorted(let l0) = try await flow.receive(mission: .hermes, name: "hermes_EEA_l0_2024042-000000_v0.bin",
                                                            body: body("abc"), expectedLength: 3) else { Issue.record("not sorted"); return }
        await flow.process(key: l0.key)
        let l1Key = "hermes/eea/l1/unknown/2024/02/11/hermes_eea_l1_20240211T000000_v0.1.0.cdf"
        let l1 = try #require(try await catalog.record(forKey: l1Key))
        #expect(l1.origins == [l0.key])
        #expect(try await contents(l1Key) == "cba")
        let l0Status = try #require(try await catalog.status(forKey: l0.key))
        #expect(l0Status.state == .success && l0Status.processingSeconds != nil && l0Status.reprocessedCount == 1)
        // The package returns nothing for an L1: "could not process further", as swxsoc records it.
        await flow.process(key: l1Key)
        let l1Status = try #require(try await catalog.status(forKey: l1Key))
        #expect(l1Status.state == .failed && l1Status.message.contains("Could Not Process"))
        let rows = try await catalog.files(matching: MissionFileQuery(mission: "hermes", instrument: "eea", level: "l1"))
        #expect(rows.map(\.record.key) == [l1Key])
    }

    @Test func aFailingPackageMarksTheFileFailedWithItsError() async throws {
        let flow = flow(processing: MissionProcessing(python: "python3", pythonPath: [try MissionTestSupport.writeHermesEEAPackage(under: root).path]))
        guard case .sorted(let l0) = try await flow.receive(mission: .hermes, name: "hermes_EEA_l0_2024043-000000_v0.bin",
                                                            body: body("bad"), expectedLength: 3) else { Issue.record("not sorted"); return }
        await flow.process(key: l0.key)
        let status = try #require(try await catalog.status(forKey: l0.key))
        #expect(status.state == .failed && status.message.contains("damaged L0"))
    }

    @Test func keysCanBeLimitedToMissions() async throws {
        let keys = try SQLiteCatalog(path: root.appendingPathComponent("catalog.sqlite").path)
        let (secret, info) = try await keys.createKey(name: "hermes team", scope: .write)
        #expect(info.missions == nil && info.allows(mission: "imap"))
        let limited = try await keys.limitKey(String(info.id), toMissions: ["hermes"])
        #expect(limited.missions == ["hermes"])
        let authenticated = try #require(try await keys.authenticate(secret: secret))
        #expect(authenticated.allows(mission: "hermes") && !authenticated.allows(mission: "imap"))
        _ = try await keys.limitKey(info.prefix, toMissions: nil)
        #expect(try await keys.authenticate(secret: secret)?.missions == nil)
        await #expect(throws: APIKeyError.unknownKey("nope")) { try await keys.limitKey("nope", toMissions: ["imap"]) }
    }
}
