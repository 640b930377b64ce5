import SDCCore

/// A query parameter the API cannot accept; the message is shown to the caller as the reason for a 400.
public struct QueryParameterError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension FileQuery {
    /// The parameters `/query` accepts for a table: every column except `id`, plus the date-range names, and for
    /// science-shaped tables `version` and `latest` (imap-api.md §3.1).
    public static func acceptedParameters(for table: QueryTable) -> [String] {
        var names = ["table", "file_path", "instrument"]
        if table.isScienceShaped {
            names += ["data_level", "descriptor", "start_date", "end_date", "ingestion_start_date", "ingestion_end_date",
                      "repointing", "version", "major_version", "minor_version", "cr", "crid", "released", "extension", "latest"]
        } else {
            names += ["descriptor", "start_date", "end_date", "ingestion_start_date", "ingestion_end_date", "repointing",
                      "version", "released", "extension"]
        }
        return names
    }

    /// Validates `/query` parameters (name-value pairs in request order).
    public init(parameters: [(String, String)]) throws(QueryParameterError) {
        let tableName = parameters.last { $0.0 == "table" }?.1 ?? "science"
        guard let table = QueryTable(rawValue: tableName) else {
            throw QueryParameterError("table '\(tableName)' is not valid: expected one of science, quicklook, dependency, ancillary, release (SPICE kernels: /spice-query)")
        }
        self.init(table: table)
        let accepted = Set(Self.acceptedParameters(for: table))
        for (name, value) in parameters {
            guard accepted.contains(name) else {
                let list = Self.acceptedParameters(for: table).map { "'\($0)'" }.joined(separator: ", ")
                throw QueryParameterError("\(name) is not a valid query parameter for \(table.rawValue) table. Valid query parameters are: [\(list)]")
            }
            try apply(name: name, value: value)
        }
        if majorVersion != nil { versions = .all }
    }

    private mutating func apply(name: String, value: String) throws(QueryParameterError) {
        switch name {
        case "table": break
        case "file_path": filePath = value
        case "instrument":
            guard let instrument = Instrument(rawValue: value) else {
                throw QueryParameterError("instrument '\(value)' is not valid: expected one of \(Instrument.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.instrument = instrument
        case "data_level":
            guard let level = DataLevel(rawValue: value) else {
                throw QueryParameterError("data_level '\(value)' is not valid: expected one of \(DataLevel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            dataLevel = level
        case "descriptor": descriptor = value
        case "start_date": startDate = try Self.date(name, value)
        case "end_date": endDate = try Self.date(name, value)
        case "ingestion_start_date": ingestionStartDate = try Self.date(name, value)
        case "ingestion_end_date": ingestionEndDate = try Self.date(name, value)
        case "repointing": repointing = try Self.repointing(value)
        case "major_version": majorVersion = try Self.integer(name, value, in: 0...999)
        case "minor_version": minorVersion = try Self.integer(name, value, in: 0...9999)
        case "cr": carringtonRotation = try Self.integer(name, value, in: 0...99999)
        case "crid": crid = value
        case "released": released = try Self.boolean(name, value)
        case "extension": fileExtension = value
        case "latest": if try Self.boolean(name, value) { versions = .newest }
        case "version":
            if table.isScienceShaped {
                try applyScienceVersion(value)
            } else {
                version = value
            }
        default: break
        }
    }

    /// `vXXX` filters the minor version; `vMMM.mmmm` both; `latest` asks for the newest.
    private mutating func applyScienceVersion(_ value: String) throws(QueryParameterError) {
        if value == "latest" {
            versions = .newest
        } else if let parsed = ProductVersion(value) {
            minorVersion = parsed.minor
            if let major = parsed.major { majorVersion = major }
        } else {
            throw QueryParameterError("Invalid 'version' value. Use format 'vMMM.mmmm' or 'vXXX'.")
        }
    }

    static func date(_ name: String, _ value: String) throws(QueryParameterError) -> FileDate {
        guard let date = FileDate(lenient: value) else {
            throw QueryParameterError("\(name) '\(value)' is not a valid date: expected YYYYMMDD")
        }
        return date
    }

    static func integer(_ name: String, _ value: String, in range: ClosedRange<Int>) throws(QueryParameterError) -> Int {
        guard let number = Int(value), range.contains(number) else {
            throw QueryParameterError("\(name) '\(value)' is not valid: expected an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// An integer, or `repointNNNNN` as the client's help text suggests.
    static func repointing(_ value: String) throws(QueryParameterError) -> Int {
        let digits = value.hasPrefix("repoint") ? String(value.dropFirst(7)) : value
        return try integer("repointing", digits, in: 0...99999)
    }

    static func boolean(_ name: String, _ value: String) throws(QueryParameterError) -> Bool {
        switch value.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw QueryParameterError("\(name) '\(value)' is not valid: expected true or false")
        }
    }
}

extension SPICEQuery {
    /// The parameters `/spice-query` accepts: the server's own plus the client's `start_date`/`end_date`/`version`.
    public static let acceptedParameters = ["file_name", "type", "start_time", "end_time", "start_date", "end_date",
                                            "start_ingest_date", "end_ingest_date", "version", "latest"]

    /// Validates `/spice-query` parameters.
    public init(parameters: [(String, String)]) throws(QueryParameterError) {
        self.init()
        for (name, value) in parameters {
            switch name {
            case "file_name": fileName = value
            case "type":
                guard let type = SPICEKernelType(rawValue: value) else {
                    throw QueryParameterError("type '\(value)' is not a SPICE kernel type: expected one of \(SPICEKernelType.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                kernelType = type
            case "start_time": startDate = try Self.j2000Day(name, value)
            case "end_time": endDate = try Self.j2000Day(name, value)
            case "start_date": startDate = try FileQuery.date(name, value)
            case "end_date": endDate = try FileQuery.date(name, value)
            case "start_ingest_date": ingestionStartDate = try FileQuery.date(name, value)
            case "end_ingest_date": ingestionEndDate = try FileQuery.date(name, value)
            case "version":
                let digits = value.hasPrefix("v") ? String(value.dropFirst()) : value
                version = try FileQuery.integer(name, digits, in: 0...Int(Int32.max))
            case "latest": latest = try FileQuery.boolean(name, value)
            default:
                let list = Self.acceptedParameters.map { "'\($0)'" }.joined(separator: ", ")
                throw QueryParameterError("\(name) is not a valid query parameter for spice table. Valid query parameters are: [\(list)]")
            }
        }
    }

    /// The UTC day of an ephemeris time in seconds past J2000 (2000-01-01T11:58:55.816Z; leap seconds since
    /// 2000 shift this by under a minute, which day-granular coverage ignores).
    static func j2000Day(_ name: String, _ value: String) throws(QueryParameterError) -> FileDate {
        guard let seconds = Double(value), seconds.isFinite, abs(seconds) < 1e11 else {
            throw QueryParameterError("\(name) '\(value)' is not valid: expected seconds past J2000")
        }
        return UTCTime(secondsSince1970: Int64((946_727_935.816 + seconds).rounded(.down))).date
    }
}

extension SPICEQuery {
    /// The parameters of the `/repoint-table`, `/spin-table` and `/thruster-table` endpoints (imap-api.md §3.7).
    public static let tableParameters = ["file_path", "start_date", "end_date", "latest", "start_ingest_date", "end_ingest_date"]

    /// Validates the parameters of a table endpoint for kernels of `type` (`repoint`, `spin` or `thruster`).
    public init(table type: SPICEKernelType, parameters: [(String, String)]) throws(QueryParameterError) {
        self.init()
        kernelType = type
        for (name, value) in parameters {
            switch name {
            case "file_path": fileName = value.hasPrefix("imap/spice/") ? String(value.dropFirst("imap/spice/".count)) : value
            case "start_date": startDate = try FileQuery.date(name, value)
            case "end_date": endDate = try FileQuery.date(name, value)
            case "start_ingest_date": ingestionStartDate = try FileQuery.date(name, value)
            case "end_ingest_date": ingestionEndDate = try FileQuery.date(name, value)
            case "latest": latest = try FileQuery.boolean(name, value)
            default:
                let list = Self.tableParameters.map { "'\($0)'" }.joined(separator: ", ")
                throw QueryParameterError("\(name) is not a valid query parameter for \(type.rawValue) table. Valid query parameters are: [\(list)]")
            }
        }
    }
}
