import PostgresNIO
import SDCCatalog
import SDCCore
import SDCIntegrity

/// The archive delivery ledger in PostgreSQL, with the semantics of ``SQLiteDeliveryLedger``, shared by every replica
/// of a scaled-out data center.
public final class PostgresDeliveryLedger: DeliveryLedger {
    let database: PostgresDatabase

    /// Migrates the ledger's tables of `database` (under the migration lock) and returns the ledger.
    public init(database: PostgresDatabase) async throws(PostgresDatabaseError) {
        self.database = database
        try await database.migrate(component: "deliveries", Self.migrations)
    }

    /// Never edit a released migration; add one.
    static let migrations: [PostgresDatabase.Migration] = [
        PostgresDatabase.Migration(version: 1, name: "delivery packages and their files", statements: [
            DeliveryLedgerSQL.createDeliveries(id: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
            DeliveryLedgerSQL.createDeliveredFiles,
            DeliveryLedgerSQL.indexDeliveredFiles,
        ]),
    ]

    public func record(_ delivery: Delivery) async throws(DeliveryLedgerError) -> Delivery {
        try await database.transaction({ transaction in
            let inserted = try await transaction.rows(SQLQuery(DeliveryLedgerSQL.insertDelivery + " RETURNING id", DeliveryLedgerSQL.values(delivery)))
            guard let id = try inserted.first?["id"].decode(Int64.self) else { throw DeliveryLedgerError.database("the delivery got no id") }
            for file in delivery.files {
                try await transaction.rows(SQLQuery(DeliveryLedgerSQL.insertFile, DeliveryLedgerSQL.values(file, delivery: id)))
            }
            var recorded = delivery
            recorded.id = id
            return recorded
        }, failure: DeliveryLedgerError.database)
    }

    public func deliveries(limit: Int) async throws(DeliveryLedgerError) -> [Delivery] {
        let rows = try await database.rows(SQLQuery(DeliveryLedgerSQL.selectDeliveries, [.integer(Int64(max(0, limit)))]),
                                           failure: DeliveryLedgerError.database)
        var deliveries: [Delivery] = []
        for row in rows {
            var delivery = try Self.cells {
                try DeliveryLedgerSQL.delivery(
                    id: try row["id"].decode(Int64.self), package: try row["package"].decode(String.self),
                    createdAt: try row["created_at"].decode(Int64.self), instrument: try row["instrument"].decode(String.self),
                    dataLevel: try row["data_level"].decode(String.self), from: try row["from_date"].decode(String.self),
                    to: try row["to_date"].decode(String.self))
            }
            let files = try await database.rows(SQLQuery(DeliveryLedgerSQL.selectFilesOfDelivery, [.integer(delivery.id)]),
                                                failure: DeliveryLedgerError.database)
            delivery.files = try files.map { row throws(DeliveryLedgerError) in try Self.file(row) }
            deliveries.append(delivery)
        }
        return deliveries
    }

    public func deliveredFiles(instrument: Instrument?, dataLevel: DataLevel?) async throws(DeliveryLedgerError)
        -> [(file: DeliveredFile, delivery: Int64, at: UTCTime)] {
        let rows = try await database.rows(DeliveryLedgerSQL.selectDeliveredFiles(instrument: instrument, dataLevel: dataLevel),
                                           failure: DeliveryLedgerError.database)
        return try rows.map { row throws(DeliveryLedgerError) in
            (try Self.file(row), try Self.cells { try row["delivery_id"].decode(Int64.self) },
             UTCTime(secondsSince1970: try Self.cells { try row["created_at"].decode(Int64.self) }))
        }
    }

    private static func file(_ row: PostgresRandomAccessRow) throws(DeliveryLedgerError) -> DeliveredFile {
        try cells {
            DeliveredFile(name: try row["file_name"].decode(String.self), key: try row["file_key"].decode(String.self),
                          size: try row["size"].decode(Int64.self), sha256: try row["sha256"].decode(String.self))
        }
    }

    /// Runs `decode`; a cell that cannot be read is a ``DeliveryLedgerError/database(_:)``.
    private static func cells<T>(_ decode: () throws -> T) throws(DeliveryLedgerError) -> T {
        do { return try decode() } catch let error as DeliveryLedgerError { throw error } catch {
            throw .database("a damaged delivery ledger row: \(PostgresDatabase.reason(error))")
        }
    }
}
