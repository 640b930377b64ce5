import Foundation
import SDCCore
import SDCPackets
import Yams

/// A rules file that cannot be used: where (file and line) and why.
public struct AlertRulesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file (or `<rules>` for text).
    public let source: String
    /// 1-based line; nil when the problem is the whole file.
    public let line: Int?
    public let message: String

    public var description: String { line.map { "\(source):\($0): \(message)" } ?? "\(source): \(message)" }
}

/// Where alerts are sent: a URL that takes a JSON `POST`.
public struct Webhook: Sendable, Hashable {
    /// `slack`: Slack's incoming-webhook message (`text` and a coloured attachment); `json`: the alert itself.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        case slack
        case json
    }

    public var url: String
    public var format: Format
    /// Attempts after the first when the receiver does not answer 2xx.
    public var retries: Int
    /// The wait before the first retry (doubling after each).
    public var backoff: Duration

    public init(url: String, format: Format, retries: Int = 5, backoff: Duration = .seconds(1)) {
        self.url = url
        self.format = format
        self.retries = retries
        self.backoff = backoff
    }
}

/// `INSTRUMENT PACKET PARAMETER OP LIMIT [for N samples]`: a housekeeping parameter out of limits in N consecutive
/// samples of one L1A file.
public struct TelemetryLimit: Sendable, Hashable {
    /// The comparison that, when it holds, is a violation.
    public enum Comparison: String, Sendable, Hashable, CaseIterable {
        case greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<=", equal = "==", notEqual = "!="

        public func holds(_ value: Double, _ limit: Double) -> Bool {
            switch self {
            case .greater: value > limit
            case .greaterOrEqual: value >= limit
            case .less: value < limit
            case .lessOrEqual: value <= limit
            case .equal: value == limit
            case .notEqual: value != limit
            }
        }
    }

    public var instrument: Instrument
    /// The packet (XTCE container) the parameter comes in, e.g. `SWP_HK`.
    public var packet: String
    /// The XTCE parameter name; its L1A variable is the name in lower case (after the first `.`, if any).
    public var parameter: String
    public var comparison: Comparison
    public var limit: Double
    public var samples: Int

    /// Parses the expression; nil with the reason when it is malformed.
    static func parse(_ text: String) -> Result<TelemetryLimit, LimitSyntaxError> {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard words.count == 5 || (words.count == 8 && words[5] == "for" && ["samples", "sample"].contains(words[7])) else {
            return .failure(LimitSyntaxError("'\(text)' is not 'INSTRUMENT PACKET PARAMETER OP LIMIT [for N samples]'"))
        }
        guard let instrument = Instrument(rawValue: words[0]) else { return .failure(LimitSyntaxError("'\(words[0])' is not an instrument")) }
        guard let comparison = Comparison(rawValue: words[3]) else {
            return .failure(LimitSyntaxError("'\(words[3])' is not one of \(Comparison.allCases.map(\.rawValue).joined(separator: " "))"))
        }
        guard let limit = Double(words[4]), limit.isFinite else { return .failure(LimitSyntaxError("'\(words[4])' is not a number")) }
        var samples = 1
        if words.count == 8 {
            guard let count = Int(words[6]), count >= 1 else { return .failure(LimitSyntaxError("'\(words[6])' is not a positive number of samples")) }
            samples = count
        }
        return .success(TelemetryLimit(instrument: instrument, packet: words[1], parameter: words[2], comparison: comparison, limit: limit,
                                       samples: samples))
    }
}

/// Why a telemetry-limit expression is malformed.
struct LimitSyntaxError: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// One rule of the rules file.
public struct AlertRule: Sendable {
    /// What the rule watches.
    public enum Kind: Sendable {
        /// A housekeeping parameter out of limits, checked in each new L1A file.
        case limit(TelemetryLimit)
        /// The static alarm ranges of the XTCE definition, checked in each new L1A file of the instrument.
        case xtceAlarms(instrument: Instrument, definition: PacketDefinition)
        /// Each failed job (until it is retried).
        case jobFailed
        /// A product and day whose jobs failed at least `attempts` attempts in all, with no success since.
        case jobFailingRepeatedly(attempts: Int)
        /// A Level 0 file of `instrument` whose products at `levels` are not all available `within` after it arrived.
        case latency(instrument: Instrument, levels: [DataLevel], within: Int64)
        /// Jobs due to run have waited longer than `seconds` for a worker.
        case queueStalled(seconds: Int64)
        /// A running job whose worker stopped renewing its lease.
        case workerLost
        /// The filesystem holding `path` is fuller than `percent`.
        case storage(path: String, percent: Double)

        /// The `type` of the rule in the rules file.
        public var typeName: String {
            switch self {
            case .limit: "limit"
            case .xtceAlarms: "xtce_alarms"
            case .jobFailed: "job_failed"
            case .jobFailingRepeatedly: "job_failing_repeatedly"
            case .latency: "latency"
            case .queueStalled: "queue_stalled"
            case .workerLost: "worker_lost"
            case .storage: "storage"
            }
        }
    }

    public var name: String
    public var severity: AlertSeverity
    public var kind: Kind
    /// The line of the rule in its file.
    public var line: Int

    public init(name: String, severity: AlertSeverity, kind: Kind, line: Int = 0) {
        self.name = name
        self.severity = severity
        self.kind = kind
        self.line = line
    }
}

/// The rules file of `sdc serve --alerts` (YAML), checked entirely at start-up: every error names its line.
///
/// ```yaml
/// evaluate_every: 60s          # periodic checks (jobs, queue, latency, storage); default 60s
/// latency_requirement: 24h     # the default of latency rules and of the latency metrics
/// webhooks:
///   - {url: "https://hooks.slack.com/services/T/B/X", format: slack}
///   - {url: "https://ops.example.org/alerts", format: json, retries: 5, backoff: 2s}
/// rules:
///   - {name: swapi-hk-temperature, type: limit, severity: warning, when: "swapi SWP_HK SWP_HK.FPGA_T > 40 for 3 samples"}
///   - {name: swapi-alarms, type: xtce_alarms, instrument: swapi, definition: swapi_packet_definition.xml}
///   - {name: failed-jobs, type: job_failed, severity: warning}
///   - {name: failing-again, type: job_failing_repeatedly, severity: critical, attempts: 3}
///   - {name: swapi-late, type: latency, severity: critical, instrument: swapi, levels: [l1a], within: 24h}
///   - {name: queue, type: queue_stalled, severity: critical, for: 30m}
///   - {name: workers, type: worker_lost, severity: warning}
///   - {name: disk, type: storage, severity: warning, path: /var/lib/sdc, above: 90%}
/// ```
public struct AlertRules: Sendable {
    public var evaluationInterval: Duration
    /// Seconds; IMAP's requirement is 24 hours.
    public var latencyRequirement: Int64
    public var webhooks: [Webhook]
    public var rules: [AlertRule]

    /// Rules set in code; the default (no rules, no webhooks) only records product latencies.
    public init(evaluationInterval: Duration = .seconds(60), latencyRequirement: Int64 = 86_400, webhooks: [Webhook] = [],
                rules: [AlertRule] = []) {
        self.evaluationInterval = evaluationInterval
        self.latencyRequirement = latencyRequirement
        self.webhooks = webhooks
        self.rules = rules
    }

    /// Reads and checks the rules file at `url` (paths in it are relative to its folder).
    public init(contentsOf url: URL) throws(AlertRulesError) {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw AlertRulesError(source: url.path, line: nil, message: "cannot be read: \(error.localizedDescription)")
        }
        try self.init(yaml: text, source: url.path, folder: url.deletingLastPathComponent())
    }

    /// Checks `yaml`; `source` names it in errors and `folder` resolves relative paths.
    public init(yaml: String, source: String = "<rules>", folder: URL = URL(fileURLWithPath: ".")) throws(AlertRulesError) {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else { throw AlertRulesError(source: source, line: nil, message: "the file is empty") }
            root = node
        } catch let error as AlertRulesError {
            throw error
        } catch let error as YamlError {
            throw AlertRulesError(source: source, line: Self.line(of: error), message: "is not YAML: \(Self.problem(of: error))")
        } catch {
            throw AlertRulesError(source: source, line: nil, message: "is not YAML: \(error)")
        }
        let reader = RulesReader(source: source, folder: folder)
        let top = try reader.mapping(root, allowed: ["evaluate_every", "latency_requirement", "webhooks", "rules"], what: "the rules file")
        evaluationInterval = .seconds(try top["evaluate_every"].flatMap(reader.seconds) ?? 60)
        latencyRequirement = try top["latency_requirement"].flatMap(reader.seconds) ?? 86_400
        webhooks = []
        if let hooks = top["webhooks"] {
            for node in try reader.sequence(hooks, what: "webhooks") { webhooks.append(try reader.webhook(node)) }
        }
        guard let ruleNodes = top["rules"] else { throw reader.error(root, "has no 'rules'") }
        rules = []
        var names: [String: Int] = [:]
        for node in try reader.sequence(ruleNodes, what: "rules") {
            let rule = try reader.rule(node, latencyRequirement: latencyRequirement)
            if let first = names[rule.name] { throw reader.error(node, "the rule name '\(rule.name)' is already used on line \(first)") }
            names[rule.name] = rule.line
            rules.append(rule)
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _), .composer(let context, let problem, _, _):
            (context.map { "\($0.text) " } ?? "") + problem
        default: "\(error)"
        }
    }

    /// The limit rules of `instrument`.
    public func limits(of instrument: Instrument) -> [(rule: AlertRule, limit: TelemetryLimit)] {
        rules.compactMap { rule in
            if case .limit(let limit) = rule.kind, limit.instrument == instrument { return (rule, limit) }
            return nil
        }
    }

    /// The XTCE alarm rules of `instrument`.
    public func alarms(of instrument: Instrument) -> [(rule: AlertRule, definition: PacketDefinition)] {
        rules.compactMap { rule in
            if case .xtceAlarms(let ruleInstrument, let definition) = rule.kind, ruleInstrument == instrument { return (rule, definition) }
            return nil
        }
    }

    /// Whether a latency rule awaits the products of `instrument`'s Level 0 files.
    public func awaitsProducts(of instrument: Instrument) -> Bool {
        rules.contains { rule in
            if case .latency(let ruleInstrument, _, _) = rule.kind { return ruleInstrument == instrument }
            return false
        }
    }
}

/// Reads the nodes of a rules file, with errors naming their line.
private struct RulesReader {
    let source: String
    let folder: URL

    func error(_ node: Node, _ message: String) -> AlertRulesError {
        AlertRulesError(source: source, line: node.mark?.line, message: message)
    }

    func mapping(_ node: Node, allowed: Set<String>, what: String) throws(AlertRulesError) -> [String: Node] {
        guard let mapping = node.mapping else { throw error(node, "\(what) must be a mapping of keys to values") }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw error(key, "a key of \(what) must be text") }
            guard allowed.contains(name) else {
                throw error(key, "'\(name)' is not a key of \(what) (expected one of: \(allowed.sorted().joined(separator: ", ")))")
            }
            result[name] = value
        }
        return result
    }

    func sequence(_ node: Node, what: String) throws(AlertRulesError) -> [Node] {
        guard let sequence = node.sequence else { throw error(node, "'\(what)' must be a list") }
        return Array(sequence)
    }

    func text(_ node: Node, _ key: String) throws(AlertRulesError) -> String {
        guard let value = node.scalar?.string, !value.isEmpty else { throw error(node, "'\(key)' must be non-empty text") }
        return value
    }

    func required(_ fields: [String: Node], _ key: String, in node: Node, what: String) throws(AlertRulesError) -> Node {
        guard let value = fields[key] else { throw error(node, "\(what) has no '\(key)'") }
        return value
    }

    /// `90`, `30s`, `10m`, `24h`, `2d`.
    func seconds(_ node: Node) throws(AlertRulesError) -> Int64 {
        let text = node.scalar?.string.trimmingCharacters(in: .whitespaces) ?? ""
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var number = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let scale = units[last] {
            number = text.dropLast()
            unit = scale
        }
        guard let value = Int64(number), value > 0, value <= 366 * 86_400 / unit else {
            throw error(node, "'\(text)' is not a duration (a positive number with s, m, h or d, at most a year)")
        }
        return value * unit
    }

    func integer(_ node: Node, _ key: String, in range: ClosedRange<Int>) throws(AlertRulesError) -> Int {
        guard let value = node.scalar.flatMap({ Int($0.string) }), range.contains(value) else {
            throw error(node, "'\(key)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func instrument(_ node: Node) throws(AlertRulesError) -> Instrument {
        let name = try text(node, "instrument")
        guard let instrument = Instrument(rawValue: name) else {
            throw error(node, "'\(name)' is not an instrument (one of: \(Instrument.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return instrument
    }

    func webhook(_ node: Node) throws(AlertRulesError) -> Webhook {
        let fields = try mapping(node, allowed: ["url", "format", "retries", "backoff"], what: "a webhook")
        let urlNode = try required(fields, "url", in: node, what: "a webhook")
        let url = try text(urlNode, "url")
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw error(urlNode, "'\(url)' is not an http:// or https:// URL")
        }
        var format = Webhook.Format.json
        if let formatNode = fields["format"] {
            let name = try text(formatNode, "format")
            guard let known = Webhook.Format(rawValue: name) else { throw error(formatNode, "'\(name)' is not a webhook format (slack or json)") }
            format = known
        }
        let retries = try fields["retries"].flatMap { (node: Node) throws(AlertRulesError) -> Int in try integer(node, "retries", in: 0...20) }
        return Webhook(url: url, format: format, retries: retries ?? 5, backoff: .seconds(try fields["backoff"].flatMap(seconds) ?? 1))
    }

    func rule(_ node: Node, latencyRequirement: Int64) throws(AlertRulesError) -> AlertRule {
        let line = node.mark?.line ?? 0
        let common: Set<String> = ["name", "type", "severity"]
        guard let ruleMapping = node.mapping, let typeNode = ruleMapping["type"] else { throw error(node, "a rule must be a mapping with a 'type'") }
        let type = try text(typeNode, "type")
        let specific: [String: Set<String>] = [
            "limit": ["when"], "xtce_alarms": ["instrument", "definition"], "job_failed": [], "job_failing_repeatedly": ["attempts"],
            "latency": ["instrument", "levels", "within"], "queue_stalled": ["for"], "worker_lost": [], "storage": ["path", "above"],
        ]
        guard let keys = specific[type] else {
            throw error(typeNode, "'\(type)' is not a rule type (one of: \(specific.keys.sorted().joined(separator: ", ")))")
        }
        let fields = try mapping(node, allowed: common.union(keys), what: "a \(type) rule")
        let name = try text(try required(fields, "name", in: node, what: "a rule"), "name")
        var severity = AlertSeverity.warning
        if let severityNode = fields["severity"] {
            let text = try text(severityNode, "severity")
            guard let known = AlertSeverity(rawValue: text) else { throw error(severityNode, "'\(text)' is not a severity (info, warning or critical)") }
            severity = known
        }
        func need(_ key: String) throws(AlertRulesError) -> Node { try required(fields, key, in: node, what: "the \(type) rule '\(name)'") }
        let kind: AlertRule.Kind
        switch type {
        case "limit":
            let whenNode = try need("when")
            switch TelemetryLimit.parse(try text(whenNode, "when")) {
            case .success(let limit): kind = .limit(limit)
            case .failure(let failure): throw error(whenNode, failure.reason)
            }
        case "xtce_alarms":
            let instrument = try instrument(try need("instrument"))
            let pathNode = try need("definition")
            let path = try text(pathNode, "definition")
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path)
            let definition: PacketDefinition
            do { definition = try PacketDefinition(contentsOf: url) } catch {
                throw self.error(pathNode, "the XTCE definition \(url.path) cannot be used: \(error)")
            }
            guard definition.parameters.values.contains(where: { $0.alarm != nil }) else {
                throw self.error(pathNode, "the XTCE definition \(url.path) has no parameter with default alarm ranges")
            }
            kind = .xtceAlarms(instrument: instrument, definition: definition)
        case "job_failed":
            kind = .jobFailed
        case "job_failing_repeatedly":
            kind = .jobFailingRepeatedly(attempts: try integer(try need("attempts"), "attempts", in: 2...1000))
        case "latency":
            let instrument = try instrument(try need("instrument"))
            let levelsNode = try need("levels")
            var levels: [DataLevel] = []
            for levelNode in try sequence(levelsNode, what: "levels") {
                let text = try text(levelNode, "levels")
                guard let level = DataLevel(rawValue: text), level != .l0 else { throw error(levelNode, "'\(text)' is not a product level (l1a, l1b, l2, ...)") }
                levels.append(level)
            }
            guard !levels.isEmpty else { throw error(levelsNode, "'levels' must name at least one level") }
            kind = .latency(instrument: instrument, levels: levels, within: try fields["within"].flatMap(seconds) ?? latencyRequirement)
        case "queue_stalled":
            kind = .queueStalled(seconds: try seconds(try need("for")))
        case "worker_lost":
            kind = .workerLost
        default:
            let path = try text(try need("path"), "path")
            let aboveNode = try need("above")
            let text = try self.text(aboveNode, "above")
            guard let percent = Double(text.hasSuffix("%") ? String(text.dropLast()) : text), (0...100).contains(percent) else {
                throw error(aboveNode, "'\(text)' is not a percentage from 0 to 100")
            }
            kind = .storage(path: path.hasPrefix("/") ? path : folder.appendingPathComponent(path).path, percent: percent)
        }
        return AlertRule(name: name, severity: severity, kind: kind, line: line)
    }
}
