import Foundation
import SDCCore
import Testing
@testable import SDCCatalog
@testable import SDCJobs
@testable import SDCPostgres

/// An algorithm store in a fresh SQLite file or PostgreSQL database, removed afterwards.
private func withAlgorithmStore(_ backend: TestBackend, _ body: (any AlgorithmStore) async throws -> Void) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-algorithms-\(UUID().uuidString)")
    var scratch: PostgresDatabase?
    let store: any AlgorithmStore
    switch backend {
    case .sqlite:
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("jobs.sqlite").path
        // The registry shares the job store's file: both migrate it, neither disturbs the other.
        _ = try SQLiteJobStore(path: path)
        store = try SQLiteAlgorithmStore(path: path)
        _ = try SQLiteJobStore(path: path)
    case .postgres:
        let url = try #require(TestBackend.databaseURL, "\(TestBackend.skipMessage)")
        let database = try await PostgresDatabase.scratch(from: url)
        scratch = database
        _ = try await PostgresJobStore(database: database)
        store = try await PostgresAlgorithmStore(database: database)
    }
    defer { try? FileManager.default.removeItem(at: folder) }
    do { try await body(store) } catch {
        try await scratch?.dropScratch()
        throw error
    }
    try await scratch?.dropScratch()
}

private func installed(_ name: String, _ version: String, digest: Character = "a", at seconds: Int64 = 1_750_000_000) -> InstalledAlgorithm {
    InstalledAlgorithm(name: name, version: version, spec: "\(name)==\(version)", digest: "sha256:" + String(repeating: digest, count: 64),
                       python: "3.11.7", freeze: "\(name)==\(version)\nnumpy==2.0.0\n", entryPoints: ["imap_cli", "other_cli"],
                       installedAt: UTCTime(secondsSince1970: seconds), installedOn: "host-1")
}

struct AlgorithmStoreTests {
    @Test(arguments: TestBackend.available) func registrationIsIdempotentAndNeverChangesAnInstalledVersion(_ backend: TestBackend) async throws {
        try await withAlgorithmStore(backend) { store in
            let first = installed("imap-processing", "1.0.40")
            #expect(try await store.register(first))
            #expect(try await !store.register(first))
            var changed = installed("imap-processing", "1.0.40", digest: "b")
            changed.spec = "/elsewhere/imap_processing-1.0.40.whl"
            await #expect(throws: AlgorithmStoreError.self) { try await store.register(changed) }
            do {
                _ = try await store.register(changed)
            } catch {
                #expect("\(error)".contains("imap-processing==1.0.40 is already installed with digest sha256:aaaa"))
            }
            // What was read back is what was registered, the first registration kept.
            let read = try #require(try await store.algorithm(name: "imap-processing", version: "1.0.40"))
            #expect(read == first)
            #expect(read.entryPoints == ["imap_cli", "other_cli"] && read.reference == "imap-processing==1.0.40")
        }
    }

    @Test(arguments: TestBackend.available) func newestIsTheLastInstalledAndRemovalUnregistersOneVersion(_ backend: TestBackend) async throws {
        try await withAlgorithmStore(backend) { store in
            _ = try await store.register(installed("imap-processing", "1.0.40", at: 100))
            _ = try await store.register(installed("imap-processing", "1.0.39", digest: "c", at: 200))
            _ = try await store.register(installed("glows-tools", "0.1", digest: "d", at: 150))
            #expect(try await store.newest(name: "imap-processing")?.version == "1.0.39")
            #expect(try await store.algorithms().map(\.reference) == ["glows-tools==0.1", "imap-processing==1.0.40", "imap-processing==1.0.39"])
            #expect(try await store.remove(name: "imap-processing", version: "1.0.39"))
            #expect(try await !store.remove(name: "imap-processing", version: "1.0.39"))
            #expect(try await store.newest(name: "imap-processing")?.version == "1.0.40")
            #expect(try await store.newest(name: "nothing") == nil)
        }
    }

    @Test(arguments: TestBackend.available) func productsAndCampaignPinsAreRecorded(_ backend: TestBackend) async throws {
        try await withAlgorithmStore(backend) { store in
            _ = try await store.register(installed("imap-processing", "1.0.40"))
            _ = try await store.register(installed("imap-processing", "1.0.41", digest: "e"))
            let products = [ProductNode("swapi", "l1", "sci"), ProductNode("swapi", "l1", "hk"), ProductNode("mag", "l1b", "all")]
            try await store.setProducts(products, name: "imap-processing", version: nil)
            try await store.setProducts([ProductNode("swapi", "l2", "sci")], name: "imap-processing", version: "1.0.41")
            #expect(try await store.algorithm(name: "imap-processing", version: "1.0.40")?.products == products.sorted())
            #expect(try await store.algorithm(name: "imap-processing", version: "1.0.41")?.products == [ProductNode("swapi", "l2", "sci")])
            #expect(try await store.pinnedVersion(campaign: 7, name: "imap-processing") == nil)
            try await store.pin(campaign: 7, name: "imap-processing", version: "1.0.40")
            try await store.pin(campaign: 7, name: "imap-processing", version: "1.0.41")
            #expect(try await store.pinnedVersion(campaign: 7, name: "imap-processing") == "1.0.41")
            #expect(try await store.pinnedVersion(campaign: 8, name: "imap-processing") == nil)
        }
    }

    @Test(arguments: TestBackend.available) func badNamesAndDigestsAreRefused(_ backend: TestBackend) async throws {
        try await withAlgorithmStore(backend) { store in
            await #expect(throws: AlgorithmStoreError.self) { try await store.register(installed("../etc", "1")) }
            await #expect(throws: AlgorithmStoreError.self) { try await store.register(installed("ok", "1 2")) }
            var bad = installed("ok", "1")
            bad.digest = "sha256:XYZ"
            await #expect(throws: AlgorithmStoreError.self) { try await store.register(bad) }
            let registered = try await store.algorithms()
            #expect(registered.isEmpty)
        }
    }
}

struct AlgorithmReferenceTests {
    @Test func referencesParseAndRefuseMalformedText() throws {
        #expect(try AlgorithmReference(parsing: "imap-processing==1.0.40") == AlgorithmReference(name: "imap-processing", version: "1.0.40"))
        #expect(try AlgorithmReference(parsing: "imap_processing") == AlgorithmReference(name: "imap_processing", version: nil))
        for text in ["", "a==b==c", "-x", "a==", "a b", "é"] {
            #expect(throws: AlgorithmStoreError.self, "\(text)") { try AlgorithmReference(parsing: text) }
        }
    }

    @Test func theDigestInputIsTheInterpreterAndTheSortedFreeze() {
        // Independent check with Python:
        // hashlib.sha256(b"python 3.11.7\na==1\nb==2\n").hexdigest()
        let input = AlgorithmDigest.input(python: "3.11.7", freeze: "b==2\n\na==1  \n")
        #expect(input == "python 3.11.7\na==1\nb==2\n")
        #expect(AlgorithmDigest.isValid("sha256:" + String(repeating: "0", count: 64)))
        #expect(!AlgorithmDigest.isValid("sha256:" + String(repeating: "G", count: 64)))
    }
}
