import Foundation
@testable import SDCAlerts
import SDCCore
import SDCPostgres
import Testing

@Suite struct AlertStoreTests {
    @Test(arguments: TestBackend.available) func aConditionNotifiesOnceWhileItHoldsAndOnceWhenItClears(_ backend: TestBackend) async throws {
        try await withAlertStore(backend) { store in
            let condition = AlertCondition(rule: "integrity", subject: "imap/swapi/l1a/x.cdf", severity: .critical, summary: "SHA-256 differs")
            let first = try await store.raise(condition, at: UTCTime(secondsSince1970: 100))
            #expect(first?.condition == condition)
            var worse = condition
            worse.summary = "SHA-256 differs again"
            let again = try await store.raise(worse, at: UTCTime(secondsSince1970: 200))
            #expect(again == nil)
            let active = try await store.activeAlerts()
            #expect(active.map(\.lastSeenAt) == [UTCTime(secondsSince1970: 200)])
            #expect(active.map(\.raisedAt) == [UTCTime(secondsSince1970: 100)])
            #expect(active.map(\.condition.summary) == ["SHA-256 differs again"])
            let cleared = try await store.clear(rule: "integrity", subject: "imap/swapi/l1a/x.cdf", at: UTCTime(secondsSince1970: 300))
            #expect(cleared?.resolvedAt == UTCTime(secondsSince1970: 300))
            let clearedAgain = try await store.clear(rule: "integrity", subject: "imap/swapi/l1a/x.cdf", at: UTCTime(secondsSince1970: 400))
            #expect(clearedAgain == nil)
            let outbox = try await store.pendingNotifications(limit: 10)
            #expect(outbox.map(\.transition) == [.firing, .resolved])
            #expect(outbox.map(\.alert.id) == [first?.id, first?.id].compactMap { $0 })
            for notification in outbox { try await store.finishNotification(id: notification.id, at: .now) }
            let left = try await store.pendingNotifications(limit: 10)
            #expect(left.isEmpty)
            // Raised again after it cleared: a new alert, notified again.
            let reraised = try await store.raise(condition, at: UTCTime(secondsSince1970: 500))
            #expect(reraised != nil && reraised?.id != first?.id)
            let resolved = try await store.resolvedAlerts(limit: 10)
            #expect(resolved.map(\.id) == [first?.id].compactMap { $0 })
        }
    }

    @Test(arguments: TestBackend.available) func activeAlertsListTheMostSevereFirst(_ backend: TestBackend) async throws {
        try await withAlertStore(backend) { store in
            for (subject, severity, time) in [("a", AlertSeverity.info, 1), ("b", .critical, 2), ("c", .warning, 3), ("d", .critical, 4)] {
                _ = try await store.raise(AlertCondition(rule: "r", subject: subject, severity: severity, summary: subject),
                                          at: UTCTime(secondsSince1970: Int64(time)))
            }
            let subjects = try await store.activeAlerts().map(\.condition.subject)
            #expect(subjects == ["b", "d", "c", "a"])
        }
    }

    @Test(arguments: TestBackend.available) func latenciesAndAwaitedInputsAreKeptOnce(_ backend: TestBackend) async throws {
        try await withAlertStore(backend) { store in
            let latency = ProductLatency(key: "imap/swapi/l1a/2025/01/imap_swapi_l1a_hk_20250101_v001.cdf", instrument: "swapi", level: "l1a",
                                         descriptor: "hk", sourceName: "imap_swapi_l0_raw_20250101_v001.pkts",
                                         receivedAt: UTCTime(secondsSince1970: 1000), availableAt: UTCTime(secondsSince1970: 4600))
            let first = try await store.recordLatency(latency)
            let second = try await store.recordLatency(latency)
            #expect(first && !second)
            let known = try await store.hasLatency(key: latency.key)
            #expect(known)
            let recent = try await store.latencies(since: UTCTime(secondsSince1970: 4000))
            #expect(recent == [latency])
            let none = try await store.latencies(since: UTCTime(secondsSince1970: 5000))
            #expect(none.isEmpty)
            let input = AwaitedInput(name: "imap_swapi_l0_raw_20250101_v001.pkts", instrument: "swapi", receivedAt: UTCTime(secondsSince1970: 1000))
            try await store.expectProducts(of: input)
            try await store.expectProducts(of: input)
            #expect(try await store.awaitedInputs(limit: 10) == [input])
            try await store.settle(name: input.name)
            #expect(try await store.awaitedInputs(limit: 10).isEmpty)
        }
    }

    @Test func latencyPercentilesAreNearestRank() {
        let latencies = (1...100).map { index in
            ProductLatency(key: "k\(index)", instrument: "swapi", level: "l1a", descriptor: "hk", sourceName: "s",
                           receivedAt: UTCTime(secondsSince1970: 0), availableAt: UTCTime(secondsSince1970: Int64(index) * 1000))
        }
        let summary = LatencySummary.summarize(latencies, requirement: 86_400)
        #expect(summary == [LatencySummary(instrument: "swapi", level: "l1a", count: 100, p50: 50_000, p90: 90_000, p99: 99_000,
                                           maximum: 100_000, withinRequirement: 86)])
    }
}
