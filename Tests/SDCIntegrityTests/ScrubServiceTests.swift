import Foundation
import Logging
import SDCAlerts
import SDCCore
import SDCIntegrity
import Synchronization
import Testing

/// The background scrub: one replica (the lease holder) scrubs, reports to its status and to alerts.
struct ScrubServiceTests {
    @Test func theLeaseHolderScrubsAndRaisesAlertsAndTheOtherReplicaWaits() async throws {
        let t = try IntegrityFixture.filesystem()
        defer { t.remove() }
        try await t.damage()
        let verifier = Verifier(catalog: t.catalog, digester: ObjectDigester(store: t.store), concurrency: 2)
        var schedule = ScrubSchedule(period: .seconds(3_600), maximumBytesPerSecond: 100e6)
        schedule.minimumBytesPerSecond = 50e6  // one quick pass, then an hour's wait
        let alerts = RecordingAlerts()
        let first = IntegrityStatus()
        let secondTries = Mutex(0)
        let second = IntegrityStatus { snapshot in if !snapshot.isScrubbing { secondTries.withLock { $0 += 1 } } }
        let scrubber = ScrubService(verifier: verifier, leases: t.catalog, schedule: schedule, status: first, alerts: alerts, holder: "replica-1")
        let other = ScrubService(verifier: verifier, leases: t.catalog, schedule: schedule, status: second, alerts: alerts, holder: "replica-2")
        let running = Task { try await scrubber.run() }
        try await waitFor("the first replica's pass") { first.snapshot.passesCompleted == 1 }
        let otherRunning = Task { try await other.run() }
        try await waitFor("the second replica to try the lease") { secondTries.withLock { $0 } > 0 }
        let snapshot = first.snapshot
        #expect(snapshot.isScrubbing && snapshot.hasIntegrityErrors)
        let counts = snapshot.problemCounts
        #expect(counts[.corrupt] == 2 && counts[.missing] == 1 && counts[.orphaned] == 1 && counts[.unreadable] == 0)
        let reconciled = alerts.reconciled.withLock { $0 }
        #expect(reconciled.count == 1 && reconciled.first?.rule == ScrubService.alertRule)
        let conditions = reconciled.first?.conditions ?? []
        #expect(Set(conditions.map(\.subject)) == Set(try IntegrityFixture.expectedFindings().keys))
        #expect(conditions.filter { $0.severity == .critical }.count == 3)
        running.cancel()
        otherRunning.cancel()
        try await running.value
        try await otherRunning.value
        #expect(second.snapshot.passesCompleted == 0)
    }
}
