import SDCCore

/// A reprocessing request received through `/reprocess`, waiting for the pipeline.
public struct ReprocessRequest: Sendable, Hashable {
    public var id: Int64
    public var receivedAt: UTCTime
    public var requestedBy: String
    public var startDate: FileDate
    public var endDate: FileDate
    public var instrument: Instrument?
    public var dataLevel: DataLevel?
    public var descriptor: String?
    public var status: String
    /// `NAME==VERSION` of the installed algorithm the request's jobs run (sdc's extension). Not kept in the request
    /// log: the planner pins the campaign to it in the algorithm registry when it accepts the request.
    public var algorithm: String?

    public init(id: Int64 = 0, receivedAt: UTCTime, requestedBy: String, startDate: FileDate, endDate: FileDate,
                instrument: Instrument?, dataLevel: DataLevel?, descriptor: String?, status: String = "queued", algorithm: String? = nil) {
        self.id = id
        self.receivedAt = receivedAt
        self.requestedBy = requestedBy
        self.startDate = startDate
        self.endDate = endDate
        self.instrument = instrument
        self.dataLevel = dataLevel
        self.descriptor = descriptor
        self.status = status
        self.algorithm = algorithm
    }
}

/// The kinds of release request imap-data-access can send.
public enum ReleaseType: String, Sendable, CaseIterable {
    case release
    case earlyRelease = "early-release"
    case unrelease
}

/// A release request received through `/release`, waiting for the pipeline.
public struct ReleaseRequest: Sendable, Hashable {
    public var id: Int64
    public var receivedAt: UTCTime
    public var requestedBy: String
    public var releaseType: ReleaseType
    /// Storage key of the uploaded manifest.
    public var manifestKey: String
    public var status: String

    public init(id: Int64 = 0, receivedAt: UTCTime, requestedBy: String, releaseType: ReleaseType, manifestKey: String,
                status: String = "queued") {
        self.id = id
        self.receivedAt = receivedAt
        self.requestedBy = requestedBy
        self.releaseType = releaseType
        self.manifestKey = manifestKey
        self.status = status
    }
}

/// Durable record of reprocess and release requests (the pipeline acts on them).
public protocol RequestLog: Sendable {
    func record(_ request: ReprocessRequest) async throws(CatalogError) -> ReprocessRequest
    func record(_ request: ReleaseRequest) async throws(CatalogError) -> ReleaseRequest
    func reprocessRequests() async throws(CatalogError) -> [ReprocessRequest]
    func releaseRequests() async throws(CatalogError) -> [ReleaseRequest]
}
