import Foundation
import Logging
import NIOCore
import SDCCatalog
import SDCCore
import SDCIngest
import SDCStorage
import ServiceLifecycle

/// How the instrument packages of SWxSOC-style missions are run: `<package>.calibration.process_file(path)` in a
/// Python interpreter that has the packages installed (a venv, as an external algorithm's environment), or finds them
/// on `pythonPath`.
public struct MissionProcessing: Sendable {
    /// The Python interpreter.
    public var python: String
    /// Folders put first on `PYTHONPATH` (instrument packages not installed in the interpreter's environment).
    public var pythonPath: [String]
    /// Longest one `process_file` call may run before it is stopped and the file marked failed.
    public var timeout: Duration

    public init(python: String = "python3", pythonPath: [String] = [], timeout: Duration = .seconds(900)) {
        self.python = python
        self.pythonPath = pythonPath
        self.timeout = timeout
    }
}

/// What happened to one arriving file.
public enum MissionArrival: Sendable {
    /// Sorted into its instrument's area and cataloged; queued for processing.
    case sorted(MissionFileRecord)
    /// Kept aside in the rejected area, with the reason.
    case rejected(RejectedFile)
}

/// Something counted by the flow, for metrics: `received`, `rejected`, `processed`, `failed`, `produced`.
public struct MissionFlowEvent: Sendable {
    public var mission: String
    public var instrument: String
    public var level: String
    public var outcome: String
}

/// The SWxSOC flow (`swxsoc.md` §1, §4, §5) for the non-IMAP missions of a data center: files arrive in the
/// mission's incoming area (`<mission>/incoming/<name>`), are sorted by name into their instrument's area (the key
/// of ``SWxSOCFileName/key``) or kept aside under `rejected/<mission>/<YYYYMMDDTHHMMSS>-<name>` with the reason, and
/// are then processed level by level by the instrument's package: each output is stored, cataloged with the input as
/// its origin (lineage) and processed in turn. Statuses follow MetaTracker: `pending` on arrival, then `success`
/// (with the processing time) or `failed` (with the reason).
///
/// Unlike swxsoc's sorter, the move verifies the copy's SHA-256 before it deletes the incoming object, and a file
/// whose name is already stored is kept aside, never overwritten or dropped.
public final class MissionFlow: Service, Sendable {
    public let missions: MissionSet
    public let catalog: any MissionCatalog
    let store: any ObjectStore
    let processing: MissionProcessing?
    /// Scratch space for processing (one fresh folder per call).
    let scratch: URL
    let maximumSize: Int64
    let logger: Logger
    let onEvent: @Sendable (MissionFlowEvent) -> Void
    private let queue: AsyncStream<String>
    private let enqueue: AsyncStream<String>.Continuation

    public init(missions: MissionSet, catalog: any MissionCatalog, store: any ObjectStore, processing: MissionProcessing?,
                scratch: URL, maximumSize: Int64, logger: Logger = Logger(label: "sdc.missions"),
                onEvent: @escaping @Sendable (MissionFlowEvent) -> Void = { _ in }) {
        self.missions = missions
        self.catalog = catalog
        self.store = store
        self.processing = processing
        self.scratch = scratch
        self.maximumSize = maximumSize
        self.logger = logger
        self.onEvent = onEvent
        (queue, enqueue) = AsyncStream.makeStream(of: String.self)
    }

    /// Stores an arriving file in `mission`'s incoming area, then sorts it. Throws ``IngestError/alreadyExists(key:)``
    /// while another arrival of the same name is still in the incoming area.
    public func receive<Body: AsyncSequence & Sendable>(mission: MissionProfile, name: String, body: Body, expectedLength: Int64?)
        async throws -> MissionArrival where Body.Element == ByteBuffer {
        let incoming = try ObjectKey("\(mission.name)/incoming/\(name)")
        do {
            _ = try await store.put(incoming, body: body, expectedLength: expectedLength, maximumSize: maximumSize)
        } catch .alreadyExists {
            throw IngestError.alreadyExists(key: incoming.path)
        }
        return try await sort(incoming, mission: mission)
    }

    /// Sorts an object of the incoming area by its name (the sorting lambda).
    public func sort(_ incoming: ObjectKey, mission: MissionProfile) async throws -> MissionArrival {
        let name = incoming.basename
        let file: SWxSOCFileName
        do {
            guard case .swxsoc(let parsed) = try mission.parse(name) else {
                return try await reject(incoming, mission: mission, reason: "\(name) is not a \(mission.name) file name")
            }
            file = parsed
        } catch let error as NamingError {
            return try await reject(incoming, mission: mission, reason: error.message)
        }
        if try await catalog.record(forKey: file.key) != nil {
            return try await reject(incoming, mission: mission, reason: "a file named \(name) is already stored under \(file.key)")
        }
        let stored = try await move(incoming, to: ObjectKey(file.key))
        let record = MissionFileRecord(file: file, size: stored.size, sha256: stored.sha256, ingestionDate: .now)
        try await catalog.commit(record)
        logger.info("sorted", metadata: ["key": "\(file.key)", "mission": "\(mission.name)", "instrument": "\(file.instrument.name)"])
        onEvent(MissionFlowEvent(mission: mission.name, instrument: file.instrument.name, level: file.level, outcome: "received"))
        enqueue.yield(file.key)
        return .sorted(record)
    }

    /// Keeps an incoming object aside under `rejected/<mission>/<time>-<name>` and records why.
    private func reject(_ incoming: ObjectKey, mission: MissionProfile, reason: String) async throws -> MissionArrival {
        let now = UTCTime.now
        let stamp = now.iso8601.filter { $0.isNumber || $0 == "T" }
        let key = try ObjectKey("rejected/\(mission.name)/\(stamp)-\(incoming.basename)")
        let stored = try await move(incoming, to: key)
        let rejected = RejectedFile(key: key.path, name: incoming.basename, mission: mission.name, reason: reason, receivedAt: now,
                                    size: stored.size, sha256: stored.sha256)
        try await catalog.reject(rejected)
        logger.notice("rejected", metadata: ["key": "\(key.path)", "reason": "\(reason)"])
        onEvent(MissionFlowEvent(mission: mission.name, instrument: "unknown", level: "unknown", outcome: "rejected"))
        return .rejected(rejected)
    }

    /// Copies an object, checks the copy's checksum against the original's, then deletes the original.
    private func move(_ source: ObjectKey, to destination: ObjectKey) async throws -> StoredObject {
        let original = try await store.measure(source)
        let copy = try await store.put(destination, body: try await store.read(source, range: nil), expectedLength: original.size,
                                       maximumSize: maximumSize)
        guard copy.sha256 == original.sha256 else {
            throw StorageError.io("the copy of \(source.path) at \(destination.path) has SHA-256 \(copy.sha256), the original \(original.sha256)")
        }
        try await store.delete(source)
        return copy
    }

    /// Processes queued files one at a time until shutdown; at start, files left `pending` by an earlier run are queued.
    public func run() async throws {
        for mission in missions.missions where mission.grammar == .swxsoc {
            for (record, status) in try await catalog.files(matching: MissionFileQuery(mission: mission.name))
            where status.state == .pending && status.message == "received" {
                enqueue.yield(record.key)
            }
        }
        await withGracefulShutdownHandler {
            for await key in queue.cancelOnGracefulShutdown() {
                await process(key: key)
            }
        } onGracefulShutdown: { [enqueue] in
            enqueue.finish()
        }
    }

    /// Runs the instrument's package on one file and stores what it produces.
    func process(key: String) async {
        do {
            guard let record = try await catalog.record(forKey: key), let mission = missions.mission(named: record.file.mission) else { return }
            let file = record.file
            guard let processing else {
                try await catalog.setStatus(key: key, .pending, message: "no processing configured for \(mission.name)", processingSeconds: nil)
                return
            }
            if mission.level(after: file.level) == nil {
                try await catalog.setStatus(key: key, .success, message: "final level", processingSeconds: nil)
                return
            }
            let package = file.instrument.packageName(mission: mission.name)
            let folder = scratch.appendingPathComponent(UUID().uuidString)
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("work"), withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let input = folder.appendingPathComponent(file.name)
            _ = try await store.download(ObjectKey(key), to: input.path)
            let started = ContinuousClock.now
            let result = try await PackageCall(processing: processing, package: package).run(input: input, in: folder)
            let seconds = (ContinuousClock.now - started).seconds
            guard result.exitCode == 0, !result.outputs.isEmpty else {
                let reason = result.exitCode == 0 ? "Could Not Process \(file.name) Further: \(package).calibration.process_file returned no file"
                    : "\(package).calibration.process_file failed (exit \(result.exitCode)\(result.timedOut ? ", timed out" : "")): \(result.log.suffix(2000))"
                try await catalog.setStatus(key: key, .failed, message: reason, processingSeconds: seconds)
                onEvent(MissionFlowEvent(mission: mission.name, instrument: file.instrument.name, level: file.level, outcome: "failed"))
                logger.warning("processing failed", metadata: ["key": "\(key)", "reason": "\(reason)"])
                return
            }
            var produced: [String] = []
            for output in result.outputs {
                produced.append(try await storeOutput(output, from: record, mission: mission))
            }
            try await catalog.setStatus(key: key, .success, message: "produced \(produced.joined(separator: ", "))", processingSeconds: seconds)
            onEvent(MissionFlowEvent(mission: mission.name, instrument: file.instrument.name, level: file.level, outcome: "processed"))
        } catch {
            logger.error("processing \(key) failed: \(error)")
            try? await catalog.setStatus(key: key, .failed, message: "processing failed: \(error)", processingSeconds: nil)
        }
    }

    /// Stores and catalogs one output (origin: the input), and queues it for the next level.
    private func storeOutput(_ path: URL, from input: MissionFileRecord, mission: MissionProfile) async throws -> String {
        guard case .swxsoc(let file) = try mission.parse(path.lastPathComponent) else {
            throw NamingError(name: path.lastPathComponent, message: "\(path.lastPathComponent) is not a \(mission.name) file name")
        }
        let size = try FileManager.default.attributesOfItem(atPath: path.path)[.size] as? Int64
        let stored = try await store.put(ObjectKey(file.key), body: LocalFileChunks(path: path.path), expectedLength: size, maximumSize: maximumSize)
        try await catalog.commit(MissionFileRecord(file: file, size: stored.size, sha256: stored.sha256, ingestionDate: .now, origins: [input.key]))
        onEvent(MissionFlowEvent(mission: mission.name, instrument: file.instrument.name, level: file.level, outcome: "produced"))
        enqueue.yield(file.key)
        return file.key
    }
}

/// One `<package>.calibration.process_file(path)` call in a child Python process, in a fresh working folder.
struct PackageCall {
    let processing: MissionProcessing
    let package: String

    struct Result {
        var exitCode: Int32
        var timedOut: Bool
        var outputs: [URL]
        var log: String
    }

    /// The program: imports the package's calibration module, calls `process_file`, prints the output paths as JSON
    /// on a marked last line (`None` entries mean "nothing produced", as in swxsoc's processing lambda).
    static let program = """
        import importlib, json, pathlib, sys
        calibration = importlib.import_module(sys.argv[1] + ".calibration")
        outputs = calibration.process_file(pathlib.Path(sys.argv[2])) or []
        print("SDC-OUTPUTS " + json.dumps([str(pathlib.Path(p).resolve()) for p in outputs if p is not None]))
        """

    func run(input: URL, in folder: URL) async throws -> Result {
        let logURL = folder.appendingPathComponent("output.log")
        var environment = ProcessInfo.processInfo.environment
        let inherited = environment["PYTHONPATH"].map { [$0] } ?? []
        if !(processing.pythonPath + inherited).isEmpty { environment["PYTHONPATH"] = (processing.pythonPath + inherited).joined(separator: ":") }
        let (exitCode, timedOut) = try await LoggedProcess(
            arguments: [processing.python, "-c", Self.program, package, input.path], environment: environment,
            workingDirectory: folder.appendingPathComponent("work"), log: logURL, timeout: processing.timeout
        ).run()
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        var outputs: [URL] = []
        if let line = text.split(separator: "\n").last(where: { $0.hasPrefix("SDC-OUTPUTS ") }),
           case .array(let items)? = try? JSONValue(parsing: Array(line.dropFirst("SDC-OUTPUTS ".count).utf8)) {
            outputs = items.compactMap { if case .string(let path) = $0 { URL(fileURLWithPath: path) } else { nil } }
        }
        return Result(exitCode: exitCode, timedOut: timedOut, outputs: outputs, log: text)
    }
}

private extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
