import Foundation
import SDCCore

/// The JSON form of a job that the job API sends to remote workers.
extension Job {
    public var wire: JSONValue {
        func time(_ value: UTCTime?) -> JSONValue { .int(value.map { Int($0.secondsSince1970) }) }
        return .object([
            ("id", .int(Int(id))), ("status", .string(status.rawValue)), ("instrument", .string(product.source)),
            ("data_level", .string(product.dataType)), ("descriptor", .string(product.descriptor)),
            ("start_date", .string(startDate.description)), ("repointing", .int(repointing)),
            ("major_version", .int(version.major)), ("minor_version", .int(version.minor)), ("algorithm", .string(algorithm)),
            ("algorithm_version", .string(algorithmVersion)), ("inputs", .string(inputs)), ("inputs_hash", .string(inputsHash)),
            ("campaign", .int(Int(campaign))), ("attempts", .int(attempts)), ("max_attempts", .int(maxAttempts)),
            ("worker_id", .string(workerID)), ("lease_expires_at", time(leaseExpiresAt)), ("not_before", time(notBefore)),
            ("created_at", time(createdAt)), ("started_at", time(startedAt)), ("finished_at", time(finishedAt)),
            ("log", .string(log)), ("outputs", .array(outputs.map(JSONValue.string))), ("error", .string(error)),
        ])
    }

    /// Rebuilds a job from ``wire``; nil when a field is missing or malformed.
    public init?(wire data: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let id = object["id"] as? Int, let status = (object["status"] as? String).flatMap(JobStatus.init(rawValue:)),
              let instrument = object["instrument"] as? String, let level = object["data_level"] as? String,
              let descriptor = object["descriptor"] as? String,
              let date = (object["start_date"] as? String).flatMap({ FileDate(yyyymmdd: $0) }),
              let major = object["major_version"] as? Int, let minor = object["minor_version"] as? Int,
              let algorithm = object["algorithm"] as? String, let algorithmVersion = object["algorithm_version"] as? String,
              let inputs = object["inputs"] as? String, let hash = object["inputs_hash"] as? String,
              let attempts = object["attempts"] as? Int, let maxAttempts = object["max_attempts"] as? Int,
              let created = object["created_at"] as? Int, let notBefore = object["not_before"] as? Int
        else { return nil }
        func time(_ key: String) -> UTCTime? { (object[key] as? Int).map { UTCTime(secondsSince1970: Int64($0)) } }
        self.init(id: Int64(id), status: status, product: ProductNode(instrument, level, descriptor), startDate: date,
                  repointing: object["repointing"] as? Int, version: ProductVersion(major: major, minor: minor), algorithm: algorithm,
                  algorithmVersion: algorithmVersion, inputs: inputs, inputsHash: hash, campaign: Int64(object["campaign"] as? Int ?? 0),
                  attempts: attempts, maxAttempts: maxAttempts, workerID: object["worker_id"] as? String, leaseExpiresAt: time("lease_expires_at"),
                  notBefore: UTCTime(secondsSince1970: Int64(notBefore)), createdAt: UTCTime(secondsSince1970: Int64(created)),
                  startedAt: time("started_at"), finishedAt: time("finished_at"), log: object["log"] as? String ?? "",
                  outputs: object["outputs"] as? [String] ?? [], error: object["error"] as? String)
    }
}
