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
            ("products", .array(products.map { .string($0.path) })),
            ("major_version", .int(version.major)), ("minor_version", .int(version.minor)), ("algorithm", .string(algorithm)),
            ("algorithm_version", .string(algorithmVersion)), ("inputs", .string(inputs)), ("inputs_hash", .string(inputsHash)),
            ("campaign", .int(Int(campaign))), ("uniqueness_key", .string(uniquenessKey)), ("attempts", .int(attempts)),
            ("max_attempts", .int(maxAttempts)), ("postponements", .int(postponements)),
            ("worker_id", .string(workerID)), ("lease_expires_at", time(leaseExpiresAt)), ("not_before", time(notBefore)),
            ("created_at", time(createdAt)), ("started_at", time(startedAt)), ("finished_at", time(finishedAt)),
            ("log", .string(log)), ("outputs", .array(outputs.map(JSONValue.string))), ("error", .string(error)),
        ])
    }

    /// Rebuilds a job from ``wire``; throws `DecodingError` naming the missing or malformed field.
    public init(wire data: Data) throws {
        let form = try JSONDecoder().decode(JobWireForm.self, from: data)
        guard let status = JobStatus(rawValue: form.status) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [JobWireForm.CodingKeys.status], debugDescription: "unknown job status '\(form.status)'"))
        }
        guard let date = FileDate(yyyymmdd: form.start_date) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [JobWireForm.CodingKeys.start_date], debugDescription: "'\(form.start_date)' is not YYYYMMDD"))
        }
        func time(_ seconds: Int64?) -> UTCTime? { seconds.map(UTCTime.init(secondsSince1970:)) }
        var products: [ProductNode]?
        if let paths = form.products {
            products = try paths.map { path in
                guard let node = ProductNode(path: path) else {
                    throw DecodingError.dataCorrupted(.init(codingPath: [JobWireForm.CodingKeys.products], debugDescription: "'\(path)' is not source/level/descriptor"))
                }
                return node
            }
        }
        self.init(id: form.id, status: status, product: ProductNode(form.instrument, form.data_level, form.descriptor), startDate: date,
                  repointing: form.repointing, products: products, version: ProductVersion(major: form.major_version, minor: form.minor_version),
                  algorithm: form.algorithm, algorithmVersion: form.algorithm_version, inputs: form.inputs, inputsHash: form.inputs_hash,
                  campaign: form.campaign ?? 0, uniquenessKey: form.uniqueness_key, attempts: form.attempts, maxAttempts: form.max_attempts,
                  postponements: form.postponements ?? 0, workerID: form.worker_id,
                  leaseExpiresAt: time(form.lease_expires_at), notBefore: UTCTime(secondsSince1970: form.not_before),
                  createdAt: UTCTime(secondsSince1970: form.created_at), startedAt: time(form.started_at), finishedAt: time(form.finished_at),
                  log: form.log ?? "", outputs: form.outputs ?? [], error: form.error)
    }
}

/// The decoded shape of ``Job/wire`` (snake_case as on the wire).
struct JobWireForm: Decodable {
    enum CodingKeys: String, CodingKey {
        case id, status, instrument, data_level, descriptor, start_date, repointing, products, major_version, minor_version, algorithm,
             algorithm_version, inputs, inputs_hash, campaign, uniqueness_key, attempts, max_attempts, postponements, worker_id,
             lease_expires_at, not_before, created_at, started_at, finished_at, log, outputs, error
    }

    var id: Int64
    var status: String
    var instrument: String
    var data_level: String
    var descriptor: String
    var start_date: String
    var repointing: Int?
    var products: [String]?
    var major_version: Int?
    var minor_version: Int
    var algorithm: String
    var algorithm_version: String
    var inputs: String
    var inputs_hash: String
    var campaign: Int64?
    var uniqueness_key: String?
    var attempts: Int
    var max_attempts: Int
    var postponements: Int?
    var worker_id: String?
    var lease_expires_at: Int64?
    var not_before: Int64
    var created_at: Int64
    var started_at: Int64?
    var finished_at: Int64?
    var log: String?
    var outputs: [String]?
    var error: String?
}
