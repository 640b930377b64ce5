import Crypto
import Foundation
import Logging
import SDCCatalog
import SDCCDF
import SDCCore
import SDCStorage

/// Which catalog files an archive delivery takes.
enum ArchiveSelection {
    /// The newest released version of each CDF product of `instrument` at `dataLevel` whose start date is within
    /// `from...to`, ordered by key.
    static func releasedProducts(catalog: any FileCatalog, instrument: Instrument, dataLevel: DataLevel, from: FileDate,
                                 to: FileDate) async throws(CatalogError) -> [CatalogRecord] {
        var query = FileQuery(table: .science)
        query.instrument = instrument
        query.dataLevel = dataLevel
        query.startDate = from
        query.endDate = to
        query.fileExtension = "cdf"
        query.released = true
        query.versions = .newest
        return try await catalog.files(matching: query)
    }
}

/// What an archive delivery asks for.
public struct ArchiveRequest: Sendable, Equatable {
    public var instrument: Instrument
    public var dataLevel: DataLevel
    /// Product start dates, inclusive.
    public var from: FileDate
    public var to: FileDate
    /// Deliver products again even when this very version was delivered before (default: only versions not yet
    /// delivered, which after a reprocessing are exactly the re-deliveries owed).
    public var includeDelivered = false

    /// A request for `instrument`'s `dataLevel` products starting within `from...to`.
    public init(instrument: Instrument, dataLevel: DataLevel, from: FileDate, to: FileDate, includeDelivered: Bool = false) {
        self.instrument = instrument
        self.dataLevel = dataLevel
        self.from = from
        self.to = to
        self.includeDelivered = includeDelivered
    }
}

/// A file left out of a delivery, and why.
public struct ArchiveRefusal: Sendable, Hashable {
    public var name: String
    /// The reasons: the ISTP validator's errors, or what else kept the file out.
    public var reasons: [String]
}

/// What an archive delivery did.
public struct ArchiveOutcome: Sendable {
    /// The recorded delivery (its files are the bag's payload); nil when no file could be delivered (no bag is left).
    public var delivery: Delivery?
    /// The bag's folder, when one was written.
    public var bag: URL?
    /// Files that failed ISTP validation or did not match the catalog.
    public var refused: [ArchiveRefusal]
    /// Files skipped because this version was delivered before.
    public var alreadyDelivered: [String]
}

/// Builds delivery packages for the archive (the SPDF): the released CDF products of an instrument and level over a
/// range of days, each checked first against the catalog's SHA-256 and the ISTP rules (``ISTPValidator``; a file
/// with errors is refused with them), packed as a BagIt bag with SHA-256 manifests, and recorded in the
/// ``DeliveryLedger``.
public struct ArchiveBuilder: Sendable {
    public let catalog: any FileCatalog
    public let store: any ObjectStore
    public let ledger: any DeliveryLedger
    let pool: ProcessingPool
    /// The `Source-Organization` of the bags.
    public var organization = "IMAP Science Data Center"

    /// A builder over the data center's catalog, store and ledger; validation and hashing run on `pool`.
    public init(catalog: any FileCatalog, store: any ObjectStore, ledger: any DeliveryLedger, pool: ProcessingPool = .shared) {
        self.catalog = catalog
        self.store = store
        self.ledger = ledger
        self.pool = pool
    }

    /// Builds the bag for `request` in `folder` (a new or empty folder, named after the bag) and records it.
    /// Throws when nothing matches, or a file cannot be read or written; a file that fails validation is a refusal,
    /// not an error. When every file is refused (or already delivered) no bag is left behind and nothing is recorded.
    public func build(_ request: ArchiveRequest, into folder: URL, now: UTCTime = .now) async throws -> ArchiveOutcome {
        guard request.from <= request.to else { throw IntegrityError("the start date \(request.from) is after the end date \(request.to)") }
        let candidates = try await ArchiveSelection.releasedProducts(catalog: catalog, instrument: request.instrument,
                                                                     dataLevel: request.dataLevel, from: request.from, to: request.to)
        guard !candidates.isEmpty else {
            throw IntegrityError("no released CDF products of \(request.instrument.rawValue) \(request.dataLevel.rawValue) start between "
                                 + "\(request.from.isoDate) and \(request.to.isoDate)")
        }
        var outcome = ArchiveOutcome(delivery: nil, bag: nil, refused: [], alreadyDelivered: [])
        let delivered = request.includeDelivered ? [] : Set(try await ledger.deliveredFiles(instrument: request.instrument,
                                                                                              dataLevel: request.dataLevel).map(\.file.name))
        let selected = candidates.filter { !delivered.contains($0.file.name) }
        outcome.alreadyDelivered = candidates.filter { delivered.contains($0.file.name) }.map(\.file.name)
        guard !selected.isEmpty else { return outcome }
        var bag = try BagWriter(folder: folder)
        var files: [DeliveredFile] = []
        do {
            for record in selected {
                let destination = bag.dataFolder.appendingPathComponent(record.key)
                try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
                try await store.download(try ObjectKey(record.key), to: destination.path)
                let reasons = try await pool.run { Self.check(destination.path, against: record) }
                if reasons.isEmpty {
                    bag.add(record.key, size: record.size, sha256: record.sha256)
                    files.append(DeliveredFile(name: record.file.name, key: record.key, size: record.size, sha256: record.sha256))
                } else {
                    try FileManager.default.removeItem(at: destination)
                    outcome.refused.append(ArchiveRefusal(name: record.file.name, reasons: reasons))
                }
            }
            guard !files.isEmpty else {
                try FileManager.default.removeItem(at: folder)
                return outcome
            }
            let package = folder.lastPathComponent
            let bytes = files.reduce(Int64(0)) { $0 + $1.size }
            try bag.finish(info: [
                ("Source-Organization", organization),
                ("External-Identifier", package),
                ("External-Description", "IMAP \(request.instrument.rawValue.uppercased()) \(request.dataLevel.rawValue.uppercased()) CDF products "
                    + "starting \(request.from.isoDate) to \(request.to.isoDate): \(files.count) files, \(bytes) bytes, ISTP-validated"),
                ("Bag-Software-Agent", "sdc archive"),
            ], now: now)
            outcome.bag = folder
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
        outcome.delivery = try await ledger.record(Delivery(package: folder.lastPathComponent, createdAt: now, instrument: request.instrument,
                                                            dataLevel: request.dataLevel, from: request.from, to: request.to, files: files))
        return outcome
    }

    /// Why the copy at `path` of `record` may not be delivered: its bytes differ from the catalog's, it is not a
    /// readable CDF, or it has ISTP errors. Empty when it may.
    static func check(_ path: String, against record: CatalogRecord) -> [String] {
        do {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
            let digest = SHA256.hash(data: bytes).hexString
            guard bytes.count == record.size, digest == record.sha256 else {
                return ["the stored object (\(bytes.count) bytes, SHA-256 \(digest)) does not match the catalog (\(record.size) bytes, "
                        + "SHA-256 \(record.sha256)): run `sdc verify`"]
            }
            let report = ISTPValidator().validate(try CDFReader(path: path))
            return report.errors.map { "ISTP: \($0.description)" }
        } catch {
            return ["not a readable CDF: \(error)"]
        }
    }
}
