import ArgumentParser
import Foundation
import SDCCatalog
import SDCAssembly
import SDCJobs
import SDCServer

/// `sdc keys`: manage API keys offline, directly in the data center's catalog.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke API keys (stored hashed in the catalog).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it (alone, on stdout). It is not shown again.")

        @OptionGroup var root: RootOption

        @Option(help: "read (query, download, including unreleased files), write (also upload, reprocess, release) or admin.")
        var scope: APIKeyScope

        @Option(help: "Who or what the key is for.")
        var name = "unnamed"

        @Option(help: "Comma-separated missions the key may reach (imap, hermes, ...; default: every mission).")
        var missions: String?

        func run() async throws {
            let catalog = try await root.open().catalog
            let (secret, info) = try await catalog.createKey(name: name, scope: scope)
            if let missions {
                _ = try await catalog.limitKey(String(info.id), toMissions: missions.split(separator: ",").map { String($0) })
            }
            print(secret)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (their prefixes; secrets are not stored).")

        @OptionGroup var root: RootOption

        func run() async throws {
            let keys = try await root.open().catalog.listKeys()
            let rows = keys.map { key in
                [String(key.id), key.name, key.scope.rawValue, key.prefix + "…", key.createdAt.iso8601, key.revokedAt?.iso8601 ?? "-",
                 key.missions?.joined(separator: ",") ?? "all"]
            }
            print(TextTable.render(header: ["ID", "NAME", "SCOPE", "PREFIX", "CREATED", "REVOKED", "MISSIONS"], rows: rows))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id or prefix.")

        @OptionGroup var root: RootOption

        @Argument(help: "The key's id or prefix, as `sdc keys list` shows them.")
        var key: String

        func run() async throws {
            let revoked = try await root.open().catalog.revokeKey(key)
            print("revoked key \(revoked.id) (\(revoked.name), \(revoked.scope.rawValue))")
        }
    }
}

extension APIKeyScope: ExpressibleByArgument {}

/// Left-aligned plain-text columns.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
