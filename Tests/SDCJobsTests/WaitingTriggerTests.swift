import Foundation
import SDCCore
import Testing
@testable import SDCJobs
import SDCPostgres

/// A day whose required input is missing waits, with its reason, until an input of its product arrives.
struct WaitingTriggerTests {
    static let product = ProductNode("swapi", "l1", "hk")
    static let day = FileDate(year: 2024, month: 9, day: 24)!

    @Test(arguments: TestBackend.available) func aParkedTriggerWaitsWithItsReasonUntilWoken(_ backend: TestBackend) async throws {
        try await TemporaryJobStore.with(backend) { t in
            let store = t.store
            let trigger = Trigger(product: Self.product, date: Self.day, repointing: nil, campaign: 0)
            try await store.addTriggers([trigger], dueMilliseconds: 1_000)
            let claimed = try await store.claimDueTriggers(nowMilliseconds: 1_000, limit: 10)
            try await store.park(claimed[0], waitingFor: "leapseconds kernel (spice, historical) covering 20240924")
            // Never due: not claimed even after a claim would lapse, and not the planner's next due time.
            #expect(try await store.nextTriggerDueMilliseconds() == nil)
            #expect(try await store.claimDueTriggers(nowMilliseconds: 10_000_000, limit: 10).isEmpty)
            let waiting = try await store.waitingTriggers(limit: 10)
            #expect(waiting == [WaitingTrigger(trigger: trigger, reason: "leapseconds kernel (spice, historical) covering 20240924")])
            #expect(waiting[0].json.serialized().contains(#""status": "WAITING", "instrument": "swapi", "data_level": "l1", "descriptor": "hk""#))
            // Inputs of other products, or of other days, wake nothing.
            #expect(try await store.wakeWaitingTriggers(products: [ProductNode("mag", "l1a", "all")], from: Self.day, through: Self.day,
                                                        dueMilliseconds: 2_000) == 0)
            let nextDay = FileDate(ordinalDay: Self.day.ordinal + 1)
            #expect(try await store.wakeWaitingTriggers(products: [Self.product], from: nextDay, through: nextDay, dueMilliseconds: 2_000) == 0)
            #expect(try await store.wakeWaitingTriggers(products: [], from: Self.day, through: Self.day, dueMilliseconds: 2_000) == 0)
            // An input of its product covering its day makes it due again, without its reason.
            #expect(try await store.wakeWaitingTriggers(products: [Self.product], from: Self.day, through: nextDay, dueMilliseconds: 2_000) == 1)
            #expect(try await store.waitingTriggers(limit: 10).isEmpty)
            #expect(try await store.nextTriggerDueMilliseconds() == 2_000)
            let again = try await store.claimDueTriggers(nowMilliseconds: 2_000, limit: 10)
            #expect(again.map(\.trigger) == [trigger])
            // Parked again, a new trigger for the same product and day (a new L0 version) also wakes it.
            try await store.park(again[0], waitingFor: "(swapi, l0, raw) of 20240924")
            try await store.addTriggers([trigger], dueMilliseconds: 3_000)
            #expect(try await store.waitingTriggers(limit: 10).isEmpty)
            #expect(try await store.nextTriggerDueMilliseconds() == 3_000)
            // Waking every product (an algorithm was installed) reaches any waiting day.
            let claimedThird = try await store.claimDueTriggers(nowMilliseconds: 3_000, limit: 10)
            try await store.park(claimedThird[0], waitingFor: "the algorithm imap-processing to be installed")
            #expect(try await store.wakeWaitingTriggers(products: nil, from: Self.day, through: Self.day, dueMilliseconds: 4_000) == 1)
        }
    }

    @Test(arguments: TestBackend.available) func aTriggerReArmedSinceItsClaimIsNotParked(_ backend: TestBackend) async throws {
        try await TemporaryJobStore.with(backend) { t in
            let store = t.store
            let trigger = Trigger(product: Self.product, date: Self.day, repointing: nil, campaign: 0)
            try await store.addTriggers([trigger], dueMilliseconds: 1_000)
            let claimed = try await store.claimDueTriggers(nowMilliseconds: 1_000, limit: 10)
            // The missing input arrived while the planner was looking: the trigger was re-armed and stays due.
            try await store.addTriggers([trigger], dueMilliseconds: 1_500)
            try await store.park(claimed[0], waitingFor: "leapseconds kernel")
            #expect(try await store.waitingTriggers(limit: 10).isEmpty)
            #expect(try await store.nextTriggerDueMilliseconds() == 1_500)
        }
    }
}
