import Foundation
import SDCCore

/// The state of a processing job.
public enum JobStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting for a worker (possibly until `notBefore`, after a failed attempt).
    case queued
    /// Claimed by a worker holding a lease.
    case running
    case succeeded
    /// Failed on its last allowed attempt.
    case failed
}

/// A unit of processing: one product (or `all` products of a level) of one instrument for one day.
public struct Job: Sendable, Hashable {
    public var id: Int64
    public var status: JobStatus
    public var product: ProductNode
    public var startDate: FileDate
    public var repointing: Int?
    /// The products the job makes, at any level (a `(swapi, l1, hk)` job makes `(swapi, l1a, hk)` and
    /// `(swapi, l1b, hk)`); descriptor `all` stands for every product of its level.
    public var products: [ProductNode]
    /// The version every product of the job is named with; fixed when the job is created so that retries never make a
    /// second product.
    public var version: ProductVersion
    public var algorithm: String
    public var algorithmVersion: String
    /// The inputs, as a ProcessingInputCollection JSON array.
    public var inputs: String
    /// First 8 hex digits of the SHA-256 of `inputs` (the IMAP SDC's dependency hash).
    public var inputsHash: String
    /// 0 for jobs made by file arrival; the reprocess request id otherwise.
    public var campaign: Int64
    /// The job-deduplication key (``JobUniqueness``).
    public var uniquenessKey: String
    public var attempts: Int
    public var maxAttempts: Int
    /// How many times the algorithm asked to be run again later (exit 75) without that counting as an attempt.
    public var postponements: Int
    public var workerID: String?
    public var leaseExpiresAt: UTCTime?
    /// A queued job is not claimed before this time (retry back-off).
    public var notBefore: UTCTime
    public var createdAt: UTCTime
    public var startedAt: UTCTime?
    public var finishedAt: UTCTime?
    /// Captured output of the last attempt(s).
    public var log: String
    /// Storage keys of the products.
    public var outputs: [String]
    public var error: String?

    /// Input file names, from `inputs`.
    public var inputNames: [String] { ProcessingInputCollection(json: inputs)?.allFiles ?? [] }

    /// A job as a store reads it back (every job store of the package builds its jobs with it).
    package init(id: Int64, status: JobStatus, product: ProductNode, startDate: FileDate, repointing: Int?, products: [ProductNode]? = nil,
                 version: ProductVersion, algorithm: String, algorithmVersion: String, inputs: String, inputsHash: String, campaign: Int64,
                 uniquenessKey: String? = nil, attempts: Int, maxAttempts: Int, postponements: Int = 0, workerID: String?,
                 leaseExpiresAt: UTCTime?, notBefore: UTCTime, createdAt: UTCTime, startedAt: UTCTime?, finishedAt: UTCTime?, log: String,
                 outputs: [String], error: String?) {
        self.id = id
        self.status = status
        self.product = product
        self.startDate = startDate
        self.repointing = repointing
        self.products = products ?? [product]
        self.version = version
        self.algorithm = algorithm
        self.algorithmVersion = algorithmVersion
        self.inputs = inputs
        self.inputsHash = inputsHash
        self.campaign = campaign
        self.uniquenessKey = uniquenessKey ?? JobUniqueness.key(product: product, startDate: startDate, repointing: repointing,
                                                                algorithmVersion: algorithmVersion, inputsHash: inputsHash, campaign: campaign)
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.postponements = postponements
        self.workerID = workerID
        self.leaseExpiresAt = leaseExpiresAt
        self.notBefore = notBefore
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.log = log
        self.outputs = outputs
        self.error = error
    }

    /// The file names the job's products get, one per product it declares (none for an `all` product, whose
    /// descriptors are not known in advance). An ancillary product is named as imap_cli names the ancillary files it
    /// uploads: valid on the job's day only, with the minor-only version `vNNN` of the job's minor version.
    public var expectedProductNames: [String] { products.compactMap(expectedName(of:)) }

    /// The file name `product` (one of ``products``) gets (``expectedProductNames``); nil for an `all` product.
    public func expectedName(of product: ProductNode) -> String? {
        guard product.descriptor != "all", let instrument = product.instrument else { return nil }
        if product.dataType == "ancillary" {
            return AncillaryFileName(instrument: instrument, descriptor: product.descriptor, startDate: startDate, endDate: startDate,
                                     version: ancillaryVersion, fileExtension: "cdf").name
        }
        guard let level = product.dataLevel else { return nil }
        return ScienceFileName(instrument: instrument, dataLevel: level, descriptor: product.descriptor, startDate: startDate,
                               repointing: repointing, version: version, fileExtension: "cdf").name
    }

    /// The version of the job's ancillary products: ancillary names take `vNNN` only, so imap_cli writes the minor
    /// version of the job's version.
    public var ancillaryVersion: ProductVersion { ProductVersion(major: nil, minor: version.minor) }

    /// Whether `file`, an ancillary file ingested at `ingestedAt`, is a product of this job: one of its declared
    /// ancillary products (instrument and descriptor), valid on the job's day, with the job's ``ancillaryVersion``, and
    /// ingested since the job was created (an attempt's upload; an older file of that name was made by someone else).
    /// `ingestedAt` has the catalog's one-second resolution.
    public func madeAncillary(_ file: AncillaryFileName, ingestedAt: UTCTime) -> Bool {
        products.contains { $0.dataType == "ancillary" && $0.source == file.instrument.rawValue && $0.descriptor == file.descriptor }
            && file.startDate <= startDate && (file.endDate ?? startDate) >= startDate && file.version == ancillaryVersion
            && ingestedAt >= createdAt
    }

    /// The `--dependency` document of the job: its inputs and the version of each product it makes.
    public var dependencyDocument: DependencyDocument {
        DependencyDocument(inputs: ProcessingInputCollection(json: inputs) ?? ProcessingInputCollection(), products: products, version: version)
    }

    /// The name under which the job's dependency document is uploaded (``DependencyDocument/fileName(for:startDate:repointing:version:inputsHash:)``).
    public var dependencyFileName: ScienceFileName? {
        DependencyDocument.fileName(for: product, startDate: startDate, repointing: repointing, version: version, inputsHash: inputsHash)
    }
}

/// The job-deduplication key, computed here and nowhere else (the job stores backfill old rows with
/// ``sqlExpression``, the same text). Following the IMAP SDC's unique index (pipeline.md §6), at most one queued,
/// running or succeeded job exists per key:
///
/// `<instrument>/<level>/<descriptor>/<YYYYMMDD>/<repointing or -1>/<algorithm version>/<inputs hash>/<campaign>`
///
/// The algorithm version is the algorithm's identity: an installed environment's digest plays the role of the
/// container image digest, so new code makes new jobs and the same code on the same inputs is absorbed.
public enum JobUniqueness {
    public static func key(product: ProductNode, startDate: FileDate, repointing: Int?, algorithmVersion: String, inputsHash: String,
                           campaign: Int64) -> String {
        [product.source, product.dataType, product.descriptor, startDate.description, String(repointing ?? -1), algorithmVersion,
         inputsHash, String(campaign)].joined(separator: "/")
    }

    /// ``key(product:startDate:repointing:algorithmVersion:inputsHash:campaign:)`` over the columns of a `jobs` row, in
    /// SQL that SQLite and PostgreSQL both evaluate.
    package static let sqlExpression = """
        instrument || '/' || data_level || '/' || descriptor || '/' || start_date || '/' || CAST(COALESCE(repointing, -1) AS TEXT) || '/' \
        || algorithm_version || '/' || inputs_hash || '/' || CAST(campaign AS TEXT)
        """
}

/// A job about to be created.
public struct JobRequest: Sendable, Hashable {
    public var product: ProductNode
    public var startDate: FileDate
    public var repointing: Int?
    public var algorithm: String
    public var algorithmVersion: String
    public var majorVersion: Int
    public var inputs: ProcessingInputCollection
    public var campaign: Int64
    public var maxAttempts: Int
    /// The products the job makes (``Job/products``).
    public var products: [ProductNode]

    public init(product: ProductNode, startDate: FileDate, repointing: Int? = nil, products: [ProductNode]? = nil, algorithm: String,
                algorithmVersion: String, majorVersion: Int, inputs: ProcessingInputCollection, campaign: Int64 = 0, maxAttempts: Int) {
        self.product = product
        self.startDate = startDate
        self.repointing = repointing
        self.products = products.flatMap { $0.isEmpty ? nil : $0 } ?? [product]
        self.algorithm = algorithm
        self.algorithmVersion = algorithmVersion
        self.majorVersion = majorVersion
        self.inputs = inputs
        self.campaign = campaign
        self.maxAttempts = maxAttempts
    }

    /// The job-deduplication key of the job this request makes (``JobUniqueness``).
    public var uniquenessKey: String {
        JobUniqueness.key(product: product, startDate: startDate, repointing: repointing, algorithmVersion: algorithmVersion,
                          inputsHash: inputs.hash, campaign: campaign)
    }

    /// ``products`` as job stores keep them: a JSON array of ``ProductNode/path``.
    package var productsText: String { Job.productsText(products) }
}

extension Job {
    /// A JSON array of ``ProductNode/path``.
    package static func productsText(_ products: [ProductNode]) -> String {
        JSONValue.array(products.map { .string($0.path) }).serialized()
    }

    /// Parses ``productsText(_:)``; nil when malformed.
    package static func products(fromText text: String) -> [ProductNode]? {
        guard let paths = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else { return nil }
        let nodes = paths.compactMap(ProductNode.init(path:))
        return nodes.count == paths.count && !nodes.isEmpty ? nodes : nil
    }
}

/// Filters for listing jobs.
public struct JobFilter: Sendable {
    public var status: JobStatus?
    public var instrument: Instrument?
    public var dataLevel: DataLevel?
    public var descriptor: String?
    public var startDate: FileDate?
    public var limit = 100

    public init(status: JobStatus? = nil, instrument: Instrument? = nil, dataLevel: DataLevel? = nil, descriptor: String? = nil,
                startDate: FileDate? = nil, limit: Int = 100) {
        self.status = status
        self.instrument = instrument
        self.dataLevel = dataLevel
        self.descriptor = descriptor
        self.startDate = startDate
        self.limit = limit
    }
}
