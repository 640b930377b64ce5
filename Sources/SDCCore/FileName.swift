/// The classes of files the IMAP data center stores, in the order names are classified.
public enum FileClass: String, Sendable, Hashable, Codable, CaseIterable {
    case science, ancillary, spice, quicklook, dependency, release

    /// The class name used by imap-data-access (`ScienceFilePath`, ...).
    public var referenceName: String {
        switch self {
        case .science: "ScienceFilePath"
        case .ancillary: "AncillaryFilePath"
        case .spice: "SPICEFilePath"
        case .quicklook: "QuicklookFilePath"
        case .dependency: "DependencyFilePath"
        case .release: "ReleaseFilePath"
        }
    }

    /// Whether a newly stored file of this class is public (science-like products are embargoed until released).
    public var releasedByDefault: Bool {
        switch self {
        case .science, .quicklook, .dependency: false
        case .ancillary, .release, .spice: true
        }
    }
}

/// A science-shaped name: science (`cdf`, `pkts`), quicklook (`jpg`, `pdf`, `png`) or dependency (`json`) files.
///
/// `imap_<instrument>_<level>_<descriptor>_<YYYYMMDD>[-repointNNNNN|-crNNNNN]_<version>.<extension>`
public struct ScienceFileName: Sendable, Hashable {
    public var instrument: Instrument
    public var dataLevel: DataLevel
    /// Anything but `_`; hyphens by convention.
    public var descriptor: String
    public var startDate: FileDate
    /// The pointing number of a `-repointNNNNN` name.
    public var repointing: Int?
    /// The Carrington rotation of a `-crNNNNN` name.
    public var carringtonRotation: Int?
    public var version: ProductVersion
    public var fileExtension: String

    public init(instrument: Instrument, dataLevel: DataLevel, descriptor: String, startDate: FileDate,
                repointing: Int? = nil, carringtonRotation: Int? = nil, version: ProductVersion, fileExtension: String) {
        self.instrument = instrument
        self.dataLevel = dataLevel
        self.descriptor = descriptor
        self.startDate = startDate
        self.repointing = repointing
        self.carringtonRotation = carringtonRotation
        self.version = version
        self.fileExtension = fileExtension
    }

    /// The file name this value describes.
    public var name: String {
        var interval = ""
        if let repointing { interval = "-repoint" + pad(repointing, 5) }
        if let carringtonRotation { interval = "-cr" + pad(carringtonRotation, 5) }
        return "imap_\(instrument.rawValue)_\(dataLevel.rawValue)_\(descriptor)_\(startDate)\(interval)_\(version).\(fileExtension)"
    }
}

/// An ancillary or release-manifest name:
/// `imap_<instrument>_<descriptor>_<YYYYMMDD>[_<YYYYMMDD>|-repointNNNNN]_vXXX.<extension>`.
public struct AncillaryFileName: Sendable, Hashable {
    public var instrument: Instrument
    public var descriptor: String
    public var startDate: FileDate
    /// Inclusive end of validity; nil means valid from `startDate` onward.
    public var endDate: FileDate?
    public var repointing: Int?
    /// Always a legacy `vXXX` version.
    public var version: ProductVersion
    public var fileExtension: String

    public init(instrument: Instrument, descriptor: String, startDate: FileDate, endDate: FileDate? = nil,
                repointing: Int? = nil, version: ProductVersion, fileExtension: String) {
        self.instrument = instrument
        self.descriptor = descriptor
        self.startDate = startDate
        self.endDate = endDate
        self.repointing = repointing
        self.version = version
        self.fileExtension = fileExtension
    }

    /// The file name this value describes.
    public var name: String {
        var validity = ""
        if let endDate { validity = "_\(endDate)" }
        if let repointing { validity = "-repoint" + pad(repointing, 5) }
        return "imap_\(instrument.rawValue)_\(descriptor)_\(startDate)\(validity)_\(version).\(fileExtension)"
    }
}

/// A parsed, classified IMAP file name with its canonical storage key.
public struct IMAPFileName: Sendable, Hashable, CustomStringConvertible {
    /// The class-specific fields.
    public enum Fields: Sendable, Hashable {
        case science(ScienceFileName)
        case ancillary(AncillaryFileName)
        case spice(SPICEFileName)
    }

    /// The basename exactly as given.
    public let name: String
    public let fileClass: FileClass
    public let fields: Fields

    init(name: String, fileClass: FileClass, fields: Fields) {
        self.name = name
        self.fileClass = fileClass
        self.fields = fields
    }

    /// Science, quicklook and dependency fields.
    public var science: ScienceFileName? {
        if case .science(let value) = fields { value } else { nil }
    }

    /// Ancillary and release fields.
    public var ancillary: AncillaryFileName? {
        if case .ancillary(let value) = fields { value } else { nil }
    }

    public var spice: SPICEFileName? {
        if case .spice(let value) = fields { value } else { nil }
    }

    /// The instrument, for every class but SPICE.
    public var instrument: Instrument? { science?.instrument ?? ancillary?.instrument }

    /// The canonical storage key (`naming.md` §4-6), derived from the name only.
    public var key: String {
        switch fields {
        case .science(let f):
            let folder = "\(f.instrument.rawValue)/\(f.dataLevel.rawValue)/\(pad(f.startDate.year, 4))/\(pad(f.startDate.month, 2))/\(name)"
            switch fileClass {
            case .quicklook: return "imap/quicklook/" + folder
            case .dependency: return "imap/dependency/" + folder
            default: return "imap/" + folder
            }
        case .ancillary(let f):
            return "imap/\(fileClass == .release ? "release" : "ancillary")/\(f.instrument.rawValue)/\(name)"
        case .spice(let f):
            return "imap/spice/\(f.kernelType.directory)/\(name)"
        }
    }

    public var description: String { name }

    /// The most characters a file name may have (a common filesystem limit).
    public static let maximumLength = 255

    /// Classifies a basename as imap-data-access 1.3.0 does (science, ancillary, SPICE, quicklook,
    /// dependency, release; first match wins), with one deliberate difference: names containing a
    /// path separator, a control character or more than 255 bytes are rejected first.
    public static func parse(_ name: String) throws(NamingError) -> IMAPFileName {
        try checkCharacters(of: name)
        var failures: [ClassFailure] = []
        switch ScienceGrammar.parse(name) {
        case .success(let fields):
            let cls = ScienceGrammar.fileClass(forExtension: fields.fileExtension)!
            if cls == .science { return IMAPFileName(name: name, fileClass: .science, fields: .science(fields)) }
            // Quicklook and dependency come after ancillary and SPICE in the classification order.
            if let other = try? classifyAncillaryOrSPICE(name, failures: &failures) { return other }
            return IMAPFileName(name: name, fileClass: cls, fields: .science(fields))
        case .failure(let failure):
            failures.append(failure)
        }
        if let other = try? classifyAncillaryOrSPICE(name, failures: &failures) { return other }
        switch AncillaryGrammar.parse(name, release: true) {
        case .success(let fields): return IMAPFileName(name: name, fileClass: .release, fields: .ancillary(fields))
        case .failure(let failure): failures.append(failure)
        }
        throw ClassFailure.bestError(for: name, among: failures)
    }

    private static func classifyAncillaryOrSPICE(_ name: String, failures: inout [ClassFailure]) throws -> IMAPFileName {
        switch AncillaryGrammar.parse(name, release: false) {
        case .success(let fields): return IMAPFileName(name: name, fileClass: .ancillary, fields: .ancillary(fields))
        case .failure(let failure): failures.append(failure)
        }
        switch SPICEGrammar.parse(name) {
        case .success(let fields): return IMAPFileName(name: name, fileClass: .spice, fields: .spice(fields))
        case .failure(let failure):
            failures.append(failure)
            throw failure
        }
    }

    static func checkCharacters(of name: String) throws(NamingError) {
        if name.isEmpty { throw NamingError(name: name, message: "empty file name") }
        if name.utf8.count > maximumLength {
            throw NamingError(name: name, message: "file name is \(name.utf8.count) bytes long: at most \(maximumLength) are allowed")
        }
        if name == "." || name == ".." { throw NamingError(name: name, message: "'\(name)' is not a file name") }
        for scalar in name.unicodeScalars {
            switch scalar {
            case "/", "\\":
                throw NamingError(name: name, message: "file name '\(name)' contains the path separator '\(scalar)': give a bare file name")
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                throw NamingError(name: name, message: "file name contains the control character U+\(scalar.value.hexString(digits: 4, uppercase: true)): not allowed in names")
            default: continue
            }
        }
    }
}

/// Why one class rejected a name, and how sure we are that the user meant that class.
struct ClassFailure: Error {
    enum Confidence: Int, Comparable {
        /// The name does not have the class's shape at all.
        case shape = 0
        /// The name has the class's shape, but a part is invalid.
        case content = 1

        static func < (lhs: Confidence, rhs: Confidence) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    var confidence: Confidence
    var error: NamingError

    /// The error to report when every class rejected `name`: the one from a class whose shape matched, else a
    /// diagnosis against the science grammar for `imap_` names, else the upstream server's wording.
    static func bestError(for name: String, among failures: [ClassFailure]) -> NamingError {
        if let content = failures.first(where: { $0.confidence == .content }) { return content.error }
        if let diagnosis = ScienceGrammar.diagnose(name) { return diagnosis }
        return NamingError(name: name, message: "\(name) does not match ancillary, science, cadence, or SPICE file naming convention")
    }
}
