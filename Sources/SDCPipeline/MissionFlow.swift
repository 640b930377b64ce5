import Foundation
import Logging
import NIOCore
import NIOPosix
import SDCCatalog
import SDCCore
import SDCIngest
import SDCJobs
import SDCStorage
import ServiceLifecycle

/// How the instrument packages of SWxSOC-style missions are run: `<package>.calibration.process_file(path)` in the
/// environment of the installed algorithm the mission configuration names for the instrument (``algorithms``), else
/// in the Python interpreter `python` (which has the packages installed, or finds them on `pythonPath`).
public struct MissionProcessing: Sendable {
    /// The Python interpreter for instruments without an installed algorithm; nil: their files stay pending.
    public var python: String?
    /// Folders put first on `PYTHONPATH` for `python` (instrument packages not installed in its environment).
    public var pythonPath: [String]
    /// Longest one `process_file` call may run before it is stopped and the file marked failed.
    public var timeout: Duration
    /// The installed algorithms that run instruments' packages, each in its own environment.
    public var algorithms: MissionAlgorithms?

    public init(python: String? = "python3", pythonPath: [String] = [], timeout: Duration = .seconds(900), algorithms: MissionAlgorithms? = nil) {
        self.python = python
        self.pythonPath = pythonPath
        self.timeout = timeout
        self.algorithms = algorithms
    }
}

/// Instrument packages hosted as installed algorithms (`sdc algorithms install NAME SPEC`): per mission and instrument,
/// the algorithm whose content-addressed environment runs `process_file`, as a pipeline entry's `algorithm:` does.
public struct MissionAlgorithms: Sendable {
    /// Mission name -> instrument name -> algorithm (`NAME`: the newest installed version; `NAME==VERSION`: that one).
    public let references: [String: [String: AlgorithmReference]]
    let environments: AlgorithmEnvironments
    let store: any AlgorithmStore

    /// Reads the references of a missions configuration's `algorithms` fields; an error names the mission and instrument.
    public init(configuration: [String: [String: String]], environments: AlgorithmEnvironments, store: any AlgorithmStore) throws(MissionConfigurationError) {
        var references: [String: [String: AlgorithmReference]] = [:]
        for (mission, instruments) in configuration {
            for (instrument, text) in instruments {
                do {
                    references[mission, default: [:]][instrument] = try AlgorithmReference(parsing: text)
                } catch {
                    throw MissionConfigurationError(mission: mission, field: "algorithms", message: "instrument '\(instrument)': \(error)")
                }
            }
        }
        self.references = references
        self.environments = environments
        self.store = store
    }

    /// The algorithm that runs `instrument`'s package, if the configuration names one.
    public func reference(mission: String, instrument: String) -> AlgorithmReference? { references[mission]?[instrument] }

    /// The registered algorithm `reference` names and its environment on this machine (built from the registered
    /// spec the first time). Throws naming what to install when it is not registered.
    func environment(_ reference: AlgorithmReference, logger: Logger) async throws -> (InstalledAlgorithm, URL) {
        let installed: InstalledAlgorithm?
        if let version = reference.version {
            installed = try await store.algorithm(name: reference.name, version: version)
        } else {
            installed = try await store.newest(name: reference.name)
        }
        guard let installed else {
            throw AlgorithmEnvironmentError("the algorithm \(reference) is not installed: sdc algorithms install \(reference.name) SPEC")
        }
        let folder = try await environments.prepare(installed) { line in
            logger.debug("\(line)", metadata: ["algorithm": "\(installed.reference)"])
        }
        return (installed, folder)
    }
}

/// An S3 event named a mission's incoming area, but that mission is not hosted here.
public struct MissionNotHostedHere: Error, Sendable, Equatable {
    /// The mission the object's name begins with.
    public let mission: String
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
/// whose name is already stored with other bytes is kept aside, never overwritten or dropped (with the same bytes it
/// is already there: ``IngestError/alreadyExists(key:)``).
///
/// Each arrival first writes a note `<mission>/arrivals/<name>` naming its process (``ProcessIdentity``) and time, and
/// removes it once the file is sorted. At start-up, ``run()`` sorts what a stopped process left in the incoming area:
/// files whose note names a process of this host that has ended, is older than ``reservationLifetime``, or is missing;
/// another live process's arrival in flight is left alone (the rule of IMAP's upload reservations).
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
    /// Seconds after which another process's arrival still in the incoming area counts as abandoned (as an IMAP upload
    /// reservation's lifetime).
    public var reservationLifetime: Int64 { lifetime }
    private let lifetime: Int64
    /// With an S3 store: the time between two sweeps of the incoming areas (nil: only at start-up and on events).
    public let sweepInterval: Duration?
    private let queue: AsyncStream<String>
    private let enqueue: AsyncStream<String>.Continuation

    public init(missions: MissionSet, catalog: any MissionCatalog, store: any ObjectStore, processing: MissionProcessing?,
                scratch: URL, maximumSize: Int64, logger: Logger = Logger(label: "sdc.missions"),
                reservationLifetime: Int64 = 6 * 3600, sweepInterval: Duration? = nil,
                onEvent: @escaping @Sendable (MissionFlowEvent) -> Void = { _ in }) {
        self.lifetime = reservationLifetime
        self.sweepInterval = sweepInterval
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
    /// while another arrival of the same name is still in the incoming area, or when the same bytes are already stored.
    public func receive<Body: AsyncSequence & Sendable>(mission: MissionProfile, name: String, body: Body, expectedLength: Int64?)
        async throws -> MissionArrival where Body.Element == ByteBuffer {
        let incoming = try ObjectKey("\(mission.name)/incoming/\(name)")
        let note = try ObjectKey("\(mission.name)/arrivals/\(name)")
        guard try await claimArrival(note) else { throw IngestError.alreadyExists(key: incoming.path) }
        do {
            _ = try await store.put(incoming, body: body, expectedLength: expectedLength, maximumSize: maximumSize)
        } catch {
            try? await store.delete(note)
            if case .alreadyExists = error { throw IngestError.alreadyExists(key: incoming.path) }
            throw error
        }
        // A failed sort leaves the file and its note: this process's next start, or another's after the lifetime, sorts it.
        let arrival: MissionArrival
        do {
            arrival = try await sort(incoming, mission: mission)
        } catch let error as IngestError {
            // The same bytes are already stored: the incoming copy is gone.
            try await store.delete(note)
            throw error
        }
        try await store.delete(note)
        return arrival
    }

    /// Writes the arrival note, taking over one left by an abandoned arrival; false while another arrival is in flight.
    private func claimArrival(_ note: ObjectKey) async throws -> Bool {
        if try await writeNote(note) { return true }
        guard let (owner, since) = try await readNote(note), owner?.hasEndedOnThisHost == true || UTCTime.now.secondsSince1970 - since >= lifetime else {
            return false
        }
        // A second process taking it over at the same time then finds the note written and gives up.
        try await store.delete(note)
        return try await writeNote(note)
    }

    /// Writes the arrival note `<host>/<pid> <seconds since 1970>`; false when one exists (an arrival in flight).
    private func writeNote(_ note: ObjectKey) async throws -> Bool {
        let body = ObjectBody(ByteBuffer(string: "\(ProcessIdentity.current) \(UTCTime.now.secondsSince1970)\n"))
        do {
            _ = try await store.put(note, body: body, expectedLength: body.length, maximumSize: maximumSize)
            return true
        } catch .alreadyExists {
            return false
        }
    }

    /// Sorts an object of the incoming area by its name (the sorting lambda): copied to its instrument's area, cataloged,
    /// then deleted from the incoming area, so that a stop at any point leaves it to be sorted again at the next start.
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
        if let existing = try await catalog.record(forKey: file.key) {
            let arrived = try await store.measure(incoming)
            guard arrived.sha256 != existing.sha256 else {
                try await store.delete(incoming)
                throw IngestError.alreadyExists(key: file.key)
            }
            return try await reject(incoming, mission: mission, reason: "a file named \(name) is already stored under \(file.key)")
        }
        let stored = try await copy(incoming, to: ObjectKey(file.key))
        let record = MissionFileRecord(file: file, size: stored.size, sha256: stored.sha256, ingestionDate: .now)
        try await catalog.commit(record)
        try await store.delete(incoming)
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
        let stored = try await copy(incoming, to: key)
        let rejected = RejectedFile(key: key.path, name: incoming.basename, mission: mission.name, reason: reason, receivedAt: now,
                                    size: stored.size, sha256: stored.sha256)
        try await catalog.reject(rejected)
        try await store.delete(incoming)
        logger.notice("rejected", metadata: ["key": "\(key.path)", "reason": "\(reason)"])
        onEvent(MissionFlowEvent(mission: mission.name, instrument: "unknown", level: "unknown", outcome: "rejected"))
        return .rejected(rejected)
    }

    /// Copies an object and checks the copy's checksum against the original's. A destination already holding the same
    /// bytes (copied before a stop) is kept.
    private func copy(_ source: ObjectKey, to destination: ObjectKey) async throws -> StoredObject {
        let original = try await store.measure(source)
        let copy: StoredObject
        do {
            copy = try await store.put(destination, body: try await store.read(source, range: nil), expectedLength: original.size,
                                       maximumSize: maximumSize)
        } catch .alreadyExists {
            copy = try await store.measure(destination)
        }
        guard copy.sha256 == original.sha256 else {
            throw StorageError.io("the copy of \(source.path) at \(destination.path) has SHA-256 \(copy.sha256), the original \(original.sha256)")
        }
        return copy
    }

    /// What sorting one object of an incoming area found.
    public enum IncomingOutcome: Sendable {
        /// Sorted into its instrument's area (and queued), or kept aside with the reason.
        case arrived(MissionArrival)
        /// The same bytes were already stored under this key: the incoming copy was deleted.
        case alreadyStored(key: String)
        /// Another live process's arrival of this name is in flight (its note is recent): left to it.
        case inFlight
        /// No longer in the incoming area (sorted meanwhile by another process).
        case gone

        /// A word for logs: `sorted`, `rejected`, `already_stored`, `in_flight` or `gone`.
        public var label: String {
            switch self {
            case .arrived(.sorted): "sorted"
            case .arrived(.rejected): "rejected"
            case .alreadyStored: "already_stored"
            case .inFlight: "in_flight"
            case .gone: "gone"
            }
        }
    }

    /// Sorts `<mission>/incoming/<name>` now if no other live process is receiving it (the rule of the arrival notes:
    /// an object with no note, or whose note names an ended process of this host or is older than
    /// ``reservationLifetime``, is sortable). Used for files left by a stop, found by a sweep, or announced by an S3 event.
    public func sortIncoming(name: String, mission: MissionProfile) async throws -> IncomingOutcome {
        let incoming = try ObjectKey("\(mission.name)/incoming/\(name)")
        let note = try ObjectKey("\(mission.name)/arrivals/\(name)")
        guard try await claimArrival(note) else { return .inFlight }
        let outcome: IncomingOutcome
        do {
            outcome = .arrived(try await sort(incoming, mission: mission))
        } catch IngestError.alreadyExists(let key) {
            outcome = .alreadyStored(key: key)
        } catch StorageError.notFound {
            outcome = .gone
        } catch {
            try? await store.delete(note)
            throw error
        }
        try await store.delete(note)
        return outcome
    }

    /// Sorts an object announced by an S3 event notification, named relative to the store's prefix. Returns nil when
    /// the name is not `<mission>/incoming/<name>` of a mission other than IMAP (the caller's to decide); the mission
    /// when it is not hosted here (ignored, logged with its name); else what ``sortIncoming(name:mission:)`` found.
    public func sortAnnounced(_ objectName: String) async throws -> Result<IncomingOutcome, MissionNotHostedHere>? {
        let parts = objectName.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1] == "incoming", !parts[2].isEmpty, parts[0] != "imap" else { return nil }
        let missionName = String(parts[0])
        guard let mission = missions.mission(named: missionName), mission.grammar == .swxsoc else {
            logger.notice("ignored an S3 event for a mission not hosted here", metadata: ["mission": "\(missionName)", "object": "\(objectName)"])
            return .failure(MissionNotHostedHere(mission: missionName))
        }
        let outcome = try await sortIncoming(name: String(parts[2]), mission: mission)
        logger.info("sorted an object announced by an S3 event", metadata: ["object": "\(objectName)", "outcome": "\(outcome.label)"])
        return .success(outcome)
    }

    /// Sorts the files a stopped process left in `mission`'s incoming area, or that arrived there without passing
    /// through this server (see the type's description). Returns the names it sorted or found already stored.
    @discardableResult
    public func recoverIncoming(mission: MissionProfile) async throws -> [String] {
        var recovered: [String] = []
        for name in try await incomingNames(mission: mission.name) {
            switch try await sortIncoming(name: name, mission: mission) {
            case .arrived(.sorted(let record)):
                logger.notice("sorted a file found in the incoming area", metadata: ["key": "\(record.key)"])
                recovered.append(name)
            case .arrived(.rejected(let file)):
                logger.notice("kept aside a file found in the incoming area", metadata: ["key": "\(file.key)"])
                recovered.append(name)
            case .alreadyStored(let key):
                logger.notice("a file found in the incoming area is already stored with the same bytes", metadata: ["key": "\(key)"])
                recovered.append(name)
            case .inFlight, .gone:
                break
            }
        }
        return recovered
    }

    /// The note's process (nil when it names none) and time; nil when there is no note.
    private func readNote(_ note: ObjectKey) async throws -> (ProcessIdentity?, Int64)? {
        guard try await store.size(of: note) != nil else { return nil }
        var text = ""
        for try await chunk in try await store.read(note, range: nil) { text += String(buffer: chunk) }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return (parts.first.flatMap { ProcessIdentity(String($0)) }, parts.dropFirst().first.flatMap { Int64($0) } ?? 0)
    }

    /// The names in `<mission>/incoming/`: listed from an S3 bucket, or from the filesystem store's folder.
    private func incomingNames(mission: String) async throws -> [String] {
        let prefix = "\(mission)/incoming/"
        if let bucket = store as? any BucketListing {
            var names: [String] = []
            var token: String?
            repeat {
                let page = try await bucket.listObjects(under: prefix, continuationToken: token, pageSize: 1000)
                names += page.objects.map { String($0.name.dropFirst(prefix.count)) }.filter { !$0.isEmpty && !$0.contains("/") }
                token = page.continuationToken
            } while token != nil
            return names
        }
        guard let files = store as? FileSystemObjectStore else {
            logger.warning("the object store cannot list the incoming area: files left there by a stop are not sorted", metadata: ["mission": "\(mission)"])
            return []
        }
        let folder = files.root + "/" + prefix
        return try await NIOThreadPool.singleton.runIfActive {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { return [] }
            return try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted()
        }
    }

    /// Processes queued files one at a time until shutdown; at start, files left `pending` by an earlier run are queued,
    /// then the files left in the incoming areas are sorted (and queued); with a ``sweepInterval`` and an S3 store, the
    /// incoming areas are listed and sorted again every interval.
    public func run() async throws {
        let hosted = missions.missions.filter { $0.grammar == .swxsoc }
        for mission in hosted {
            for (record, status) in try await catalog.files(matching: MissionFileQuery(mission: mission.name, state: .pending))
            where isProcessable(status) {
                enqueue.yield(record.key)
            }
        }
        for mission in hosted {
            do {
                try await recoverIncoming(mission: mission)
            } catch {
                logger.error("sorting the files left in the incoming area failed", metadata: ["mission": "\(mission.name)", "error": "\(error)"])
            }
        }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                if let sweepInterval, store is any BucketListing {
                    group.addTask { await self.sweep(hosted, every: sweepInterval) }
                }
                for await key in queue.cancelOnGracefulShutdown() {
                    await process(key: key)
                }
                group.cancelAll()
            }
        } onGracefulShutdown: { [enqueue] in
            enqueue.finish()
        }
    }

    /// Sorts what is in the incoming areas of `hosted` every `interval` (objects put straight into the bucket whose
    /// event notification was lost or never configured), until cancelled.
    private func sweep(_ hosted: [MissionProfile], every interval: Duration) async {
        while true {
            do { try await Task.sleep(for: interval) } catch { return }
            for mission in hosted {
                do {
                    try await recoverIncoming(mission: mission)
                } catch {
                    if Task.isCancelled { return }
                    logger.error("sweeping the incoming area failed; retrying at the next pass", metadata: ["mission": "\(mission.name)", "error": "\(error)"])
                }
            }
        }
    }

    /// Whether a file is waiting to be processed: `pending` as it arrived, or claimed by a process that stopped before
    /// it finished (a process of this host that has ended, or a claim older than ``reservationLifetime``). A claim of a
    /// live process (another replica sharing the catalog) is left to it.
    func isProcessable(_ status: MissionFileStatus) -> Bool {
        guard status.state == .pending else { return false }
        if status.message == "received" { return true }
        guard let claimant = status.claimant else { return false }
        return claimant.hasEndedOnThisHost || status.lastTime.secondsSince1970 < UTCTime.now.secondsSince1970 - lifetime
    }

    /// Runs the instrument's package on one file and stores what it produces, once it has claimed the file: with
    /// several processes on one catalog, each file is processed by one of them.
    func process(key: String) async {
        do {
            guard let status = try await catalog.status(forKey: key), isProcessable(status),
                  try await catalog.claim(key: key, owner: .current, expecting: status.message) else { return }
            guard let record = try await catalog.record(forKey: key), let mission = missions.mission(named: record.file.mission) else { return }
            let file = record.file
            let reference = processing?.algorithms?.reference(mission: mission.name, instrument: file.instrument.name)
            guard let processing, reference != nil || processing.python != nil else {
                try await catalog.setStatus(key: key, .pending, message: "no processing configured for \(mission.name) \(file.instrument.name)", processingSeconds: nil)
                return
            }
            if mission.level(after: file.level) == nil {
                try await catalog.setStatus(key: key, .success, message: "final level", processingSeconds: nil)
                return
            }
            // The interpreter: the installed algorithm's environment (recorded with the outputs), else `python`.
            var call = PackageCall(python: processing.python ?? "python3", pythonPath: processing.pythonPath, timeout: processing.timeout,
                                   package: file.instrument.packageName(mission: mission.name))
            var algorithm: InstalledAlgorithm?
            if let reference, let algorithms = processing.algorithms {
                let (installed, folder) = try await algorithms.environment(reference, logger: logger)
                call.useEnvironment(folder)
                algorithm = installed
            }
            let package = call.package
            let folder = scratch.appendingPathComponent(UUID().uuidString)
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("work"), withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let input = folder.appendingPathComponent(file.name)
            _ = try await store.download(ObjectKey(key), to: input.path)
            let started = ContinuousClock.now
            let result = try await call.run(input: input, in: folder)
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
            let by = algorithm.map { " by \($0.reference) (\($0.digest))" } ?? ""
            try await catalog.setStatus(key: key, .success, message: "produced \(produced.joined(separator: ", "))\(by)", processingSeconds: seconds)
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
    var python: String
    var pythonPath: [String]
    let timeout: Duration
    let package: String
    /// Variables set for the call (an algorithm environment's `PATH` and `VIRTUAL_ENV`).
    var variables: [String: String] = [:]

    /// Runs in an installed algorithm's environment: its interpreter, its `bin/` first on `PATH`, no extra package folders.
    mutating func useEnvironment(_ folder: URL) {
        let bin = folder.appendingPathComponent("bin")
        python = bin.appendingPathComponent("python").path
        pythonPath = []
        variables["PATH"] = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        variables["VIRTUAL_ENV"] = folder.path
    }

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
        var environment = ProcessInfo.processInfo.environment.merging(variables) { $1 }
        let inherited = environment["PYTHONPATH"].map { [$0] } ?? []
        if !(pythonPath + inherited).isEmpty { environment["PYTHONPATH"] = (pythonPath + inherited).joined(separator: ":") }
        let (exitCode, timedOut) = try await LoggedProcess(
            arguments: [python, "-c", Self.program, package, input.path], environment: environment,
            workingDirectory: folder.appendingPathComponent("work"), log: logURL, timeout: timeout
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
