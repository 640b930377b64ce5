import Foundation
@testable import SDCAlerts
import SDCCore
import Testing

@Suite struct AlertRulesTests {
    static let example = """
        evaluate_every: 30s
        latency_requirement: 24h
        webhooks:
          - {url: "https://hooks.slack.com/services/T0/B0/X", format: slack}
          - url: http://127.0.0.1:9000/alerts
            format: json
            retries: 3
            backoff: 2s
        rules:
          - {name: hk-cmd, type: limit, severity: critical, when: "swapi SWP_HK SWP_HK.CMDEXE > 200 for 3 samples"}
          - {name: failed, type: job_failed}
          - {name: again, type: job_failing_repeatedly, attempts: 3, severity: critical}
          - {name: late, type: latency, instrument: swapi, levels: [l1a, l1b], within: 2h}
          - {name: queue, type: queue_stalled, for: 30m}
          - {name: workers, type: worker_lost, severity: info}
          - {name: disk, type: storage, path: /, above: 90%}
        """

    @Test func theExampleIsRead() throws {
        let rules = try AlertRules(yaml: Self.example)
        #expect(rules.evaluationInterval == .seconds(30))
        #expect(rules.latencyRequirement == 86_400)
        #expect(rules.webhooks == [Webhook(url: "https://hooks.slack.com/services/T0/B0/X", format: .slack),
                                   Webhook(url: "http://127.0.0.1:9000/alerts", format: .json, retries: 3, backoff: .seconds(2))])
        #expect(rules.rules.map(\.name) == ["hk-cmd", "failed", "again", "late", "queue", "workers", "disk"])
        #expect(rules.rules.map(\.line) == [10, 11, 12, 13, 14, 15, 16])
        #expect(rules.rules.map(\.severity) == [.critical, .warning, .critical, .warning, .warning, .info, .warning])
        let limits = rules.limits(of: .swapi)
        #expect(limits.map(\.limit) == [TelemetryLimit(instrument: .swapi, packet: "SWP_HK", parameter: "SWP_HK.CMDEXE", comparison: .greater,
                                                       limit: 200, samples: 3)])
        guard case .latency(let instrument, let levels, let within) = rules.rules[3].kind else { Issue.record("not a latency rule"); return }
        #expect(instrument == .swapi && levels == [.l1a, .l1b] && within == 7200)
        #expect(rules.awaitsProducts(of: .swapi) && !rules.awaitsProducts(of: .mag))
    }

    /// Each broken file and the line and message its error gives.
    @Test(arguments: [
        ("rules:\n  - {name: a, type: limit, when: \"swapi SWP_HK X >> 3\"}\n", 2, "'>>' is not one of"),
        ("rules:\n  - {name: a, type: limit, when: \"nosuch SWP_HK X > 3\"}\n", 2, "'nosuch' is not an instrument"),
        ("rules:\n  - {name: a, type: limit, when: \"swapi SWP_HK X > 3 for zero samples\"}\n", 2, "is not a positive number of samples"),
        ("rules:\n  - name: a\n    type: job_failed\n    colour: red\n", 4, "'colour' is not a key of a job_failed rule"),
        ("rules:\n  - name: a\n    type: teleport\n", 3, "'teleport' is not a rule type"),
        ("rules:\n  - {name: a, type: job_failed}\n  - {name: a, type: worker_lost}\n", 3, "the rule name 'a' is already used on line 2"),
        ("rules:\n  - {name: a, type: job_failed, severity: loud}\n", 2, "'loud' is not a severity"),
        ("rules:\n  - {name: a, type: queue_stalled, for: soon}\n", 2, "'soon' is not a duration"),
        ("rules:\n  - {name: a, type: latency, instrument: swapi, levels: [l0]}\n", 2, "'l0' is not a product level"),
        ("rules:\n  - {name: a, type: storage, path: /, above: 120%}\n", 2, "'120%' is not a percentage"),
        ("rules:\n  - {name: a, type: job_failing_repeatedly}\n", 2, "has no 'attempts'"),
        ("webhooks:\n  - {url: ftp://x/y}\nrules: []\n", 2, "'ftp://x/y' is not an http:// or https:// URL"),
        ("webhooks:\n  - {url: http://x/y, format: teams}\nrules: []\n", 2, "'teams' is not a webhook format"),
        ("rules:\n  - {name: a, type: xtce_alarms, instrument: swapi, definition: /nonexistent/def.xml}\n", 2, "the XTCE definition /nonexistent/def.xml cannot be used"),
        ("evaluate_every: 10s\nrules:\n  - {name: a, type: job_failed\n", 4, "is not YAML"),
        ("evaluate_every: 10s\nrulez: []\n", 2, "'rulez' is not a key of the rules file"),
    ])
    func errorsNameTheLine(_ yaml: String, _ line: Int, _ message: String) throws {
        do {
            _ = try AlertRules(yaml: yaml, source: "rules.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.description.hasPrefix("rules.yaml:\(line): "), "\(error)")
            #expect(error.description.contains(message), "\(error)")
        }
    }

    @Test func aFileThatCannotBeReadIsNamed() {
        #expect(throws: AlertRulesError.self) { try AlertRules(contentsOf: URL(fileURLWithPath: "/nonexistent/rules.yaml")) }
    }

    @Test func theContribExampleIsValid() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("contrib/alerts/example.yaml")
        let rules = try AlertRules(contentsOf: url)
        #expect(!rules.rules.isEmpty && !rules.webhooks.isEmpty)
    }
}
