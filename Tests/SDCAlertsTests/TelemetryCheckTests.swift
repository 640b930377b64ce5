import Foundation
import NIOCore
import SDCAssembly
import SDCCDF
import SDCCore
import SDCPackets
@testable import SDCAlerts
import Testing

@Suite struct TelemetryCheckTests {
    static let contrib = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("contrib/alerts")

    func limitRule(_ when: String) throws -> (rule: AlertRule, limit: TelemetryLimit) {
        let limit = try TelemetryLimit.parse(when).get()
        return (AlertRule(name: "hk", severity: .critical, kind: .limit(limit)), limit)
    }

    @Test func aRunOfOutOfLimitSamplesIsAViolation() async throws {
        try await withTemporaryFolder { folder in
            let path = folder.appendingPathComponent("hk.cdf")
            try writeCDF(path, variables: [("cmdexe", .uint8([10, 250, 251, 252, 9, 245, 246, 3]), .uint1)])
            let cdf = try CDFReader(path: path.path)
            let three = try TelemetryCheck.evaluate(cdf: cdf, file: "hk.cdf", limits: [limitRule("swapi SWP_HK SWP_HK.CMDEXE > 240 for 3 samples")], alarms: [])
            #expect(three == [.violated(AlertCondition(
                rule: "hk", subject: "swapi SWP_HK SWP_HK.CMDEXE", severity: .critical,
                summary: "swapi SWP_HK SWP_HK.CMDEXE > 240 for 3 consecutive samples (at least 3; worst 252) in hk.cdf"))])
            let four = try TelemetryCheck.evaluate(cdf: cdf, file: "hk.cdf", limits: [limitRule("swapi SWP_HK SWP_HK.CMDEXE > 240 for 4 samples")], alarms: [])
            #expect(four == [.clean(rule: "hk", subject: "swapi SWP_HK SWP_HK.CMDEXE")])
            // A parameter the file does not hold says nothing.
            let other = try TelemetryCheck.evaluate(cdf: cdf, file: "hk.cdf", limits: [limitRule("swapi SWP_HK SWP_HK.CMDRJCT > 1")], alarms: [])
            #expect(other.isEmpty)
        }
    }

    @Test func xtceAlarmRangesAreReadAndChecked() async throws {
        let definition = try PacketDefinition(contentsOf: Self.contrib.appendingPathComponent("swapi_hk_alarms.xml"))
        let alarm = try #require(definition.parameters["SWP_HK.CMDEXE"]?.alarm)
        #expect(alarm.minViolations == 2)
        #expect(alarm.ranges == [.warning: AlarmRanges.Range(minInclusive: 0, maxInclusive: 240), .critical: AlarmRanges.Range(minInclusive: 0, maxInclusive: 250)])
        #expect(alarm.violatedLevel(100) == nil && alarm.violatedLevel(245) == .warning && alarm.violatedLevel(251) == .critical)
        #expect(definition.parameters["SWP_HK.SHCOARSE"]?.alarm == nil)
        try await withTemporaryFolder { folder in
            let path = folder.appendingPathComponent("hk.cdf")
            try writeCDF(path, variables: [("cmdexe", .uint8([1, 245, 246, 2, 251, 3]), .uint1), ("cmdrjct", .uint8([251, 252, 253, 1, 1, 1]), .uint1)])
            let rule = AlertRule(name: "alarms", severity: .warning, kind: .xtceAlarms(instrument: .swapi, definition: definition))
            let outcomes = try TelemetryCheck.evaluate(cdf: try CDFReader(path: path.path), file: "hk.cdf", limits: [], alarms: [(rule, definition)])
            #expect(outcomes == [
                .violated(AlertCondition(rule: "alarms", subject: "alarms SWP_HK.CMDEXE", severity: .warning,
                                         summary: "SWP_HK.CMDEXE outside its XTCE warning range for 2 consecutive samples (worst 246) in hk.cdf")),
                .violated(AlertCondition(rule: "alarms", subject: "alarms SWP_HK.CMDRJCT", severity: .critical,
                                         summary: "SWP_HK.CMDRJCT outside its XTCE critical range for 3 consecutive samples (worst 253) in hk.cdf")),
            ])
        }
    }

    @Test func badAlarmRangesNameTheirLine() throws {
        let xml = try String(contentsOf: Self.contrib.appendingPathComponent("swapi_hk_alarms.xml"), encoding: .utf8)
            .replacingOccurrences(of: "maxInclusive=\"240\"", with: "maxInclusive=\"lots\"")
        #expect(throws: XTCEError.invalidValue(element: "WarningRange", attribute: "maxInclusive", value: "lots", line: 19)) {
            try PacketDefinition(data: Data(xml.utf8))
        }
    }

    /// Through the ingest path: an L1A file out of limits raises the condition, a later clean one clears it, an L0 file
    /// of an instrument with a latency rule is awaited.
    @Test func theIngestListenerChecksNewFiles() async throws {
        try await withTemporaryFolder { folder in
            let dataCenter = try DataCenter(root: folder.appendingPathComponent("dc"))
            let rules = try AlertRules(yaml: """
                rules:
                  - {name: hk, type: limit, severity: critical, when: "swapi SWP_HK SWP_HK.CMDEXE >= 250 for 2 samples"}
                  - {name: late, type: latency, instrument: swapi, levels: [l1a]}
                """)
            let engine = AlertEngine(store: dataCenter.alerts)
            let listener = AlertIngestChecks(rules: rules, sink: engine, store: dataCenter.alerts, objects: dataCenter.store).listener()
            let ingestor = dataCenter.ingestor(listeners: [listener])
            func ingest(_ name: String, cmdexe: [UInt8]) async throws {
                let path = folder.appendingPathComponent(name)
                try writeCDF(path, variables: [("cmdexe", .uint8(cmdexe), .uint1)])
                let bytes = try Data(contentsOf: path)
                _ = try await ingestor.ingest(try IMAPFileName.parse(name), body: [ByteBuffer(bytes: bytes)].async,
                                              expectedLength: Int64(bytes.count), maximumSize: 1 << 30)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await listener.run() }
                try await ingest("imap_swapi_l1a_hk_20250101_v001.cdf", cmdexe: [1, 250, 255, 3])
                try await waitUntil("the violation") { try await !dataCenter.alerts.activeAlerts().isEmpty }
                let active = try await dataCenter.alerts.activeAlerts()
                #expect(active.map(\.condition.subject) == ["swapi SWP_HK SWP_HK.CMDEXE"])
                #expect(active.first?.condition.summary.hasSuffix("in imap_swapi_l1a_hk_20250101_v001.cdf") == true)
                try await ingest("imap_swapi_l1a_hk_20250102_v001.cdf", cmdexe: [1, 250, 3, 255])
                try await waitUntil("the clean file") { try await dataCenter.alerts.activeAlerts().isEmpty }
                _ = try await ingestor.ingest(try IMAPFileName.parse("imap_swapi_l0_raw_20250103_v001.pkts"), body: [ByteBuffer(string: "l0")].async,
                                              expectedLength: 2, maximumSize: 1 << 30)
                try await waitUntil("the awaited input") { try await dataCenter.alerts.awaitedInputs(limit: 10).map(\.name) == ["imap_swapi_l0_raw_20250103_v001.pkts"] }
                group.cancelAll()
            }
            let outbox = try await dataCenter.alerts.pendingNotifications(limit: 10)
            #expect(outbox.map(\.transition) == [.firing, .resolved])
        }
    }
}
