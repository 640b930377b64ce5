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
    /// The version the job's outputs are named with; fixed when the job is created so that retries never make a
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
    public var attempts: Int
    public var maxAttempts: Int
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
    package init(id: Int64, status: JobStatus, product: ProductNode, startDate: FileDate, repointing: Int?, version: ProductVersion,
                 algorithm: String, algorithmVersion: String, inputs: String, inputsHash: String, campaign: Int64, attempts: Int,
                 maxAttempts: Int, workerID: String?, leaseExpiresAt: UTCTime?, notBefore: UTCTime, createdAt: UTCTime,
                 startedAt: UTCTime?, finishedAt: UTCTime?, log: String, outputs: [String], error: String?) {
        self.id = id
        self.status = status
        self.product = product
        self.startDate = startDate
        self.repointing = repointing
        self.version = version
        self.algorithm = algorithm
        self.algorithmVersion = algorithmVersion
        self.inputs = inputs
        self.inputsHash = inputsHash
        self.campaign = campaign
        self.attempts = attempts
        self.maxAttempts = maxAttempts
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

    public init(product: ProductNode, startDate: FileDate, repointing: Int? = nil, algorithm: String, algorithmVersion: String,
                majorVersion: Int, inputs: ProcessingInputCollection, campaign: Int64 = 0, maxAttempts: Int) {
        self.product = product
        self.startDate = startDate
        self.repointing = repointing
        self.algorithm = algorithm
        self.algorithmVersion = algorithmVersion
        self.majorVersion = majorVersion
        self.inputs = inputs
        self.campaign = campaign
        self.maxAttempts = maxAttempts
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
