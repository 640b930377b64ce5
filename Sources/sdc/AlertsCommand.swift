import ArgumentParser
import Foundation
import SDCAlerts
import SDCCore

/// `sdc alerts`: the alert conditions and data latency of a data center, and checking a rules file.
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List alerts and data latency, and check an alert rules file.",
        subcommands: [List.self, Latency.self, Check.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the active alerts (most severe, then oldest, first) and, with --resolved, recently resolved ones.")
        @OptionGroup var root: RootOption
        @Option(help: "Also list this many recently resolved alerts.") var resolved = 0

        func run() async throws {
            let store = try await root.open().alerts
            let active = try await store.activeAlerts()
            let header = ["ID", "SEVERITY", "RULE", "SUBJECT", "RAISED", "LAST SEEN", "SUMMARY"]
            if active.isEmpty {
                print("no active alerts")
            } else {
                print(TextTable.render(header: header, rows: active.map { alert in
                    [String(alert.id), alert.condition.severity.rawValue, alert.condition.rule, alert.condition.subject, alert.raisedAt.iso8601,
                     alert.lastSeenAt.iso8601, alert.condition.summary]
                }))
            }
            guard resolved > 0 else { return }
            let recent = try await store.resolvedAlerts(limit: resolved)
            print("\nresolved:")
            print(TextTable.render(header: ["ID", "SEVERITY", "RULE", "SUBJECT", "RAISED", "RESOLVED", "SUMMARY"], rows: recent.map { alert in
                [String(alert.id), alert.condition.severity.rawValue, alert.condition.rule, alert.condition.subject, alert.raisedAt.iso8601,
                 alert.resolvedAt?.iso8601 ?? "", alert.condition.summary]
            }))
        }
    }

    struct Latency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Level 0 receipt → product availability percentiles per instrument and level.")
        @OptionGroup var root: RootOption
        @Option(help: "Days back from now.") var days = 30
        @Option(help: "The requirement, hours (IMAP: 24).") var requirementHours = 24

        func validate() throws {
            guard (1...3660).contains(days) else { throw ValidationError("--days must be 1 to 3660") }
            guard (1...8784).contains(requirementHours) else { throw ValidationError("--requirement-hours must be 1 to 8784") }
        }

        func run() async throws {
            let store = try await root.open().alerts
            let since = UTCTime(secondsSince1970: UTCTime.now.secondsSince1970 - Int64(days) * 86_400)
            let requirement = Int64(requirementHours) * 3600
            let summaries = LatencySummary.summarize(try await store.latencies(since: since), requirement: requirement)
            guard !summaries.isEmpty else {
                print("no product with a known Level 0 receipt in the last \(days) days")
                return
            }
            print(TextTable.render(header: ["INSTRUMENT", "LEVEL", "PRODUCTS", "P50", "P90", "P99", "MAX", "WITHIN \(requirementHours)H"],
                                   rows: summaries.map { summary in
                [summary.instrument, summary.level, String(summary.count), DurationText.describe(summary.p50), DurationText.describe(summary.p90), DurationText.describe(summary.p99),
                 DurationText.describe(summary.maximum), "\(summary.withinRequirement)/\(summary.count)"]
            }))
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check an alert rules file; errors name the line.")
        @Argument(help: "The rules file (YAML).") var rules: String

        func run() throws {
            do {
                let checked = try AlertRules(contentsOf: URL(fileURLWithPath: rules))
                print("\(rules): \(checked.rules.count) rule(s), \(checked.webhooks.count) webhook(s), evaluated every \(checked.evaluationInterval), "
                      + "latency requirement \(checked.latencyRequirement) s")
                for rule in checked.rules { print("  line \(rule.line): \(rule.name) (\(rule.kind.typeName), \(rule.severity.rawValue))") }
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
