import Foundation
import SDCAlerts
import SDCCore
import Testing

@Suite struct AlertStoreTests {
    @Test func aConditionNotifiesOnceWhileItHoldsAndOnceWhenItClears() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdc-alerts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteAlertStore(path: folder.appendingPathComponent("alerts.sqlite").path)
        let condition = AlertCondition(rule: "integrity", subject: "imap/swapi/l1a/x.cdf", severity: .critical, summary: "SHA-256 differs")
        let first = try await store.raise(condition, at: UTCTime(secondsSince1970: 100))
        #expect(first?.condition == condition)
        let again = try await store.raise(condition, at: UTCTime(secondsSince1970: 200))
        #expect(again == nil)
        let active = try await store.activeAlerts()
        #expect(active.map(\.lastSeenAt) == [UTCTime(secondsSince1970: 200)])
        let cleared = try await store.clear(rule: "integrity", subject: "imap/swapi/l1a/x.cdf", at: UTCTime(secondsSince1970: 300))
        #expect(cleared?.resolvedAt == UTCTime(secondsSince1970: 300))
        let clearedAgain = try await store.clear(rule: "integrity", subject: "imap/swapi/l1a/x.cdf", at: UTCTime(secondsSince1970: 400))
        #expect(clearedAgain == nil)
        let outbox = try await store.pendingNotifications(limit: 10)
        #expect(outbox.map(\.transition) == [.firing, .resolved])
        for notification in outbox { try await store.finishNotification(id: notification.id, at: .now) }
        let left = try await store.pendingNotifications(limit: 10)
        #expect(left.isEmpty)
    }
}
