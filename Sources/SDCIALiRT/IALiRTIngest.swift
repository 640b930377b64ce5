import Foundation
import Logging
import NIOCore
import SDCCatalog
import SDCCore
import SDCIngest
import SDCStorage

/// What one arrival of packets gave.
public struct IALiRTIngestSummary: Sendable, Equatable {
    /// I-ALiRT packets stored.
    public let packets: Int
    /// Real-time records stored (one per instrument and packet).
    public let records: Int
    /// The packets file they went to.
    public let packetFile: String
    /// The log of the arrival.
    public let logFile: String
    /// What was skipped.
    public let skipped: [String]
}

/// Takes I-ALiRT packets in (live POSTs and uploaded I-ALiRT L0 files), decodes them on ``ProcessingPool/shared`` (never
/// on the cooperative pool) and stores packets, log and records in the ``IALiRTStore``.
///
/// ``listener`` decodes every `imap_ialirt_l0_*` file the data center ingests (uploads, direct uploads, recovery) after
/// it is stored and cataloged, off the ingest path.
public struct IALiRTIngest: Sendable {
    public let store: any IALiRTStore
    let objects: any ObjectStore
    let logger: Logger
    /// The largest L0 file decoded in one piece (a day of 1 Hz packets is 15.8 MB).
    public static let maximumFileSize: Int64 = 256 << 20

    public init(store: any IALiRTStore, objects: any ObjectStore, logger: Logger = Logger(label: "sdc.ialirt")) {
        self.store = store
        self.objects = objects
        self.logger = logger
    }

    /// Stores packets received live: every packet must be an I-ALiRT packet (see ``IALiRTPacket/split(_:)``), or
    /// nothing is stored. Throws ``IALiRTError`` for bad input, ``IALiRTStoreError`` when the store fails.
    public func ingestLive(_ bytes: [UInt8], instance: Int, source: String) async throws -> IALiRTIngestSummary {
        _ = try IALiRTPacket.split(bytes)
        return try await ingest(bytes, instance: instance, source: source)
    }

    /// Decodes and stores a stream of packets; other APIDs and damaged packets are skipped and logged.
    func ingest(_ bytes: [UInt8], instance: Int, source: String) async throws -> IALiRTIngestSummary {
        let receivedAt = Int64((Date().timeIntervalSince1970 * 1_000_000).rounded())
        let decoded = try await ProcessingPool.shared.run { try IALiRTDecoding.decode(bytes) }
        let batch = IALiRTBatch(instance: instance, receivedAt: receivedAt, source: source, packets: decoded.packets,
                                records: decoded.records, skipped: decoded.skipped)
        try await store.save(batch)
        return IALiRTIngestSummary(packets: batch.packets.count, records: batch.records.count, packetFile: batch.packetFileName,
                                   logFile: batch.logName, skipped: batch.skipped)
    }

    /// Whether `file` is an I-ALiRT Level 0 file (`imap_ialirt_l0_<descriptor>_<YYYYMMDD>_v<NNN>.pkts`).
    public static func isIALiRTLevel0(_ file: IMAPFileName) -> Bool {
        guard let science = file.science else { return false }
        return science.instrument == .ialirt && science.dataLevel == .l0
    }

    /// The ingest listener (and `Service`, to run in the process's group) that decodes each ingested I-ALiRT L0 file
    /// with ``decodeStoredFile(_:)``, in the background: the upload is answered as soon as the file is stored.
    public func listener() -> QueuedIngestListener {
        QueuedIngestListener(accepts: { Self.isIALiRTLevel0($0.file) }, handle: decodeStoredFile)
    }

    /// Reads an I-ALiRT L0 file from the store and stores its packets and records; a failure is logged.
    @Sendable public func decodeStoredFile(_ record: CatalogRecord) async {
        do {
            guard record.size <= Self.maximumFileSize else {
                logger.error("I-ALiRT L0 file not decoded: larger than \(Self.maximumFileSize) bytes", metadata: ["key": "\(record.key)", "size": "\(record.size)"])
                return
            }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(record.size))
            for try await chunk in try await objects.read(ObjectKey(record.key), range: nil) { bytes += chunk.readableBytesView }
            let summary = try await ingest(bytes, instance: 1, source: "upload \(record.file.name)")
            logger.info("I-ALiRT L0 file decoded", metadata: [
                "key": "\(record.key)", "packets": "\(summary.packets)", "records": "\(summary.records)", "skipped": "\(summary.skipped)",
            ])
        } catch {
            logger.error("I-ALiRT L0 file not decoded: \(error)", metadata: ["key": "\(record.key)"])
        }
    }
}
