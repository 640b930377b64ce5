import SDCCore

/// The catalog tables that `/query` can search.
public enum QueryTable: String, Sendable, CaseIterable {
    case science, quicklook, dependency, ancillary, release

    /// Tables holding science-shaped names (with levels and major/minor versions).
    public var isScienceShaped: Bool { self == .science || self == .quicklook || self == .dependency }

    /// The table that stores files of a class (SPICE kernels have their own query).
    public init?(_ fileClass: FileClass) {
        switch fileClass {
        case .science: self = .science
        case .quicklook: self = .quicklook
        case .dependency: self = .dependency
        case .ancillary: self = .ancillary
        case .release: self = .release
        case .spice: return nil
        }
    }
}

/// Which versions of each series (instrument, level, descriptor, start date, repointing) a science query returns.
public enum VersionSelection: Sendable, Equatable {
    /// Every minor version of the newest major version (the default).
    case newestMajor
    /// Only the newest version (`latest=true`).
    case newest
    /// Every version (when `major_version` is given).
    case all
}

/// A validated `/query` request. Filters are ANDed; dates compare the file's start date only.
public struct FileQuery: Sendable, Equatable {
    public var table: QueryTable = .science
    public var filePath: String?
    public var instrument: Instrument?
    public var dataLevel: DataLevel?
    public var descriptor: String?
    /// File start date on or after this day.
    public var startDate: FileDate?
    /// File start date on or before this day.
    public var endDate: FileDate?
    /// Ingested on or after the start of this day (UTC).
    public var ingestionStartDate: FileDate?
    /// Ingested on or before the end of this day (UTC).
    public var ingestionEndDate: FileDate?
    public var repointing: Int?
    public var majorVersion: Int?
    public var minorVersion: Int?
    /// Ancillary and release tables: the `vXXX` version text.
    public var version: String?
    public var carringtonRotation: Int?
    public var crid: String?
    public var released: Bool?
    public var fileExtension: String?
    public var versions: VersionSelection = .newestMajor
    /// Anonymous callers see released files only.
    public var includeUnreleased = false

    public init(table: QueryTable = .science) {
        self.table = table
    }
}

/// A validated `/spice-query` request.
public struct SPICEQuery: Sendable, Equatable {
    public var fileName: String?
    public var kernelType: SPICEKernelType?
    /// Coverage overlapping [startDate, endDate] (days, inclusive).
    public var startDate: FileDate?
    public var endDate: FileDate?
    public var ingestionStartDate: FileDate?
    public var ingestionEndDate: FileDate?
    public var version: Int?
    /// Only the highest version per file root.
    public var latest = false

    public init() {}
}
