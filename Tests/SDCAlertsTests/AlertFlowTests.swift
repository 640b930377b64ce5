import AsyncHTTPClient
import Foundation
import NIOCore
import SDCIngest
import Synchronization
import SDCAssembly
import SDCCore
import SDCJobs
@testable import SDCAlerts
import Testing

/// Alerts from conditions to a local HTTP receiver: exactly one notification per webhook when a condition begins,
/// none while it holds, one when it clears.
@Suite struct AlertFlowTests {
    struct Fixture {
        let dataCenter: DataCenter
        let time: ManualTime
        let engine: AlertEngine
        let evaluator: AlertEvaluator
        let ingestor: Ingestor

        init(folder: URL, rules yaml: String, holder: String = "replica-1", dataCenter shared: DataCenter? = nil) throws {
            dataCenter = try shared ?? DataCenter(root: folder.appendingPathComponent("dc"))
            time = ManualTime(UTCTime.now.secondsSince1970)
            let rules = try AlertRules(yaml: yaml)
            engine = AlertEngine(store: dataCenter.alerts, clock: { [time] in time.now })
            evaluator = AlertEvaluator(rules: rules, engine: engine, jobs: dataCenter.jobs, catalog: dataCenter.catalog, leases: dataCenter.catalog,
                                       delivery: WebhookDelivery(webhooks: rules.webhooks, source: "test-sdc"), holder: holder)
            ingestor = dataCenter.ingestor()
        }

        func ingest(_ name: String, _ text: String = "bytes") async throws -> CatalogRecordKey {
            let record = try await ingestor.ingest(try IMAPFileName.parse(name), body: [ByteBuffer(string: text)].async,
                                                   expectedLength: Int64(text.utf8.count), maximumSize: 1 << 30)
            return CatalogRecordKey(key: record.key, name: record.file.name, ingestionDate: record.ingestionDate)
        }

        /// One evaluation pass and, if this replica holds the lease, the delivery of what it queued (as the
        /// evaluator's service does, in one task).
        func evaluateAndDeliver() async {
            if await evaluator.pass() { await evaluator.deliverPending() }
        }

        /// Submits and claims a job of `product` for `date` reading `inputs`.
        func claimJob(_ product: ProductNode, date: FileDate, inputs: [String], maxAttempts: Int = 1) async throws -> ClaimedJob {
            var collection = ProcessingInputCollection()
            collection.add(type: "science", files: inputs)
            _ = try await dataCenter.jobs.submit(JobRequest(product: product, startDate: date, algorithm: "xtce-l1a", algorithmVersion: "1.0.0",
                                                            majorVersion: 1, inputs: collection, maxAttempts: maxAttempts), highestCatalogedMinor: nil)
            return try #require(try await dataCenter.jobs.claim(workerID: "worker-a", leaseSeconds: 60))
        }
    }

    struct CatalogRecordKey {
        let key: String
        let name: String
        let ingestionDate: UTCTime
    }

    static func rules(_ base: String, _ body: String) -> String {
        """
        evaluate_every: 1s
        webhooks:
          - {url: "\(base)/hook/json", format: json, retries: 2, backoff: 1s}
          - {url: "\(base)/hook/slack", format: slack, retries: 2, backoff: 1s}
        rules:
        \(body)
        """
    }

    @Test func aFailedJobNotifiesOnceAndItsRetryResolvesIt() async throws {
        let receiver = WebhookReceiver()
        try await receiver.serve { base in
            try await withTemporaryFolder { folder in
                let fixture = try Fixture(folder: folder, rules: Self.rules(base, "  - {name: failed, type: job_failed, severity: critical}"))
                let claimed = try await fixture.claimJob(ProductNode("swapi", "l1a", "all"), date: FileDate(year: 2025, month: 1, day: 1)!,
                                                         inputs: ["imap_swapi_l0_raw_20250101_v001.pkts"])
                let failed = try await fixture.dataCenter.jobs.fail(claimed.credential, error: "exited with status 1", log: "bad table", backoffSeconds: 0)
                #expect(failed.status == .failed)
                await fixture.evaluateAndDeliver()
                #expect(receiver.all.count == 2)
                let json = try #require(receiver.all.first { $0.path == "/hook/json" })
                let alert = try #require(try await fixture.dataCenter.alerts.activeAlerts().first)
                #expect(json.body == .object([
                    ("status", .string("firing")), ("rule", .string("failed")), ("subject", .string("job \(failed.id)")),
                    ("severity", .string("critical")),
                    ("summary", .string("job \(failed.id) (swapi l1a all 20250101, xtce-l1a 1.0.0) failed after 1 attempt(s): exited with status 1")),
                    ("alert_id", .int(Int(alert.id))), ("raised_at", .string(alert.raisedAt.iso8601)), ("resolved_at", .null),
                    ("source", .string("test-sdc")),
                ]))
                let slack = try #require(receiver.all.first { $0.path == "/hook/slack" })
                #expect(slack.string("text") == "[test-sdc] CRITICAL failed: job \(failed.id) — job \(failed.id) (swapi l1a all 20250101, xtce-l1a 1.0.0) failed after 1 attempt(s): exited with status 1")
                // It holds: no duplicate.
                fixture.time.advance(60)
                await fixture.evaluateAndDeliver()
                await fixture.evaluateAndDeliver()
                #expect(receiver.all.count == 2)
                _ = try await fixture.dataCenter.jobs.retry(jobID: failed.id)
                await fixture.evaluateAndDeliver()
                let resolved = Array(receiver.all.dropFirst(2))
                #expect(resolved.map(\.path).sorted() == ["/hook/json", "/hook/slack"])
                #expect(receiver.all.count == 4)
                let resolvedJSON = try #require(resolved.first { $0.path == "/hook/json" })
                #expect(resolvedJSON.string("status") == "resolved" && resolvedJSON.string("resolved_at") == fixture.time.now.iso8601)
                #expect(resolved.first { $0.path == "/hook/slack" }?.string("text")?.hasPrefix("[test-sdc] RESOLVED failed: job \(failed.id) — ") == true)
                #expect(try await fixture.dataCenter.alerts.activeAlerts().isEmpty)
            }
        }
    }

    /// A Level 0 file whose L1A is not available within the requirement raises; the product arriving clears it and
    /// its latency is recorded from the job lineage.
    @Test func aLateProductNotifiesAndItsArrivalResolvesIt() async throws {
        let receiver = WebhookReceiver()
        try await receiver.serve { base in
            try await withTemporaryFolder { folder in
                let fixture = try Fixture(folder: folder, rules: Self.rules(base, "  - {name: late, type: latency, instrument: swapi, levels: [l1a], within: 1h}"))
                let l0 = try await fixture.ingest("imap_swapi_l0_raw_20250102_v001.pkts")
                try await fixture.dataCenter.alerts.expectProducts(of: AwaitedInput(name: l0.name, instrument: "swapi", receivedAt: l0.ingestionDate))
                await fixture.evaluateAndDeliver()
                #expect(receiver.all.isEmpty)
                // A minute past the hour after the receipt.
                fixture.time.set(l0.ingestionDate.secondsSince1970 + 3660)
                await fixture.evaluateAndDeliver()
                #expect(receiver.all.map(\.path).sorted() == ["/hook/json", "/hook/slack"])
                let firing = try #require(receiver.all.first { $0.path == "/hook/json" })
                #expect(firing.string("subject") == "\(l0.name) l1a")
                #expect(firing.string("summary")?.hasPrefix("no swapi l1a product from \(l0.name) 61m after it was received at ") == true)
                fixture.time.advance(600)
                await fixture.evaluateAndDeliver()
                #expect(receiver.all.count == 2)

                let claimed = try await fixture.claimJob(ProductNode("swapi", "l1a", "all"), date: FileDate(year: 2025, month: 1, day: 2)!, inputs: [l0.name])
                let product = try await fixture.ingest("imap_swapi_l1a_hk_20250102_v001.cdf")
                _ = try await fixture.dataCenter.jobs.complete(claimed.credential, outputs: [product.key], log: "")
                await fixture.evaluateAndDeliver()
                #expect(receiver.all.count == 4)
                let resolved = Array(receiver.all.dropFirst(2))
                #expect(resolved.map(\.path).sorted() == ["/hook/json", "/hook/slack"])
                #expect(resolved.first { $0.path == "/hook/json" }?.string("status") == "resolved")
                #expect(resolved.first { $0.path == "/hook/slack" }?.string("text")?.contains("RESOLVED late: \(l0.name) l1a") == true)
                #expect(try await fixture.dataCenter.alerts.awaitedInputs(limit: 10).isEmpty)
                let latencies = try await fixture.dataCenter.alerts.latencies(since: UTCTime(secondsSince1970: 0))
                #expect(latencies == [ProductLatency(key: product.key, instrument: "swapi", level: "l1a", descriptor: "hk", sourceName: l0.name,
                                                     receivedAt: l0.ingestionDate, availableAt: product.ingestionDate)])
            }
        }
    }

    @Test func aReceiverThatFailsIsRetried() async throws {
        let receiver = WebhookReceiver(failures: 2)
        try await receiver.serve { base in
            let delivered = Counter()
            let delivery = WebhookDelivery(webhooks: [Webhook(url: "\(base)/hook/json", format: .json, retries: 2, backoff: .milliseconds(10))],
                                           source: "test-sdc") { _, ok in if ok { delivered.add() } }
            let alert = Alert(id: 7, condition: AlertCondition(rule: "r", subject: "s", severity: .info, summary: "x"),
                              raisedAt: UTCTime(secondsSince1970: 0), lastSeenAt: UTCTime(secondsSince1970: 0), resolvedAt: nil)
            await delivery.deliver(AlertNotification(id: 1, alert: alert, transition: .firing, createdAt: UTCTime(secondsSince1970: 0)))
            #expect(receiver.attemptCount == 3)
            #expect(receiver.all.count == 1)
            #expect(delivered.value == 1)
        }
    }

    /// The periodic rules on the job store and the disk: a product and day failing again and again, a stalled queue,
    /// a worker that stopped renewing its lease, a filesystem above its threshold.
    @Test func periodicRulesSeeTheJobsAndTheDisk() async throws {
        try await withTemporaryFolder { folder in
            let fixture = try Fixture(folder: folder, rules: """
                rules:
                  - {name: again, type: job_failing_repeatedly, attempts: 2, severity: critical}
                  - {name: queue, type: queue_stalled, for: 60s}
                  - {name: workers, type: worker_lost}
                  - {name: disk, type: storage, path: \(folder.path), above: 0%}
                  - {name: roomy, type: storage, path: \(folder.path), above: 100%}
                """)
            let day = FileDate(year: 2025, month: 1, day: 1)!
            let first = try await fixture.claimJob(ProductNode("swapi", "l1a", "all"), date: day, inputs: ["imap_swapi_l0_raw_20250101_v001.pkts"], maxAttempts: 3)
            _ = try await fixture.dataCenter.jobs.fail(first.credential, error: "exited with status 1", log: "", backoffSeconds: 0)
            let second = try #require(try await fixture.dataCenter.jobs.claim(workerID: "worker-a", leaseSeconds: 60))
            #expect(second.job.id == first.job.id)
            _ = try await fixture.dataCenter.jobs.fail(second.credential, error: "exited with status 2", log: "", backoffSeconds: 3600)
            let lost = try await fixture.claimJob(ProductNode("mag", "l1a", "all"), date: day, inputs: ["imap_mag_l0_raw_20250101_v001.pkts"])
            #expect(lost.job.product.source == "mag")
            var waiting = ProcessingInputCollection()
            waiting.add(type: "science", files: ["imap_glows_l0_raw_20250101_v001.pkts"])
            _ = try await fixture.dataCenter.jobs.submit(JobRequest(product: ProductNode("glows", "l1a", "all"), startDate: day, algorithm: "xtce-l1a",
                                                                    algorithmVersion: "1.0.0", majorVersion: 1, inputs: waiting, maxAttempts: 1),
                                                         highestCatalogedMinor: nil)
            try await fixture.evaluator.evaluate()
            let early = try await fixture.dataCenter.alerts.activeAlerts().map(\.condition.subject)
            #expect(Set(early) == ["swapi/l1a/all 20250101", folder.path])
            fixture.time.advance(120)
            try await fixture.evaluator.evaluate()
            let active = try await fixture.dataCenter.alerts.activeAlerts()
            #expect(Set(active.map(\.condition.subject)) == ["swapi/l1a/all 20250101", folder.path, "queue", "worker worker-a"])
            let again = try #require(active.first { $0.condition.rule == "again" })
            #expect(again.condition.summary == "swapi/l1a/all 20250101: 2 failed attempts over 1 job(s); last error: exited with status 2")
            #expect(active.first { $0.condition.rule == "queue" }?.condition.summary.hasPrefix("1 job(s) are due and waiting; job ") == true)
        }
    }

    /// With two replicas on one data center, only the holder of the `alerts` lease evaluates and sends.
    @Test func onlyOneReplicaEvaluates() async throws {
        let receiver = WebhookReceiver()
        try await receiver.serve { base in
            try await withTemporaryFolder { folder in
                let yaml = Self.rules(base, "  - {name: failed, type: job_failed}")
                let first = try Fixture(folder: folder, rules: yaml, holder: "replica-1")
                let second = try Fixture(folder: folder, rules: yaml, holder: "replica-2", dataCenter: first.dataCenter)
                let claimed = try await first.claimJob(ProductNode("swapi", "l1a", "all"), date: FileDate(year: 2025, month: 1, day: 1)!,
                                                       inputs: ["imap_swapi_l0_raw_20250101_v001.pkts"])
                _ = try await first.dataCenter.jobs.fail(claimed.credential, error: "exited with status 1", log: "", backoffSeconds: 0)
                // The second replica raises the condition through its own engine (as an ingest listener would) but,
                // not holding the lease, sends nothing: the first does.
                await second.engine.raise(AlertCondition(rule: "integrity", subject: "imap/x.cdf", severity: .critical, summary: "corrupt"))
                await first.evaluateAndDeliver()
                await second.evaluateAndDeliver()
                #expect(receiver.all.count == 4)
                #expect(Set(receiver.all.compactMap { $0.string("rule") }) == ["failed", "integrity"])
                await second.evaluateAndDeliver()
                await first.evaluateAndDeliver()
                #expect(receiver.all.count == 4)
            }
        }
    }
}

/// A thread-safe count.
final class Counter: Sendable {
    private let count = Synchronization.Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
