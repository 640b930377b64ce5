import Logging
import NIOCore
import SDCCatalog
import SDCCDF
import SDCCore
import SDCIngest
import SDCPackets
import SDCStorage

/// What alerting does with newly ingested files, in every process that ingests files; ``listener()`` runs it off the
/// ingest path (an upload is answered without waiting for it):
/// - each new L1A file of an instrument with `limit` or `xtce_alarms` rules is read (CDF decoding on
///   ``ProcessingPool``) and its housekeeping parameters checked: a run of out-of-limit samples raises the rule's
///   condition for that parameter, a file without one clears it;
/// - each new Level 0 file of an instrument with a `latency` rule is recorded as awaiting its products.
///
/// Files ingested while the listener's service is stopping are not checked.
public struct AlertIngestChecks: Sendable {
    let rules: AlertRules
    let sink: any AlertSink
    let store: any AlertStore
    let objects: any ObjectStore
    let logger: Logger

    public init(rules: AlertRules, sink: any AlertSink, store: any AlertStore, objects: any ObjectStore,
                logger: Logger = Logger(label: "sdc.alerts")) {
        self.rules = rules
        self.sink = sink
        self.store = store
        self.objects = objects
        self.logger = logger
    }

    /// The ingest listener (and `Service`, to run in the process's group) that checks each file the rules concern.
    public func listener() -> QueuedIngestListener {
        QueuedIngestListener(accepts: concerns, handle: check)
    }

    /// Whether a file is one that the rules look at.
    @Sendable func concerns(_ record: CatalogRecord) -> Bool {
        guard let science = record.file.science, record.file.fileClass == .science else { return false }
        switch science.dataLevel {
        case .l0: return rules.awaitsProducts(of: science.instrument)
        case .l1a: return science.fileExtension == "cdf" && !(rules.limits(of: science.instrument).isEmpty && rules.alarms(of: science.instrument).isEmpty)
        default: return false
        }
    }

    /// Checks one file against the rules.
    @Sendable func check(_ record: CatalogRecord) async {
        guard let science = record.file.science, record.file.fileClass == .science else { return }
        if science.dataLevel == .l0 && rules.awaitsProducts(of: science.instrument) {
            do {
                try await store.expectProducts(of: AwaitedInput(name: record.file.name, instrument: science.instrument.rawValue,
                                                                 receivedAt: record.ingestionDate))
            } catch {
                logger.error("cannot record an awaited input", metadata: ["file": "\(record.file.name)", "error": "\(error)"])
            }
        }
        guard science.dataLevel == .l1a, science.fileExtension == "cdf" else { return }
        let limits = rules.limits(of: science.instrument)
        let alarms = rules.alarms(of: science.instrument)
        guard !limits.isEmpty || !alarms.isEmpty else { return }
        do {
            let bytes = try await readAll(record.key)
            let results = try await ProcessingPool.shared.run {
                try TelemetryCheck.evaluate(cdf: CDFReader(bytes: bytes, options: CDFReadOptions(verifyChecksum: false)), file: record.file.name,
                                            limits: limits, alarms: alarms)
            }
            for result in results {
                switch result {
                case .violated(let condition): await sink.raise(condition)
                case .clean(let rule, let subject): await sink.clear(rule: rule, subject: subject)
                }
            }
        } catch {
            logger.error("cannot check the telemetry of an L1A file", metadata: ["file": "\(record.file.name)", "error": "\(error)"])
        }
    }

    private func readAll(_ key: String) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in try await objects.read(try ObjectKey(key), range: nil) { bytes += chunk.readableBytesView }
        return bytes
    }
}

/// The checks of one L1A file against limit and XTCE alarm rules.
enum TelemetryCheck {
    /// What a check found for one rule and parameter.
    enum Outcome: Sendable, Equatable {
        case violated(AlertCondition)
        /// The parameter is in the file and within its limits.
        case clean(rule: String, subject: String)
    }

    /// Checks every rule whose parameter `cdf` holds (rules whose parameter it lacks say nothing).
    static func evaluate(cdf: CDFReader, file: String, limits: [(rule: AlertRule, limit: TelemetryLimit)],
                         alarms: [(rule: AlertRule, definition: PacketDefinition)]) throws -> [Outcome] {
        var outcomes: [Outcome] = []
        for (rule, limit) in limits {
            guard let values = try values(of: limit.parameter, in: cdf) else { continue }
            let subject = "\(limit.instrument.rawValue) \(limit.packet) \(limit.parameter)"
            let run = longestRun(values) { limit.comparison.holds($0, limit.limit) }
            if run.length >= limit.samples {
                outcomes.append(.violated(AlertCondition(
                    rule: rule.name, subject: subject, severity: rule.severity,
                    summary: "\(subject) \(limit.comparison.rawValue) \(limit.limit.plain) for \(run.length) consecutive samples "
                        + "(at least \(limit.samples); worst \(run.worst.plain)) in \(file)")))
            } else {
                outcomes.append(.clean(rule: rule.name, subject: subject))
            }
        }
        for (rule, definition) in alarms {
            for parameter in definition.parameters.values.sorted(by: { $0.name < $1.name }) {
                guard let alarm = parameter.alarm, let values = try values(of: parameter.name, in: cdf) else { continue }
                let subject = "\(rule.name) \(parameter.name)"
                var worst: (level: AlarmRanges.Level, value: Double, run: Int)?
                for level in AlarmRanges.Level.allCases where alarm.ranges[level] != nil {
                    let run = longestRun(values) { alarm.violatedLevel($0).map { $0 >= level } ?? false }
                    if run.length >= alarm.minViolations { worst = (level, run.worst, run.length) }
                }
                if let worst {
                    // distress, critical and severe ranges are critical alerts; watch and warning ones take the rule's severity.
                    let severity = worst.level >= .distress ? AlertSeverity.critical : rule.severity
                    outcomes.append(.violated(AlertCondition(
                        rule: rule.name, subject: subject, severity: severity,
                        summary: "\(parameter.name) outside its XTCE \(worst.level.rawValue) range for \(worst.run) consecutive samples "
                            + "(worst \(worst.value.plain)) in \(file)")))
                } else {
                    outcomes.append(.clean(rule: rule.name, subject: subject))
                }
            }
        }
        return outcomes
    }

    /// The values of the L1A variable of an XTCE parameter: the name in lower case, after its first `.` if it has one
    /// (imap-processing's naming); nil when the file has no such scalar numeric variable.
    static func values(of parameter: String, in cdf: CDFReader) throws -> [Double]? {
        let lowered = parameter.lowercased()
        let candidates = [lowered] + (lowered.firstIndex(of: ".").map { [String(lowered[lowered.index(after: $0)...])] } ?? [])
        guard let variable = cdf.variables.first(where: { candidates.contains($0.name.lowercased()) }), variable.dimensions.allSatisfy({ $0 == 1 })
        else { return nil }
        switch try cdf.values(of: variable) {
        case .int8(let v): return v.map(Double.init)
        case .int16(let v): return v.map(Double.init)
        case .int32(let v): return v.map(Double.init)
        case .int64(let v): return v.map(Double.init)
        case .uint8(let v): return v.map(Double.init)
        case .uint16(let v): return v.map(Double.init)
        case .uint32(let v): return v.map(Double.init)
        case .float(let v): return v.map(Double.init)
        case .double(let v): return v
        case .epoch16, .strings: return nil
        }
    }

    /// The longest run of consecutive values for which `violates` holds, and the value farthest from zero in it.
    static func longestRun(_ values: [Double], violates: (Double) -> Bool) -> (length: Int, worst: Double) {
        var best = (length: 0, worst: 0.0)
        var current = (length: 0, worst: 0.0)
        for value in values {
            if violates(value) {
                current = (current.length + 1, current.length == 0 || abs(value) > abs(current.worst) ? value : current.worst)
                if current.length > best.length { best = current }
            } else {
                current = (0, 0)
            }
        }
        return best
    }
}

extension Double {
    /// The number as people write it in messages: `252`, `40.5`, `-3` (no grouping, no trailing `.0`).
    var plain: String {
        self == rounded() && abs(self) < 1e15 ? String(Int64(self)) : "\(self)"
    }
}
