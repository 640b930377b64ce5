import SDCCore

/// One `name=value` pair of a query string, kept in the order imap-data-access sends them.
public struct QueryItem: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(name)=\(value)" }
}

extension [QueryItem] {
    /// `application/x-www-form-urlencoded` as Python's `urlencode` writes it (`quote_plus`: space as `+`).
    var formEncoded: String {
        map { FormEncoding.quotePlus($0.name) + "=" + FormEncoding.quotePlus($0.value) }.joined(separator: "&")
    }
}

/// The catalog tables the query commands address.
public enum CatalogTable: String, CaseIterable, Sendable {
    case science, ancillary, spice
}

/// Filters of `GET /query`, named after the keyword arguments of imap-data-access's `query()`. Values are the
/// strings a user typed; `requestItems()` checks them exactly as the Python client does.
public struct FileQueryParameters: Sendable, Hashable {
    public var table: CatalogTable
    public var instrument: String?
    public var dataLevel: String?
    public var descriptor: String?
    public var startDate: String?
    public var endDate: String?
    public var ingestionStartDate: String?
    public var ingestionEndDate: String?
    /// `repointNNNNN` or an integer; sent as an integer.
    public var repointing: String?
    /// `vXXX`, or `latest` for the newest version per series.
    public var version: String?
    public var majorVersion: String?
    public var minorVersion: String?
    public var fileExtension: String?

    public init(table: CatalogTable = .science, instrument: String? = nil, dataLevel: String? = nil,
                descriptor: String? = nil, startDate: String? = nil, endDate: String? = nil,
                ingestionStartDate: String? = nil, ingestionEndDate: String? = nil, repointing: String? = nil,
                version: String? = nil, majorVersion: String? = nil, minorVersion: String? = nil,
                fileExtension: String? = nil) {
        self.table = table
        self.instrument = instrument
        self.dataLevel = dataLevel
        self.descriptor = descriptor
        self.startDate = startDate
        self.endDate = endDate
        self.ingestionStartDate = ingestionStartDate
        self.ingestionEndDate = ingestionEndDate
        self.repointing = repointing
        self.version = version
        self.majorVersion = majorVersion
        self.minorVersion = minorVersion
        self.fileExtension = fileExtension
    }

    /// Whether the newest version per series must be picked from the response (`version=latest` on a
    /// non-science table; the server resolves it for science).
    public var needsClientSideLatest: Bool { version == "latest" && table != .science }

    /// The validated query string items, in imap-data-access's order, or the `ValueError` it raises.
    public func requestItems() throws(SDCClientError) -> [QueryItem] {
        let latest = version == "latest"
        let version = latest ? nil : self.version
        let filters: [(String, String?)] = [
            ("instrument", instrument), ("data_level", dataLevel), ("descriptor", descriptor),
            ("start_date", startDate), ("end_date", endDate), ("ingestion_start_date", ingestionStartDate),
            ("ingestion_end_date", ingestionEndDate), ("repointing", repointing), ("version", version),
            ("major_version", majorVersion), ("minor_version", minorVersion), ("extension", fileExtension),
        ]
        guard filters.contains(where: { $0.1 != nil }) else {
            throw .invalidArgument("At least one query parameter must be provided. Run 'query -h' for more information.")
        }
        try validate(version: version)

        var items = [QueryItem("table", table.rawValue)]
        for case let (name, value?) in filters {
            items.append(QueryItem(name, name == "repointing" ? try Self.repointingNumber(value) : value))
        }
        if latest && table == .science { items.append(QueryItem("latest", "true")) }
        return items
    }

    /// `_validate_query_parameters`, check for check and message for message.
    private func validate(version: String?) throws(SDCClientError) {
        try QueryValidation.check(instrument: instrument)
        try QueryValidation.check(dataLevel: dataLevel)
        try QueryValidation.check(date: startDate, name: "start date")
        try QueryValidation.check(date: endDate, name: "end date")
        try QueryValidation.check(date: ingestionStartDate, name: "ingestion start date")
        try QueryValidation.check(date: ingestionEndDate, name: "ingestion end date")
        if let repointing {
            _ = try Self.repointingNumber(repointing)
        } else if let version, !QueryValidation.isMinorOnlyVersion(version) {
            throw .invalidArgument("Not a valid version, use format 'vXXX'.")
        }
        if let majorVersion, !QueryValidation.isDigits(majorVersion) {
            throw .invalidArgument("Not a valid major_version, use an integer.")
        }
        if let minorVersion, !QueryValidation.isDigits(minorVersion) {
            throw .invalidArgument("Not a valid minor_version, use an integer.")
        }
        if let fileExtension {
            let valid: [String]
            switch table {
            case .science: valid = ["cdf", "pkts"]
            case .ancillary: valid = ["cdf", "csv", "dat", "json", "pgm", "tsv", "xlsx", "zip"]
            case .spice: throw .invalidArgument("Not a valid table.")
            }
            guard valid.contains(fileExtension) else {
                let choices = "{" + valid.map { PythonText.repr($0) }.joined(separator: ", ") + "}"
                throw .invalidArgument("Not a valid extension for '\(table.rawValue)', choose from \(choices).")
            }
        }
    }

    /// `repointNNNNN` → `NNNNN`, else `int(value)`, as the decimal text Python sends.
    private static func repointingNumber(_ value: String) throws(SDCClientError) -> String {
        if QueryValidation.isRepointingName(value) { return PythonText.integer(String(value.suffix(5)))! }
        guard let number = PythonText.integer(value) else {
            throw .invalidArgument("Not a valid repointing, use format repoint<num>, where <num> is a 5 digit integer.")
        }
        return number
    }
}

/// Filters of `GET /spice-query` (`spice_query()` of imap-data-access).
public struct SPICEQueryParameters: Sendable, Hashable {
    public var startDate: String?
    public var endDate: String?
    public var ingestionStartDate: String?
    public var ingestionEndDate: String?
    /// The kernel type (`ephemeris_predicted`, ...); required.
    public var kernelType: String?
    /// A version, or `latest` for the newest version of each kernel.
    public var version: String?

    public init(startDate: String? = nil, endDate: String? = nil, ingestionStartDate: String? = nil,
                ingestionEndDate: String? = nil, kernelType: String? = nil, version: String? = nil) {
        self.startDate = startDate
        self.endDate = endDate
        self.ingestionStartDate = ingestionStartDate
        self.ingestionEndDate = ingestionEndDate
        self.kernelType = kernelType
        self.version = version
    }

    /// The query string items in imap-data-access's order: `latest=true` replaces `version=latest`, and the
    /// ingestion dates move to the end as `start_ingest_date`/`end_ingest_date`. Values are not validated.
    public func requestItems() throws(SDCClientError) -> [QueryItem] {
        var items: [QueryItem] = []
        for case let (name, value?) in [("start_date", startDate), ("end_date", endDate), ("type", kernelType)] {
            items.append(QueryItem(name, value))
        }
        if let version {
            if version == "latest" {
                guard !items.isEmpty || ingestionStartDate != nil || ingestionEndDate != nil else {
                    throw .invalidArgument("One other parameter must be run with 'version'")
                }
                items.append(QueryItem("latest", "true"))
            } else {
                items.append(QueryItem("version", version))
            }
        }
        guard kernelType != nil else {
            throw .invalidArgument("The 'type' parameter is required for SPICE queries. Run 'query -h' for more information.")
        }
        if let ingestionStartDate { items.append(QueryItem("start_ingest_date", ingestionStartDate)) }
        if let ingestionEndDate { items.append(QueryItem("end_ingest_date", ingestionEndDate)) }
        return items
    }
}

/// Parameters of `POST /reprocess` (`reprocess()` of imap-data-access).
public struct ReprocessParameters: Sendable, Hashable {
    public var startDate: String
    public var endDate: String
    public var instrument: String?
    public var dataLevel: String?
    public var descriptor: String?
    /// sdc's extension: `NAME==VERSION` of an installed algorithm that the reprocessed jobs run (default: the newest
    /// installed, or the version the pipeline configuration pins).
    public var algorithm: String?

    public init(startDate: String, endDate: String, instrument: String? = nil, dataLevel: String? = nil,
                descriptor: String? = nil, algorithm: String? = nil) {
        self.startDate = startDate
        self.endDate = endDate
        self.instrument = instrument
        self.dataLevel = dataLevel
        self.descriptor = descriptor
        self.algorithm = algorithm
    }

    /// The validated query string, ending in `reprocessing=True`, or the `ValueError` Python raises.
    public func requestItems() throws(SDCClientError) -> [QueryItem] {
        guard !startDate.isEmpty, !endDate.isEmpty else {
            throw .invalidArgument("Start date and end date are required for a reprocessing Event.")
        }
        if let dataLevel, !dataLevel.isEmpty {
            guard let instrument, !instrument.isEmpty, let descriptor, !descriptor.isEmpty else {
                throw .invalidArgument("If data_level is provided, instrument and descriptor are required.")
            }
        } else if instrument?.isEmpty ?? true, let descriptor, !descriptor.isEmpty {
            throw .invalidArgument("If descriptor is provided, instrument must also be provided.")
        }
        try QueryValidation.check(instrument: instrument)
        try QueryValidation.check(dataLevel: dataLevel)
        try QueryValidation.check(date: startDate, name: "start date")
        try QueryValidation.check(date: endDate, name: "end date")
        var items = [QueryItem("start_date", startDate), QueryItem("end_date", endDate)]
        for case let (name, value?) in [("instrument", instrument), ("data_level", dataLevel), ("descriptor", descriptor), ("algorithm", algorithm)] {
            items.append(QueryItem(name, value))
        }
        items.append(QueryItem("reprocessing", "True"))
        return items
    }
}

/// The value checks shared by queries and reprocessing requests.
enum QueryValidation {
    static func check(instrument: String?) throws(SDCClientError) {
        guard let instrument, Instrument(rawValue: instrument) == nil else { return }
        throw .invalidArgument(
            "Not a valid instrument, please choose from " + Instrument.allCases.map(\.rawValue).joined(separator: ", "))
    }

    static func check(dataLevel: String?) throws(SDCClientError) {
        guard let dataLevel, DataLevel(rawValue: dataLevel) == nil else { return }
        throw .invalidArgument("Not a valid data level, choose from " + DataLevel.allCases.map(\.rawValue).joined(separator: ", "))
    }

    /// `datetime.strptime(date, "%Y%m%d")` must succeed (lenient: `2024011` is accepted).
    static func check(date: String?, name: String) throws(SDCClientError) {
        guard let date, FileDate(lenient: date) == nil else { return }
        throw .invalidArgument("Not a valid \(name), use format 'YYYYMMDD'.")
    }

    /// `v\d{3}`.
    static func isMinorOnlyVersion(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 4 && bytes[0] == UInt8(ascii: "v") && isDigits(bytes[1...])
    }

    /// `repoint\d{5}`.
    static func isRepointingName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 12 && bytes.starts(with: "repoint".utf8) && isDigits(bytes[7...])
    }

    /// `str.isdigit()` for ASCII text: non-empty, digits only.
    static func isDigits(_ text: String) -> Bool { isDigits(Array(text.utf8)[...]) }

    private static func isDigits(_ bytes: ArraySlice<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}

/// Percent-encoding as Python's `urllib.parse` and `requests` apply it, on the shared encoder of SDCCore.
enum FormEncoding {
    /// `quote_plus`: letters, digits and `_.-~` kept, space as `+`, everything else `%XX` of its UTF-8 bytes.
    static func quotePlus(_ text: String) -> String { text.percentEncoded(spaceAsPlus: true) }

    /// A URL path as `requests` sends it: unreserved characters, sub-delimiters, `:`, `@` and `/` kept, everything
    /// else `%XX`.
    static func quotePath(_ text: String) -> String { text.percentEncoded(safe: "!$&'()*+,;=:@/") }
}

extension FileQueryParameters {
    /// The query that finds the science or ancillary file `fileName` (`query --filename`): its table,
    /// instrument, level, descriptor, start date (as both date bounds), repointing (science), version and
    /// extension.
    ///
    /// imap-data-access 1.3.0 builds the same parameters but then fails without sending them; sdc sends them.
    public init(fileName: String) throws(SDCClientError) {
        let name: IMAPFileName
        do {
            name = try IMAPFileName.parse(fileName)
        } catch {
            throw .invalidArgument("Invalid file type for \(fileName). It does not matchany file formats.")
        }
        switch (name.fileClass, name.fields) {
        case (.science, .science(let science)):
            let date = science.startDate.description
            self.init(
                table: .science, instrument: science.instrument.rawValue, dataLevel: science.dataLevel.rawValue,
                descriptor: science.descriptor, startDate: date, endDate: date,
                repointing: science.repointing.map(String.init),
                version: science.version.major == nil ? science.version.description : nil,
                majorVersion: science.version.major.map(String.init),
                minorVersion: science.version.major == nil ? nil : String(science.version.minor),
                fileExtension: science.fileExtension)
        case (.ancillary, .ancillary(let ancillary)):
            let date = ancillary.startDate.description
            self.init(
                table: .ancillary, instrument: ancillary.instrument.rawValue, descriptor: ancillary.descriptor,
                startDate: date, endDate: date, version: ancillary.version.description,
                fileExtension: ancillary.fileExtension)
        default:
            throw .invalidArgument("Unrecognized file path type.")
        }
    }
}
