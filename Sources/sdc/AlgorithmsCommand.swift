import ArgumentParser
import Foundation
import SDCAssembly
import SDCCore
import SDCJobs
import SDCPipeline

/// Why an algorithms command failed (printed as is, without the usage text).
struct AlgorithmsCommandError: Error, CustomStringConvertible {
    let description: String
}

/// `sdc algorithms`: install, list, show and remove the instrument teams' algorithms.
struct AlgorithmsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "algorithms",
        abstract: "Install, list, show and remove algorithms: isolated Python environments, one per name and version.",
        discussion: """
            An environment is built once with python3 -m venv and pip in <root>/algorithms, named by its digest (the \
            SHA-256 of the interpreter version and the resolved pip freeze) and never changed. The registry (in the \
            data center's database) keeps the spec, so that every machine that runs jobs installs the same thing.
            """,
        subcommands: [Install.self, List.self, Show.self, Remove.self]
    )

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build an algorithm's environment and register it.",
            discussion: """
                SPEC is what pip installs: a requirement (imap-processing==1.0.40), or a wheel, sdist or folder. pip's \
                own options come from its environment (PIP_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX, ...). The version \
                registered is the version of the distribution SPEC installs.
                """)
        @OptionGroup var root: RootOption
        @Argument(help: "The name jobs and the pipeline configuration use (e.g. imap-processing).") var name: String
        @Argument(help: "A pip requirement, or the path of a wheel, sdist or folder.") var spec: String
        @Option(help: "The interpreter to build with.") var python = "python3"

        func validate() throws {
            do { try AlgorithmReference.check(name: name) } catch { throw ValidationError("\(error)") }
            guard !spec.isEmpty else { throw ValidationError("SPEC is empty: give a pip requirement, or a wheel, sdist or folder") }
        }

        func run() async throws {
            let dataCenter = try await root.open()
            let environments = AlgorithmEnvironments(folder: AlgorithmEnvironments.inDataCenter(root: root.url).folder, python: python)
            let spec = AlgorithmEnvironments.registeredSpec(spec)
            print("installing \(name) from \(spec) into \(environments.folder.path)")
            let built: BuiltEnvironment
            do {
                built = try await environments.build(spec: spec) { line in print("  " + line) }
            } catch {
                throw AlgorithmsCommandError(description: "\(name) was not installed, and nothing was registered: \(error)")
            }
            let registration = built.registration(name: name, spec: spec)
            let created = try await dataCenter.algorithms.register(registration)
            // Days waiting for an algorithm to be installed are planned again (those still missing an input wait on).
            let woken = created ? try await dataCenter.jobs.wakeWaitingTriggers(
                products: nil, from: FileDate(year: 2010, month: 1, day: 1)!, through: FileDate(year: 2100, month: 12, day: 31)!,
                dueMilliseconds: JobClock.system.milliseconds()) : 0
            if woken > 0 { print("\(woken) waiting day(s) will be planned again") }
            print("""
                \(created ? "installed" : "already installed:") \(registration.reference)
                  digest:       \(built.digest)
                  environment:  \(built.folder.path)
                  python:       \(built.python)
                  entry points: \(built.entryPoints.isEmpty ? "(none)" : built.entryPoints.joined(separator: ", "))
                New jobs of pipeline entries with `algorithm: \(name)` run this version; nothing already made is reprocessed.
                To remake earlier days with it: sdc reprocess --algorithm \(registration.reference) --start-date ... --end-date ...
                """)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the installed algorithms.")
        @OptionGroup var root: RootOption

        func run() async throws {
            let algorithms = try await root.open().algorithms.algorithms()
            let environments = AlgorithmEnvironments.inDataCenter(root: root.url)
            let rows = algorithms.map { algorithm in
                [algorithm.name, algorithm.version, String(algorithm.digest.prefix(19)), algorithm.entryPoints.joined(separator: ","),
                 algorithm.products.map(\.description).joined(separator: " "), algorithm.installedAt.iso8601,
                 environments.isBuilt(digest: algorithm.digest) ? "yes" : "no"]
            }
            print(TextTable.render(header: ["NAME", "VERSION", "DIGEST", "ENTRY POINTS", "PRODUCTS", "INSTALLED", "HERE"], rows: rows))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one installed algorithm: spec, digest, environment, products, jobs.")
        @OptionGroup var root: RootOption
        @Argument var name: String
        @Argument(help: "The version (default: the newest installed).") var version: String?

        func run() async throws {
            let dataCenter = try await root.open()
            let algorithm = try await AlgorithmsCommand.find(name, version, in: dataCenter)
            let environments = AlgorithmEnvironments.inDataCenter(root: root.url)
            let live = try await dataCenter.jobs.liveJobs(runningDigest: algorithm.digest)
            print("""
                \(algorithm.reference)
                spec:         \(algorithm.spec)
                digest:       \(algorithm.digest)
                python:       \(algorithm.python)
                entry points: \(algorithm.entryPoints.joined(separator: ", "))
                products:     \(algorithm.products.isEmpty ? "(none in the running configuration)" : algorithm.products.map(\.description).joined(separator: " "))
                installed:    \(algorithm.installedAt.iso8601) on \(algorithm.installedOn)
                environment:  \(try environments.folder(digest: algorithm.digest).path)\(environments.isBuilt(digest: algorithm.digest) ? "" : " (not built on this machine)")
                live jobs:    \(live.isEmpty ? "none" : live.map { "\($0.id) (\($0.status.rawValue))" }.joined(separator: ", "))
                pip freeze:
                \(algorithm.freeze.split(whereSeparator: \.isNewline).map { "  " + $0 }.joined(separator: "\n"))
                """)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Unregister an algorithm version and delete its environment on this machine.",
            discussion: "Refused while queued or running jobs run it, unless --force (they then fail: their algorithm is gone).")
        @OptionGroup var root: RootOption
        @Argument var name: String
        @Argument var version: String
        @Flag(help: "Remove even while queued or running jobs run it.") var force = false

        func run() async throws {
            let dataCenter = try await root.open()
            let algorithm = try await AlgorithmsCommand.find(name, version, in: dataCenter)
            let live = try await dataCenter.jobs.liveJobs(runningDigest: algorithm.digest)
            if !live.isEmpty && !force {
                throw AlgorithmsCommandError(description: """
                    \(algorithm.reference) is run by \(live.count) queued or running job(s): \
                    \(live.prefix(20).map { "\($0.id) (\($0.status.rawValue) \($0.product) \($0.startDate))" }.joined(separator: ", ")). \
                    Wait for them, or give --force.
                    """)
            }
            _ = try await dataCenter.algorithms.remove(name: algorithm.name, version: algorithm.version)
            let sharing = try await dataCenter.algorithms.algorithms().filter { $0.digest == algorithm.digest }
            let environments = AlgorithmEnvironments.inDataCenter(root: root.url)
            let folder = try environments.folder(digest: algorithm.digest)
            if live.isEmpty && sharing.isEmpty && FileManager.default.fileExists(atPath: folder.path) {
                // Moved aside first, so that the environment disappears in one step and is never seen half-deleted.
                let trash = environments.folder.appendingPathComponent(".building/removed-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: trash.deletingLastPathComponent(), withIntermediateDirectories: true)
                try FileManager.default.moveItem(at: folder, to: trash)
                try FileManager.default.removeItem(at: trash)
                print("removed \(algorithm.reference) and its environment \(folder.path)")
            } else {
                print("removed \(algorithm.reference)\(live.isEmpty ? "" : "; its environment stays while \(live.count) job(s) may use it")")
            }
        }
    }

    /// The registered `name` at `version`, or its newest version.
    static func find(_ name: String, _ version: String?, in dataCenter: DataCenter) async throws -> InstalledAlgorithm {
        let found = if let version { try await dataCenter.algorithms.algorithm(name: name, version: version) } else {
            try await dataCenter.algorithms.newest(name: name)
        }
        guard let found else {
            throw AlgorithmsCommandError(description: "\(name)\(version.map { "==" + $0 } ?? "") is not installed (sdc algorithms list)")
        }
        return found
    }
}
