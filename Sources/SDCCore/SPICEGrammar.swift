/// The SPICE kernel types the data center accepts (the 22 types of `/spice-query?type=`).
public enum SPICEKernelType: String, CaseIterable, Sendable, Codable {
    case attitudeHistory = "attitude_history"
    case attitudePredict = "attitude_predict"
    case pointingAttitude = "pointing_attitude"
    case loPivotAttitude = "lo_pivot_attitude"
    case spin
    case repoint
    case ephemerisReconstructed = "ephemeris_reconstructed"
    case ephemerisNominal = "ephemeris_nominal"
    case ephemerisPredicted = "ephemeris_predicted"
    case ephemeris90Days = "ephemeris_90days"
    case ephemerisLong = "ephemeris_long"
    case ephemerisLaunch = "ephemeris_launch"
    case planetaryEphemeris = "planetary_ephemeris"
    case lagrangePoint = "lagrange_point"
    case planetaryConstants = "planetary_constants"
    case earthAttitude = "earth_attitude"
    case leapseconds
    case spacecraftClock = "spacecraft_clock"
    case imapFrames = "imap_frames"
    case scienceFrames = "science_frames"
    case metakernel
    case thruster

    /// The folder under `imap/spice/` where kernels of this type are stored.
    public var directory: String {
        switch self {
        case .attitudeHistory, .attitudePredict, .pointingAttitude, .loPivotAttitude: "ck"
        case .spin: "spin"
        case .repoint: "repoint"
        case .ephemerisReconstructed, .ephemerisNominal, .ephemerisPredicted, .ephemeris90Days, .ephemerisLong,
             .ephemerisLaunch, .planetaryEphemeris, .lagrangePoint: "spk"
        case .planetaryConstants, .earthAttitude: "pck"
        case .leapseconds: "lsk"
        case .spacecraftClock: "sclk"
        case .imapFrames, .scienceFrames: "fk"
        case .metakernel: "mk"
        case .thruster: "activities"
        }
    }

    /// The type text captured by the grammar's `type` group, mapped case-sensitively (`file_validation.py:658-709`).
    static let byMatchedText: [String: SPICEKernelType] = [
        "ah.bc": .attitudeHistory, "ap.bc": .attitudePredict, "imap_dps": .pointingAttitude,
        "imap_lopivot": .loPivotAttitude, "spin.csv": .spin, "spin": .spin, "repoint.csv": .repoint,
        "repoint": .repoint, "recon": .ephemerisReconstructed, "nom": .ephemerisNominal, "pred": .ephemerisPredicted,
        "90days": .ephemeris90Days, "long": .ephemerisLong, "launch": .ephemerisLaunch, "de": .planetaryEphemeris,
        "L1_de": .lagrangePoint, "pck": .planetaryConstants, "bpc": .earthAttitude, "naif": .leapseconds,
        "imap_sclk_": .spacecraftClock, "tf": .imapFrames, "imap_science": .scienceFrames, "tm": .metakernel,
        "mk": .metakernel, "sff": .thruster,
    ]
}

/// A SPICE kernel name with the coverage and version its name states.
public struct SPICEFileName: Sendable, Hashable {
    public var kernelType: SPICEKernelType
    /// Start of coverage from the name, if it has one.
    public var startDate: FileDate?
    /// End of coverage from the name, if it has one.
    public var endDate: FileDate?
    /// The prediction start of an `earth_...bpc` kernel.
    public var predictionStartDate: FileDate?
    public var repointing: Int?
    /// The version digits as written (`"009"`, `"01"`, even `""`); nil when the name carries none.
    public var version: String?
    /// Whether the grammar that matched has a version at all (`earth_...bpc` does not).
    public var hasVersionField: Bool
    /// The text after the last `.`, case preserved.
    public var fileExtension: String
    /// The name with its version digits removed; versions of one kernel share it (`imap_2025_118_2025_120_.ah.bc`).
    public var fileRoot: String
}

/// The thirteen SPICE kernel regexes of imap-data-access 1.3.0 (`file_validation.py:727-1033`), tried in order
/// and anchored at the start only. The `type` text of the first regex that matches is looked up case-sensitively;
/// if it is not a known type the name is rejected without trying later regexes.
enum SPICEGrammar {
    private struct Pattern: @unchecked Sendable {
        // `Regex<AnyRegexOutput>` is immutable after construction; Sendable conformance is missing on Linux.
        let regex: Regex<AnyRegexOutput>
        /// Fixed type text for patterns whose `type` group is a literal.
        init(_ source: String, ignoresCase: Bool = true) {
            let regex = try! Regex(source)
            self.regex = ignoresCase ? regex.ignoresCase() : regex
        }
    }

    private static let patterns: [Pattern] = [
        Pattern(#"(imap)_(?<start_year_doy>[\d]{4}_[\d]{3})_(?<end_year_doy>[\d]{4}_[\d]{3})_(?<version>[\d]+)\.(?<type>ah.bc|ap.bc|spin.csv|spin)"#),
        Pattern(#"(?<type>imap_dps)_(?<start_year_doy>\d{4}_\d{3})_(?<end_year_doy>[\d]{4}_[\d]{3})_(?<version>\d+)\.(?<extension>ah\.bc)"#),
        Pattern(#"(?<type>imap_lopivot)-repoint(?<repointing>\d{5})_(?<start_year_doy>\d{4}_\d{3})_(?<end_year_doy>\d{4}_\d{3})_(?<version>\d+)\.(?<extension>bc)\Z"#),
        Pattern(#"(imap)_(?<end_year_doy>[\d]{4}_[\d]{3})_(?<version>[\d]+)\.(?<type>repoint.csv|repoint)"#),
        Pattern(#"(imap)_(?<type>[a-zA-Z0-9\-]+)_(?:od\d{3}_)?(?<start_date>[\d]{8})_(?<end_date>[\d]{8})(?:|_v(?<version>[\d]*))\.(?<extension>bsp)"#),
        Pattern(#"(?<type>L1_de|[a-zA-Z\-_]+)(?<version>[\d]+)\.(?<extension>tls|tpc|bsp|tsc)"#),
        Pattern(#"(imap)_(?<version>[\d]+)\.(?<type>tf)"#),
        Pattern(#"(imap)_(?<start_year_doy>[\d]{4}_[\d]{3})_(?<end_year_doy>[\d]{4}_[\d]{3})_([a-zA-Z0-9\-_]+)_(?<version>[\d]{2})\.(?<type>sff)"#),
        Pattern(#"(imap)_sdc_metakernel_(?<start_year>[\d]{4})_v(?<version>[\d]{3})\.(?<type>tm)"#, ignoresCase: false),
        Pattern(#"imap_(?<start_year_doy>\d{4}_\d{3})_a(?<version>\d{2})\.spice\.(?<type>mk)"#),
        Pattern(#"IMAP_(?<start_year_doy>\d{4}_\d{3})_e(?<version>\d{2})\.(?<type>mk)"#),
        Pattern(#"(?<type>imap_science)_(?<version>[\d]+)\.tf"#),
        Pattern(#"earth_(?<start_date>\d{6})_(?<end_date>\d{6})_(?<prediction_start_date>\d{6})\.(?<type>bpc)"#),
    ]

    static func parse(_ name: String) -> Result<SPICEFileName, ClassFailure> {
        for pattern in patterns {
            guard let match = try? pattern.regex.prefixMatch(in: name) else { continue }
            return build(from: match, name: name).mapError { ClassFailure(confidence: .content, error: $0) }
        }
        return .failure(ClassFailure(confidence: .shape, error: NamingError(name: name, message: "no SPICE kernel pattern matches")))
    }

    private static func build(from match: Regex<AnyRegexOutput>.Match, name: String) -> Result<SPICEFileName, NamingError> {
        func group(_ key: String) -> Substring? { match.output[key]?.substring }
        let typeText = group("type").map(String.init) ?? ""
        guard let kernelType = SPICEKernelType.byMatchedText[typeText] else {
            return .failure(.invalid("SPICE kernel type", typeText, in: name,
                                     expected: "one of \(SPICEKernelType.byMatchedText.keys.sorted().joined(separator: ", ")) (case-sensitive)"))
        }
        var dates: [String: FileDate] = [:]
        for key in ["start_year_doy", "end_year_doy", "start_date", "end_date", "prediction_start_date", "start_year"] {
            guard let text = group(key) else { continue }
            let date: FileDate? = switch key {
            case "start_year_doy", "end_year_doy": FileDate(yearDayOfYear: text)
            case "start_year": Int(text).flatMap { FileDate(year: $0, month: 1, day: 1) }
            default: text.count == 6 ? FileDate(yymmdd: text) : FileDate(yyyymmdd: text)
            }
            guard let date else {
                return .failure(.invalid("date", text, in: name, expected: "a real date (\(key.replacingUnderscores))"))
            }
            dates[key] = date
        }
        let versionRange = match.output["version"]?.range
        var fileRoot = name
        if let versionRange { fileRoot.removeSubrange(versionRange) }
        let ext = name.split(separator: ".", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        return .success(SPICEFileName(
            kernelType: kernelType,
            startDate: dates["start_year_doy"] ?? dates["start_date"] ?? dates["start_year"],
            endDate: dates["end_year_doy"] ?? dates["end_date"],
            predictionStartDate: dates["prediction_start_date"],
            repointing: group("repointing").flatMap { Int($0) },
            version: group("version").map(String.init),
            hasVersionField: match.output["version"] != nil,
            fileExtension: ext,
            fileRoot: fileRoot))
    }
}

private extension String {
    var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
