import ArgumentParser
import Foundation
import SDCCore
import SDCIntegrity

/// `sdc archive`: delivery packages for the archive (the SPDF), and the re-deliveries owed.
struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Build a BagIt delivery package of released CDF products for the SPDF, or list the re-deliveries owed.",
        discussion: """
            sdc archive --instrument I --level L --from YYYYMMDD --to YYYYMMDD OUT writes the bag OUT (a new folder): the \
            newest released version of each CDF product whose start date is in the range, each checked against the \
            catalog's SHA-256 and the ISTP rules first. Files with ISTP errors are refused, with the reasons on standard \
            error; the bag holds the others, and the delivery ledger records what went out. Versions delivered before \
            are left out unless --again is given, so after a reprocessing the same command delivers exactly what is owed. \
            Exit status 1 when a file was refused or nothing could be delivered.
            sdc archive --pending [--instrument I] [--level L] lists the delivered products that now have a newer \
            released version. sdc archive --history lists the recent deliveries.
            """)

    @OptionGroup var root: RootOption

    @Option(help: "The instrument (e.g. swapi).")
    var instrument: Instrument?

    @Option(help: "The data level (e.g. l1a, l2).")
    var level: String?

    @Option(help: "First product start date, YYYYMMDD.")
    var from: String?

    @Option(help: "Last product start date, YYYYMMDD (inclusive).")
    var to: String?

    @Flag(help: "Deliver again versions that were delivered before.")
    var again = false

    @Flag(help: "List the re-deliveries owed: delivered products that now have a newer released version.")
    var pending = false

    @Flag(help: "List the recent deliveries.")
    var history = false

    @Argument(help: "The bag folder to write (must not exist, or be empty).")
    var out: String?

    func validate() throws {
        if let level, DataLevel(rawValue: level) == nil { throw ValidationError("'\(level)' is not a data level (l1a, l1b, l2, ...)") }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, FileDate(yyyymmdd: value) == nil { throw ValidationError("\(name) \(value) is not a date YYYYMMDD") }
        }
        guard !(pending && history) else { throw ValidationError("give --pending or --history, not both") }
        if pending || history {
            guard out == nil, from == nil, to == nil else { throw ValidationError("--pending and --history take no dates and no folder") }
            return
        }
        guard instrument != nil, level != nil, from != nil, to != nil, out != nil else {
            throw ValidationError("a delivery needs --instrument, --level, --from, --to and the bag folder OUT")
        }
    }

    func run() async throws {
        let dataCenter = try await root.open()
        let dataLevel = level.flatMap(DataLevel.init(rawValue:))
        if pending {
            let owed = try await dataCenter.deliveries.pendingRedeliveries(catalog: dataCenter.catalog, instrument: instrument, dataLevel: dataLevel)
            for item in owed {
                StandardOutput.write("\(item.record.file.name)  replaces \(item.delivered.name) (delivery \(item.deliveryID), "
                                     + "\(item.deliveredAt.iso8601))\n")
            }
            if owed.isEmpty { StandardError.write("no re-deliveries are owed\n") }
            return
        }
        if history {
            for delivery in try await dataCenter.deliveries.deliveries(limit: 50) where instrument == nil || delivery.instrument == instrument {
                StandardOutput.write("\(delivery.id)  \(delivery.createdAt.iso8601)  \(delivery.package)  \(delivery.instrument.rawValue) "
                                     + "\(delivery.dataLevel.rawValue) \(delivery.from.isoDate)..\(delivery.to.isoDate)  \(delivery.files.count) files\n")
            }
            return
        }
        guard let instrument, let dataLevel, let from = from.flatMap({ FileDate(yyyymmdd: $0) }), let to = to.flatMap({ FileDate(yyyymmdd: $0) }),
              let out else { throw ValidationError("a delivery needs --instrument, --level, --from, --to and OUT") }
        let builder = ArchiveBuilder(catalog: dataCenter.catalog, store: dataCenter.store, ledger: dataCenter.deliveries)
        let outcome = try await builder.build(ArchiveRequest(instrument: instrument, dataLevel: dataLevel, from: from, to: to, includeDelivered: again),
                                              into: URL(fileURLWithPath: out).standardizedFileURL)
        for refusal in outcome.refused {
            StandardError.write("refused \(refusal.name):\n" + refusal.reasons.map { "  \($0)\n" }.joined())
        }
        if !outcome.alreadyDelivered.isEmpty {
            StandardError.write("\(outcome.alreadyDelivered.count) files left out: this version was delivered before (--again delivers them again)\n")
        }
        if let delivery = outcome.delivery, let bag = outcome.bag {
            StandardOutput.write("delivery \(delivery.id): \(bag.path) holds \(delivery.files.count) files "
                                 + "(\(delivery.files.reduce(Int64(0)) { $0 + $1.size }) bytes)\n")
            for file in delivery.files { StandardOutput.write("  \(file.name)\n") }
        } else {
            StandardError.write("nothing was delivered: no bag was written\n")
        }
        if !outcome.refused.isEmpty || outcome.delivery == nil && outcome.alreadyDelivered.isEmpty { throw ExitCode.failure }
    }
}
