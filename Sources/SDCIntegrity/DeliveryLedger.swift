import SDCCatalog
import SDCCore

/// One product file sent to the archive in a delivery.
public struct DeliveredFile: Sendable, Hashable {
    /// The file name, e.g. `imap_swapi_l1a_sci_20250101_v001.0001.cdf`.
    public var name: String
    /// The storage key.
    public var key: String
    public var size: Int64
    /// Lowercase hex SHA-256 (as in the bag's manifest).
    public var sha256: String

    /// A delivered file.
    public init(name: String, key: String, size: Int64, sha256: String) {
        self.name = name
        self.key = key
        self.size = size
        self.sha256 = sha256
    }

    /// The file's parsed science name; nil for a name that does not parse (not written by sdc).
    public var science: ScienceFileName? { (try? IMAPFileName.parse(name))?.science }
}

/// A delivery package that went out: which bag, when, what it covered and the files it held.
public struct Delivery: Sendable, Hashable {
    /// The ledger's number for it (0 before it is recorded).
    public var id: Int64
    /// The bag's name (its folder's name, and its `External-Identifier`).
    public var package: String
    public var createdAt: UTCTime
    public var instrument: Instrument
    public var dataLevel: DataLevel
    /// The product start dates covered, inclusive.
    public var from: FileDate
    public var to: FileDate
    public var files: [DeliveredFile]

    /// A delivery (``id`` is set by the ledger).
    public init(id: Int64 = 0, package: String, createdAt: UTCTime, instrument: Instrument, dataLevel: DataLevel, from: FileDate, to: FileDate,
                files: [DeliveredFile]) {
        self.id = id
        self.package = package
        self.createdAt = createdAt
        self.instrument = instrument
        self.dataLevel = dataLevel
        self.from = from
        self.to = to
        self.files = files
    }
}

/// Why the delivery ledger failed.
public enum DeliveryLedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database could not be opened, migrated or queried.
    case database(String)

    public var description: String {
        switch self {
        case .database(let message): "delivery ledger database error: \(message)"
        }
    }
}

/// The durable record of what was delivered to the archive (the SPDF) and when. Implementations:
/// ``SQLiteDeliveryLedger`` (embedded, `deliveries.sqlite`) and `PostgresDeliveryLedger` (scaled out), chosen by
/// `DataCenter`.
public protocol DeliveryLedger: Sendable {
    /// Records a delivery and its files in one transaction; returns it with its ``Delivery/id``.
    func record(_ delivery: Delivery) async throws(DeliveryLedgerError) -> Delivery
    /// The most recent deliveries, newest first, with their files.
    func deliveries(limit: Int) async throws(DeliveryLedgerError) -> [Delivery]
    /// Every file ever delivered of `instrument` (and `dataLevel` when given), with the delivery that sent it; the
    /// same name may appear in several deliveries.
    func deliveredFiles(instrument: Instrument?, dataLevel: DataLevel?) async throws(DeliveryLedgerError) -> [(file: DeliveredFile, delivery: Int64, at: UTCTime)]
}

/// A re-delivery the archive is owed: a delivered product now has a newer released version.
public struct PendingRedelivery: Sendable, Hashable {
    /// The newest released version, not yet delivered.
    public var record: CatalogRecord
    /// The newest version that was delivered, its delivery and when.
    public var delivered: DeliveredFile
    public var deliveryID: Int64
    public var deliveredAt: UTCTime
}

/// A product series: every version of one product (instrument, level, descriptor, start date, repointing).
struct ProductSeries: Hashable {
    let instrument: Instrument
    let dataLevel: DataLevel
    let descriptor: String
    let startDate: FileDate
    let repointing: Int?

    init(_ name: ScienceFileName) {
        instrument = name.instrument
        dataLevel = name.dataLevel
        descriptor = name.descriptor
        startDate = name.startDate
        repointing = name.repointing
    }
}

extension DeliveryLedger {
    /// The re-deliveries owed: for each delivered product series of `instrument` (and `dataLevel`), the newest
    /// released CDF version in the catalog when it is newer than the newest one delivered. Ordered by file name.
    public func pendingRedeliveries(catalog: any FileCatalog, instrument: Instrument? = nil,
                                    dataLevel: DataLevel? = nil) async throws -> [PendingRedelivery] {
        var newestDelivered: [ProductSeries: (file: DeliveredFile, version: ProductVersion, delivery: Int64, at: UTCTime)] = [:]
        for entry in try await deliveredFiles(instrument: instrument, dataLevel: dataLevel) {
            guard let science = entry.file.science else { continue }
            let series = ProductSeries(science)
            if let known = newestDelivered[series], known.version >= science.version { continue }
            newestDelivered[series] = (entry.file, science.version, entry.delivery, entry.at)
        }
        // One catalog query per instrument and level, over the delivered dates.
        let groups = Dictionary(grouping: newestDelivered.keys) { [$0.instrument.rawValue, $0.dataLevel.rawValue] }
        var pending: [PendingRedelivery] = []
        for series in groups.values {
            guard let first = series.first, let from = series.map(\.startDate).min(), let to = series.map(\.startDate).max() else { continue }
            for record in try await ArchiveSelection.releasedProducts(catalog: catalog, instrument: first.instrument,
                                                                      dataLevel: first.dataLevel, from: from, to: to) {
                guard let science = record.file.science, let delivered = newestDelivered[ProductSeries(science)],
                      science.version > delivered.version else { continue }
                pending.append(PendingRedelivery(record: record, delivered: delivered.file, deliveryID: delivered.delivery,
                                                 deliveredAt: delivered.at))
            }
        }
        return pending.sorted { $0.record.file.name < $1.record.file.name }
    }
}
