import ArgumentParser
import Foundation
import SDCCore

/// `sdc name parse NAME...` and `sdc name create ...`: file names under a mission's grammar (IMAP by default).
struct NameCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "name",
        abstract: "Work with mission file names (IMAP, HERMES, PADRE, or missions from a configuration file).",
        subcommands: [Parse.self, Create.self]
    )

    /// `--mission NAME` and `--missions-config FILE`, shared by the subcommands.
    struct MissionOptions: ParsableArguments {
        @Option(help: "The mission whose grammar applies: imap (default), hermes, padre, or one defined in --missions-config.")
        var mission = "imap"

        @Option(help: "A missions configuration file (JSON) defining further missions.")
        var missionsConfig: String?

        /// The selected mission; configuration errors name the mission and the field.
        func profile() throws -> MissionProfile {
            var configuration: MissionConfiguration?
            if let missionsConfig {
                let bytes: [UInt8]
                do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: missionsConfig))) } catch {
                    throw ValidationError("cannot read the missions configuration \(missionsConfig): \(error.localizedDescription)")
                }
                do { configuration = try MissionConfiguration(json: bytes) } catch { throw ValidationError("\(missionsConfig): \(error)") }
            }
            do { return try MissionSet.resolve(names: [mission], configuration: configuration).missions[0] } catch {
                throw ValidationError(error.description)
            }
        }
    }

    struct Parse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse file names: print each name's class, fields and storage key, or why it is invalid.",
            discussion: "Exits with status 1 if any name is invalid."
        )

        @OptionGroup var missionOptions: MissionOptions

        @Argument(help: "File names (basenames) to parse.")
        var names: [String]

        @Flag(help: "Print one JSON object per name: {\"name\", \"valid\", \"class\", \"key\", \"fields\", \"error\"}.")
        var json = false

        func run() async throws {
            let mission = try missionOptions.profile()
            var allValid = true
            for name in names {
                let result = Result { () throws(NamingError) in try mission.parse(name) }
                if case .failure = result { allValid = false }
                print(json ? Self.jsonLine(name: name, result: result) : Self.textBlock(name: name, result: result))
            }
            if !allValid { throw ExitCode(1) }
        }

        static func jsonLine(name: String, result: Result<MissionFileName, NamingError>) -> String {
            let object: JSONValue = switch result {
            case .success(let file):
                .object([("name", .string(name)), ("valid", .bool(true)), ("class", .string(file.className)),
                         ("key", .string(file.key)), ("fields", file.fieldsJSON), ("error", .null)])
            case .failure(let error):
                .object([("name", .string(name)), ("valid", .bool(false)), ("class", .null), ("key", .null),
                         ("fields", .null), ("error", .string(error.message))])
            }
            return object.serialized()
        }

        static func textBlock(name: String, result: Result<MissionFileName, NamingError>) -> String {
            switch result {
            case .failure(let error):
                return "\(name): invalid: \(error.message)"
            case .success(let file):
                var lines = ["\(name): \(file.className)", "  key: \(file.key)"]
                if case .object(let members) = file.fieldsJSON {
                    for (field, value) in members { lines.append("  \(field): \(value.displayText)") }
                }
                return lines.joined(separator: "\n")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a SWxSOC file name (HERMES, PADRE, ...) as swxsoc's create_science_filename does.",
            discussion: "Prints the name. With --raw, prints a raw name <mission>_<SHORTNAME>_<raw level>_<YYYYJJJ-HHMMSS>_v<N>.<ext>."
        )

        @OptionGroup var missionOptions: MissionOptions

        @Option(help: "The instrument's name (eea, nemisis, ...).")
        var instrument: String

        @Option(help: "The time, ISO 8601: YYYY-MM-DD[THH:MM:SS[.fff]].")
        var time: String

        @Option(help: "The data level (products).")
        var level: String?

        @Option(help: "The version: X.Y.Z for products, an integer N for --raw.")
        var version: String

        @Option(help: "The instrument mode (optional).")
        var mode = ""

        @Option(help: "The descriptor (optional).")
        var descriptor = ""

        @Flag(help: "Mark the product as a test file (<level>test).")
        var test = false

        @Flag(help: "Create a raw name instead of a product name.")
        var raw = false

        @Option(help: "The extension of a raw name.")
        var rawExtension = "bin"

        func run() async throws {
            let mission = try missionOptions.profile()
            guard mission.grammar == .swxsoc else {
                throw ValidationError("sdc name create makes SWxSOC names; mission '\(mission.name)' uses the IMAP grammar")
            }
            guard let when = SWxSOCTime(iso: time) else { throw ValidationError("--time '\(time)' is not YYYY-MM-DD[THH:MM:SS[.fff]]") }
            do {
                if raw {
                    guard let number = Int(version), number >= 0 else { throw ValidationError("--version of a raw name is a non-negative integer") }
                    print(try SWxSOCFileName.createRaw(mission: mission, instrument: instrument, time: when, version: number,
                                                       fileExtension: rawExtension).name)
                } else {
                    guard let level else { throw ValidationError("--level is required for a product name") }
                    print(try SWxSOCFileName.create(mission: mission, instrument: instrument, time: when, level: level, version: version,
                                                    mode: mode, descriptor: descriptor, test: test).name)
                }
            } catch let error as NamingError {
                throw ValidationError(error.message)
            }
        }
    }
}

extension JSONValue {
    /// The value as a person reads it: strings bare, null as `-`.
    var displayText: String {
        switch self {
        case .null: "-"
        case .string(let text): text
        default: serialized()
        }
    }
}
