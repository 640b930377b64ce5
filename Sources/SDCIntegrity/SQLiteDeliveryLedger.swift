import GRDB
import SDCCatalog
import SDCCore
import SDCJobs

/// The delivery ledger in a SQLite file of its own (`deliveries.sqlite` in an embedded data center's folder), WAL,
/// writers waiting up to 10 s for each other.
public final class SQLiteDeliveryLedger: DeliveryLedger {
    let pool: DatabasePool

    /// Opens (creating and migrating it if needed) the ledger at `path`.
    public init(path: String) throws(DeliveryLedgerError) {
        do {
            pool = try openMigratedPool(path: path, migrator: Self.migrator)
        } catch {
            throw .database("cannot open \(path): \(error)")
        }
    }

    /// Never edit a released migration; add one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("deliveries v1: delivery packages and their files") { db in
            try db.execute(sql: DeliveryLedgerSQL.createDeliveries(id: "INTEGER PRIMARY KEY AUTOINCREMENT"))
            try db.execute(sql: DeliveryLedgerSQL.createDeliveredFiles)
            try db.execute(sql: DeliveryLedgerSQL.indexDeliveredFiles)
        }
        return migrator
    }

    private func run<T: Sendable>(_ write: Bool, _ body: @Sendable @escaping (Database) throws -> T) async throws(DeliveryLedgerError) -> T {
        write ? try await pool.write(body, failure: DeliveryLedgerError.database) : try await pool.read(body, failure: DeliveryLedgerError.database)
    }

    public func record(_ delivery: Delivery) async throws(DeliveryLedgerError) -> Delivery {
        try await run(true) { db in
            try db.execute(sql: DeliveryLedgerSQL.insertDelivery, arguments: Self.arguments(DeliveryLedgerSQL.values(delivery)))
            var recorded = delivery
            recorded.id = db.lastInsertedRowID
            for file in delivery.files {
                try db.execute(sql: DeliveryLedgerSQL.insertFile,
                               arguments: Self.arguments(DeliveryLedgerSQL.values(file, delivery: recorded.id)))
            }
            return recorded
        }
    }

    public func deliveries(limit: Int) async throws(DeliveryLedgerError) -> [Delivery] {
        try await run(false) { db in
            try Row.fetchAll(db, sql: DeliveryLedgerSQL.selectDeliveries, arguments: [max(0, limit)]).map { row in
                var delivery = try DeliveryLedgerSQL.delivery(
                    id: row["id"], package: row["package"], createdAt: row["created_at"], instrument: row["instrument"],
                    dataLevel: row["data_level"], from: row["from_date"], to: row["to_date"])
                delivery.files = try Row.fetchAll(db, sql: DeliveryLedgerSQL.selectFilesOfDelivery, arguments: [delivery.id]).map(Self.file)
                return delivery
            }
        }
    }

    public func deliveredFiles(instrument: Instrument?, dataLevel: DataLevel?) async throws(DeliveryLedgerError)
        -> [(file: DeliveredFile, delivery: Int64, at: UTCTime)] {
        let query = DeliveryLedgerSQL.selectDeliveredFiles(instrument: instrument, dataLevel: dataLevel)
        return try await run(false) { db in
            try Row.fetchAll(db, sql: query.sql, arguments: Self.arguments(query.values)).map { row in
                (Self.file(row), row["delivery_id"], UTCTime(secondsSince1970: row["created_at"]))
            }
        }
    }

    /// `values` as GRDB arguments.
    private static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(values.map { value -> (any DatabaseValueConvertible)? in
            switch value {
            case .text(let text): text
            case .integer(let number): number
            case .boolean(let flag): flag
            case .null: nil
            }
        })
    }

    private static func file(_ row: Row) -> DeliveredFile {
        DeliveredFile(name: row["file_name"], key: row["file_key"], size: row["size"], sha256: row["sha256"])
    }
}

/// The ledger's tables and statements, in the SQL SQLite and PostgreSQL share (`?` placeholders).
package enum DeliveryLedgerSQL {
    package static func createDeliveries(id: String) -> String {
        """
        CREATE TABLE deliveries (
            id \(id),
            package TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            instrument TEXT NOT NULL,
            data_level TEXT NOT NULL,
            from_date TEXT NOT NULL,
            to_date TEXT NOT NULL)
        """
    }

    package static let createDeliveredFiles = """
        CREATE TABLE delivered_files (
            delivery_id BIGINT NOT NULL REFERENCES deliveries (id),
            file_name TEXT NOT NULL,
            file_key TEXT NOT NULL,
            instrument TEXT NOT NULL,
            data_level TEXT NOT NULL,
            size BIGINT NOT NULL,
            sha256 TEXT NOT NULL,
            PRIMARY KEY (delivery_id, file_name))
        """

    package static let indexDeliveredFiles = "CREATE INDEX delivered_files_product ON delivered_files (instrument, data_level, file_name)"

    package static let insertDelivery = """
        INSERT INTO deliveries (package, created_at, instrument, data_level, from_date, to_date) VALUES (?, ?, ?, ?, ?, ?)
        """

    package static let insertFile = """
        INSERT INTO delivered_files (delivery_id, file_name, file_key, instrument, data_level, size, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)
        """

    package static let selectDeliveries = "SELECT * FROM deliveries ORDER BY id DESC LIMIT ?"

    package static let selectFilesOfDelivery = "SELECT * FROM delivered_files WHERE delivery_id = ? ORDER BY file_name"

    /// Every delivered file of `instrument` and `dataLevel` (nil: any), with its delivery's time.
    package static func selectDeliveredFiles(instrument: Instrument?, dataLevel: DataLevel?) -> SQLQuery {
        var conditions: [String] = []
        var values: [SQLValue] = []
        if let instrument {
            conditions.append("delivered_files.instrument = ?")
            values.append(.text(instrument.rawValue))
        }
        if let dataLevel {
            conditions.append("delivered_files.data_level = ?")
            values.append(.text(dataLevel.rawValue))
        }
        return SQLQuery("""
            SELECT delivered_files.*, deliveries.created_at FROM delivered_files JOIN deliveries ON deliveries.id = delivered_files.delivery_id\
            \(conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")) ORDER BY delivered_files.file_name, delivered_files.delivery_id
            """, values)
    }

    /// The values of ``insertDelivery``.
    package static func values(_ delivery: Delivery) -> [SQLValue] {
        [.text(delivery.package), .integer(delivery.createdAt.secondsSince1970), .text(delivery.instrument.rawValue),
         .text(delivery.dataLevel.rawValue), .text(delivery.from.description), .text(delivery.to.description)]
    }

    /// The values of ``insertFile``.
    package static func values(_ file: DeliveredFile, delivery: Int64) -> [SQLValue] {
        let science = file.science
        return [.integer(delivery), .text(file.name), .text(file.key), .text(science?.instrument.rawValue ?? ""),
                .text(science?.dataLevel.rawValue ?? ""), .integer(file.size), .text(file.sha256)]
    }

    /// A delivery (without its files) from a row's columns; throws on a damaged row.
    package static func delivery(id: Int64, package: String, createdAt: Int64, instrument: String, dataLevel: String,
                                 from: String, to: String) throws(DeliveryLedgerError) -> Delivery {
        guard let instrument = Instrument(rawValue: instrument), let level = DataLevel(rawValue: dataLevel),
              let fromDate = FileDate(yyyymmdd: from), let toDate = FileDate(yyyymmdd: to) else {
            throw .database("damaged deliveries row \(id): \(instrument) \(dataLevel) \(from)-\(to)")
        }
        return Delivery(id: id, package: package, createdAt: UTCTime(secondsSince1970: createdAt), instrument: instrument,
                        dataLevel: level, from: fromDate, to: toDate, files: [])
    }
}
