/// One mission a data center hosts: its file-name grammar, instruments, levels, storage layout and time
/// conventions. A mission is configuration, not code: the built-ins are `imap` (the IMAP SDC's rules, the
/// default), `hermes` and `padre` (the SWxSOC rules of swxsoc 0.2.3, `naming.md` Part 2), and a configuration
/// file can add further SWxSOC-style missions (`MissionConfiguration`).
public struct MissionProfile: Sendable, Hashable, CustomStringConvertible {
    /// How a mission's file names are built and read.
    public enum Grammar: String, Sendable, Hashable {
        /// imap-data-access 1.3.0: science, ancillary, SPICE, quicklook, dependency and release names (`naming.md` Part 1).
        case imap
        /// swxsoc 0.2.3: `<mission>_<inst>_[<mode>_]<level>[test]_[<descriptor>_]<YYYYMMDDTHHMMSS>_v<X.Y.Z>.<ext>`
        /// for products, and free-form raw names with an instrument and a time in them (`naming.md` Part 2).
        case swxsoc
    }

    /// Where a parsed file is kept in the object store.
    public enum StorageLayout: String, Sendable, Hashable {
        /// `imap/<instrument>/<level>/<YYYY>/<MM>/<name>` and the other IMAP prefixes (`naming.md` §4-6).
        case imap
        /// `<mission>/<instrument>/<level>/[<descriptor folder>/]<YYYY>/<MM>/<DD>/<name>`: the key inside swxsoc's
        /// per-instrument bucket `<mission>-<instrument>` (`naming.md` §12), under a `<mission>/<instrument>/` prefix.
        case swxsoc
    }

    /// How times are written in the mission's file names.
    public enum TimeConvention: String, Sendable, Hashable {
        /// A calendar day `YYYYMMDD` (with optional `-repointNNNNN`/`-crNNNNN`); keys are foldered by year and month.
        case imapDays
        /// A second `YYYYMMDDTHHMMSS` in product names; raw names carry `YYYYJJJ-HHMMSS`, `YYMMDDhhmmss`,
        /// `YYYYMMDDTHHMMSS` or Unix milliseconds; keys are foldered by year, month and day.
        case swxsocSeconds
    }

    /// The mission's name as it starts its file names (`imap`, `hermes`).
    public let name: String
    public let grammar: Grammar
    /// The instruments, in configuration order.
    public let instruments: [MissionInstrument]
    /// The data levels, in processing order; for SWxSOC missions the first is the level of raw files.
    public let levels: [String]
    /// The extension of the mission's standard products, without the dot (`cdf`; `fits` for PADRE). SWxSOC names
    /// with any other extension are raw names.
    public let fileExtension: String
    public let storage: StorageLayout
    public let timeConvention: TimeConvention
    /// Folder names used for descriptors in storage keys (`spec` is kept under `spectrum/`); others keep their text.
    public let descriptorFolders: [String: String]

    /// Creates a mission after checking every field; errors name the mission and the field.
    public init(name: String, grammar: Grammar, instruments: [MissionInstrument], levels: [String], fileExtension: String,
                descriptorFolders: [String: String] = [:]) throws(MissionConfigurationError) {
        guard MissionProfile.isToken(name, allowHyphen: false), name.first?.isLetter == true else {
            throw MissionConfigurationError(mission: name, field: "name", message: "must be lower-case letters and digits, starting with a letter")
        }
        func fail(_ field: String, _ message: String) -> MissionConfigurationError {
            MissionConfigurationError(mission: name, field: field, message: message)
        }
        guard !levels.isEmpty else { throw fail("levels", "must list at least one level") }
        for level in levels where !MissionProfile.isToken(level, allowHyphen: false) || level.hasSuffix("test") {
            throw fail("levels", "level '\(level)' must be lower-case letters and digits, not ending in 'test'")
        }
        guard Set(levels).count == levels.count else { throw fail("levels", "a level is listed twice") }
        guard MissionProfile.isToken(fileExtension, allowHyphen: false) else {
            throw fail("file_extension", "'\(fileExtension)' must be lower-case letters and digits, without the dot")
        }
        guard !instruments.isEmpty else { throw fail("instruments", "must list at least one instrument") }
        var seen: [String: String] = [:]
        for instrument in instruments {
            for label in [instrument.name, instrument.shortName] + instrument.aliases {
                guard MissionProfile.isToken(label, allowHyphen: false) else {
                    throw fail("instruments", "instrument '\(instrument.name)': '\(label)' must be lower-case letters and digits")
                }
                if let owner = seen[label], owner != instrument.name {
                    throw fail("instruments", "'\(label)' names both '\(owner)' and '\(instrument.name)'")
                }
                seen[label] = instrument.name
            }
        }
        for (descriptor, folder) in descriptorFolders where !MissionProfile.isToken(folder, allowHyphen: true) || descriptor.contains("_") {
            throw fail("descriptor_folders", "'\(descriptor)' -> '\(folder)' must be a descriptor without '_' and a folder name")
        }
        self.name = name
        self.grammar = grammar
        self.instruments = instruments
        self.levels = levels
        self.fileExtension = fileExtension
        self.storage = grammar == .imap ? .imap : .swxsoc
        self.timeConvention = grammar == .imap ? .imapDays : .swxsocSeconds
        self.descriptorFolders = descriptorFolders
    }

    public var description: String { name }

    /// The level of raw files (SWxSOC: the first level).
    public var rawLevel: String { levels[0] }

    /// The instrument whose name is `name` (not its short name or alias).
    public func instrument(named name: String) -> MissionInstrument? { instruments.first { $0.name == name } }

    /// The instrument a file-name part stands for: its name, short name or an alias, compared in lower case.
    public func instrument(matching label: some StringProtocol) -> MissionInstrument? {
        let lower = label.lowercased()
        return instruments.first { $0.shortName == lower } ?? instruments.first { $0.name == lower }
            ?? instruments.first { $0.aliases.contains(lower) }
    }

    /// The next level after `level`, or nil at the last level.
    public func level(after level: String) -> String? {
        guard let index = levels.firstIndex(of: level), index + 1 < levels.count else { return nil }
        return levels[index + 1]
    }

    /// Parses a basename under this mission's grammar.
    public func parse(_ name: String) throws(NamingError) -> MissionFileName {
        switch grammar {
        case .imap: return .imap(try IMAPFileName.parse(name))
        case .swxsoc: return .swxsoc(try SWxSOCFileName.parse(name, mission: self))
        }
    }

    /// Whether `name` is written for this mission: it starts with the mission's name (any case), or, for IMAP,
    /// it is one of the SPICE kernels whose names do not start with `imap` (`naif0012.tls`, `earth_...bpc`).
    public func claims(_ name: String) -> Bool {
        if name.lowercased().hasPrefix(self.name) { return true }
        guard grammar == .imap, let file = try? IMAPFileName.parse(name) else { return false }
        return file.fileClass == .spice
    }

    /// Lower-case ASCII letters and digits (and `-` when allowed), non-empty.
    static func isToken(_ text: String, allowHyphen: Bool) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || ASCII.isDigit(byte) || (allowHyphen && byte == UInt8(ascii: "-"))
        }
    }

    // MARK: Built-in missions

    /// IMAP: the imap-data-access 1.3.0 grammar, unchanged.
    public static let imap: MissionProfile = try! MissionProfile(
        name: "imap", grammar: .imap,
        instruments: Instrument.allCases.map { try! MissionInstrument(name: $0.rawValue) },
        levels: DataLevel.allCases.map(\.rawValue), fileExtension: "cdf")

    /// The descriptor folders of swxsoc's storage keys (`sdc_aws_utils.aws.create_s3_file_key`).
    static let swxsocDescriptorFolders = ["spec": "spectrum", "hk": "housekeeping"]

    /// HERMES as swxsoc 0.2.3 configures it: levels `l0 l1 ql l2 l3`, products `.cdf`.
    public static let hermes: MissionProfile = try! MissionProfile(
        name: "hermes", grammar: .swxsoc,
        instruments: [
            try! MissionInstrument(name: "eea", shortName: "eea", fullName: "Electron Electrostatic Analyzer", targetName: "EEA"),
            try! MissionInstrument(name: "nemisis", shortName: "nem",
                                   fullName: "Noise Eliminating Magnetometer Instrument in a Small Integrated System", targetName: "NEM"),
            try! MissionInstrument(name: "merit", shortName: "mrt", fullName: "Miniaturized Electron pRoton Telescope", targetName: "MERIT"),
            try! MissionInstrument(name: "spani", shortName: "spn", fullName: "Solar Probe Analyzer for Ions", targetName: "SPANI"),
        ],
        levels: ["l0", "l1", "ql", "l2", "l3"], fileExtension: "cdf", descriptorFolders: swxsocDescriptorFolders)

    /// PADRE as swxsoc 0.2.3 configures it: levels `raw l0 l1 ql l2 l3`, products `.fits`, raw-name aliases.
    public static let padre: MissionProfile = try! MissionProfile(
        name: "padre", grammar: .swxsoc,
        instruments: [
            try! MissionInstrument(name: "meddea", shortName: "meddea", fullName: "Measuring Directivity to Determine Electron Anisotropy",
                                   targetName: "MEDDEA", aliases: ["mda", "mdu"]),
            try! MissionInstrument(name: "sharp", shortName: "sharp", fullName: "Solar HARd X-ray Polarimeter",
                                   targetName: "SHARP", aliases: ["sp", "shp"]),
            try! MissionInstrument(name: "craft", shortName: "craft", fullName: "Spacecraft", targetName: "CRAFT", aliases: ["get"]),
        ],
        levels: ["raw", "l0", "l1", "ql", "l2", "l3"], fileExtension: "fits", descriptorFolders: swxsocDescriptorFolders)

    /// The built-in missions, by name.
    public static let builtIn: [String: MissionProfile] = ["imap": imap, "hermes": hermes, "padre": padre]
}

/// One instrument of a mission.
public struct MissionInstrument: Sendable, Hashable {
    /// The instrument's name (`nemisis`): its storage folder and the name the API and processing use.
    public let name: String
    /// The name in product file names (`nem`).
    public let shortName: String
    public let fullName: String
    /// The name in CDF `Descriptor`/target attributes (`NEM`).
    public let targetName: String
    /// Other names seen in raw file names (`mda`, `mdu` for MEDDEA).
    public let aliases: [String]
    /// The Python package that processes the instrument's files (`<package>.calibration.process_file`);
    /// swxsoc's default is `<mission>_<instrument>`, and nil here means that default.
    public let package: String?

    public init(name: String, shortName: String? = nil, fullName: String? = nil, targetName: String? = nil,
                aliases: [String] = [], package: String? = nil) throws(MissionConfigurationError) {
        if let package, !MissionInstrument.isModuleName(package) {
            throw MissionConfigurationError(mission: nil, field: "instruments",
                                            message: "instrument '\(name)': package '\(package)' is not a Python module name")
        }
        self.name = name
        self.shortName = shortName ?? name
        self.fullName = fullName ?? name
        self.targetName = targetName ?? name.uppercased()
        self.aliases = aliases
        self.package = package
    }

    /// The Python package that processes this instrument's files for `mission`.
    public func packageName(mission: String) -> String { package ?? "\(mission)_\(name)" }

    /// Dotted Python identifiers (`hermes_eea`, `pkg.sub`).
    static func isModuleName(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.allSatisfy { part in
            guard let first = part.utf8.first, !ASCII.isDigit(first) else { return false }
            return part.utf8.allSatisfy { ASCII.isDigit($0) || $0 == UInt8(ascii: "_") || (($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z")) }
        }
    }
}

/// A mission's configuration is wrong. The message names the mission and the field.
public struct MissionConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The mission, when known.
    public let mission: String?
    /// The configuration field (`levels`, `instruments`, ...).
    public let field: String
    public let message: String

    public init(mission: String?, field: String, message: String) {
        self.mission = mission
        self.field = field
        self.message = message
    }

    public var description: String {
        if let mission { "mission '\(mission)': field '\(field)': \(message)" } else { "missions configuration: field '\(field)': \(message)" }
    }
}
