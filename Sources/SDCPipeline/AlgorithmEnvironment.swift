import Crypto
import Foundation
import NIOPosix
import SDCCore
import SDCJobs
import Synchronization

/// Why an algorithm environment could not be built or used.
public struct AlgorithmEnvironmentError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// An environment just built from a spec (not yet registered).
public struct BuiltEnvironment: Sendable, Hashable {
    /// `<environments folder>/<digest hex>`.
    public var folder: URL
    /// The distribution the spec installed and its version.
    public var distribution: String
    public var version: String
    public var digest: String
    public var python: String
    public var freeze: String
    public var entryPoints: [String]

    /// The registry entry for this environment under `name`.
    public func registration(name: String, spec: String, at time: UTCTime = .now) -> InstalledAlgorithm {
        InstalledAlgorithm(name: name, version: version, spec: spec, digest: digest, python: python, freeze: freeze,
                           entryPoints: entryPoints, installedAt: time, installedOn: ProcessIdentity.current.host)
    }
}

/// Isolated Python environments of installed algorithms on this machine, content-addressed: the environment with
/// digest `sha256:H` is the folder `<folder>/H`, built once and never changed in place.
///
/// An environment is built with `python3 -m venv` and pip (child processes, their output handed to `progress` line by
/// line) in a temporary folder `<folder>/.building/<random>`, its digest computed, the build's own path in `bin/`
/// rewritten to the final one (console-script shebangs, activate scripts), and the folder then renamed into place in
/// one step. A failed build is removed and leaves nothing visible; of two identical builds racing, the first rename
/// wins and the second build is discarded.
///
/// The digest is the SHA-256 of ``AlgorithmDigest/input(python:freeze:)``: the interpreter version and the resolved
/// `pip freeze`.
public struct AlgorithmEnvironments: Sendable {
    public let folder: URL
    /// The interpreter environments are made with (`python3` on PATH by default).
    public var python: String

    public init(folder: URL, python: String = "python3") {
        self.folder = folder.standardizedFileURL
        self.python = python
    }

    /// The environments of a data center folder: `<root>/algorithms`.
    public static func inDataCenter(root: URL) -> AlgorithmEnvironments {
        AlgorithmEnvironments(folder: root.appendingPathComponent("algorithms"))
    }

    /// The folder of the environment with `digest`, built or not.
    public func folder(digest: String) throws(AlgorithmEnvironmentError) -> URL {
        guard AlgorithmDigest.isValid(digest) else { throw AlgorithmEnvironmentError("'\(digest)' is not an environment digest (sha256:<64 hex>)") }
        return folder.appendingPathComponent(String(digest.dropFirst("sha256:".count)), isDirectory: true)
    }

    /// Whether the environment with `digest` has been built on this machine.
    public func isBuilt(digest: String) -> Bool {
        guard let folder = try? folder(digest: digest) else { return false }
        return FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("bin/python").path)
    }

    // MARK: Building

    /// Builds the environment of `spec` (a pip requirement, or a wheel, sdist or folder path), or finds the identical
    /// one already built. Throws with pip's own reason when the spec does not install.
    public func build(spec: String, progress: @escaping @Sendable (String) -> Void) async throws(AlgorithmEnvironmentError) -> BuiltEnvironment {
        let installable = Self.installable(spec)
        let building = folder.appendingPathComponent(".building")
        let work = building.appendingPathComponent(UUID().uuidString)
        let report = building.appendingPathComponent(work.lastPathComponent + ".report.json")
        do {
            try FileManager.default.createDirectory(at: building, withIntermediateDirectories: true)
        } catch {
            throw AlgorithmEnvironmentError("cannot create \(building.path): \(error.localizedDescription)")
        }
        defer {
            try? FileManager.default.removeItem(at: work)
            try? FileManager.default.removeItem(at: report)
        }
        try await step("create the environment", [python, "-m", "venv", work.path], progress: progress)
        let interpreter = work.appendingPathComponent("bin/python").path
        try await step("pip could not install \(spec)", [
            interpreter, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
            "--report", report.path, installable,
        ], progress: progress)
        let freeze = try await step("pip freeze", [interpreter, "-m", "pip", "freeze", "--disable-pip-version-check"], progress: { _ in })
        let description = try await step("inspect the environment", [interpreter, "-c", Self.inspection, report.path], progress: { _ in })
        let inspected = try Self.parseInspection(description, spec: spec)
        let digest = "sha256:" + SHA256.hash(data: Data(AlgorithmDigest.input(python: inspected.python, freeze: freeze).utf8)).hexString
        let destination = try folder(digest: digest)
        let built = BuiltEnvironment(folder: destination, distribution: inspected.name, version: inspected.version, digest: digest,
                                     python: inspected.python, freeze: freeze, entryPoints: inspected.entryPoints)
        if isBuilt(digest: digest) {
            progress("[sdc] an identical environment is already built: \(destination.path)")
            return built
        }
        try await Self.moveIntoPlace(work, destination)
        progress("[sdc] environment \(digest) ready in \(destination.path)")
        return built
    }

    /// An existing path as an absolute path (pip then installs that file or folder); any other text as a requirement.
    static func installable(_ spec: String) -> String {
        let looksLikePath = spec.hasPrefix("/") || spec.hasPrefix(".") || spec.hasSuffix(".whl") || spec.hasSuffix(".tar.gz") || spec.hasSuffix(".zip")
        guard looksLikePath, FileManager.default.fileExists(atPath: spec) else { return spec }
        return URL(fileURLWithPath: spec).standardizedFileURL.path
    }

    /// The spec to register: a path made absolute, so that it means the same thing from any working folder.
    public static func registeredSpec(_ spec: String) -> String { installable(spec) }

    /// Rewrites the build folder's path in `bin/` to the final one, then renames the folder into place (on the thread
    /// pool: file work). A destination that appeared meanwhile (an identical build won) is kept and this one dropped.
    private static func moveIntoPlace(_ work: URL, _ destination: URL) async throws(AlgorithmEnvironmentError) {
        do {
            try await NIOThreadPool.singleton.runIfActive {
                let old = Data(work.path.utf8), new = Data(destination.path.utf8)
                let bin = work.appendingPathComponent("bin")
                for name in try FileManager.default.contentsOfDirectory(atPath: bin.path) {
                    let file = bin.appendingPathComponent(name)
                    let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
                    guard attributes[.type] as? FileAttributeType == .typeRegular, (attributes[.size] as? Int ?? 0) < 1 << 20 else { continue }
                    let contents = try Data(contentsOf: file)
                    guard contents.range(of: old) != nil else { continue }
                    var rewritten = contents
                    while let range = rewritten.range(of: old) { rewritten.replaceSubrange(range, with: new) }
                    try rewritten.write(to: file)
                }
                if rename(work.path, destination.path) != 0 && errno != EEXIST && errno != ENOTEMPTY {
                    throw AlgorithmEnvironmentError("cannot move the environment to \(destination.path): \(String(cString: strerror(errno)))")
                }
            }
        } catch let error as AlgorithmEnvironmentError {
            throw error
        } catch {
            throw AlgorithmEnvironmentError("cannot finish the environment \(destination.path): \(error)")
        }
    }

    /// Prints the interpreter version and the distribution(s) the spec installed (from pip's report), as JSON.
    static let inspection = """
        import json, platform, sys, importlib.metadata as metadata
        report = json.load(open(sys.argv[1]))
        names = [item["metadata"]["name"] for item in report.get("install", []) if item.get("requested")]
        found = []
        for name in names:
            dist = metadata.distribution(name)
            scripts = sorted(e.name for e in dist.entry_points if e.group == "console_scripts")
            found.append({"name": dist.metadata["Name"], "version": dist.version, "entry_points": scripts})
        print(json.dumps({"python": platform.python_version(), "installed": found}))
        """

    private struct Inspection: Decodable {
        struct Distribution: Decodable {
            var name: String
            var version: String
            var entry_points: [String]
        }
        var python: String
        var installed: [Distribution]
    }

    private static func parseInspection(_ text: String, spec: String) throws(AlgorithmEnvironmentError) -> (name: String, version: String, python: String, entryPoints: [String]) {
        guard let line = text.split(whereSeparator: \.isNewline).last,
              let inspection = try? JSONDecoder().decode(Inspection.self, from: Data(line.utf8)) else {
            throw AlgorithmEnvironmentError("cannot read what \(spec) installed: \(text.suffix(500))")
        }
        guard let distribution = inspection.installed.first else {
            throw AlgorithmEnvironmentError("pip reported no distribution installed for \(spec)")
        }
        return (distribution.name, distribution.version, inspection.python, distribution.entry_points)
    }

    /// Runs one step of a build; a failure names the step and carries the reason the tool gave (pip's `ERROR:`
    /// lines, else the end of its output). Returns the standard output.
    @discardableResult
    private func step(_ what: String, _ arguments: [String], progress: @escaping @Sendable (String) -> Void) async throws(AlgorithmEnvironmentError) -> String {
        let result: ChildProcess.Result
        do {
            result = try await ChildProcess.run(arguments, progress: progress)
        } catch {
            throw AlgorithmEnvironmentError("\(what): cannot run \(arguments[0]): \(error)")
        }
        guard result.status == 0 else {
            let errors = result.output.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("ERROR:") }
            let reason = errors.isEmpty ? String(result.output.suffix(2000)) : errors.joined(separator: "\n")
            throw AlgorithmEnvironmentError("\(what) (exit status \(result.status)):\n\(reason.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return result.standardOutput
    }

    // MARK: Preparing a registered algorithm on a worker

    /// The folder of `algorithm`'s environment on this machine, building it from the registered spec the first time
    /// (one build per machine: concurrent callers, in this process or others, wait on a lock file and then find it).
    /// A build whose digest differs from the registered one is an error: the job would run different code.
    public func prepare(_ algorithm: InstalledAlgorithm, progress: @escaping @Sendable (String) -> Void) async throws(AlgorithmEnvironmentError) -> URL {
        let destination = try folder(digest: algorithm.digest)
        if isBuilt(digest: algorithm.digest) { return destination }
        let lock = try await EnvironmentLock.acquire(folder.appendingPathComponent(".locks/\(destination.lastPathComponent).lock"),
                                                      until: { isBuilt(digest: algorithm.digest) })
        defer { lock?.release() }
        if isBuilt(digest: algorithm.digest) { return destination }
        progress("[sdc] installing \(algorithm.reference) on this machine from \(algorithm.spec)")
        let built = try await build(spec: algorithm.spec, progress: progress)
        guard built.digest == algorithm.digest else {
            throw AlgorithmEnvironmentError(Self.mismatch(algorithm, built: built))
        }
        return destination
    }

    /// Explains a digest mismatch with the requirements that differ.
    static func mismatch(_ algorithm: InstalledAlgorithm, built: BuiltEnvironment) -> String {
        let registered = Set(algorithm.freeze.split(whereSeparator: \.isNewline).map(String.init))
        let here = Set(built.freeze.split(whereSeparator: \.isNewline).map(String.init))
        var differences = here.subtracting(registered).sorted().map { "+ \($0)" } + registered.subtracting(here).sorted().map { "- \($0)" }
        if built.python != algorithm.python { differences.insert("python \(built.python) here, \(algorithm.python) registered", at: 0) }
        return "\(algorithm.reference) installed from \(algorithm.spec) on this machine has digest \(built.digest), not the registered " +
            "\(algorithm.digest); refusing to run different code. Differences (+ here, - registered):\n" + differences.prefix(40).joined(separator: "\n")
    }
}

/// An exclusive `flock` on a lock file, taken without blocking a thread: tried, and retried every 200 ms.
final class EnvironmentLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// Takes the lock at `path`; returns nil without it when `done` turns true while waiting (someone else finished).
    static func acquire(_ path: URL, until done: @Sendable () -> Bool) async throws(AlgorithmEnvironmentError) -> EnvironmentLock? {
        do {
            try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw AlgorithmEnvironmentError("cannot create \(path.deletingLastPathComponent().path): \(error.localizedDescription)")
        }
        let descriptor = open(path.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw AlgorithmEnvironmentError("cannot open the lock file \(path.path): \(String(cString: strerror(errno)))") }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if done() {
                close(descriptor)
                return nil
            }
            do { try await Task.sleep(for: .milliseconds(200)) } catch {
                close(descriptor)
                throw AlgorithmEnvironmentError("cancelled while waiting for another installation of the same environment")
            }
        }
        return EnvironmentLock(descriptor: descriptor)
    }

    /// Releases the lock (closing the file releases the `flock`).
    func release() { close(descriptor) }
}

/// A child process whose output lines are handed over as they come (standard error merged for progress; standard
/// output also kept apart), awaited without blocking a thread.
enum ChildProcess {
    struct Result: Sendable {
        var status: Int32
        /// Standard output and standard error, interleaved (the last 256 KiB).
        var output: String
        /// Standard output alone.
        var standardOutput: String
    }

    static func run(_ arguments: [String], progress: @escaping @Sendable (String) -> Void) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        environment.removeValue(forKey: "VIRTUAL_ENV")
        environment.removeValue(forKey: "PYTHONHOME")
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let collected = Mutex((all: Data(), stdout: Data(), partial: [Data(), Data()]))
        let ends = StreamEnds(count: 2)
        let exit = ProcessExit()
        process.terminationHandler = { exit.signal($0.terminationStatus) }
        try process.run()
        // Started once the process runs (its output waits in the pipes): each stream is read on a thread of its own
        // with blocking reads until its end, not by a dispatch read source (`readabilityHandler`), whose teardown
        // races in swift-corelibs-foundation and crashed a test process.
        for (index, pipe) in [out, err].enumerated() {
            let handle = pipe.fileHandleForReading
            let reader = Thread {
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty {
                        let rest = collected.withLock { state -> Data in
                            defer { state.partial[index] = Data() }
                            return state.partial[index]
                        }
                        if !rest.isEmpty { progress(String(decoding: rest, as: UTF8.self)) }
                        ends.finish()
                        return
                    }
                    let lines = collected.withLock { state -> [Data] in
                        state.all.append(chunk)
                        if state.all.count > 1 << 18 { state.all.removeFirst(state.all.count - (1 << 18)) }
                        if index == 0 { state.stdout.append(chunk) }
                        state.partial[index].append(chunk)
                        var lines: [Data] = []
                        while let newline = state.partial[index].firstIndex(of: 0x0A) {
                            lines.append(state.partial[index][state.partial[index].startIndex..<newline])
                            state.partial[index].removeSubrange(state.partial[index].startIndex...newline)
                        }
                        return lines
                    }
                    for line in lines { progress(String(decoding: line, as: UTF8.self)) }
                }
            }
            reader.name = "sdc-child-output"
            reader.start()
        }
        let status = await withTaskCancellationHandler {
            await exit.wait()
        } onCancel: {
            process.terminate()
        }
        await ends.wait()
        return collected.withLock { state in
            Result(status: status, output: String(decoding: state.all, as: UTF8.self), standardOutput: String(decoding: state.stdout, as: UTF8.self))
        }
    }
}

/// Counts the output streams still open, for a wait that ends when all have reached their end.
final class StreamEnds: Sendable {
    private let state: Mutex<(open: Int, waiter: CheckedContinuation<Void, Never>?)>

    init(count: Int) { state = Mutex((count, nil)) }

    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.open -= 1
            guard state.open == 0 else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if state.open <= 0 { return true }
                state.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }
}

extension AlgorithmEnvironments {
    /// The environments of a machine that reaches the data center only through its API (`sdc worker --api-key`):
    /// `$SDC_ALGORITHMS_DIR`, else `~/.cache/sdc/algorithms`.
    public static var onThisMachine: AlgorithmEnvironments {
        if let folder = ProcessInfo.processInfo.environment["SDC_ALGORITHMS_DIR"], !folder.isEmpty {
            return AlgorithmEnvironments(folder: URL(fileURLWithPath: folder))
        }
        return AlgorithmEnvironments(folder: FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/sdc/algorithms"))
    }
}
