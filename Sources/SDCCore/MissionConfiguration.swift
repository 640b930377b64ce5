/// The missions one data center hosts, in order; the first is the default.
public struct MissionSet: Sendable, Hashable {
    public let missions: [MissionProfile]

    /// Creates a set; a mission may appear once.
    public init(_ missions: [MissionProfile]) throws(MissionConfigurationError) {
        guard !missions.isEmpty else { throw MissionConfigurationError(mission: nil, field: "missions", message: "enable at least one mission") }
        var names = Set<String>()
        for mission in missions where !names.insert(mission.name).inserted {
            throw MissionConfigurationError(mission: mission.name, field: "missions", message: "the mission is enabled twice")
        }
        self.missions = missions
    }

    /// IMAP alone: what `sdc serve` runs without `--missions`.
    public static let imapOnly = try! MissionSet([.imap])

    /// The names, in order.
    public var names: [String] { missions.map(\.name) }

    /// Whether IMAP is among the missions.
    public var hostsIMAP: Bool { missions.contains { $0.grammar == .imap } }

    /// The enabled mission called `name`.
    public func mission(named name: String) -> MissionProfile? { missions.first { $0.name == name } }

    /// The enabled mission a basename is written for (the longest mission name it starts with), if any.
    public func owner(of name: String) -> MissionProfile? {
        missions.filter { $0.claims(name) }.max { $0.name.count < $1.name.count }
    }

    /// The built-in mission a basename is written for, when it is not one of these: used to say "this is a HERMES
    /// name, and HERMES is not enabled here" instead of a grammar error.
    public func unhostedOwner(of name: String) -> MissionProfile? {
        guard owner(of: name) == nil else { return nil }
        return MissionProfile.builtIn.values.filter { $0.claims(name) }.max { $0.name.count < $1.name.count }
    }

    /// Resolves `--missions imap,hermes` against the built-in missions and those a configuration file defines.
    /// Without names, the configuration's missions (or IMAP alone) are enabled.
    public static func resolve(names: [String]?, configuration: MissionConfiguration? = nil) throws(MissionConfigurationError) -> MissionSet {
        let defined = configuration?.missions ?? []
        guard let names else { return defined.isEmpty ? .imapOnly : try MissionSet(defined) }
        var missions: [MissionProfile] = []
        for name in names {
            let trimmed = name.trimmingASCIISpaces
            if let mission = defined.first(where: { $0.name == trimmed }) ?? MissionProfile.builtIn[trimmed] {
                missions.append(mission)
            } else {
                let known = (MissionProfile.builtIn.keys.sorted() + defined.map(\.name)).joined(separator: ", ")
                throw MissionConfigurationError(mission: trimmed, field: "missions", message: "unknown mission: expected one of \(known), or define it in the configuration file")
            }
        }
        return try MissionSet(missions)
    }
}

/// A missions configuration file (JSON):
///
///     {"missions": ["imap", "hermes",
///                   {"name": "reach", "file_extension": "cdf", "levels": ["l0", "l1"],
///                    "instruments": [{"name": "dosimeter", "shortname": "dos", "aliases": ["rdos"], "package": "reach_dos"}]},
///                   {"name": "hermes", "algorithms": {"eea": "hermes-eea==0.1.0"}}]}
///
/// A string enables a built-in mission. An object defines a SWxSOC-style mission; an object named after a built-in
/// SWxSOC mission starts from it and replaces the fields it gives (for example the instruments' `package`).
/// `algorithms` maps an instrument (by name) to the installed algorithm (`sdc algorithms install NAME SPEC`,
/// referenced as `NAME` or `NAME==VERSION`) whose environment runs that instrument's package.
/// IMAP is built in and can only be enabled.
public struct MissionConfiguration: Sendable, Hashable {
    /// The missions, in file order.
    public let missions: [MissionProfile]
    /// Per mission, the installed algorithm (`NAME` or `NAME==VERSION`) that runs each listed instrument's package.
    public let algorithms: [String: [String: String]]

    public init(missions: [MissionProfile], algorithms: [String: [String: String]] = [:]) {
        self.missions = missions
        self.algorithms = algorithms
    }

    /// Reads a configuration document; every error names the mission and the field.
    public init(json bytes: [UInt8]) throws(MissionConfigurationError) {
        let document: JSONValue
        do { document = try JSONValue(parsing: bytes) } catch {
            throw MissionConfigurationError(mission: nil, field: "missions", message: "not valid JSON: \(error)")
        }
        guard case .array(let entries)? = document["missions"] else {
            throw MissionConfigurationError(mission: nil, field: "missions", message: "expected an object with a 'missions' list")
        }
        missions = try entries.map { entry throws(MissionConfigurationError) in try MissionConfiguration.mission(from: entry) }
        _ = try MissionSet(missions)
        var algorithms: [String: [String: String]] = [:]
        for (entry, mission) in zip(entries, missions) {
            if let value = entry["algorithms"] { algorithms[mission.name] = try Self.algorithms(value, of: mission) }
        }
        self.algorithms = algorithms
    }

    private static let fields: Set<String> = ["name", "grammar", "file_extension", "levels", "instruments", "descriptor_folders", "algorithms"]

    /// `{"<instrument>": "NAME[==VERSION]"}`: each key one of the mission's instruments, each value an algorithm reference.
    private static func algorithms(_ value: JSONValue, of mission: MissionProfile) throws(MissionConfigurationError) -> [String: String] {
        func fail(_ message: String) -> MissionConfigurationError {
            MissionConfigurationError(mission: mission.name, field: "algorithms", message: message)
        }
        guard case .object(let pairs) = value else { throw fail("expected an object of instrument -> installed algorithm (NAME or NAME==VERSION)") }
        var result: [String: String] = [:]
        for (name, reference) in pairs {
            guard let instrument = mission.instrument(named: name) else {
                throw fail("'\(name)' is not a \(mission.name) instrument: expected one of \(mission.instruments.map(\.name).joined(separator: ", "))")
            }
            guard case .string(let text) = reference, !text.isEmpty, !text.contains(where: { $0 == " " || $0 == "/" }) else {
                throw fail("'\(name)' must map to an installed algorithm, NAME or NAME==VERSION, not \(reference.serialized())")
            }
            result[instrument.name] = text
        }
        return result
    }
    private static let instrumentFields: Set<String> = ["name", "shortname", "fullname", "targetname", "aliases", "package"]

    private static func mission(from entry: JSONValue) throws(MissionConfigurationError) -> MissionProfile {
        if case .string(let name) = entry {
            guard let mission = MissionProfile.builtIn[name] else {
                throw MissionConfigurationError(mission: name, field: "name", message: "not a built-in mission (\(MissionProfile.builtIn.keys.sorted().joined(separator: ", "))): define it with an object")
            }
            return mission
        }
        guard case .object(let members) = entry, case .string(let name)? = entry["name"] else {
            throw MissionConfigurationError(mission: nil, field: "name", message: "each mission is a built-in name or an object with a 'name'")
        }
        func fail(_ field: String, _ message: String) -> MissionConfigurationError {
            MissionConfigurationError(mission: name, field: field, message: message)
        }
        for (key, _) in members where !fields.contains(key) {
            throw fail(key, "unknown field: expected \(fields.sorted().joined(separator: ", "))")
        }
        let base = MissionProfile.builtIn[name]
        if base?.grammar == .imap { throw fail("name", "IMAP is built in: enable it with the string \"imap\"") }
        if let grammar = entry["grammar"], grammar != .string("swxsoc") { throw fail("grammar", "only \"swxsoc\" can be configured") }
        let levels = try strings(entry["levels"], field: "levels", mission: name) ?? base?.levels
        let fileExtension = try string(entry["file_extension"], field: "file_extension", mission: name) ?? base?.fileExtension
        var instruments = base?.instruments
        if let list = entry["instruments"] {
            guard case .array(let items) = list else { throw fail("instruments", "expected a list of objects") }
            instruments = try items.map { item throws(MissionConfigurationError) in try instrument(from: item, mission: name) }
        }
        var folders = base?.descriptorFolders ?? MissionProfile.swxsocDescriptorFolders
        if let value = entry["descriptor_folders"] {
            guard case .object(let pairs) = value else { throw fail("descriptor_folders", "expected an object of descriptor -> folder") }
            folders = [:]
            for (descriptor, folder) in pairs {
                guard case .string(let text) = folder else { throw fail("descriptor_folders", "'\(descriptor)' must map to a string") }
                folders[descriptor] = text
            }
        }
        guard let levels else { throw fail("levels", "missing") }
        guard let fileExtension else { throw fail("file_extension", "missing") }
        guard let instruments else { throw fail("instruments", "missing") }
        do {
            return try MissionProfile(name: name, grammar: .swxsoc, instruments: instruments, levels: levels,
                                      fileExtension: fileExtension.hasPrefix(".") ? String(fileExtension.dropFirst()) : fileExtension,
                                      descriptorFolders: folders)
        } catch {
            throw MissionConfigurationError(mission: name, field: error.field, message: error.message)
        }
    }

    private static func instrument(from item: JSONValue, mission: String) throws(MissionConfigurationError) -> MissionInstrument {
        guard case .object(let members) = item, case .string(let name)? = item["name"] else {
            throw MissionConfigurationError(mission: mission, field: "instruments", message: "each instrument is an object with a 'name'")
        }
        for (key, _) in members where !instrumentFields.contains(key) {
            throw MissionConfigurationError(mission: mission, field: "instruments", message: "instrument '\(name)': unknown field '\(key)': expected \(instrumentFields.sorted().joined(separator: ", "))")
        }
        do {
            return try MissionInstrument(
                name: name, shortName: string(item["shortname"], field: "instruments", mission: mission),
                fullName: string(item["fullname"], field: "instruments", mission: mission),
                targetName: string(item["targetname"], field: "instruments", mission: mission),
                aliases: strings(item["aliases"], field: "instruments", mission: mission) ?? [],
                package: string(item["package"], field: "instruments", mission: mission))
        } catch {
            throw MissionConfigurationError(mission: mission, field: error.field, message: error.message)
        }
    }

    private static func string(_ value: JSONValue?, field: String, mission: String) throws(MissionConfigurationError) -> String? {
        guard let value else { return nil }
        guard case .string(let text) = value else { throw MissionConfigurationError(mission: mission, field: field, message: "expected a string, got \(value.serialized())") }
        return text
    }

    private static func strings(_ value: JSONValue?, field: String, mission: String) throws(MissionConfigurationError) -> [String]? {
        guard let value else { return nil }
        guard case .array(let items) = value else { throw MissionConfigurationError(mission: mission, field: field, message: "expected a list of strings") }
        return try items.map { item throws(MissionConfigurationError) in
            guard case .string(let text) = item else { throw MissionConfigurationError(mission: mission, field: field, message: "expected a list of strings, got \(item.serialized())") }
            return text
        }
    }
}

extension String {
    /// The text without leading and trailing ASCII spaces.
    var trimmingASCIISpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
