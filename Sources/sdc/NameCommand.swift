import ArgumentParser
import SDCCore

/// `sdc name parse NAME...`: classify file names with the IMAP grammar.
struct NameCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "name",
        abstract: "Work with IMAP file names.",
        subcommands: [Parse.self]
    )

    struct Parse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse file names: print each name's class, fields and storage key, or why it is invalid.",
            discussion: "Exits with status 1 if any name is invalid."
        )

        @Argument(help: "File names (basenames) to parse.")
        var names: [String]

        @Flag(help: "Print one JSON object per name: {\"name\", \"valid\", \"class\", \"key\", \"fields\", \"error\"}.")
        var json = false

        func run() async throws {
            var allValid = true
            for name in names {
                let result = Result { () throws(NamingError) in try IMAPFileName.parse(name) }
                if case .failure = result { allValid = false }
                print(json ? Self.jsonLine(name: name, result: result) : Self.textBlock(name: name, result: result))
            }
            if !allValid { throw ExitCode(1) }
        }

        static func jsonLine(name: String, result: Result<IMAPFileName, NamingError>) -> String {
            let object: JSONValue = switch result {
            case .success(let file):
                .object([("name", .string(name)), ("valid", .bool(true)), ("class", .string(file.fileClass.rawValue)),
                         ("key", .string(file.key)), ("fields", file.fieldsJSON), ("error", .null)])
            case .failure(let error):
                .object([("name", .string(name)), ("valid", .bool(false)), ("class", .null), ("key", .null),
                         ("fields", .null), ("error", .string(error.message))])
            }
            return object.serialized()
        }

        static func textBlock(name: String, result: Result<IMAPFileName, NamingError>) -> String {
            switch result {
            case .failure(let error):
                return "\(name): invalid: \(error.message)"
            case .success(let file):
                var lines = ["\(name): \(file.fileClass.rawValue)", "  key: \(file.key)"]
                if case .object(let members) = file.fieldsJSON {
                    for (field, value) in members { lines.append("  \(field): \(value.displayText)") }
                }
                return lines.joined(separator: "\n")
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
