import ArgumentParser
import Foundation
import Logging
import Prometheus
import SDCAssembly
import SDCCatalog
import SDCCore
import SDCIngest
import SDCJobs
import SDCPipeline
import SDCPortal
import SDCServer
import SDCStorage
import ServiceLifecycle

/// `sdc serve` options choosing the missions hosted beside (or instead of) IMAP.
struct MissionServeOptions: ParsableArguments {
    @Option(help: "Comma-separated missions to host: imap (the default), hermes, padre, or missions of --missions-config.")
    var missions: String?

    @Option(help: "A missions configuration file (JSON: {\"missions\": [\"imap\", \"hermes\", {...}]}); its missions are hosted unless --missions chooses; {\"name\": \"hermes\", \"algorithms\": {\"eea\": \"hermes-eea==0.1.0\"}} runs an instrument's package in an installed algorithm's environment.")
    var missionsConfig: String?

    @Option(help: "The Python interpreter that runs the instrument packages of SWxSOC missions (<package>.calibration.process_file) that no installed algorithm runs; none: their files stay pending.")
    var missionPython: String?

    @Option(help: "A folder put on PYTHONPATH for the instrument packages (repeatable).")
    var missionPythonpath: [String] = []

    /// The hosted missions; configuration errors name the mission and the field.
    func missionSet() throws -> MissionSet {
        do {
            return try MissionSet.resolve(names: missions.map { $0.split(separator: ",").map(String.init) },
                                          configuration: try loadMissionConfiguration(missionsConfig))
        } catch let error as MissionConfigurationError {
            throw ValidationError(error.description)
        }
    }

    /// The installed algorithms the configuration file names for the instruments of the hosted `missions`; nil when none.
    func missionAlgorithms(for missions: MissionSet, environments: AlgorithmEnvironments, store: any AlgorithmStore) throws -> MissionAlgorithms? {
        let configured = try loadMissionConfiguration(missionsConfig)?.algorithms.filter { missions.mission(named: $0.key) != nil } ?? [:]
        guard !configured.isEmpty else { return nil }
        do {
            return try MissionAlgorithms(configuration: configured, environments: environments, store: store)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// Reads a missions configuration file, if one is given.
func loadMissionConfiguration(_ path: String?) throws -> MissionConfiguration? {
    guard let path else { return nil }
    let bytes: [UInt8]
    do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
        throw ValidationError("cannot read the missions configuration \(path): \(error.localizedDescription)")
    }
    do { return try MissionConfiguration(json: bytes) } catch { throw ValidationError("\(path): \(error)") }
}

extension ServeCommand {
    /// The missions' routes, the SWxSOC flow and what the portal shows of the missions, when missions other than IMAP
    /// are hosted; nothing otherwise, so that an IMAP-only data center serves exactly what it always did. Counts
    /// arrivals, rejections and processing outcomes in `sdc_mission_files_total{mission, instrument, level, outcome}`.
    /// With an S3 store, the flow sweeps the incoming areas every `--reconcile-seconds`, and `objects` sorts the objects
    /// that S3 event notifications announce there (see ``S3EventRoutes``).
    func missionFlow(_ dataCenter: DataCenter, metrics: ServerMetrics, logger: Logger) async throws
        -> (routes: [any ServerExtension], services: [ServiceGroupConfiguration.ServiceConfiguration], portal: PortalMissions?,
            objects: S3EventRoutes.ObjectHandler?) {
        let missions = try missionOptions.missionSet()
        guard missions.missions.contains(where: { $0.grammar == .swxsoc }) else { return ([], [], nil, nil) }
        let catalog = try await dataCenter.missionCatalog(missions: missions)
        // Packages run in a scratch folder of their own: relative paths are made absolute here, against the current folder.
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
        let python = missionOptions.missionPython.map { $0.contains("/") ? absolute($0) : $0 }
        let algorithms = try missionOptions.missionAlgorithms(
            for: missions, environments: pipelineOptions.algorithmEnvironments(.inDataCenter(root: dataCenter.root)), store: dataCenter.algorithms)
        let processing = python == nil && algorithms == nil ? nil
            : MissionProcessing(python: python, pythonPath: missionOptions.missionPythonpath.map(absolute), algorithms: algorithms)
        let flow = MissionFlow(missions: missions, catalog: catalog, store: dataCenter.store, processing: processing,
                               scratch: dataCenter.root.appendingPathComponent("missions-work"), maximumSize: maxUploadSize,
                               logger: Logger(label: "sdc.missions"),
                               sweepInterval: dataCenter.bucket == nil ? nil : .seconds(reconcileSeconds)) { event in
            let descriptor = MetricNameDescriptor(namespace: "sdc", subsystem: "mission", metricName: "files", unitName: "total",
                                                  helpText: "Files of SWxSOC-style missions by what the flow did with them.")
            metrics.registry.makeCounter(descriptor: descriptor,
                                         labels: metrics.processLabels([("mission", event.mission), ("instrument", event.instrument),
                                                                        ("level", event.level), ("outcome", event.outcome)])).increment()
        }
        let store = dataCenter.store
        let routes = MissionRoutes(missions: missions, catalog: catalog, intake: FlowIntake(flow: flow), keys: dataCenter.catalog) { key in
            let objectKey = try ObjectKey(key)
            guard try await store.size(of: objectKey) != nil else { return nil }
            return try await store.read(objectKey, range: nil)
        }
        logger.info("missions", metadata: ["hosted": "\(missions.names.joined(separator: ","))",
                                           "processing": "\(processing?.python ?? "off")",
                                           "algorithms": "\(algorithms?.references.mapValues { $0.mapValues(\.description) } ?? [:])"])
        return ([routes], [.init(service: flow)], PortalMissions(missions: missions, catalog: catalog), { name in
            try await flow.sortAnnounced(name).map(Self.bucketOutcome(name))
        })
    }

    /// An S3 event's object in a mission's incoming area as the event endpoint reports it.
    static func bucketOutcome(_ name: String) -> (Result<MissionFlow.IncomingOutcome, MissionNotHostedHere>) -> BucketIngest.Outcome {
        { result in
            switch result {
            case .failure: .ignored(name)
            case .success(.arrived(.sorted)): .ingested(name)
            case .success(.arrived(.rejected(let file))): .rejected(name, reason: file.reason)
            case .success(.alreadyStored): .alreadyCataloged(name)
            case .success(.inFlight): .inFlight(name)
            case .success(.gone): .gone(name)
            }
        }
    }
}

/// The flow as the routes' intake.
struct FlowIntake: MissionIntake {
    let flow: MissionFlow

    func receive(mission: MissionProfile, name: String, body: ObjectBody, expectedLength: Int64?) async throws
        -> Result<MissionFileRecord, RejectedFile> {
        do {
            switch try await flow.receive(mission: mission, name: name, body: body, expectedLength: expectedLength) {
            case .sorted(let record): return .success(record)
            case .rejected(let file): return .failure(file)
            }
        } catch let error as IngestError {
            guard case .alreadyExists(let key) = error else { throw error }
            throw IngestAlreadyExists(key: key)
        }
    }
}
