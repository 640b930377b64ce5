import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NIOCore
import SDCCatalog
import SDCCore
import SDCIngest
import SDCStorage
import Testing
@testable import SDCPipeline

/// Objects put straight into a mission's incoming area of an S3 bucket (moto), as an instrument team's `aws s3 cp`
/// does: sorted at once when an S3 event announces them, and by the flow's periodic sweep when no event comes.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SDC_TEST_S3_ENDPOINT"] != nil,
                "SDC_TEST_S3_ENDPOINT is not set: scripts/test starts moto (scripts/lib/moto.sh) and sets it"))
struct MissionS3EventTests {
    let store: S3ObjectStore
    let folder: URL
    let catalog: SQLiteMissionCatalog
    let missions = try! MissionSet([.imap, .hermes])

    init() async throws {
        store = try await MissionTestSupport.motoStore("sdc-events")
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-events-s3-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        catalog = try SQLiteMissionCatalog(path: folder.appendingPathComponent("missions.sqlite").path, missions: missions)
    }

    func flow(sweepInterval: Duration? = nil) -> MissionFlow {
        MissionFlow(missions: missions, catalog: catalog, store: store, processing: nil, scratch: folder.appendingPathComponent("work"),
                    maximumSize: 1 << 20, reservationLifetime: 3600, sweepInterval: sweepInterval)
    }

    func put(_ key: String, _ text: String) async throws { try await MissionTestSupport.put(key, text, in: store) }

    func names(under prefix: String) async throws -> [String] {
        try await store.listObjects(under: prefix, continuationToken: nil, pageSize: 100).objects.map(\.name).sorted()
    }

    @Test func announcedObjectsAreSortedKeptAsideOrLeftToTheirArrival() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let flow = flow()
        // Put straight into the bucket, no arrival note: sorted at once, checksum-verified copy, then deleted.
        try await put("hermes/incoming/hermes_EEA_l0_2024042-000000_v0.bin", "straight from aws s3 cp")
        let sorted = try await flow.sortAnnounced("hermes/incoming/hermes_EEA_l0_2024042-000000_v0.bin")
        guard case .success(.arrived(.sorted(let record)))? = sorted else {
            Issue.record("expected the object to be sorted, got \(String(describing: sorted))")
            return
        }
        #expect(record.key == "hermes/eea/l0/2024/02/11/hermes_EEA_l0_2024042-000000_v0.bin")
        let cataloged = try await catalog.record(forKey: record.key)
        #expect(cataloged?.size == 23)
        #expect(cataloged?.sha256 == SHA256.hash(data: Array("straight from aws s3 cp".utf8)).hexString)
        let status = try await catalog.status(forKey: record.key)
        #expect(status?.state == .pending)

        // The same event again (S3 delivers at least once): the object is gone, nothing changes.
        let again = try await flow.sortAnnounced("hermes/incoming/hermes_EEA_l0_2024042-000000_v0.bin")
        guard case .success(.gone)? = again else {
            Issue.record("expected a repeated event to find the object gone, got \(String(describing: again))")
            return
        }

        // A name of no hermes instrument: kept aside with the reason.
        try await put("hermes/incoming/hermes_XYZ_l0_2024042-000000_v0.bin", "unknown instrument")
        let rejected = try await flow.sortAnnounced("hermes/incoming/hermes_XYZ_l0_2024042-000000_v0.bin")
        guard case .success(.arrived(.rejected(let file)))? = rejected else {
            Issue.record("expected the object to be kept aside, got \(String(describing: rejected))")
            return
        }
        #expect(file.reason.contains("XYZ"))
        #expect(file.key.hasPrefix("rejected/hermes/"))
        #expect(try await names(under: "rejected/hermes/") == [file.key])

        // Another live process is receiving this name (its recent arrival note): left to it.
        let now = UTCTime.now.secondsSince1970
        try await put("hermes/incoming/hermes_EEA_l0_2024043-000000_v0.bin", "in flight on another host")
        try await put("hermes/arrivals/hermes_EEA_l0_2024043-000000_v0.bin", "other-host/12 \(now)\n")
        let inFlight = try await flow.sortAnnounced("hermes/incoming/hermes_EEA_l0_2024043-000000_v0.bin")
        guard case .success(.inFlight)? = inFlight else {
            Issue.record("expected the arrival in flight to be left alone, got \(String(describing: inFlight))")
            return
        }
        #expect(try await names(under: "hermes/incoming/") == ["hermes/incoming/hermes_EEA_l0_2024043-000000_v0.bin"])

        // A mission not hosted here is ignored (and named); IMAP's folder and other objects are not the flow's.
        let padre = try await flow.sortAnnounced("padre/incoming/padre_MEDDEA_l0_2024042-000000_v0.bin")
        guard case .failure(let notHosted)? = padre else {
            Issue.record("expected padre to be reported as not hosted, got \(String(describing: padre))")
            return
        }
        #expect(notHosted.mission == "padre")
        #expect(try await flow.sortAnnounced("imap/incoming/imap_mag_l0_raw_20250101_v001.pkts") == nil)
        #expect(try await flow.sortAnnounced("hermes/eea/l0/2024/02/11/hermes_EEA_l0_2024042-000000_v0.bin") == nil)
        #expect(try await flow.sortAnnounced("hermes/incoming/sub/hermes_EEA_l0_2024042-000000_v0.bin") == nil)
    }

    @Test func theSweepSortsObjectsWhoseEventNeverCame() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let flow = flow(sweepInterval: .milliseconds(200))
        func waitForRecord(_ key: String) async throws -> MissionFileRecord? {
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                if let record = try await catalog.record(forKey: key) { return record }
                try await Task.sleep(for: .milliseconds(50))
            }
            return nil
        }
        try await put("hermes/incoming/hermes_EEA_l0_2024042-000000_v0.bin", "left before start")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await flow.run() }
            // Sorted by start-up's recovery, which therefore listed the incoming area before the next put.
            let recovered = try await waitForRecord("hermes/eea/l0/2024/02/11/hermes_EEA_l0_2024042-000000_v0.bin")
            #expect(recovered?.size == 17)
            // No event for this one: only a sweep can find it.
            try await put("hermes/incoming/hermes_EEA_l0_2024043-000000_v0.bin", "no event for this one")
            let swept = try await waitForRecord("hermes/eea/l0/2024/02/12/hermes_EEA_l0_2024043-000000_v0.bin")
            #expect(swept?.size == 21)
            // Sorting deletes the incoming object and its note after cataloging the copy.
            try await waitUntil(seconds: 20) {
                let incoming = try await names(under: "hermes/incoming/")
                let notes = try await names(under: "hermes/arrivals/")
                return incoming.isEmpty && notes.isEmpty
            }
            group.cancelAll()
        }
    }
}
