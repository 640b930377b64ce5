import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SDCCatalog
import SDCCore
import SDCJobs
import SDCServer
import Testing

/// The worker job API: claims need a write key; everything after a claim needs that claim's credential; bodies and
/// numbers are validated with 400s naming the problem, never 500s or traps.
struct JobAPITests {
    /// A server with a job store and one queued job.
    static func server(_ t: TestDataCenter, gate: ClaimGate = ClaimGate()) async throws -> DataCenterServer {
        var inputs = ProcessingInputCollection()
        inputs.add(type: "science", files: ["imap_hit_l0_raw_20250101_v001.0000.pkts"])
        _ = try await t.dataCenter.jobs.submit(JobRequest(product: ProductNode("hit", "l1a", "all"), startDate: FileDate(year: 2025, month: 1, day: 1)!,
                                                          algorithm: "t", algorithmVersion: "1", majorVersion: 1, inputs: inputs, maxAttempts: 2),
                                               highestCatalogedMinor: nil)
        var configuration = ServerConfiguration()
        configuration.port = 0
        return DataCenterServer(configuration: configuration, ingestor: t.dataCenter.ingestor(), keys: t.dataCenter.catalog,
                                requestLog: t.dataCenter.catalog,
                                processing: ProcessingHooks(jobs: t.dataCenter.jobs, gate: gate) { _ in 0 })
    }

    @Test func theClaimsCredentialAloneFinishesTheJobAndBadInputIsA400() async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        try await Self.server(t).application().test(.live) { client in
            // A read key cannot claim; a write key can.
            let denied = try await client.execute(uri: "/api-key/jobs/claim?worker=w", method: .post, headers: [apiKeyHeader: t.readKey])
            #expect(denied.status == .forbidden)
            let claim = try await client.execute(uri: "/api-key/jobs/claim?worker=w&lease=60", method: .post, headers: [apiKeyHeader: t.writeKey])
            #expect(claim.status == .ok)
            let answer = try #require(claim.json as? [String: Any])
            let id = try #require(answer["id"] as? Int), credential = try #require(answer["api_key"] as? String)
            #expect(credential.hasPrefix("sdcjob_\(id)_"))
            // The worker's write key cannot finish the job: only the credential can.
            let byKey = try await client.execute(uri: "/api-key/jobs/\(id)/complete", method: .post, headers: [apiKeyHeader: t.writeKey],
                                                 body: ByteBuffer(string: #"{"outputs": []}"#))
            #expect(byKey.status == .forbidden && byKey.text.contains("JobCredentialRequired"))
            let job: HTTPFields = [apiKeyHeader: credential]
            // Malformed bodies and numbers are 400s that say what is wrong.
            let malformed = try await client.execute(uri: "/api-key/jobs/\(id)/complete", method: .post, headers: job, body: ByteBuffer(string: "{not json"))
            #expect(malformed.status == .badRequest && malformed.text.contains("not JSON"))
            let missing = try await client.execute(uri: "/api-key/jobs/\(id)/complete", method: .post, headers: job, body: ByteBuffer(string: #"{"log": "x"}"#))
            #expect(missing.status == .badRequest && missing.text.contains("'outputs' is missing"))
            let overflow = try await client.execute(uri: "/api-key/jobs/\(id)/fail?backoff=9223372036854775807", method: .post, headers: job,
                                                    body: ByteBuffer(string: #"{"error": "x"}"#))
            #expect(overflow.status == .badRequest && overflow.text.contains("backoff"))
            let badLease = try await client.execute(uri: "/api-key/jobs/\(id)/renew?lease=0", method: .post, headers: job)
            #expect(badLease.status == .badRequest && badLease.text.contains("lease"))
            // The credential is for its own job only, and cannot reprocess or release.
            let otherJob = try await client.execute(uri: "/api-key/jobs/\(id + 1)/renew", method: .post, headers: job)
            #expect(otherJob.status == .forbidden)
            let reprocess = try await client.execute(uri: "/api-key/reprocess?start_date=20250101&end_date=20250101", method: .post, headers: job)
            #expect(reprocess.status == .forbidden)
            // A read key sees the job, without the worker's id; the credential is never shown.
            let listed = try await client.execute(uri: "/api-key/processing-jobs", method: .get, headers: [apiKeyHeader: t.readKey])
            #expect(listed.status == .ok && !listed.text.contains(credential) && !listed.text.contains(#""worker_id": "w""#))
            let asWriter = try await client.execute(uri: "/api-key/processing-jobs", method: .get, headers: [apiKeyHeader: t.writeKey])
            #expect(asWriter.text.contains(#""worker_id": "w""#))
            // The credential completes its job, then stops working.
            let done = try await client.execute(uri: "/api-key/jobs/\(id)/complete", method: .post, headers: job, body: ByteBuffer(string: #"{"outputs": []}"#))
            #expect(done.status == .ok && done.text.contains(#""status": "succeeded""#))
            let after = try await client.execute(uri: "/api-key/query", method: .get, headers: job)
            #expect(after.status == .forbidden)
        }
    }

    @Test func aShuttingDownServerHandsOutNoJobsAndHugeReprocessRangesAreRefused() async throws {
        let t = try await TestDataCenter()
        defer { t.remove() }
        let gate = ClaimGate()
        try await Self.server(t, gate: gate).application().test(.live) { client in
            let range = try await client.execute(uri: "/api-key/reprocess?start_date=19000101&end_date=99991231", method: .post,
                                                 headers: [apiKeyHeader: t.writeKey])
            #expect(range.status == .badRequest && range.text.contains("at most 3660 days"))
            gate.close()
            let claim = try await client.execute(uri: "/api-key/jobs/claim?worker=w", method: .post, headers: [apiKeyHeader: t.writeKey])
            #expect(claim.status == .serviceUnavailable && claim.text.contains("ShuttingDown"))
        }
    }
}
