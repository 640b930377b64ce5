import Foundation
import SDCCatalog
import SDCCore
import SDCJobs
import NIOCore
import SDCStorage

/// How jobs of a product are partitioned (`partition:` in algorithms.yaml, as in IMAP's production dependency files).
public enum Partition: String, Sendable, Hashable, CaseIterable {
    /// One job per product and day (the default).
    case daily
    /// One job per product and pointing: the job carries the repointing, imap_cli gets `--repointing repointNNNNN`
    /// beside `--start-date`, and the products and the dependency file are named `<date>-repointNNNNN`. The pointing
    /// of a day comes from the newest repoint table covering it (the product's `repoint` edge).
    case repoint

    /// The partition an entry names; daily when it names none.
    init(_ text: String?, of product: ProductNode) throws(AlgorithmRegistryError) {
        guard let text else { self = .daily; return }
        guard let partition = Partition(rawValue: text) else {
            throw AlgorithmRegistryError(message: "\(product): partition '\(text)' is not one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = partition
    }
}

/// A repoint table in the mission's CSV layout (imap_processing.spice.repoint): one row per repoint manoeuvre, with
/// `repoint_start_utc`, `repoint_end_utc` (`YYYY-MM-DD HH:MM:SS.sss`) and `repoint_id`; `#` lines are comments. The
/// pointing numbered `repoint_id` starts when its manoeuvre ends.
public struct RepointTable: Sendable, Equatable {
    /// One manoeuvre: its id and the UTC time it ended (the pointing's start), as written.
    public struct Repoint: Sendable, Equatable {
        public var id: Int
        public var endUTC: String
    }

    public var repoints: [Repoint]

    /// Why a repoint table cannot be read.
    public struct FormatError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Parses the CSV text of `name`.
    public init(csv text: String, name: String) throws(FormatError) {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }),
              let idColumn = header.firstIndex(of: "repoint_id"), let endColumn = header.firstIndex(of: "repoint_end_utc") else {
            throw FormatError(description: "\(name): the header must name the columns repoint_id and repoint_end_utc")
        }
        var repoints: [Repoint] = []
        for (index, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == header.count, let id = Int(fields[idColumn]), id >= 0, id <= 99_999,
                  Self.isUTC(fields[endColumn]) else {
                throw FormatError(description: "\(name): row \(index + 2) needs \(header.count) fields, a repoint_id of 0 to 99999 "
                                  + "and a repoint_end_utc of the form YYYY-MM-DD HH:MM:SS")
            }
            repoints.append(Repoint(id: id, endUTC: fields[endColumn].replacingOccurrences(of: "T", with: " ")))
        }
        self.repoints = repoints
    }

    /// The pointing under way at noon UTC of `day`: the last manoeuvre that ended before then. IMAP repoints about
    /// once a day, around midnight, so this is the pointing that began that day. Nil when none ended before.
    public func repointing(on day: FileDate) -> Int? {
        let noon = day.isoDate + " 12:00:00"
        return repoints.filter { $0.endUTC < noon }.max { $0.endUTC < $1.endUTC }?.id
    }

    /// Of several repoint tables, the one reaching furthest (latest end date, then highest version).
    static func newest(of tables: [IMAPFileName]) -> IMAPFileName? {
        func rank(_ file: IMAPFileName) -> (Int, Int) {
            let fields = file.spice
            return ((fields?.endDate ?? fields?.startDate)?.ordinal ?? 0, fields?.version.flatMap { Int($0) } ?? 0)
        }
        return tables.max { rank($0) < rank($1) }
    }

    private static func isUTC(_ text: String) -> Bool {
        let characters = Array(text)
        guard characters.count >= 19 else { return false }
        return characters.enumerated().prefix(19).allSatisfy { index, character in
            switch index {
            case 4, 7: character == "-"
            case 10: character == " " || character == "T"
            case 13, 16: character == ":"
            default: character.isASCII && character.isNumber
            }
        }
    }
}

extension Planner {
    /// The node of the repoint tables (`repoint, repoint, historical`).
    static let repointNode = ProductNode("repoint", "repoint", "historical")

    /// The pointing a repoint-partitioned product's job for `date` belongs to, from the newest repoint table covering
    /// the day (what production's `pointing_table` holds), or what the day waits for.
    func repointing(of product: ProductNode, on date: FileDate) async throws -> Result<Int, RepointWait> {
        guard let objects else { return .failure(RepointWait(description: "a repoint table reader (the planner has no object store)")) }
        guard let table = try await inputFiles(for: Self.repointNode, date: date, repointing: nil).first else {
            return .failure(RepointWait(description: Self.describe(missing: Self.repointNode, date: date)))
        }
        var text = ""
        for try await chunk in try await objects.read(try ObjectKey(table.key), range: nil) { text += String(buffer: chunk) }
        guard let repointing = try RepointTable(csv: text, name: table.name).repointing(on: date) else {
            return .failure(RepointWait(description: "the pointing of \(date) in the repoint table (\(table.name) has none that began by noon)"))
        }
        return .success(repointing)
    }

    /// What a repoint-partitioned day waits for.
    struct RepointWait: Error, CustomStringConvertible {
        let description: String
    }
}
