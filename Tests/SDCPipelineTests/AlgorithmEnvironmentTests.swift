import Crypto
import Foundation
import SDCCatalog
import SDCCore
@testable import SDCJobs
import Synchronization
import Testing
@testable import SDCPipeline

/// A tiny Python package in a folder, with one console script that prints its name, version and interpreter prefix.
enum TinyPackage {
    static let name = "sdc-tiny-algorithm"
    static let script = "sdc_tiny_algorithm"

    /// Writes the package (version `version`) into a new temporary folder.
    static func write(version: String = "0.1.0") throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-tiny-\(UUID().uuidString)")
        let module = folder.appendingPathComponent("sdc_tiny_algorithm")
        try FileManager.default.createDirectory(at: module, withIntermediateDirectories: true)
        try """
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "\(name)"
            version = "\(version)"

            [project.scripts]
            \(script) = "sdc_tiny_algorithm:main"
            """.write(to: folder.appendingPathComponent("pyproject.toml"), atomically: true, encoding: .utf8)
        try """
            import sys
            def main():
                print("sdc-tiny-algorithm \(version) " + " ".join(sys.argv[1:]) + " in " + sys.prefix)
            """.write(to: module.appendingPathComponent("__init__.py"), atomically: true, encoding: .utf8)
        return folder
    }
}

/// One build of the tiny package, shared by the tests that only read it (a build takes seconds).
actor SharedBuild {
    static let shared = SharedBuild()
    private var built: (environments: AlgorithmEnvironments, package: URL, environment: BuiltEnvironment)?

    func get() async throws -> (environments: AlgorithmEnvironments, package: URL, environment: BuiltEnvironment) {
        if let built { return built }
        let package = try TinyPackage.write()
        let environments = AlgorithmEnvironments(folder: temporaryFolder("sdc-envs"))
        let environment = try await environments.build(spec: package.path) { _ in }
        built = (environments, package, environment)
        return (environments, package, environment)
    }
}

func temporaryFolder(_ prefix: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
}

/// Runs a program and returns its standard output (the test's own helper, independent of the code under test).
func output(of arguments: [String], environment: [String: String]? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(arguments)")
    return String(decoding: data, as: UTF8.self)
}

@Suite(.serialized) struct AlgorithmEnvironmentTests {
    @Test func aFolderPackageBuildsAContentAddressedEnvironmentWhoseEntryPointRuns() async throws {
        let (environments, package, built) = try await SharedBuild.shared.get()
        #expect(built.distribution == TinyPackage.name && built.version == "0.1.0" && built.entryPoints == [TinyPackage.script])
        // The folder is named by the digest, computed here independently from the environment's own freeze.
        let python = built.folder.appendingPathComponent("bin/python").path
        let freeze = try output(of: [python, "-m", "pip", "freeze", "--disable-pip-version-check"])
        let version = try output(of: [python, "-c", "import platform; print(platform.python_version())"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let lines = freeze.split(separator: "\n").map(String.init).sorted()
        let expected = "sha256:" + SHA256.hash(data: Data(("python \(version)\n" + lines.map { $0 + "\n" }.joined()).utf8)).hexString
        #expect(built.digest == expected && built.python == version)
        #expect(built.folder.path == environments.folder.appendingPathComponent(String(expected.dropFirst(7))).path)
        #expect(freeze.contains("sdc-tiny-algorithm @ file://\(package.path)") || freeze.contains("sdc_tiny_algorithm @ file://\(package.path)"))
        // The console script runs by its own shebang from the final folder (the build folder's path was rewritten).
        let printed = try output(of: [built.folder.appendingPathComponent("bin/\(TinyPackage.script)").path, "--flag"])
        #expect(printed == "sdc-tiny-algorithm 0.1.0 --flag in \(built.folder.path)\n")
        // No build leftovers are visible.
        let building = try FileManager.default.contentsOfDirectory(atPath: environments.folder.appendingPathComponent(".building").path)
        #expect(building.isEmpty)
        // Building the same spec again finds the same environment.
        let lines2 = Mutex<[String]>([])
        let again = try await environments.build(spec: package.path) { line in lines2.withLock { $0.append(line) } }
        #expect(again.digest == built.digest && again.folder.path == built.folder.path && again.freeze == built.freeze)
        #expect(lines2.withLock { $0 }.contains { $0.contains("an identical environment is already built") })
    }

    @Test func aSpecThatDoesNotInstallFailsWithPipsReasonAndLeavesNothing() async throws {
        let environments = AlgorithmEnvironments(folder: temporaryFolder("sdc-envs"))
        defer { try? FileManager.default.removeItem(at: environments.folder) }
        let streamed = Mutex<[String]>([])
        do {
            _ = try await environments.build(spec: "sdc-no-such-package-zq7==0.0.1") { line in streamed.withLock { $0.append(line) } }
            Issue.record("a nonexistent package installed")
        } catch {
            #expect(error.description.contains("pip could not install sdc-no-such-package-zq7==0.0.1"))
            #expect(error.description.contains("No matching distribution found for sdc-no-such-package-zq7==0.0.1"))
        }
        // pip's output was streamed as it came.
        #expect(streamed.withLock { $0 }.contains { $0.contains("sdc-no-such-package-zq7") })
        let left = try FileManager.default.contentsOfDirectory(atPath: environments.folder.path).filter { $0 != ".building" }
        #expect(left.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: environments.folder.appendingPathComponent(".building").path).isEmpty)
    }

    @Test func aWorkerInstallsARegisteredAlgorithmOnceAndRefusesADifferentDigest() async throws {
        let (_, package, built) = try await SharedBuild.shared.get()
        let registered = built.registration(name: "tiny", spec: package.path)
        // Another machine: an empty environments folder. Two jobs start at once; one installs, the other waits.
        let worker = AlgorithmEnvironments(folder: temporaryFolder("sdc-worker-envs"))
        defer { try? FileManager.default.removeItem(at: worker.folder) }
        let installs = Mutex(0)
        let progress: @Sendable (String) -> Void = { line in if line.hasPrefix("[sdc] installing tiny==0.1.0") { installs.withLock { $0 += 1 } } }
        async let first = worker.prepare(registered, progress: progress)
        async let second = worker.prepare(registered, progress: progress)
        let folders = try await [first, second]
        let expected = try worker.folder(digest: built.digest)
        #expect(folders[0].path == folders[1].path && folders[0].path == expected.path)
        #expect(installs.withLock { $0 } == 1)
        #expect(worker.isBuilt(digest: built.digest))
        // A registration whose digest this machine cannot reproduce is refused rather than run.
        var other = registered
        other.digest = "sha256:" + String(repeating: "0", count: 64)
        other.freeze = "sdc-tiny-algorithm==0.0.9\n"
        do {
            _ = try await worker.prepare(other) { _ in }
            Issue.record("a mismatched digest was accepted")
        } catch {
            #expect(error.description.contains("refusing to run different code"))
            #expect(error.description.contains("- sdc-tiny-algorithm==0.0.9"))
        }
        #expect(!worker.isBuilt(digest: other.digest))
    }

    @Test func theResolverRunsTheEntryPointFromTheJobsEnvironment() async throws {
        let (environments, package, built) = try await SharedBuild.shared.get()
        let folder = temporaryFolder("sdc-resolver")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteAlgorithmStore(path: folder.appendingPathComponent("jobs.sqlite").path)
        let registered = built.registration(name: "tiny", spec: package.path)
        _ = try await store.register(registered)
        // The environment is built here already (the install itself is covered above and by the interop tests).
        let resolver = AlgorithmEnvironmentResolver(environments: environments, store: store)
        let entry = InstalledAlgorithmEntry(reference: AlgorithmReference(name: "tiny", version: nil), entryPoint: TinyPackage.script)
        let configuration = ExternalCommandConfiguration(command: [TinyPackage.script], environment: ["X": "1"], installed: entry)
        let job = Job(id: 1, status: .running, product: ProductNode("swapi", "l2", "sci"), startDate: FileDate(year: 2025, month: 1, day: 1)!,
                      repointing: nil, version: ProductVersion(major: 1, minor: 1), algorithm: "tiny==0.1.0", algorithmVersion: built.digest,
                      inputs: "[]", inputsHash: "00000000", campaign: 0, attempts: 1, maxAttempts: 1, workerID: "w", leaseExpiresAt: nil,
                      notBefore: .now, createdAt: .now, startedAt: nil, finishedAt: nil, log: "", outputs: [], error: nil)
        let prepared = try await resolver.environment(for: configuration, of: job) { _ in }
        let environment = try resolver.environments.folder(digest: built.digest)
        #expect(prepared.command == [environment.appendingPathComponent("bin/\(TinyPackage.script)").path])
        #expect(prepared.environment["PATH"]?.hasPrefix(environment.appendingPathComponent("bin").path + ":") == true)
        #expect(prepared.environment["X"] == "1" && prepared.environment["VIRTUAL_ENV"] == environment.path)
        // By PATH, as a job's shell would find it.
        var processEnvironment = ProcessInfo.processInfo.environment
        processEnvironment["PATH"] = prepared.environment["PATH"]
        #expect(try output(of: [TinyPackage.script], environment: processEnvironment) == "sdc-tiny-algorithm 0.1.0  in \(environment.path)\n")
        // A job planned with another digest than the registered one does not run.
        var stale = job
        stale.algorithmVersion = "sha256:" + String(repeating: "1", count: 64)
        await #expect(throws: AlgorithmEnvironmentError.self) { try await resolver.environment(for: configuration, of: stale) { _ in } }
        // A plain command is left alone.
        let plain = ExternalCommandConfiguration(command: ["true"], environment: [:])
        #expect(try await resolver.environment(for: plain, of: job) { _ in } == plain)
    }
}

struct AlgorithmPlanningTests {
    static func installed(_ version: String, digest: Character, at seconds: Int64) -> InstalledAlgorithm {
        InstalledAlgorithm(name: "imap-processing", version: version, spec: "imap-processing==\(version)",
                           digest: "sha256:" + String(repeating: digest, count: 64), python: "3.11.7", freeze: "imap-processing==\(version)\n",
                           entryPoints: ["imap_cli"], installedAt: UTCTime(secondsSince1970: seconds), installedOn: "h")
    }

    @Test func registryEntriesNameInstalledAlgorithmsAndTheirEntryPoint() throws {
        let folder = temporaryFolder("sdc-registry")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("algorithms.yaml")
        try """
            algorithms:
              - product: {instrument: swapi, level: l2, descriptor: sci}
                name: swapi-l2
                algorithm: imap-processing==1.0.40
                entry_point: imap_cli
                major_version: 2
              - product: {instrument: swapi, level: l1, descriptor: hk}
                name: swapi-l1
                algorithm: imap-processing
                entry_point: imap_cli
                makes: [l1a hk, l1b hk]
            """.write(to: file, atomically: true, encoding: .utf8)
        let registry = try AlgorithmRegistry(contentsOf: file)
        let l2 = try #require(registry.algorithm(for: ProductNode("swapi", "l2", "sci")))
        #expect(l2.installedEntry == InstalledAlgorithmEntry(reference: AlgorithmReference(name: "imap-processing", version: "1.0.40"), entryPoint: "imap_cli"))
        #expect(l2.majorVersion == 2)
        #expect(registry.productsByInstalledAlgorithm[AlgorithmReference(name: "imap-processing", version: nil)]
                == [ProductNode("swapi", "l1a", "hk"), ProductNode("swapi", "l1b", "hk")])
        for bad in ["algorithm: imap-processing", "algorithm: imap-processing\n    entry_point: imap_cli\n    command: [x]", "algorithm: 'a b'\n    entry_point: x"] {
            try """
                algorithms:
                  - product: {instrument: swapi, level: l2, descriptor: sci}
                    name: swapi-l2
                    \(bad)
                """.write(to: file, atomically: true, encoding: .utf8)
            #expect(throws: AlgorithmRegistryError.self, "\(bad)") { try AlgorithmRegistry(contentsOf: file) }
        }
    }

    @Test func jobsCarryTheDigestOfTheNewestPinnedOrCampaignVersion() async throws {
        let folder = temporaryFolder("sdc-identity")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteAlgorithmStore(path: folder.appendingPathComponent("jobs.sqlite").path)
        func spec(_ reference: String) -> AlgorithmSpec {
            let entry = InstalledAlgorithmEntry(reference: try! AlgorithmReference(parsing: reference), entryPoint: "imap_cli")
            return AlgorithmSpec(product: ProductNode("swapi", "l2", "sci"), name: "swapi-l2", version: reference, majorVersion: 1,
                                 timeoutSeconds: 60, maxAttempts: 1,
                                 kind: .external(ExternalCommandConfiguration(command: ["imap_cli"], environment: [:], installed: entry)))
        }
        // Not installed: a clear error naming the command to run.
        await #expect(throws: AlgorithmEnvironmentError.self) { try await spec("imap-processing").jobIdentity(campaign: 0, algorithms: store) }
        _ = try await store.register(Self.installed("1.0.40", digest: "a", at: 100))
        _ = try await store.register(Self.installed("1.0.41", digest: "b", at: 200))
        let newest = try await spec("imap-processing").jobIdentity(campaign: 0, algorithms: store)
        #expect(newest.algorithm == "imap-processing==1.0.41" && newest.version == "sha256:" + String(repeating: "b", count: 64))
        let pinned = try await spec("imap-processing==1.0.40").jobIdentity(campaign: 0, algorithms: store)
        #expect(pinned.algorithm == "imap-processing==1.0.40" && pinned.version.hasSuffix("aaaa"))
        try await store.pin(campaign: 9, name: "imap-processing", version: "1.0.40")
        #expect(try await spec("imap-processing").jobIdentity(campaign: 9, algorithms: store).algorithm == "imap-processing==1.0.40")
        // A plain command keeps its configured version.
        let plain = AlgorithmSpec(product: ProductNode("swapi", "l2", "sci"), name: "x", version: "7", majorVersion: 1, timeoutSeconds: 1,
                                  maxAttempts: 1, kind: .external(ExternalCommandConfiguration(command: ["true"], environment: [:])))
        let identity = try await plain.jobIdentity(campaign: 0, algorithms: nil)
        #expect(identity.algorithm == "x" && identity.version == "7")
    }
}
