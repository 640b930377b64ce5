import Synchronization

/// A file name under the SWxSOC convention of swxsoc 0.2.3 (`naming.md` Part 2), used by HERMES and PADRE.
///
/// Product names (the mission's standard extension, `.cdf` for HERMES, `.fits` for PADRE):
///
///     <mission>_<shortname>_[<mode>_]<level>[test]_[<descriptor>_]<YYYYMMDDTHHMMSS>_v<X.Y.Z>.<extension>
///
/// Raw names (any other extension, such as `hermes_EEA_l0_2024042-000000_v0.bin`) are read the way swxsoc reads
/// them: one instrument name, short name or alias somewhere in the name, and the first time found in it; the level
/// is the mission's first level.
///
/// sdc agrees with swxsoc 0.2.3 on every name swxsoc reads correctly. Where swxsoc accepts a name that is plainly
/// wrong, sdc rejects it with the reason (see `SWxSOCFileName.deliberateDifferences`).
public struct SWxSOCFileName: Sendable, Hashable, CustomStringConvertible {
    /// Raw telemetry (read heuristically) or a product (read by the strict layout).
    public enum Kind: String, Sendable, Hashable {
        case raw, product

        /// The `class` reported by `sdc name parse`: `raw` or `science`.
        public var className: String { self == .raw ? "raw" : "science" }
    }

    /// The basename exactly as given.
    public let name: String
    public let mission: String
    public let kind: Kind
    public let instrument: MissionInstrument
    /// The instrument mode of a product name (`fast`), if any.
    public let mode: String?
    /// The data level (for raw names, the mission's first level).
    public let level: String
    /// The product is a test file (`<level>test`).
    public let isTest: Bool
    public let descriptor: String?
    public let time: SWxSOCTime
    /// The `X.Y.Z` version of a product; raw names have none.
    public let version: SWxSOCVersion?
    /// The extension without the dot.
    public let fileExtension: String
    /// The canonical storage key (`MissionProfile.StorageLayout.swxsoc`).
    public let key: String

    public var description: String { name }

    /// The differences from swxsoc 0.2.3, each a name swxsoc accepts (or misreads) and sdc rejects.
    public static let deliberateDifferences: [String] = [
        "A product level must be one of the mission's levels, optionally followed by 'test': swxsoc accepts any text after a mode ('hermes_eea_fast_xyz_..._v1.0.0.cdf' is level 'xyz') and any part starting with a level's two letters ('l1x' is level 'l1x').",
        "A level of other than two letters is read as a level: swxsoc compares only a part's first two letters with the levels, so it reads its own 'padre_meddea_raw_survey_..._v1.0.0.fits' as mode 'raw', level 'survey'.",
        "A part after the instrument is a mode only when it is not a level: 'hermes_eea_l1x_l1_..._v1.0.0.cdf' is mode 'l1x', level 'l1' (swxsoc: level 'l1x'); creating a name whose mode is a level is refused, because it could not be read back.",
        "The test flag is read from the level part only ('l1test'): swxsoc also sets it when a mode or descriptor contains 'test' ('latest').",
        "A product version must be 'v' and three dot-separated non-negative integers: swxsoc reads any last part ('v1.0', 'vvabc') and creates 'v-1.2.3'.",
        "A product name has 5 to 7 '_'-separated parts: swxsoc ignores extra parts ('hermes_eea_l1_a_b_c_...') and misreads a name without a level.",
        "Product times are exactly YYYYMMDDTHHMMSS: swxsoc's strptime also takes '20240406T1206' (12:00:06) and '2024046T120621'.",
        "Mode and descriptor parts must not be empty, and created ones hold only letters, digits and '-'.",
        "A raw name must start with the mission's name: swxsoc accepts 'padre_EEA_l0_...bin' and 'xyz_eea_...bin' as HERMES files.",
        "A raw name with the product layout (…_YYYYMMDDTHHMMSS_vX.Y.Z) but another extension is refused: swxsoc reads 'hermes_eea_l1_..._v1.2.3.fits' as a level-0 file.",
        "Digits after any instrument name or alias in a raw name are ignored: swxsoc reads 'padre_get0_...' as instrument 'get0' (its pattern attaches the digits to the last alias only).",
        "Day 366 of a common year (YYYYJJJ) is refused: swxsoc's strptime rolls it over to 1 January of the next year.",
        "Names with a path separator, a control character or more than 255 bytes are refused, as for IMAP.",
    ]

    // MARK: Parsing

    /// Parses `name` under `mission`'s SWxSOC rules.
    public static func parse(_ name: String, mission: MissionProfile) throws(NamingError) -> SWxSOCFileName {
        try IMAPFileName.checkCharacters(of: name)
        let (stem, ext) = splitExtension(name)
        if ext == mission.fileExtension { return try parseProduct(name, stem: stem, mission: mission) }
        return try parseRaw(name, stem: stem, ext: ext, mission: mission)
    }

    /// Python's `os.path.splitext`: the text after the last dot that is not part of leading dots.
    static func splitExtension(_ name: String) -> (stem: Substring, ext: String) {
        guard let dot = name.lastIndex(of: "."), name[..<dot].contains(where: { $0 != "." }) else { return (name[...], "") }
        return (name[..<dot], String(name[name.index(after: dot)...]))
    }

    private static func layout(_ mission: MissionProfile) -> String {
        "\(mission.name)_<instrument>_[<mode>_]<level>[test]_[<descriptor>_]<YYYYMMDDTHHMMSS>_v<X.Y.Z>.\(mission.fileExtension)"
    }

    /// A level part: a level, or a level followed by `test`.
    private static func levelPart(_ text: Substring, mission: MissionProfile) -> (level: String, test: Bool)? {
        if mission.levels.contains(String(text)) { return (String(text), false) }
        if text.hasSuffix("test"), mission.levels.contains(String(text.dropLast(4))) { return (String(text.dropLast(4)), true) }
        return nil
    }

    private static func parseProduct(_ name: String, stem: Substring, mission: MissionProfile) throws(NamingError) -> SWxSOCFileName {
        let parts = stem.split(separator: "_", omittingEmptySubsequences: false)
        let levelChoices = "one of \(mission.levels.joined(separator: ", ")) (optionally followed by 'test')"
        guard parts[0] == mission.name else {
            throw .invalid("mission", parts[0], in: name, expected: "'\(mission.name)'")
        }
        guard parts.count >= 2, let instrument = mission.instruments.first(where: { $0.shortName == parts[1] }) else {
            throw .invalid("instrument shortname", parts.count >= 2 ? parts[1] : "", in: name,
                           expected: "one of \(mission.instruments.map(\.shortName).joined(separator: ", "))")
        }
        guard (5...7).contains(parts.count) else {
            throw NamingError(name: name, message: "\(name) has \(parts.count) '_'-separated parts: expected 5 to 7, as in \(layout(mission))")
        }
        guard let time = SWxSOCTime(compact: parts[parts.count - 2]) else {
            throw .invalid("time", parts[parts.count - 2], in: name, expected: "a real date and time YYYYMMDDTHHMMSS")
        }
        let versionPart = parts[parts.count - 1]
        guard versionPart.hasPrefix("v"), let version = SWxSOCVersion(versionPart.dropFirst()) else {
            throw .invalid("version", versionPart, in: name, expected: "v<X.Y.Z> with three non-negative integers")
        }
        let middle = Array(parts[2..<(parts.count - 2)])
        var mode: Substring?
        var descriptor: Substring?
        let level: (level: String, test: Bool)
        if let first = levelPart(middle[0], mission: mission) {
            guard middle.count <= 2 else {
                throw NamingError(name: name, message: "\(name) has '\(middle[1])_\(middle[2])' after the level: expected at most one descriptor without '_', as in \(layout(mission))")
            }
            level = first
            descriptor = middle.count == 2 ? middle[1] : nil
        } else {
            guard middle.count >= 2 else { throw .invalid("level", middle[0], in: name, expected: levelChoices) }
            guard let second = levelPart(middle[1], mission: mission) else {
                throw .invalid("level", middle[1], in: name, expected: "\(levelChoices) after the mode '\(middle[0])'")
            }
            level = second
            mode = middle[0]
            descriptor = middle.count == 3 ? middle[2] : nil
        }
        if mode?.isEmpty == true { throw .invalid("mode", "", in: name, expected: "a non-empty mode without '_'") }
        if descriptor?.isEmpty == true { throw .invalid("descriptor", "", in: name, expected: "a non-empty descriptor without '_'") }
        return SWxSOCFileName(name: name, mission: mission, kind: .product, instrument: instrument, mode: mode.map(String.init),
                              level: level.level, isTest: level.test, descriptor: descriptor.map(String.init), time: time,
                              version: version, fileExtension: mission.fileExtension)
    }

    private static func parseRaw(_ name: String, stem: Substring, ext: String, mission: MissionProfile) throws(NamingError) -> SWxSOCFileName {
        let lower = name.lowercased()
        guard lower.hasPrefix(mission.name) else {
            throw NamingError(name: name, message: "\(name) is not a \(mission.name) file name: names of \(mission.name) files start with '\(mission.name)'")
        }
        let parts = stem.split(separator: "_", omittingEmptySubsequences: false)
        if parts.count >= 5, parts[parts.count - 1].hasPrefix("v"), SWxSOCVersion(parts[parts.count - 1].dropFirst()) != nil,
           SWxSOCTime(compact: parts[parts.count - 2]) != nil {
            throw .invalid("extension", ext, in: name,
                           expected: "'\(mission.fileExtension)' for a name with the product layout \(layout(mission)) (raw files have another extension but not this layout)")
        }
        let labels = mission.instruments.map(\.name) + mission.instruments.map(\.shortName) + mission.instruments.flatMap(\.aliases)
        let found = RawNamePatterns.instrumentMatches(in: lower, mission: mission.name, labels: labels)
        guard let label = found.first else {
            throw NamingError(name: name, message: "no \(mission.name) instrument found in \(name): expected one of \(labels.joined(separator: ", ")) after the mission name, '_', '-' or '.'")
        }
        guard found.count == 1 else {
            throw NamingError(name: name, message: "several instrument names found in \(name) (\(found.joined(separator: ", "))): expected exactly one")
        }
        guard let instrument = mission.instrument(matching: label.prefix { !$0.isASCII || !$0.isNumber }) else {
            throw NamingError(name: name, message: "instrument '\(label)' in \(name) is not a \(mission.name) instrument")
        }
        let time = try RawNamePatterns.time(in: name)
        return SWxSOCFileName(name: name, mission: mission, kind: .raw, instrument: instrument, mode: nil, level: mission.rawLevel,
                              isTest: false, descriptor: nil, time: time, version: nil, fileExtension: ext)
    }

    private init(name: String, mission: MissionProfile, kind: Kind, instrument: MissionInstrument, mode: String?, level: String,
                 isTest: Bool, descriptor: String?, time: SWxSOCTime, version: SWxSOCVersion?, fileExtension: String) {
        self.name = name
        self.mission = mission.name
        self.kind = kind
        self.instrument = instrument
        self.mode = mode
        self.level = level
        self.isTest = isTest
        self.descriptor = descriptor
        self.time = time
        self.version = version
        self.fileExtension = fileExtension
        let day = "\(pad(time.date.year, 4))/\(pad(time.date.month, 2))/\(pad(time.date.day, 2))"
        let folder: String
        if level == mission.rawLevel {
            folder = "\(level)/\(day)"
        } else {
            let descriptorFolder = descriptor.map { mission.descriptorFolders[$0] ?? $0 } ?? "unknown"
            folder = "\(level)/\(descriptorFolder)/\(day)"
        }
        self.key = "\(mission.name)/\(instrument.name)/\(folder)/\(name)"
    }

    // MARK: Creating

    /// Builds a product name as swxsoc's `create_science_filename` does, refusing what could not be read back.
    public static func create(mission: MissionProfile, instrument: String, time: SWxSOCTime, level: String, version: String,
                              mode: String = "", descriptor: String = "", test: Bool = false) throws(NamingError) -> SWxSOCFileName {
        let label = "\(mission.name) \(instrument) \(level) product"
        guard let inst = mission.instrument(named: instrument) else {
            throw NamingError(name: label, message: "instrument '\(instrument)' is not a \(mission.name) instrument: expected one of \(mission.instruments.map(\.name).joined(separator: ", "))")
        }
        guard mission.levels.contains(level) else {
            throw NamingError(name: label, message: "level '\(level)' is not a \(mission.name) level: expected one of \(mission.levels.joined(separator: ", "))")
        }
        guard SWxSOCVersion(version) != nil else {
            throw NamingError(name: label, message: "version '\(version)' is not formatted correctly: expected X.Y.Z with three non-negative integers")
        }
        for (part, text) in [("mode", mode), ("descriptor", descriptor)] where !text.isEmpty {
            guard text.utf8.allSatisfy({ ASCII.isDigit($0) || $0 == UInt8(ascii: "-") || (($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z")) }) else {
                throw NamingError(name: label, message: "\(part) '\(text)' may hold only letters, digits and '-' (the underscore separates the parts of the name)")
            }
        }
        if !mode.isEmpty, levelPart(Substring(mode), mission: mission) != nil {
            throw NamingError(name: label, message: "mode '\(mode)' reads as a level: the name could not be read back")
        }
        var parts = [mission.name, inst.shortName]
        if !mode.isEmpty { parts.append(mode) }
        parts.append(level + (test ? "test" : ""))
        if !descriptor.isEmpty { parts.append(descriptor) }
        parts += [time.compact, "v" + version]
        return try parse(parts.joined(separator: "_") + "." + mission.fileExtension, mission: mission)
    }

    /// Builds a raw name in the legacy HERMES L0 shape `<mission>_<SHORTNAME>_<raw level>_<YYYYJJJ-HHMMSS>_v<N>.<extension>`.
    public static func createRaw(mission: MissionProfile, instrument: String, time: SWxSOCTime, version: Int = 0,
                                 fileExtension: String = "bin") throws(NamingError) -> SWxSOCFileName {
        let label = "\(mission.name) \(instrument) raw file"
        guard let inst = mission.instrument(named: instrument) else {
            throw NamingError(name: label, message: "instrument '\(instrument)' is not a \(mission.name) instrument: expected one of \(mission.instruments.map(\.name).joined(separator: ", "))")
        }
        guard fileExtension != mission.fileExtension, MissionProfile.isToken(fileExtension, allowHyphen: false), version >= 0 else {
            throw NamingError(name: label, message: "a raw file needs a non-negative version and a lower-case extension other than '\(mission.fileExtension)'")
        }
        let name = "\(mission.name)_\(inst.shortName.uppercased())_\(mission.rawLevel)_\(time.yearDayOfYear)_v\(version).\(fileExtension)"
        return try parse(name, mission: mission)
    }

    // MARK: Output

    /// The parsed fields, in swxsoc's order (`instrument, mode, test, time, level, version, descriptor`) after the
    /// mission, plus the extension. Times are ISO 8601 with milliseconds.
    public var fieldsJSON: JSONValue {
        .object([
            ("mission", .string(mission)), ("instrument", .string(instrument.name)), ("mode", .string(mode)),
            ("test", .bool(isTest)), ("time", .string(time.isot)), ("level", .string(level)),
            ("version", .string(version?.description)), ("descriptor", .string(descriptor)), ("extension", .string(fileExtension)),
        ])
    }
}

/// A product version `X.Y.Z`: X interface, Y quality or calibration, Z reprocessing fix (`v0.*` is pre-release).
public struct SWxSOCVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The three numbers.
    public let numbers: [Int]
    /// The text as written (leading zeros kept).
    public let text: String

    /// Parses exactly three dot-separated runs of ASCII digits.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard part.utf8.count <= 9, let value = ASCII.integer(Array(part.utf8)[...]) else { return nil }
            numbers.append(value)
        }
        self.numbers = numbers
        self.text = String(text)
    }

    public var description: String { text }

    public static func < (lhs: SWxSOCVersion, rhs: SWxSOCVersion) -> Bool { lhs.numbers.lexicographicallyPrecedes(rhs.numbers) }
}

/// A UTC time to the millisecond, as SWxSOC names carry it.
public struct SWxSOCTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let date: FileDate
    /// Seconds since midnight, 0..<86400.
    public let secondOfDay: Int
    public let millisecond: Int

    public init?(date: FileDate, hour: Int, minute: Int, second: Int, millisecond: Int = 0) {
        guard (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second), (0...999).contains(millisecond) else { return nil }
        self.date = date
        self.secondOfDay = hour * 3600 + minute * 60 + second
        self.millisecond = millisecond
    }

    /// Milliseconds since 1970-01-01T00:00:00Z (non-negative), leap seconds not counted.
    public init(unixMilliseconds: Int64) {
        let seconds = unixMilliseconds / 1000
        date = FileDate(ordinalDay: Int(seconds / 86_400) + UTCTime.unixEpochOrdinal)
        secondOfDay = Int(seconds % 86_400)
        millisecond = Int(unixMilliseconds % 1000)
    }

    /// `YYYYMMDDTHHMMSS` exactly, naming a real date and time.
    public init?(compact text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 15, bytes[8] == UInt8(ascii: "T"), let date = FileDate(yyyymmdd: String(decoding: bytes[0..<8], as: UTF8.self)),
              let clock = ASCII.integer(bytes[9...]) else { return nil }
        self.init(date: date, hour: clock / 10000, minute: clock / 100 % 100, second: clock % 100)
    }

    /// ISO 8601 `YYYY-MM-DD[THH:MM:SS[.fff]]` (fractions beyond milliseconds are cut), as the `--time` of `sdc name create`.
    public init?(iso text: some StringProtocol) {
        let pieces = text.split(separator: "T", maxSplits: 1, omittingEmptySubsequences: false)
        let day = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
        guard day.count == 3, ASCII.isDigits(day[0], count: 4), ASCII.isDigits(day[1], count: 2), ASCII.isDigits(day[2], count: 2),
              let date = FileDate(yyyymmdd: day.joined()) else { return nil }
        guard pieces.count == 2 else {
            self.init(date: date, hour: 0, minute: 0, second: 0)
            return
        }
        let fraction = pieces[1].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let clock = fraction[0].split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 3, clock.allSatisfy({ ASCII.isDigits($0, count: 2) }),
              let hour = ASCII.integer(clock[0]), let minute = ASCII.integer(clock[1]), let second = ASCII.integer(clock[2])
        else { return nil }
        var millisecond = 0
        if fraction.count == 2 {
            guard !fraction[1].isEmpty, fraction[1].utf8.allSatisfy(ASCII.isDigit),
                  let milliseconds = ASCII.integer((fraction[1] + "00").prefix(3)) else { return nil }
            millisecond = milliseconds
        }
        self.init(date: date, hour: hour, minute: minute, second: second, millisecond: millisecond)
    }

    private var clock: (Int, Int, Int) { (secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60) }

    /// `YYYYMMDDTHHMMSS` (milliseconds cut, as swxsoc's `strftime` does).
    public var compact: String {
        let (h, m, s) = clock
        return date.description + "T" + pad(h, 2) + pad(m, 2) + pad(s, 2)
    }

    /// `YYYYJJJ-HHMMSS`, the legacy HERMES L0 form.
    public var yearDayOfYear: String {
        let (h, m, s) = clock
        return pad(date.year, 4) + pad(date.dayOfYear, 3) + "-" + pad(h, 2) + pad(m, 2) + pad(s, 2)
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmm`.
    public var isot: String {
        let (h, m, s) = clock
        return date.isoDate + "T" + pad(h, 2) + ":" + pad(m, 2) + ":" + pad(s, 2) + "." + pad(millisecond, 3)
    }

    public var description: String { isot }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var unixMilliseconds: Int64 {
        (Int64(date.ordinal - UTCTime.unixEpochOrdinal) * 86_400 + Int64(secondOfDay)) * 1000 + Int64(millisecond)
    }

    public static func < (lhs: SWxSOCTime, rhs: SWxSOCTime) -> Bool { lhs.unixMilliseconds < rhs.unixMilliseconds }
}

/// swxsoc 0.2.3's raw-name search (`_extract_instrument_name`, `_extract_time`).
enum RawNamePatterns {
    private struct Pattern: @unchecked Sendable {
        // `Regex<AnyRegexOutput>` is immutable after construction; Sendable conformance is missing on Linux.
        let regex: Regex<AnyRegexOutput>
        init(_ source: String) { regex = try! Regex(source).asciiOnlyDigits() }
        init(regex: Regex<AnyRegexOutput>) { self.regex = regex.asciiOnlyDigits() }
    }

    /// The instrument patterns compiled so far, by source: one per mission configuration, so compiling (which costs far
    /// more than matching) happens once and not for every name parsed.
    private static let instrumentPatterns = Mutex<[String: Pattern]>([:])

    /// swxsoc's `findall` of `(?:^|[_\-.]|<mission>)(<label>|...|<last label>(?:\d+)?)(?:[_\-.]|$|\d)` on the
    /// lower-cased name: non-overlapping matches, left to right, each consuming its delimiters.
    static func instrumentMatches(in lower: String, mission: String, labels: [String]) -> [String] {
        let alternatives = labels.map { $0.lowercased() }.joined(separator: "|")
        // Labels and mission names are checked to be lower-case letters and digits, so they need no escaping.
        let source = #"(?:^|[_\-.]|"# + mission + ")(" + alternatives + #"(?:\d+)?)(?:[_\-.]|$|\d)"#
        let pattern: Pattern
        if let compiled = instrumentPatterns.withLock({ $0[source] }) {
            pattern = compiled
        } else {
            guard let regex = try? Regex(source) else { return [] }
            pattern = Pattern(regex: regex)
            instrumentPatterns.withLock { $0[source] = pattern }
        }
        return lower.matches(of: pattern.regex).compactMap { $0.output[1].substring.map(String.init) }
    }

    /// swxsoc's time patterns in its order. Its ISO pattern (`YYYY-MM-DD[-_ T]hh:mm:ss`) is left out: in 0.2.3 it
    /// never yields a time (no strptime format fits it and the fallback calls a `sunpy.parse_time` that does not exist).
    private static let timePatterns: [Pattern] = [
        Pattern(#"\d{13}"#), Pattern(#"\d{8}[-_ T]?\d{6}"#), Pattern(#"\d{7}[-_]\d{6}"#), Pattern(#"\d{12}"#), Pattern(#"\d{8}T\d{6}"#),
    ]

    /// The first time found: for each pattern in turn, its first match read as Unix milliseconds (13 digits) or with
    /// swxsoc's strptime formats `%Y%m%dT%H%M%S`, `%Y%j-%H%M%S`, `%Y%j_%H%M%S`, `%y%m%d%H%M%S`.
    static func time(in name: String) throws(NamingError) -> SWxSOCTime {
        for pattern in timePatterns {
            guard let match = try? pattern.regex.firstMatch(in: name) else { continue }
            if let time = readTime(Array(name[match.range].utf8)) { return time }
        }
        throw NamingError(name: name, message: "no recognizable time in \(name): expected YYYYJJJ-HHMMSS, YYYYMMDDTHHMMSS, YYMMDDhhmmss or 13-digit Unix milliseconds")
    }

    private static func readTime(_ bytes: [UInt8]) -> SWxSOCTime? {
        func number(_ range: Range<Int>) -> Int? { ASCII.integer(bytes[range]) }
        switch bytes.count {
        case 13:
            return number(0..<13).map { SWxSOCTime(unixMilliseconds: Int64($0)) }
        case 15 where bytes[8] == UInt8(ascii: "T"):
            return SWxSOCTime(compact: String(decoding: bytes, as: UTF8.self))
        case 14 where bytes[7] == UInt8(ascii: "-") || bytes[7] == UInt8(ascii: "_"):
            guard let year = number(0..<4), let dayOfYear = number(4..<7), let date = FileDate(year: year, dayOfYear: dayOfYear),
                  let clock = number(8..<14) else { return nil }
            return SWxSOCTime(date: date, hour: clock / 10000, minute: clock / 100 % 100, second: clock % 100)
        case 12:
            guard let date = FileDate(yymmdd: String(decoding: bytes[0..<6], as: UTF8.self)), let clock = number(6..<12) else { return nil }
            return SWxSOCTime(date: date, hour: clock / 10000, minute: clock / 100 % 100, second: clock % 100)
        default:
            return nil
        }
    }
}
